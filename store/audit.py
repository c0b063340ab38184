"""The audit trail: append-only and hash-chained in the database (migration 003)."""

from __future__ import annotations

from typing import Any

import asyncpg


class AuditLog:
    def __init__(self, pool: asyncpg.Pool) -> None:
        self._pool = pool

    async def record(
        self,
        *,
        actor: str,
        role: str,
        action: str,
        outcome: str,
        district: str | None = None,
        target: str | None = None,
        source_ip: str | None = None,
        detail: dict[str, Any] | None = None,
    ) -> None:
        await self._pool.execute(
            """INSERT INTO audit_log (actor, role, district, action, target, outcome, source_ip, detail)
               VALUES ($1, $2, $3, $4, $5, $6, $7, $8)""",
            actor,
            role,
            district,
            action,
            target,
            outcome,
            source_ip,
            detail or {},
        )

    async def verify_chain(self) -> tuple[int, int | None]:
        """(records checked, seq of the first broken link or None) — recomputed in the database."""
        broken = await self._pool.fetchval(
            """SELECT seq FROM (
                   SELECT seq, hash, prev_hash, audit_log_record_hash(a) AS expected,
                          lag(hash, 1, repeat('0', 64)) OVER (ORDER BY seq) AS previous
                   FROM audit_log a) chain
               WHERE hash <> expected OR prev_hash <> previous
               ORDER BY seq LIMIT 1"""
        )
        count = await self._pool.fetchval("SELECT count(*) FROM audit_log")
        return count, broken
