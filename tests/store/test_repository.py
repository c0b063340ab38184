"""Repositories against real PostgreSQL (a fresh database for the session)."""

from __future__ import annotations

import asyncio
import base64
import uuid
from collections.abc import AsyncIterator
from datetime import UTC, date, datetime

import pytest
from cryptography.exceptions import InvalidTag

from config import DEV_DATA_KEY
from domain.keyring import KeyringError
from store import Store
from store.applications import ApplicationInProgress, IdempotencyKeyReused
from store.db import create_pool, migrate
from tests.support_views import view_of


@pytest.fixture(scope="module")
async def store(database_url: str) -> AsyncIterator[Store]:
    pool = await create_pool(database_url)
    await migrate(pool)
    assert await migrate(pool) == []
    yield Store(pool)
    await pool.close()


async def reserve(store: Store, vin: str, *, key: str | None = None, body: str = "b1"):
    application_id = str(uuid.uuid4())
    return await store.applications.reserve(
        application_id=application_id,
        workflow_id=f"permit-{application_id}",
        applicant_sub="sub-1",
        district="330382",
        channel="online",
        vin=vin,
        plate="浙C12345",
        submitted_at=datetime.now(UTC),
        view=view_of(application_id),
        start_input={"application_id": application_id},
        idempotency_key=key,
        request_sha256=body,
    )


async def test_permit_numbers_are_sequential_and_allocated_once(store: Store) -> None:
    apps = [str(uuid.uuid4()) for _ in range(5)]
    issued = await asyncio.gather(
        *(
            store.permits.allocate(application_id=a, issued_on=date(2026, 11, 27), valid_until=date(2033, 6, 1))
            for a in apps
        )
    )
    again = await store.permits.allocate(
        application_id=apps[0], issued_on=date(2026, 12, 1), valid_until=date(2033, 6, 1)
    )
    assert again == issued[0]
    sequence = sorted(int(p.number[-6:]) for p in issued)
    assert sequence == list(range(sequence[0], sequence[0] + 5))


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


async def test_documents_are_idempotent_per_key(store: Store) -> None:
    app_id = str(uuid.uuid4())
    first = await store.documents.save(
        application_id=app_id, kind="permit", key="wf:document:permit", data={"number": "1"}
    )
    second = await store.documents.save(
        application_id=app_id, kind="permit", key="wf:document:permit", data={"number": "1"}
    )
    assert first == second
    document = await store.documents.get(first)
    assert document is not None and document.application_id == app_id and document.kind == "permit"
    assert document.content == {"number": "1", "application_id": app_id, "kind": "permit"}
    assert document.is_authentic(document.verification_code)


async def test_a_callback_is_taken_once(store: Store) -> None:
    signature = f"t=1,v1={uuid.uuid4().hex}"
    assert await store.callback_receipts.remember("courier", signature)
    assert not await store.callback_receipts.remember("courier", signature)


async def test_applicants_are_sealed_at_rest_and_read_back_clear(store: Store) -> None:
    sub = f"eid-{uuid.uuid4()}"
    await store.applicants.save(sub, "张三", "330302199001011235", "13800138000")
    raw = await store.pool.fetchrow("SELECT name, id_number, phone FROM applicants WHERE sub = $1", sub)
    stored = " ".join(raw.values())
    for clear in ("张三", "330302199001011235", "13800138000"):
        assert clear not in stored
    assert all(value.startswith("sealed:v1:dev1:") for value in raw.values())
    applicant = await store.applicants.get(sub)
    assert applicant is not None
    assert (applicant["name"], applicant["id_number"], applicant["phone"]) == (
        "张三",
        "330302199001011235",
        "13800138000",
    )


async def test_a_sealed_value_moved_to_another_row_does_not_open(store: Store) -> None:
    victim, other = f"eid-{uuid.uuid4()}", f"eid-{uuid.uuid4()}"
    await store.applicants.save(victim, "李四", "330302198501011236", "13900139000")
    await store.applicants.save(other, "王五", "330302198601011237", "13700137000")
    await store.pool.execute(
        "UPDATE applicants SET phone = (SELECT phone FROM applicants WHERE sub = $1) WHERE sub = $2", victim, other
    )
    with pytest.raises(InvalidTag):
        await store.applicants.get(other)


async def test_rows_from_before_sealing_are_sealed_once_and_keys_rotate(store: Store) -> None:
    sub = f"eid-{uuid.uuid4()}"
    await store.pool.execute(
        "INSERT INTO applicants (sub, name, id_number, phone) VALUES ($1, '赵六', '330302197001011238', '13600136000')",
        sub,
    )
    sealed, _ = await store.applicants.seal_all()
    assert sealed >= 1
    assert (await store.applicants.seal_all())[0] == 0
    assert "13600136000" not in (await store.pool.fetchval("SELECT phone FROM applicants WHERE sub = $1", sub))
    new_key = base64.b64encode(bytes(range(32))).decode()
    rotated = Store(store.pool, data_keys=f"k2:{new_key},dev1:{DEV_DATA_KEY}")
    assert (await rotated.applicants.get(sub))["phone"] == "13600136000"  # sealed with the old key, still opens
    altered = f"eid-{uuid.uuid4()}"
    await store.applicants.save(altered, "钱七", "330302197101011239", "13500135000")
    await store.pool.execute(
        "UPDATE applicants SET name = (SELECT name FROM applicants WHERE sub = $1) WHERE sub = $2", sub, altered
    )
    resealed, unreadable = await rotated.applicants.seal_all()
    assert resealed >= 1 and unreadable >= 1  # an altered row is left for an operator; the others go on
    raw = await store.pool.fetchrow("SELECT name, id_number, phone FROM applicants WHERE sub = $1", sub)
    assert all(value.startswith("sealed:v1:k2:") for value in raw.values())
    assert (await rotated.applicants.get(sub))["id_number"] == "330302197001011238"
    with pytest.raises(KeyringError):
        await store.applicants.get(sub)  # a store without the new key cannot open it
    await store.pool.execute("DELETE FROM applicants WHERE sub = ANY($1)", [sub, altered])  # keys the other tests lack
