"""The retention policy over real PostgreSQL: which scans lose their content and which expired guard
rows go, and what stays."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime

import pytest

from store import Store
from store.materials import ScanPurged
from store.retention import Purged, RetentionPolicy
from tests.store.own_database import own_store
from tests.support_views import view_of

POLICY = RetentionPolicy.of(retention_days=30, callback_tolerance_s=300)
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64


@pytest.fixture
async def store(database_url: str) -> AsyncIterator[Store]:
    """A database of the test's own: the purge counts every row, so no other test's rows may be there."""
    async with own_store(database_url) as store:
        yield store


async def scan(store: Store, owner: str, *, days_old: int) -> str:
    material = await store.materials.save(owner, "driving_license", "image/png", PNG)
    await store.pool.execute(
        "UPDATE materials SET created_at = now() - make_interval(days => $2) WHERE material_id = $1",
        uuid.UUID(material.material_id),
        days_old,
    )
    return material.material_id


async def application(store: Store, owner: str, scans: list[str], *, closed_days_ago: int | None) -> str:
    """An application listing `scans`; open, or closed (withdrawn) `closed_days_ago`."""
    application_id = str(uuid.uuid4())
    view = view_of(application_id, materials=[{"kind": "driving_license", "material_id": m} for m in scans])
    await store.applications.reserve(
        application_id=application_id,
        workflow_id=f"permit-{application_id}",
        applicant_sub=owner,
        district="330382",
        channel="online",
        vin=f"VIN{uuid.uuid4().hex[:14]}",
        plate="浙C12345",
        submitted_at=datetime.now(UTC),
        view=view,
        start_input={"application_id": application_id},
        idempotency_key=None,
        request_sha256="b",
    )
    if closed_days_ago is not None:
        closed = {**view, "status": "withdrawn", "pending": []}
        await store.applications.project(1, closed, closed)
        await store.pool.execute(
            "UPDATE applications SET closed_at = closed_at - make_interval(days => $2) WHERE application_id = $1",
            uuid.UUID(application_id),
            closed_days_ago,
        )
    return application_id


async def purged(store: Store, material_id: str) -> bool:
    try:
        await store.materials.content(material_id)
    except ScanPurged:
        return True
    return False


async def test_a_projection_to_a_terminal_status_marks_when_the_application_closed(store: Store) -> None:
    app = await application(store, "eid-a", [], closed_days_ago=None)
    closed_at = "SELECT closed_at FROM applications WHERE application_id = $1"
    assert await store.pool.fetchval(closed_at, uuid.UUID(app)) is None
    view = view_of(app, status="withdrawn", pending=[])
    await store.applications.project(1, view, view)
    first = await store.pool.fetchval(closed_at, uuid.UUID(app))
    assert first is not None
    await store.applications.project(2, view, view)  # a later view of the closed application
    assert await store.pool.fetchval(closed_at, uuid.UUID(app)) == first


async def test_scans_go_retention_days_after_the_last_application_listing_them_closed(store: Store) -> None:
    closed_long_ago = await scan(store, "eid-a", days_old=400)
    closed_recently = await scan(store, "eid-a", days_old=400)
    still_open = await scan(store, "eid-a", days_old=400)
    reused = await scan(store, "eid-a", days_old=400)  # listed by a closed application and by an open one
    never_submitted = await scan(store, "eid-b", days_old=31)
    just_uploaded = await scan(store, "eid-b", days_old=1)
    await application(store, "eid-a", [closed_long_ago, reused], closed_days_ago=31)
    await application(store, "eid-a", [closed_recently], closed_days_ago=29)
    await application(store, "eid-a", [still_open, reused], closed_days_ago=None)

    assert await store.retention.purge(POLICY) == Purged(scans=2)

    gone = {
        m
        for m in (closed_long_ago, closed_recently, still_open, reused, never_submitted, just_uploaded)
        if await purged(store, m)
    }
    assert gone == {closed_long_ago, never_submitted}
    material = await store.materials.get(closed_long_ago)
    assert material is not None and material.purged and material.size == len(PNG)  # the description stays
    assert await store.pool.fetchval(
        "SELECT content IS NULL AND content_key IS NULL FROM materials WHERE material_id = $1",
        uuid.UUID(closed_long_ago),
    )
    assert await store.retention.purge(POLICY) == Purged()  # nothing more: a second run is harmless


async def test_expired_guard_rows_go_and_current_ones_stay(store: Store) -> None:
    await store.rate_limits.hit("upload:eid-now", 3600)
    await store.pool.execute(
        "INSERT INTO rate_limits (key, window_start, hits) VALUES ('upload:eid-then', now() - interval '25 hours', 3)"
    )
    assert await store.callback_receipts.remember("courier", "fresh")
    await store.pool.execute(
        """INSERT INTO callback_receipts (signature, source, received_at)
           VALUES ('stale', 'courier', now() - interval '11 minutes')"""
    )
    fresh_key = await application(store, "eid-c", [], closed_days_ago=None)
    stale_key = await application(store, "eid-c", [], closed_days_ago=2)
    for key, application_id, age in (("fresh", fresh_key, "1 hour"), ("stale", stale_key, "25 hours")):
        await store.pool.execute(
            f"""INSERT INTO idempotency_keys (applicant_sub, key, request_sha256, application_id, created_at)
                VALUES ('eid-c', $1, 'b', $2, now() - interval '{age}')""",
            key,
            uuid.UUID(application_id),
        )

    assert await store.retention.purge(POLICY) == Purged(rate_limits=1, callback_receipts=1, idempotency_keys=1)

    assert await store.pool.fetchval("SELECT array_agg(key) FROM rate_limits") == ["upload:eid-now"]
    assert await store.pool.fetchval("SELECT array_agg(signature) FROM callback_receipts") == ["fresh"]
    assert await store.pool.fetchval("SELECT array_agg(key) FROM idempotency_keys") == ["fresh"]
    assert not await store.callback_receipts.remember("courier", "fresh")  # still refused as a replay
