"""The statutory clocks' arithmetic, without Temporal."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from domain.calendar import CST
from domain.statuses import WarningLevel
from workflows import clocks
from workflows.types import DeadlineAnswer, Deadlines, Timing

ACCEPTED_AT = datetime(2027, 3, 1, 10, tzinfo=CST)


def deadlines(reminders: dict[str, str] | None = None) -> Deadlines:
    return Deadlines(
        insurance=DeadlineAnswer("2027-03-01", 15, "2027-03-22", False),
        decision=DeadlineAnswer("2027-03-01", 20, "2027-03-29", False),
        reminder_dates={"5": "2027-03-15", "1": "2027-03-19"} if reminders is None else reminders,
        decision_warning_from="2027-03-22",
    )


def test_the_insurance_deadline_is_midnight_after_the_due_day_in_china() -> None:
    assert clocks.insurance_deadline(deadlines(), Timing(), ACCEPTED_AT) == datetime(2027, 3, 22, 16, tzinfo=UTC)


def test_a_drill_deadline_counts_seconds_from_acceptance() -> None:
    timing = Timing(insurance_deadline_s=90)
    assert clocks.insurance_deadline(deadlines(), timing, ACCEPTED_AT) == ACCEPTED_AT + timedelta(seconds=90)


@pytest.mark.parametrize(
    ("now", "expected"),
    [
        (datetime(2027, 3, 21, 23, 59, 59, tzinfo=CST), WarningLevel.NONE),
        (datetime(2027, 3, 22, 0, 0, tzinfo=CST), WarningLevel.YELLOW),
        (datetime(2027, 3, 29, 23, 59, 59, tzinfo=CST), WarningLevel.YELLOW),
        (datetime(2027, 3, 30, 0, 0, tzinfo=CST), WarningLevel.RED),
    ],
)
def test_the_decision_warning_turns_yellow_on_its_day_and_red_once_overdue(
    now: datetime, expected: WarningLevel
) -> None:
    assert clocks.warning_level(deadlines(), now, decided=False) == expected


def test_no_warning_once_decided_or_before_acceptance() -> None:
    overdue = datetime(2027, 4, 30, tzinfo=CST)
    assert clocks.warning_level(deadlines(), overdue, decided=True) == WarningLevel.NONE
    assert clocks.warning_level(None, overdue, decided=False) == WarningLevel.NONE


def test_reminders_fall_at_the_reminder_hour_china_time_and_each_once() -> None:
    deadline = clocks.end_of_day("2027-03-22")
    instants = clocks.reminder_instants(deadlines(), Timing(reminder_hour_cst=9), deadline, handled=set())
    assert instants == {"5": datetime(2027, 3, 15, 9, tzinfo=CST), "1": datetime(2027, 3, 19, 9, tzinfo=CST)}
    assert set(clocks.reminder_instants(deadlines(), Timing(), deadline, handled={"5"})) == {"1"}


def test_no_reminder_at_or_after_an_earlier_deadline() -> None:
    drill_deadline = datetime(2027, 3, 19, 9, tzinfo=CST)  # exactly the 1-day reminder's instant
    assert set(clocks.reminder_instants(deadlines(), Timing(), drill_deadline, handled=())) == {"5"}


def test_due_reminders_are_those_past_nearest_to_the_deadline_first() -> None:
    instants = {"5": datetime(2027, 3, 15, 9, tzinfo=CST), "1": datetime(2027, 3, 19, 9, tzinfo=CST)}
    assert clocks.due_reminders(instants, datetime(2027, 3, 15, 8, 59, tzinfo=CST)) == []
    assert clocks.due_reminders(instants, datetime(2027, 3, 15, 9, tzinfo=CST)) == [5]
    assert clocks.due_reminders(instants, datetime(2027, 3, 20, tzinfo=CST)) == [1, 5]


def test_the_clock_wakes_for_the_next_reminder_or_step_of_the_warning() -> None:
    now = datetime(2027, 3, 10, tzinfo=CST)
    reminder = datetime(2027, 3, 15, 9, tzinfo=CST)
    warning_day = datetime(2027, 3, 22, tzinfo=CST)
    overdue = datetime(2027, 3, 30, tzinfo=CST)
    assert clocks.next_wake_up(now, deadlines(), WarningLevel.NONE, [reminder]) == reminder
    assert clocks.next_wake_up(now, deadlines(), WarningLevel.NONE, []) == warning_day
    assert clocks.next_wake_up(now, deadlines(), WarningLevel.YELLOW, []) == overdue
    assert clocks.next_wake_up(now, deadlines(), WarningLevel.RED, []) is None
    assert clocks.next_wake_up(overdue, deadlines(), WarningLevel.NONE, [reminder]) is None  # nothing in the past


def test_a_department_timestamp_without_zone_is_utc() -> None:
    assert clocks.department_instant("2027-03-01T02:00:00") == datetime(2027, 3, 1, 10, tzinfo=CST)
    assert clocks.department_instant("2027-03-01T10:00:00+08:00") == datetime(2027, 3, 1, 2, tzinfo=UTC)
