"""Scans applicants upload (registration certificate, driving licence)."""

from __future__ import annotations

import hashlib
import uuid
from dataclasses import dataclass

import asyncpg


@dataclass(frozen=True)
class Material:
    material_id: str
    owner_sub: str
    kind: str
    content_type: str
    size: int
    sha256: str


class Materials:
    def __init__(self, pool: asyncpg.Pool) -> None:
        self._pool = pool

    async def save(self, owner_sub: str, kind: str, content_type: str, content: bytes) -> Material:
        material = Material(
            material_id=str(uuid.uuid4()),
            owner_sub=owner_sub,
            kind=kind,
            content_type=content_type,
            size=len(content),
            sha256=hashlib.sha256(content).hexdigest(),
        )
        await self._pool.execute(
            """INSERT INTO materials (material_id, owner_sub, kind, content_type, size, sha256, content)
               VALUES ($1, $2, $3, $4, $5, $6, $7)""",
            uuid.UUID(material.material_id),
            owner_sub,
            kind,
            content_type,
            material.size,
            material.sha256,
            content,
        )
        return material

    async def get(self, material_id: str) -> Material | None:
        """The material's description, without its content."""
        try:
            key = uuid.UUID(material_id)
        except ValueError:
            return None
        r = await self._pool.fetchrow(
            "SELECT material_id, owner_sub, kind, content_type, size, sha256 FROM materials WHERE material_id = $1",
            key,
        )
        if r is None:
            return None
        return Material(str(r["material_id"]), r["owner_sub"], r["kind"], r["content_type"], r["size"], r["sha256"])

    async def content(self, material_id: str) -> tuple[str, bytes] | None:
        """The scan's content type (sniffed at upload) and bytes."""
        try:
            key = uuid.UUID(material_id)
        except ValueError:
            return None
        r = await self._pool.fetchrow("SELECT content_type, content FROM materials WHERE material_id = $1", key)
        return (r["content_type"], bytes(r["content"])) if r else None
