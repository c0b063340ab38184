"""The statutory clocks of an accepted application, as pure functions of its deadlines and the time.

The insurance deadline (容缺受理: 24:00 CST of the due day, 15 working days after acceptance),
its reminders (at the reminder hour of set working days before it), and the licensing decision's
warning (行政许可法 art. 42: yellow from a set working day before its due day, red once overdue).
The working days themselves come from the calendar, through the `compute_deadlines` activity.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable
from datetime import UTC, date, datetime, time, timedelta

from domain.calendar import CST, end_of_day_cst
from domain.statuses import WarningLevel
from workflows.types import Deadlines, Timing


def start_of_day(day: str) -> datetime:
    """00:00 CST of an ISO day."""
    return datetime.combine(date.fromisoformat(day), time(0), tzinfo=CST)


def end_of_day(day: str) -> datetime:
    """24:00 CST of an ISO day: the instant a deadline on that day passes."""
    return end_of_day_cst(date.fromisoformat(day))


def department_instant(text: str) -> datetime:
    """An ISO timestamp from a department; naive ones are taken as UTC."""
    parsed = datetime.fromisoformat(text)
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def insurance_deadline(deadlines: Deadlines, timing: Timing, accepted_at: datetime) -> datetime:
    """The instant the carrier liability policy must have been bought before: the end of the due day,
    or (drills only) `timing.insurance_deadline_s` after acceptance."""
    if timing.insurance_deadline_s is not None:
        return accepted_at + timedelta(seconds=timing.insurance_deadline_s)
    return end_of_day(deadlines.insurance.due_on)


def warning_level(deadlines: Deadlines | None, now: datetime, *, decided: bool) -> WarningLevel:
    """The licensing decision's warning: none once decided, red from the end of its due day, yellow
    from the start of the warning day."""
    if deadlines is None or decided:
        return WarningLevel.NONE
    if now >= end_of_day(deadlines.decision.due_on):
        return WarningLevel.RED
    if now >= start_of_day(deadlines.decision_warning_from):
        return WarningLevel.YELLOW
    return WarningLevel.NONE


def reminder_instants(
    deadlines: Deadlines, timing: Timing, deadline: datetime, handled: Collection[str]
) -> dict[str, datetime]:
    """Working days left → when that reminder is due; only those before the deadline and not yet handled."""
    hour = time(timing.reminder_hour_cst, tzinfo=CST)
    instants = {n: datetime.combine(date.fromisoformat(day), hour) for n, day in deadlines.reminder_dates.items()}
    return {n: at for n, at in instants.items() if at < deadline and n not in handled}


def due_reminders(instants: dict[str, datetime], now: datetime) -> list[int]:
    """The working-day counts of the reminders due by `now`, nearest to the deadline first."""
    return sorted(int(n) for n, at in instants.items() if at <= now)


def next_wake_up(
    now: datetime, deadlines: Deadlines | None, warning: WarningLevel, reminders: Iterable[datetime]
) -> datetime | None:
    """The next instant the clocks have something to do: a reminder, or a step of the warning."""
    wake_ups = list(reminders)
    if warning != WarningLevel.RED and deadlines is not None:
        wake_ups.append(end_of_day(deadlines.decision.due_on))
        if warning == WarningLevel.NONE:
            wake_ups.append(start_of_day(deadlines.decision_warning_from))
    return min((at for at in wake_ups if at > now), default=None)
