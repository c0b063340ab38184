"""The register bench's synthetic permits and its summary: permits as the lifecycle projects them."""

import random
from datetime import date, timedelta

from domain.districts import DISTRICTS
from drills.bench_inbox import (
    PERMIT_COLUMNS,
    REVIEW_DUE_DAYS,
    TODAY,
    measure,
    next_review_due_on,
    permit_row,
    summary_lines,
)

ROWS = [dict(zip(PERMIT_COLUMNS, permit_row(i, random.Random(i)), strict=True)) for i in range(3000)]


def test_permits_are_numbered_uniquely_by_district_and_year() -> None:
    numbers = [row["number"] for row in ROWS]
    assert len(set(numbers)) == len(numbers)
    for row in ROWS:
        assert len(row["number"]) == 16 and row["number"].startswith(row["district"]) and row["district"] in DISTRICTS
        assert row["number"][6:10] == str(row["issued_on"].year)


def test_no_permit_is_valid_past_the_vehicles_8_years_nor_live_once_they_passed() -> None:
    for row in ROWS:
        assert row["issued_on"] <= TODAY and row["issued_on"] < row["valid_until"]
        if row["valid_until"] <= TODAY:
            assert (row["state"], row["ended"]) == ("lapsed", "expired")
    assert {row["state"] for row in ROWS} == {"valid", "review_due", "lapsed", "cancelled"}


def test_live_permits_have_their_next_review_ahead_and_are_due_within_the_month() -> None:
    for row in ROWS:
        due = row["next_review_due_on"]
        if row["ended"] is not None:
            assert row["state"] in ("lapsed", "cancelled") and due is None
            continue
        assert due is None or TODAY <= due < row["valid_until"]
        soon = due is not None and due <= TODAY + timedelta(days=REVIEW_DUE_DAYS)
        assert row["state"] == ("review_due" if soon else "valid")


def test_the_next_review_is_the_next_anniversary_of_the_issue() -> None:
    today = date(2026, 11, 28)
    assert next_review_due_on(date(2024, 12, 5), date(2031, 1, 1), today) == date(2026, 12, 5)
    assert next_review_due_on(date(2024, 3, 1), date(2031, 1, 1), today) == date(2027, 3, 1)
    assert next_review_due_on(date(2026, 11, 28), date(2031, 1, 1), today) == date(2027, 11, 28)
    assert next_review_due_on(date(2024, 3, 1), date(2027, 2, 1), today) is None  # the validity ends first


def test_the_summary_marks_a_p95_over_the_budget() -> None:
    lines = summary_lines("register", {"fast": [1.0] * 99 + [50.0], "slow": [30.0] * 100}, budget_ms=20)
    assert lines[1].split()[:4] == ["fast", "1.00", "1.00", "50.00"] and "OVER" not in lines[1]
    assert lines[2].split()[:4] == ["slow", "30.00", "30.00", "30.00"] and "OVER BUDGET (20 ms)" in lines[2]


async def test_measure_times_every_query_of_every_round() -> None:
    rounds = iter(range(10))
    seen: list[str] = []

    async def run(query: str) -> None:
        seen.append(query)

    timings = await measure(lambda: {"a": f"a{next(rounds)}", "b": "b"}, run, runs=3)
    assert seen == ["a0", "b", "a1", "b", "a2", "b"]
    assert {label: len(values) for label, values in timings.items()} == {"a": 3, "b": 3}
