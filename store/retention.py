"""The retention policy: what is deleted once it has served, run daily by `RetentionWorkflow`.

- A scan's content, `RETENTION_DAYS` after the last application that lists it closed (a scan no
  open application lists, such as one replaced by a supplement or never submitted, counts from
  its upload). Its description stays, marked purged: reading it answers 410.
- Rate-limit windows a day old (the longest window any limit counts is an hour).
- Callback receipts older than twice the callback tolerance: a replay of such a callback is
  refused by its timestamp already.
- Idempotency keys a day old (`IDEMPOTENCY_KEY_TTL`): a retry of the same submission a day later
  finds the vehicle's application in progress instead.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

import asyncpg

RATE_LIMIT_ROWS_KEPT = timedelta(days=1)
IDEMPOTENCY_KEY_TTL = timedelta(days=1)
SCANS_PER_BATCH = 200  # scans are up to 10 MiB each: many short transactions, not one long one


@dataclass(frozen=True)
class RetentionPolicy:
    scans_kept: timedelta
    callback_receipts_kept: timedelta

    @classmethod
    def of(cls, retention_days: int, callback_tolerance_s: int) -> RetentionPolicy:
        return cls(timedelta(days=retention_days), timedelta(seconds=2 * callback_tolerance_s))


@dataclass(frozen=True)
class Purged:
    """How many rows each part of the policy deleted (scans: contents deleted, descriptions kept)."""

    scans: int = 0
    rate_limits: int = 0
    callback_receipts: int = 0
    idempotency_keys: int = 0


class Retention:
    def __init__(self, pool: asyncpg.Pool) -> None:
        self._pool = pool

    async def purge(self, policy: RetentionPolicy) -> Purged:
        """Delete what the policy no longer keeps; safe to run again at any time."""
        scans = await self.purge_scans(policy.scans_kept)
        rate_limits = await self._delete(
            "DELETE FROM rate_limits WHERE window_start < now() - $1::interval", RATE_LIMIT_ROWS_KEPT
        )
        receipts = await self._delete(
            "DELETE FROM callback_receipts WHERE received_at < now() - $1::interval", policy.callback_receipts_kept
        )
        keys = await self._delete(
            "DELETE FROM idempotency_keys WHERE created_at < now() - $1::interval", IDEMPOTENCY_KEY_TTL
        )
        return Purged(scans, rate_limits, receipts, keys)

    async def purge_scans(self, kept: timedelta) -> int:
        """Delete the content of scans uploaded before `kept` ago that no application open or closed
        since then lists; returns how many."""
        total = 0
        while True:
            done = await self._pool.execute(
                """UPDATE materials SET content = NULL, content_key = NULL, purged_at = now()
                   WHERE material_id IN (
                       SELECT m.material_id FROM materials m
                       WHERE m.purged_at IS NULL AND m.created_at < now() - $1::interval
                       AND NOT EXISTS (
                           SELECT 1 FROM applications a
                           WHERE a.applicant_sub = m.owner_sub
                           AND (a.closed_at IS NULL OR a.closed_at >= now() - $1::interval)
                           AND a.view -> 'materials' @> jsonb_build_array(
                               jsonb_build_object('material_id', m.material_id::text)))
                       LIMIT $2)""",
                kept,
                SCANS_PER_BATCH,
            )
            count = int(done.split()[-1])
            total += count
            if count < SCANS_PER_BATCH:
                return total

    async def _delete(self, sql: str, kept: timedelta) -> int:
        return int((await self._pool.execute(sql, kept)).split()[-1])
