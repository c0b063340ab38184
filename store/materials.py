"""Scans applicants upload (registration certificate, driving licence), sealed at rest.

The content is sealed (store/sealing.py) under the newest `DATA_KEYS` key, whose id is kept in
`content_key`, and bound to its row. The retention policy (store/retention.py) deletes the
content of old scans and keeps their description, marked purged.
"""

from __future__ import annotations

import hashlib
import uuid
from dataclasses import dataclass

import asyncpg
from cryptography.exceptions import InvalidTag

from domain.keyring import KeyringError
from store.sealing import Sealer


@dataclass(frozen=True)
class Material:
    material_id: str
    owner_sub: str
    kind: str
    content_type: str
    size: int
    sha256: str
    purged: bool = False


class ScanPurged(Exception):
    """The scan's content was deleted under the retention policy; its description remains."""


def _place(material_id: uuid.UUID) -> str:
    return f"materials.content:{material_id}"


class Materials:
    def __init__(self, pool: asyncpg.Pool, sealer: Sealer) -> None:
        self._pool = pool
        self._sealer = sealer

    async def save(self, owner_sub: str, kind: str, content_type: str, content: bytes) -> Material:
        material = Material(
            material_id=str(uuid.uuid4()),
            owner_sub=owner_sub,
            kind=kind,
            content_type=content_type,
            size=len(content),
            sha256=hashlib.sha256(content).hexdigest(),
        )
        key = uuid.UUID(material.material_id)
        key_id, sealed = self._sealer.seal_bytes(content, _place(key))
        await self._pool.execute(
            """INSERT INTO materials (material_id, owner_sub, kind, content_type, size, sha256, content, content_key)
               VALUES ($1, $2, $3, $4, $5, $6, $7, $8)""",
            key,
            owner_sub,
            kind,
            content_type,
            material.size,
            material.sha256,
            sealed,
            key_id,
        )
        return material

    async def get(self, material_id: str) -> Material | None:
        """The material's description, without its content."""
        try:
            key = uuid.UUID(material_id)
        except ValueError:
            return None
        r = await self._pool.fetchrow(
            """SELECT material_id, owner_sub, kind, content_type, size, sha256, purged_at IS NOT NULL AS purged
               FROM materials WHERE material_id = $1""",
            key,
        )
        if r is None:
            return None
        return Material(
            str(r["material_id"]), r["owner_sub"], r["kind"], r["content_type"], r["size"], r["sha256"], r["purged"]
        )

    async def content(self, material_id: str) -> tuple[str, bytes] | None:
        """The scan's content type (sniffed at upload) and clear bytes; raises ScanPurged once deleted."""
        try:
            key = uuid.UUID(material_id)
        except ValueError:
            return None
        r = await self._pool.fetchrow(
            "SELECT content_type, content, content_key FROM materials WHERE material_id = $1", key
        )
        if r is None:
            return None
        if r["content"] is None:
            raise ScanPurged(material_id)
        content = bytes(r["content"])
        if r["content_key"] is not None:  # else stored before sealing, and not sealed yet
            content = self._sealer.open_bytes(r["content_key"], content, _place(key))
        return r["content_type"], content

    async def seal_all(self) -> tuple[int, int]:
        """Seal scans still in clear and re-seal scans sealed with an older key, one row at a time.

        Returns (scans sealed, scans that would not open: an unknown key or altered bytes); the
        latter are left as they are, for an operator, and do not stop the others.
        """
        newest = self._sealer.newest_key_id
        rows = await self._pool.fetch(
            """SELECT material_id, content_key FROM materials
               WHERE content IS NOT NULL AND content_key IS DISTINCT FROM $1""",
            newest,
        )
        sealed = unreadable = 0
        for row in rows:
            key, old_key = row["material_id"], row["content_key"]
            content = await self._pool.fetchval(
                "SELECT content FROM materials WHERE material_id = $1 AND content_key IS NOT DISTINCT FROM $2",
                key,
                old_key,
            )
            if content is None:  # sealed or purged meanwhile (another replica starting)
                continue
            try:
                clear = bytes(content) if old_key is None else self._sealer.open_bytes(old_key, content, _place(key))
            except (KeyringError, InvalidTag):
                unreadable += 1
                continue
            key_id, resealed = self._sealer.seal_bytes(clear, _place(key))
            done = await self._pool.execute(
                """UPDATE materials SET content = $3, content_key = $4
                   WHERE material_id = $1 AND content_key IS NOT DISTINCT FROM $2 AND content IS NOT NULL""",
                key,
                old_key,
                resealed,
                key_id,
            )
            if done.endswith(" 1"):
                sealed += 1
        return sealed, unreadable
