"""The register of permits: the lifecycle's projection (newer versions win) and the clerks' queries."""

from __future__ import annotations

import uuid
from datetime import date
from typing import Any

from store import Store
from store.permits import RegisterQuery


def row(number: str, *, district: str = "330302", state: str = "valid", valid_until: str = "2033-06-01") -> dict:
    return {
        "number": number,
        "application_id": str(uuid.uuid4()),
        "holder_subject": "applicant-1",
        "plate": "浙C1***5",
        "district": district,
        "state": state,
        "ended": None,
        "issued_on": "2025-06-01",
        "valid_until": valid_until,
        "next_review_due_on": "2026-06-01",
        "mileage_km": 0,
        "regulator_pending": False,
    }


def unique(prefix: str) -> str:
    return f"{prefix}{uuid.uuid4().int % 10**8:08d}"


async def test_a_newer_projection_wins_and_an_older_never_overwrites(store: Store) -> None:
    number = unique("P")
    first = row(number)
    await store.permit_register.project(2, {**first, "state": "review_due"})
    await store.permit_register.project(1, first)  # late: ignored
    permit = await store.permit_register.get(number)
    assert permit is not None and permit.state == "review_due"
    await store.permit_register.project(3, {**first, "state": "lapsed", "ended": "review_missed"})
    permit = await store.permit_register.get(number)
    assert permit is not None and (permit.state, permit.ended) == ("lapsed", "review_missed")
    assert await store.permit_register.for_application(first["application_id"]) == permit
    assert await store.permit_register.get("nonexistent") is None


async def test_the_register_filters_by_district_state_and_validity_and_pages(store: Store) -> None:
    district = unique("D")
    rows: list[dict[str, Any]] = [
        row(unique("A"), district=district, valid_until="2027-01-10"),
        row(unique("B"), district=district, valid_until="2026-12-31", state="review_due"),
        row(unique("C"), district=district, valid_until="2030-01-01"),
        row(unique("E"), district=unique("X"), valid_until="2026-12-01"),
    ]
    for r in rows:
        await store.permit_register.project(1, r)
    found, total = await store.permit_register.search(RegisterQuery(districts=[district]))
    assert total == 3 and [p.number for p in found] == [rows[1]["number"], rows[0]["number"], rows[2]["number"]]
    found, total = await store.permit_register.search(RegisterQuery(districts=[district], state="review_due"))
    assert total == 1 and found[0].number == rows[1]["number"]
    query = RegisterQuery(districts=[district], expiring_before=date(2027, 6, 1), page=2, page_size=1)
    found, total = await store.permit_register.search(query)
    assert total == 2 and [p.number for p in found] == [rows[0]["number"]]
