"""Deadlines checked by hand against the State Council's published holiday notices.

Each expectation was counted day by day from the notice of that year
(国务院办公厅关于XXXX年部分节假日安排的通知, unless another notice is named),
not taken from the `chinesecalendar` package: the start day is not counted,
holidays are off, make-up weekend days (调休上班) are worked.
"""

from datetime import date, timedelta

import pytest

from domain.calendar import official_calendar

D = date


@pytest.mark.parametrize(
    ("start", "n", "due"),
    [
        # 2008 notice. Spring Festival: 6-12 Feb off, Sat 2 + Sun 3 Feb worked -> Fri 1 Feb +2 = Sun 3 Feb.
        (D(2008, 2, 1), 2, D(2008, 2, 3)),
        # 2008 Spring Festival: Tue 5 Feb, then 6-12 Feb off -> first working day Wed 13 Feb.
        (D(2008, 2, 5), 1, D(2008, 2, 13)),
        # 2008 National Day: 29 Sep-5 Oct off, Sat 27 + Sun 28 Sep worked -> 27 (1), 28 (2), Mon 6 Oct (3).
        (D(2008, 9, 26), 3, D(2008, 10, 6)),
        # 2009 National Day + Mid-Autumn: 1-8 Oct off, Sun 27 Sep + Sat 10 Oct worked -> Sat 26 off, Sun 27 (1).
        (D(2009, 9, 25), 1, D(2009, 9, 27)),
        # 2009 National Day: Wed 30 Sep, 1-8 Oct off -> Fri 9 (1), Sat 10 Oct (2).
        (D(2009, 9, 30), 2, D(2009, 10, 10)),
        # 2010 Dragon Boat: 14-16 Jun off, Sat 12 + Sun 13 Jun worked -> 12 (1), 13 (2), Thu 17 Jun (3).
        (D(2010, 6, 11), 3, D(2010, 6, 17)),
        # 2012 notice, New Year: 1-3 Jan 2012 off, Sat 31 Dec 2011 worked -> 31 Dec (1), Wed 4 Jan (2).
        (D(2011, 12, 30), 2, D(2012, 1, 4)),
        # 2012 Qingming: 2-4 Apr off, Sat 31 Mar + Sun 1 Apr worked -> 31 (1), 1 (2), Thu 5 Apr (3).
        (D(2012, 3, 30), 3, D(2012, 4, 5)),
        # 2013 New Year: 1-3 Jan off, Sat 5 + Sun 6 Jan worked -> Fri 4 (1), Sat 5 (2), Sun 6 (3).
        (D(2012, 12, 31), 3, D(2013, 1, 6)),
        # 2013 Mid-Autumn: 19-21 Sep off, Sun 22 Sep worked -> Wed 18 Sep +1 = Sun 22 Sep.
        (D(2013, 9, 18), 1, D(2013, 9, 22)),
        # 国务院关于抗战胜利70周年纪念日调休放假的通知 (2015): 3-5 Sep off, Sun 6 Sep worked -> 6 (1), Mon 7 (2).
        (D(2015, 9, 2), 2, D(2015, 9, 7)),
        # 2016 Spring Festival: 7-13 Feb off, Sat 6 + Sun 14 Feb worked -> Sat 6 (1), Sun 14 (2).
        (D(2016, 2, 5), 2, D(2016, 2, 14)),
        # 2016 National Day: 1-7 Oct off, Sat 8 + Sun 9 Oct worked -> Fri 30 Sep +2 = Sun 9 Oct.
        (D(2016, 9, 30), 2, D(2016, 10, 9)),
        # 2018 Qingming: 5-7 Apr off, Sun 8 Apr worked -> Wed 4 Apr +1 = Sun 8 Apr.
        (D(2018, 4, 4), 1, D(2018, 4, 8)),
        # 2019 Spring Festival: 4-10 Feb off, Sat 2 + Sun 3 Feb worked -> 2 (1), 3 (2), Mon 11 Feb (3).
        (D(2019, 2, 1), 3, D(2019, 2, 11)),
        # 2019 Labour Day (amended notice, five days): 1-4 May off, Sun 28 Apr + Sun 5 May worked.
        (D(2019, 4, 26), 1, D(2019, 4, 28)),
        # 2019 Labour Day: Tue 30 Apr, 1-4 May off -> Sun 5 May (1).
        (D(2019, 4, 30), 1, D(2019, 5, 5)),
        # 2019 National Day: 1-7 Oct off, Sun 29 Sep + Sat 12 Oct worked. Mon 23 Sep +15:
        # 24,25,26,27 Sep, Sun 29, Mon 30 (6), 8,9,10,11 Oct (10), Sat 12 (11), 14,15,16,17 Oct (15).
        (D(2019, 9, 23), 15, D(2019, 10, 17)),
        # 2020 Labour Day: 1-5 May off, Sun 26 Apr + Sat 9 May worked -> Fri 24 Apr, Sat 25 off, Sun 26 (1).
        (D(2020, 4, 24), 1, D(2020, 4, 26)),
        # 2020 Labour Day: Thu 30 Apr, 1-5 May off -> Wed 6 (1), 7 (2), 8 (3), Sat 9 May (4).
        (D(2020, 4, 30), 4, D(2020, 5, 9)),
        # 2021 Mid-Autumn: 19-21 Sep off, Sat 18 Sep worked -> Sat 18 (1), Wed 22 Sep (2).
        (D(2021, 9, 17), 2, D(2021, 9, 22)),
        # 2023 Dragon Boat: 22-24 Jun off, Sun 25 Jun worked -> Wed 21 Jun +1 = Sun 25 Jun.
        (D(2023, 6, 21), 1, D(2023, 6, 25)),
        # 2024 Spring Festival: 10-17 Feb off, Sun 4 + Sun 18 Feb worked -> Fri 9 Feb +1 = Sun 18 Feb.
        (D(2024, 2, 9), 1, D(2024, 2, 18)),
        # 2025 Labour Day: 1-5 May off, Sun 27 Apr worked -> Sun 27 (1), 28, 29, 30 Apr (4), Tue 6 May (5).
        (D(2025, 4, 25), 5, D(2025, 5, 6)),
        # 2025 National Day + Mid-Autumn: 1-8 Oct off, Sun 28 Sep + Sat 11 Oct worked -> 28, 29, 30 Sep, Thu 9 Oct.
        (D(2025, 9, 26), 4, D(2025, 10, 9)),
        # 2025 National Day: Fri 10 Oct +1 = make-up Sat 11 Oct.
        (D(2025, 10, 10), 1, D(2025, 10, 11)),
        # 2026 notice, New Year: 1-3 Jan off, Sun 4 Jan worked -> Wed 31 Dec 2025 +1 = Sun 4 Jan 2026.
        (D(2025, 12, 31), 1, D(2026, 1, 4)),
        # 2026 Spring Festival: 15-23 Feb off, Sat 14 + Sat 28 Feb worked -> Sat 14 (1), Tue 24 Feb (2).
        (D(2026, 2, 13), 2, D(2026, 2, 24)),
        # 2026 Spring Festival: Thu 12 Feb +7 = Fri 13, Sat 14, Tue 24, 25, 26, 27, Sat 28 Feb.
        (D(2026, 2, 12), 7, D(2026, 2, 28)),
        # 2026 Qingming: 4-6 Apr off, no make-up day -> Fri 3 Apr +1 = Tue 7 Apr.
        (D(2026, 4, 3), 1, D(2026, 4, 7)),
        # 2026 Labour Day: 1-5 May off, Sat 9 May worked -> Wed 6, 7, 8, Sat 9 May (4).
        (D(2026, 4, 30), 4, D(2026, 5, 9)),
        # 2026 Dragon Boat: 19-21 Jun off -> Thu 18 Jun +1 = Mon 22 Jun.
        (D(2026, 6, 18), 1, D(2026, 6, 22)),
        # 2026 National Day: Sun 20 Sep worked -> Fri 18 Sep, Sat 19 off, Sun 20 (1).
        (D(2026, 9, 18), 1, D(2026, 9, 20)),
        # 2026 Mid-Autumn: 25-27 Sep off -> Thu 24 Sep +1 = Mon 28 Sep.
        (D(2026, 9, 24), 1, D(2026, 9, 28)),
        # DOMAIN example. 2026 Mid-Autumn 25-27 Sep and National Day 1-7 Oct off, Sat 10 Oct worked:
        # 28, 29, 30 Sep (3), 8, 9 Oct (5), Sat 10 (6), 12-16 Oct (11), 19, 20, 21, 22 Oct (15).
        (D(2026, 9, 25), 15, D(2026, 10, 22)),
        # 2026 National Day: Wed 30 Sep, 1-7 Oct off -> Thu 8 (1), Fri 9 (2), Sat 10 Oct (3).
        (D(2026, 9, 30), 3, D(2026, 10, 10)),
    ],
)
def test_deadline_matches_the_published_notice(start: date, n: int, due: date) -> None:
    deadline = official_calendar().add_working_days(start, n)
    assert deadline.due_on == due
    assert not deadline.provisional


# 国务院办公厅关于2026年部分节假日安排的通知 (published November 2025).
MAKEUP_WORKDAYS_2026 = [
    D(2026, 1, 4),  # Sun, New Year
    D(2026, 2, 14),  # Sat, Spring Festival
    D(2026, 2, 28),  # Sat, Spring Festival
    D(2026, 5, 9),  # Sat, Labour Day
    D(2026, 9, 20),  # Sun, National Day
    D(2026, 10, 10),  # Sat, National Day
]

WEEKDAY_HOLIDAYS_2026 = [
    D(2026, 1, 1), D(2026, 1, 2),  # New Year 1-3 Jan
    D(2026, 2, 16), D(2026, 2, 17), D(2026, 2, 18), D(2026, 2, 19), D(2026, 2, 20),  # Spring Festival 15-23 Feb
    D(2026, 2, 23),
    D(2026, 4, 6),  # Qingming 4-6 Apr
    D(2026, 5, 1), D(2026, 5, 4), D(2026, 5, 5),  # Labour Day 1-5 May
    D(2026, 6, 19),  # Dragon Boat 19-21 Jun
    D(2026, 9, 25),  # Mid-Autumn 25-27 Sep
    D(2026, 10, 1), D(2026, 10, 2), D(2026, 10, 5), D(2026, 10, 6), D(2026, 10, 7),  # National Day 1-7 Oct
]  # fmt: skip


@pytest.mark.parametrize("day", MAKEUP_WORKDAYS_2026, ids=str)
def test_2026_makeup_weekend_days_are_working_days(day: date) -> None:
    assert day.weekday() >= 5
    assert official_calendar().is_working_day(day)


@pytest.mark.parametrize("day", WEEKDAY_HOLIDAYS_2026, ids=str)
def test_2026_weekday_holidays_are_not_working_days(day: date) -> None:
    assert day.weekday() < 5
    assert not official_calendar().is_working_day(day)


def test_2026_schedule_is_exactly_the_published_notice() -> None:
    calendar = official_calendar()
    days = [D(2026, 1, 1) + timedelta(days=i) for i in range(365)]
    off_weekdays = [d for d in days if d.weekday() < 5 and not calendar.is_working_day(d)]
    worked_weekends = [d for d in days if d.weekday() >= 5 and calendar.is_working_day(d)]
    assert off_weekdays == WEEKDAY_HOLIDAYS_2026
    assert worked_weekends == MAKEUP_WORKDAYS_2026


@pytest.mark.parametrize(
    ("due", "k", "expected"),
    [
        # SMS reminders for the DOMAIN example due Thu 22 Oct 2026: 1 before = Wed 21 Oct;
        # 5 before = 22 (0), 21 (1), 20 (2), 19 (3), Fri 16 (4), Thu 15 Oct (5).
        (D(2026, 10, 22), 1, D(2026, 10, 21)),
        (D(2026, 10, 22), 5, D(2026, 10, 15)),
        # Due Mon 12 Oct 2026: 1 before = make-up Sat 10 Oct; 5 before = 10 (1), 9 (2), 8 (3), 30 Sep (4), 29 Sep (5).
        (D(2026, 10, 12), 1, D(2026, 10, 10)),
        (D(2026, 10, 12), 5, D(2026, 9, 29)),
        # Due Tue 24 Feb 2026: 1 before skips 15-23 Feb -> Sat 14 Feb.
        (D(2026, 2, 24), 1, D(2026, 2, 14)),
        (D(2026, 10, 22), 0, D(2026, 10, 22)),
        # n == 0 on a day off: the last working day on or before it (Sun 11 Oct -> Sat 10 Oct).
        (D(2026, 10, 11), 0, D(2026, 10, 10)),
    ],
)
def test_working_day_before_reminder_dates(due: date, k: int, expected: date) -> None:
    calendar = official_calendar()
    assert calendar.working_day_before(due, k) == expected
    assert calendar.working_days_between(expected, due) == k


def test_working_day_before_rejects_negative_counts() -> None:
    with pytest.raises(ValueError):
        official_calendar().working_day_before(D(2026, 10, 22), -1)
