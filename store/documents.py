"""Documents the workflow issues, and permit numbers (sequential per city, without gaps)."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import date
from typing import Any

import asyncpg

from domain.districts import CITY_CODE
from domain.documents import IssuedDocument, canonical_sha256, document_content


class Documents:
    def __init__(self, pool: asyncpg.Pool) -> None:
        self._pool = pool

    async def save(self, *, application_id: str, kind: str, key: str, data: dict[str, Any]) -> str:
        """Idempotent per (application, key): a retried activity returns the same document."""
        document_id = uuid.uuid5(uuid.NAMESPACE_URL, f"permit-document:{application_id}:{key}")
        content = document_content(application_id, kind, data)
        await self._pool.execute(
            """INSERT INTO documents (document_id, application_id, kind, data, sha256)
               VALUES ($1, $2, $3, $4, $5) ON CONFLICT (document_id) DO NOTHING""",
            document_id,
            uuid.UUID(application_id),
            kind,
            content,
            canonical_sha256(content),
        )
        return str(document_id)

    async def get(self, document_id: str) -> IssuedDocument | None:
        try:
            key = uuid.UUID(document_id)
        except ValueError:
            return None
        record = await self._pool.fetchrow("SELECT * FROM documents WHERE document_id = $1", key)
        if record is None:
            return None
        return IssuedDocument(
            document_id=str(record["document_id"]),
            application_id=str(record["application_id"]),
            kind=record["kind"],
            content=record["data"],
            verification_code=record["sha256"],
            issued_at=record["created_at"],
        )


@dataclass(frozen=True)
class IssuedPermit:
    number: str
    issued_on: date
    valid_until: date


class Permits:
    def __init__(self, pool: asyncpg.Pool) -> None:
        self._pool = pool

    async def allocate(self, *, application_id: str, issued_on: date, valid_until: date) -> IssuedPermit:
        """Sequential per city without gaps; a second call for one application returns the first number."""
        app = uuid.UUID(application_id)
        async with self._pool.acquire() as conn, conn.transaction():
            existing = await conn.fetchrow("SELECT * FROM permits WHERE application_id = $1", app)
            if existing is None:
                seq = await conn.fetchval(
                    "UPDATE permit_counters SET last_seq = last_seq + 1 WHERE city = $1 RETURNING last_seq", CITY_CODE
                )
                existing = await conn.fetchrow(
                    """INSERT INTO permits (application_id, city, seq, number, issued_on, valid_until)
                       VALUES ($1, $2, $3, $4, $5, $6) RETURNING *""",
                    app,
                    CITY_CODE,
                    seq,
                    f"{CITY_CODE}{issued_on.year}{seq:06d}",
                    issued_on,
                    valid_until,
                )
                assert existing is not None  # INSERT ... RETURNING
        return IssuedPermit(existing["number"], existing["issued_on"], existing["valid_until"])
