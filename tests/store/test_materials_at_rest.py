"""Uploaded scans: sealed at rest, bound to their row, sealed at start-up when stored clear, keys rotating."""

from __future__ import annotations

import base64
import hashlib
import uuid
from collections.abc import AsyncIterator

import pytest
from cryptography.exceptions import InvalidTag

from config import DEV_DATA_KEY
from domain.keyring import KeyringError
from store import Store
from tests.store.own_database import own_store

SCAN = b"\x89PNG\r\n\x1a\n" + "行驶证 浙C12345 张三 330302199001011235".encode() * 20
NEW_KEY = base64.b64encode(bytes(range(32))).decode()


@pytest.fixture(scope="module")
async def store(database_url: str) -> AsyncIterator[Store]:
    async with own_store(database_url) as store:
        yield store


async def raw(store: Store, material_id: str) -> dict:
    row = await store.pool.fetchrow(
        "SELECT content, content_key FROM materials WHERE material_id = $1", uuid.UUID(material_id)
    )
    return {"content": bytes(row["content"]), "content_key": row["content_key"]}


async def clear_scan(store: Store) -> str:
    """A scan as stored before sealing existed: clear bytes, no key."""
    material_id = uuid.uuid4()
    await store.pool.execute(
        """INSERT INTO materials (material_id, owner_sub, kind, content_type, size, sha256, content)
           VALUES ($1, 'eid-old', 'driving_license', 'image/png', $2, $3, $4)""",
        material_id,
        len(SCAN),
        hashlib.sha256(SCAN).hexdigest(),
        SCAN,
    )
    return str(material_id)


async def test_an_upload_is_stored_sealed_and_read_back_clear(store: Store) -> None:
    material = await store.materials.save("eid-1", "driving_license", "image/png", SCAN)
    stored = await raw(store, material.material_id)
    assert stored["content_key"] == "dev1"
    assert "张三".encode() not in stored["content"] and b"330302199001011235" not in stored["content"]
    assert await store.materials.content(material.material_id) == ("image/png", SCAN)
    assert material.sha256 == hashlib.sha256(SCAN).hexdigest()  # of the clear scan, as the API answers it


async def test_sealed_content_moved_to_another_row_does_not_open(store: Store) -> None:
    victim = await store.materials.save("eid-1", "driving_license", "image/png", SCAN)
    other = await store.materials.save("eid-2", "driving_license", "image/png", b"%PDF-1.4 other")
    await store.pool.execute(
        "UPDATE materials SET content = (SELECT content FROM materials WHERE material_id = $1) WHERE material_id = $2",
        uuid.UUID(victim.material_id),
        uuid.UUID(other.material_id),
    )
    with pytest.raises(InvalidTag):
        await store.materials.content(other.material_id)


async def test_clear_scans_are_sealed_once_and_rotated_keys_reseal(store: Store) -> None:
    old = await clear_scan(store)
    assert await store.materials.content(old) == ("image/png", SCAN)  # readable before it is sealed
    assert await store.materials.seal_all() == (1, 0)
    assert await store.materials.seal_all() == (0, 0)
    assert (await raw(store, old))["content_key"] == "dev1" and SCAN not in (await raw(store, old))["content"]
    assert await store.materials.content(old) == ("image/png", SCAN)

    rotated = Store(store.pool, data_keys=f"k2:{NEW_KEY},dev1:{DEV_DATA_KEY}")
    assert await rotated.materials.content(old) == ("image/png", SCAN)  # sealed with the old key, still opens
    altered = await store.materials.save("eid-3", "driving_license", "image/png", b"%PDF-1.4 altered")
    await store.pool.execute(
        "UPDATE materials SET content = (SELECT content FROM materials WHERE material_id = $1) WHERE material_id = $2",
        uuid.UUID(old),
        uuid.UUID(altered.material_id),
    )
    resealed, unreadable = await rotated.materials.seal_all()
    assert resealed >= 1 and unreadable >= 1  # an altered row is left for an operator; the others go on
    assert (await raw(store, altered.material_id))["content_key"] == "dev1"
    assert (await raw(store, old))["content_key"] == "k2"
    assert await rotated.materials.content(old) == ("image/png", SCAN)
    with pytest.raises(KeyringError):
        await store.materials.content(old)  # a store without the new key cannot open it
