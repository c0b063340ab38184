from datetime import UTC, date, datetime

import pytest

from domain.calendar import WorkingDayCalendar, YearSchedule, end_of_day_cst, official_calendar


@pytest.mark.parametrize(
    ("start", "days", "due"),
    [
        (date(2026, 9, 25), 15, date(2026, 10, 22)),  # DOMAIN.md: National Day off, Saturday 10 Oct worked
        (date(2026, 2, 13), 1, date(2026, 2, 14)),  # Spring Festival 2026: Saturday 14 Feb is a working day
        (date(2026, 2, 14), 1, date(2026, 2, 24)),  # then 15-23 Feb off
        (date(2025, 9, 30), 1, date(2025, 10, 9)),  # National Day 2025: 1-8 Oct off
    ],
)
def test_published_schedules(start: date, days: int, due: date) -> None:
    deadline = official_calendar().add_working_days(start, days)
    assert deadline.due_on == due and not deadline.provisional


def test_unknown_year_is_provisional_with_weekends_and_fixed_holidays_off() -> None:
    deadline = official_calendar().add_working_days(date(2026, 12, 15), 15)
    assert deadline.provisional
    assert deadline.due_on == date(2027, 1, 6)  # 1 Jan 2027 off by law; weekends off


def test_a_deadline_before_an_unknown_year_is_exact() -> None:
    assert not official_calendar().add_working_days(date(2026, 11, 2), 15).provisional


def test_deadline_ends_at_midnight_china_standard_time() -> None:
    assert end_of_day_cst(date(2026, 10, 22)) == datetime(2026, 10, 22, 16, 0, tzinfo=UTC)


def test_a_day_cannot_be_both_off_and_working() -> None:
    with pytest.raises(ValueError, match="both"):
        YearSchedule(2027, frozenset({date(2027, 2, 6)}), frozenset({date(2027, 2, 6)}))


@pytest.mark.parametrize("days", [0, 367])
def test_working_day_count_is_bounded(days: int) -> None:
    with pytest.raises(ValueError):
        WorkingDayCalendar().add_working_days(date(2026, 1, 1), days)
