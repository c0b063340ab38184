"""Incidents from the projection: opened with the view that shows one, resolved by a newer view without it."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any

from domain.statuses import PendingAction
from store import Store
from store.applications import InboxQuery
from store.incidents import IncidentQuery
from tests.support_views import view_of

OPENED_AT = "2026-09-26T02:00:00+00:00"


async def reserved(store: Store, district: str) -> str:
    application_id = str(uuid.uuid4())
    await store.applications.reserve(
        application_id=application_id,
        workflow_id=f"permit-{application_id}",
        applicant_sub="sub-1",
        district=district,
        channel="online",
        vin=f"VIN{uuid.uuid4().hex[:14]}",
        plate="浙C12345",
        submitted_at=datetime.now(UTC),
        view=view_of(application_id),
        start_input={"application_id": application_id},
        idempotency_key=None,
        request_sha256="b",
    )
    return application_id


def in_incident(application_id: str, incident_id: str, department: str = "vehicle_admin") -> dict[str, Any]:
    return view_of(
        application_id,
        status="vehicle_nature_change",
        pending=[{"action": "resolve_incident", "actor": "supervisor"}],
        incident={
            "incident_id": incident_id,
            "step": "request_usage_change",
            "department": department,
            "answer": "rejected_request: 422 vehicle flagged",
            "opened_at": OPENED_AT,
        },
    )


def resolved(
    application_id: str, incident_id: str, action: str, at: str = "2026-09-27T03:00:00+00:00"
) -> dict[str, Any]:
    view = view_of(application_id, status="vehicle_nature_change")
    view["timeline"].append(
        {"at": at, "event": "incident_resolved", "actor": "supervisor", "incident_id": incident_id, "action": action}
    )
    return view


async def test_an_incident_opens_with_its_view_and_a_newer_view_resolves_it(store: Store) -> None:
    district = "330305"
    app_id = await reserved(store, district)
    await store.applications.project(1, in_incident(app_id, "i-1"), in_incident(app_id, "i-1"))
    await store.applications.project(2, in_incident(app_id, "i-1"), in_incident(app_id, "i-1"))  # still open: one row
    (opened,), total = await store.incidents.list(IncidentQuery(districts=[district]))
    assert total == 1
    assert (opened.application_id, opened.incident_id, opened.step, opened.department) == (
        app_id,
        "i-1",
        "request_usage_change",
        "vehicle_admin",
    )
    assert opened.opened_at == datetime.fromisoformat(OPENED_AT) and opened.resolved_at is None
    waiting = InboxQuery(districts=[district], step=PendingAction.RESOLVE_INCIDENT)
    assert [v["application_id"] for v in (await store.applications.list(waiting))[0]] == [app_id]

    await store.applications.project(3, resolved(app_id, "i-1", "retry"), resolved(app_id, "i-1", "retry"))
    assert await store.incidents.list(IncidentQuery(districts=[district])) == ([], 0)
    assert await store.applications.list(waiting) == ([], 0)
    (closed,), _ = await store.incidents.list(IncidentQuery(districts=[district], open_only=False))
    assert (closed.resolution, closed.resolved_at) == ("retry", datetime(2026, 9, 27, 3, tzinfo=UTC))


async def test_an_older_view_neither_reopens_nor_resolves(store: Store) -> None:
    district = "330326"
    app_id = await reserved(store, district)
    await store.applications.project(5, in_incident(app_id, "i-2"), in_incident(app_id, "i-2"))
    await store.applications.project(4, resolved(app_id, "i-2", "skip"), resolved(app_id, "i-2", "skip"))
    (still,), _ = await store.incidents.list(IncidentQuery(districts=[district]))
    assert still.incident_id == "i-2" and still.resolved_at is None
    await store.applications.project(6, in_incident(app_id, "i-3"), in_incident(app_id, "i-3"))
    (newest,), total = await store.incidents.list(IncidentQuery(districts=[district]))
    assert total == 1 and newest.incident_id == "i-3"  # a second incident replaces the first
    everything, total = await store.incidents.list(IncidentQuery(districts=[district], open_only=False))
    assert total == 2 and [i.incident_id for i in everything] == ["i-3", "i-2"]  # the open one first


async def test_incidents_are_listed_by_district_and_counted_by_department(store: Store) -> None:
    before = await store.incidents.open_by_department()
    ours, theirs = await reserved(store, "330327"), await reserved(store, "330329")
    await store.applications.project(1, in_incident(ours, "i-1", "sms"), in_incident(ours, "i-1", "sms"))
    await store.applications.project(1, in_incident(theirs, "i-1", "sms"), in_incident(theirs, "i-1", "sms"))
    listed, total = await store.incidents.list(IncidentQuery(districts=["330327"]))
    assert total == 1 and [i.application_id for i in listed] == [ours]
    counted = await store.incidents.open_by_department()
    assert counted["sms"] == before.get("sms", 0) + 2
    ended = resolved(ours, "i-0", "retry")  # an earlier incident's resolution is not this one's
    ended.update(status="rejected", pending=[])  # the application ended: its incident with it
    await store.applications.project(2, ended, ended)
    assert (await store.incidents.open_by_department())["sms"] == before.get("sms", 0) + 1
    (gone,), _ = await store.incidents.list(IncidentQuery(districts=["330327"], open_only=False))
    assert gone.resolved_at is not None and gone.resolution is None


async def test_pages_of_incidents_are_stable(store: Store) -> None:
    district = "330328"
    ids = sorted([await reserved(store, district) for _ in range(3)])
    for app_id in ids:
        await store.applications.project(1, in_incident(app_id, "i-1"), in_incident(app_id, "i-1"))
    query = IncidentQuery(districts=[district], page_size=2)
    first, total = await store.incidents.list(query)
    second, _ = await store.incidents.list(IncidentQuery(districts=[district], page=2, page_size=2))
    assert total == 3 and [i.application_id for i in first + second] == ids  # same opened_at: by application id
