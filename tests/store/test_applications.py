"""Applications: one open per vehicle, idempotent submission, the newest projection wins, the inbox query."""

from __future__ import annotations

import dataclasses
import uuid
from datetime import UTC, date, datetime

import pytest

from domain.statuses import PendingAction, Status, WarningLevel
from store import Store
from store.applications import ApplicationInProgress, IdempotencyKeyReused, InboxQuery, Reservation
from tests.support_views import view_of


async def reserve(
    store: Store,
    vin: str,
    *,
    key: str | None = None,
    body: str = "b1",
    plate: str = "浙C12345",
    district: str = "330382",
) -> Reservation:
    application_id = str(uuid.uuid4())
    return await store.applications.reserve(
        application_id=application_id,
        workflow_id=f"permit-{application_id}",
        applicant_sub="sub-1",
        district=district,
        channel="online",
        vin=vin,
        plate=plate,
        submitted_at=datetime.now(UTC),
        view=view_of(application_id),
        start_input={"application_id": application_id},
        idempotency_key=key,
        request_sha256=body,
    )


async def test_one_open_application_per_vehicle(store: Store) -> None:
    vin = f"VIN{uuid.uuid4().hex[:14]}"
    first = await reserve(store, vin)
    with pytest.raises(ApplicationInProgress):
        await reserve(store, vin)
    view = view_of(first.row.application_id, status="withdrawn", pending=[])
    await store.applications.project(1, view, view)
    assert (await reserve(store, vin)).created


async def test_idempotency_key_returns_the_same_application(store: Store) -> None:
    first = await reserve(store, f"VIN{uuid.uuid4().hex[:14]}", key="k-1")
    again = await reserve(store, f"VIN{uuid.uuid4().hex[:14]}", key="k-1")
    assert not again.created and again.row.application_id == first.row.application_id
    with pytest.raises(IdempotencyKeyReused):
        await reserve(store, f"VIN{uuid.uuid4().hex[:14]}", key="k-1", body="other")


async def test_an_older_projection_never_overwrites_a_newer_one(store: Store) -> None:
    reservation = await reserve(store, f"VIN{uuid.uuid4().hex[:14]}")
    app_id = reservation.row.application_id
    newer = view_of(app_id, status="preliminary_review")
    older = view_of(app_id, status="collecting_data")
    await store.applications.project(3, newer, newer)
    await store.applications.project(2, older, older)
    row = await store.applications.get(app_id)
    assert row is not None and row.status == "preliminary_review"


async def test_the_inbox_filters_by_district_plate_and_warning_in_a_stable_order(store: Store) -> None:
    district, plate = "330328", f"浙C{uuid.uuid4().int % 100000:05d}"
    mine = [await reserve(store, f"VIN{uuid.uuid4().hex[:14]}", plate=plate, district=district) for _ in range(3)]
    ids = [r.row.application_id for r in mine]
    red = view_of(
        ids[0],
        status="final_review",
        district=district,
        accepted_on="2026-09-25",
        pending=[{"action": "final_review", "actor": "transport_clerk"}],
        deadlines={
            "insurance": {"due_on": "2026-10-22", "working_days": 15, "provisional": False, "reminders_on": []},
            "decision": {"due_on": "2026-10-29", "working_days": 20, "provisional": False, "warning": "red"},
        },
    )
    await store.applications.project(1, red, red)
    reds = InboxQuery(districts=[district], warning_level=WarningLevel.RED, step=PendingAction.FINAL_REVIEW)
    assert await store.applications.list(reds) == ([red], 1)
    by_plate = InboxQuery(districts=[district], plate=plate, sort="decision_due", page_size=2)
    first, total = await store.applications.list(by_plate)
    second, _ = await store.applications.list(dataclasses.replace(by_plate, page=2))
    assert total == 3 and first[0]["application_id"] == ids[0]  # due first, then the undated by id
    assert sorted(v["application_id"] for v in first + second) == sorted(ids)
    assert await store.applications.list(InboxQuery(districts=["330381"], plate=plate)) == ([], 0)
    submitted = InboxQuery(districts=[district], status=Status.SUBMITTED, due_to=date(2026, 12, 31))
    assert (await store.applications.list(submitted))[1] == 0  # no decision due date yet: outside any due range
