"""Applicants' name, ID number and phone: sealed at rest, bound to their row, keys rotating."""

from __future__ import annotations

import base64
import uuid

import pytest
from cryptography.exceptions import InvalidTag

from config import DEV_DATA_KEY
from domain.keyring import KeyringError
from store import Store


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
