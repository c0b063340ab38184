"""Working days (工作日) under the State Council's holiday schedules.

Counting rule (DOMAIN.md): the start day is not counted (期间开始之日不计算在内);
statutory holidays are off; make-up weekends (调休上班) are working days; a deadline
ends at 24:00 China Standard Time of its last working day.

A year without a loaded schedule is counted *provisionally*: weekends off plus the
holidays that the law fixes on fixed dates, and every result that touches such a
year says so.
"""

from __future__ import annotations

import functools
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta, timezone

CST = timezone(timedelta(hours=8), "CST")

# 全国年节及纪念日放假办法 (2024 revision, in force 2025): fixed-date days off.
FIXED_DATE_HOLIDAYS: tuple[tuple[int, int], ...] = ((1, 1), (5, 1), (5, 2), (10, 1), (10, 2), (10, 3))

MAX_WORKING_DAYS = 366


@dataclass(frozen=True)
class YearSchedule:
    """One announced year: weekday holidays and make-up working weekend days."""

    year: int
    holidays: frozenset[date] = field(default_factory=frozenset)
    makeup_workdays: frozenset[date] = field(default_factory=frozenset)

    def __post_init__(self) -> None:
        for day in self.holidays | self.makeup_workdays:
            if day.year != self.year:
                raise ValueError(f"{day.isoformat()} is not in {self.year}")
        both = self.holidays & self.makeup_workdays
        if both:
            raise ValueError(f"{min(both).isoformat()} is both a holiday and a working day")


@dataclass(frozen=True)
class Deadline:
    start: date
    working_days: int
    due_on: date
    provisional: bool


def end_of_day_cst(day: date) -> datetime:
    """24:00 CST of `day`, i.e. 00:00 CST of the next day, as an aware datetime."""
    return datetime.combine(day + timedelta(days=1), time(0), tzinfo=CST)


def cst_date(instant: datetime) -> date:
    """The calendar date in China Standard Time of an aware instant."""
    return instant.astimezone(CST).date()


class WorkingDayCalendar:
    """Counts working days over announced years; unknown years are provisional."""

    def __init__(self, schedules: Iterable[YearSchedule] = ()) -> None:
        self._years: dict[int, YearSchedule] = {s.year: s for s in schedules}

    def with_year(self, schedule: YearSchedule) -> WorkingDayCalendar:
        return WorkingDayCalendar([*self._years.values(), schedule])

    def is_known(self, year: int) -> bool:
        return year in self._years

    def is_working_day(self, day: date) -> bool:
        schedule = self._years.get(day.year)
        if schedule is None:
            return day.weekday() < 5 and (day.month, day.day) not in FIXED_DATE_HOLIDAYS
        if day in schedule.makeup_workdays:
            return True
        return day.weekday() < 5 and day not in schedule.holidays

    def add_working_days(self, start: date, working_days: int) -> Deadline:
        """The last day of a period of `working_days` working days after `start`."""
        if not 1 <= working_days <= MAX_WORKING_DAYS:
            raise ValueError(f"working_days must be between 1 and {MAX_WORKING_DAYS}")
        day, counted = start, 0
        provisional = False
        while counted < working_days:
            day += timedelta(days=1)
            provisional = provisional or not self.is_known(day.year)
            if self.is_working_day(day):
                counted += 1
        return Deadline(start=start, working_days=working_days, due_on=day, provisional=provisional)

    def working_days_between(self, start: date, end: date) -> int:
        """Working days in (start, end]; negative when end is before start."""
        if end < start:
            return -self.working_days_between(end, start)
        return sum(self.is_working_day(start + timedelta(days=i)) for i in range(1, (end - start).days + 1))

    def working_day_before(self, due: date, n: int) -> date:
        """The working day d with working_days_between(d, due) == n; n >= 0, and 0 gives due if worked."""
        if n < 0:
            raise ValueError("n must not be negative")
        day = due
        while not self.is_working_day(day):
            day -= timedelta(days=1)
        for _ in range(n):
            day -= timedelta(days=1)
            while not self.is_working_day(day):
                day -= timedelta(days=1)
        return day


def official_schedules() -> list[YearSchedule]:
    """The State Council schedules shipped in the `chinesecalendar` package."""
    from chinese_calendar.constants import holidays, workdays

    return schedules_from_dates(holidays, workdays)


def schedules_from_dates(holidays: Iterable[date], workdays: Iterable[date]) -> list[YearSchedule]:
    """Group day lists into year schedules; holidays on weekends are implied and dropped."""
    by_year: dict[int, tuple[set[date], set[date]]] = {}
    for day in holidays:
        if day.weekday() < 5:
            by_year.setdefault(day.year, (set(), set()))[0].add(day)
    for day in workdays:
        by_year.setdefault(day.year, (set(), set()))[1].add(day)
    return [YearSchedule(year, frozenset(off), frozenset(on)) for year, (off, on) in sorted(by_year.items())]


@functools.cache
def official_calendar() -> WorkingDayCalendar:
    """The calendar of the published schedules, built once."""
    return WorkingDayCalendar(official_schedules())
