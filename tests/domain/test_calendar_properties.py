"""Properties of working-day counting over the official calendar (hypothesis)."""

from datetime import date, timedelta

from hypothesis import given, settings
from hypothesis import strategies as st

from domain.calendar import WorkingDayCalendar, YearSchedule, official_calendar

SETTINGS = settings(max_examples=200, deadline=None)

starts = st.dates(min_value=date(2005, 1, 1), max_value=date(2026, 6, 30))
starts_2026 = st.dates(min_value=date(2026, 1, 1), max_value=date(2026, 12, 31))
counts = st.integers(min_value=1, max_value=60)
long_counts = st.integers(min_value=1, max_value=366)


@st.composite
def year_schedules(draw: st.DrawFn) -> YearSchedule:
    """A random future year: some weekdays off and some weekend days worked."""
    year = draw(st.integers(min_value=2027, max_value=2035))
    days = draw(st.sets(st.dates(min_value=date(year, 1, 1), max_value=date(year, 12, 31)), max_size=40))
    return YearSchedule(
        year,
        holidays=frozenset(d for d in days if d.weekday() < 5),
        makeup_workdays=frozenset(d for d in days if d.weekday() >= 5),
    )


def touches_unknown_year(calendar: WorkingDayCalendar, start: date, due: date) -> bool:
    """Whether any day of (start, due] lies in a year without a schedule."""
    return any(not calendar.is_known(y) for y in range((start + timedelta(days=1)).year, due.year + 1))


@SETTINGS
@given(starts, counts)
def test_due_date_is_a_working_day(start: date, n: int) -> None:
    calendar = official_calendar()
    deadline = calendar.add_working_days(start, n)
    assert deadline.due_on > start
    assert calendar.is_working_day(deadline.due_on)


@SETTINGS
@given(starts, counts, counts)
def test_adding_twice_equals_adding_the_sum(start: date, n: int, m: int) -> None:
    calendar = official_calendar()
    first = calendar.add_working_days(start, n)
    second = calendar.add_working_days(first.due_on, m)
    whole = calendar.add_working_days(start, n + m)
    assert second.due_on == whole.due_on
    assert whole.provisional == (first.provisional or second.provisional)


@SETTINGS
@given(starts, counts)
def test_counting_back_gives_the_same_number_of_working_days(start: date, n: int) -> None:
    calendar = official_calendar()
    due = calendar.add_working_days(start, n).due_on
    assert calendar.working_days_between(start, due) == n
    assert calendar.working_days_between(due, start) == -n


@SETTINGS
@given(year_schedules(), starts_2026, long_counts)
def test_loading_a_year_changes_no_deadline_that_ends_before_it(schedule: YearSchedule, start: date, n: int) -> None:
    without = official_calendar()
    assert not without.is_known(schedule.year)
    before = without.add_working_days(start, n)
    if before.due_on < date(schedule.year, 1, 1):
        after = without.with_year(schedule).add_working_days(start, n)
        assert after == before
        if before.due_on.year == 2026:  # passed through no unknown year: exact
            assert not after.provisional


@SETTINGS
@given(year_schedules(), starts_2026, long_counts)
def test_a_deadline_reaching_an_unknown_year_is_provisional(schedule: YearSchedule, start: date, n: int) -> None:
    for calendar in (official_calendar(), official_calendar().with_year(schedule)):
        deadline = calendar.add_working_days(start, n)
        assert deadline.provisional == touches_unknown_year(calendar, start, deadline.due_on)
        if deadline.due_on.year > 2026 and not calendar.is_known(deadline.due_on.year):
            assert deadline.provisional


@SETTINGS
@given(starts, counts, st.data())
def test_working_day_before_inverts_the_count(start: date, n: int, data: st.DataObject) -> None:
    calendar = official_calendar()
    due = calendar.add_working_days(start, n).due_on
    k = data.draw(st.integers(min_value=0, max_value=n), label="k")
    before = calendar.working_day_before(due, k)
    assert calendar.is_working_day(before)
    assert calendar.working_days_between(before, due) == k
    assert calendar.working_day_before(due, n) <= start
    if calendar.is_working_day(start):
        assert calendar.working_day_before(due, n) == start
