"""The audit trail: append-only, and chained with a key the database does not hold.

Each record carries `hash`, an HMAC-SHA256 under AUDIT_KEY of its canonical JSON (sorted keys, no
spaces, UTF-8) — its fields, its `seq` and `prev_hash`, the hash of the record before it (64 zeros
for the first). The application computes it at insert time, one insert at a time (an advisory
lock in the insert's transaction; `seq` is unique, so a writer that skipped the lock could not
fork the chain either). The API and the worker connect as a role that may only INSERT and SELECT
here (store/db.py `grant_app_role`), and the table's owner, which could rewrite rows, does not
hold the key: a record it alters, or a chain it recomputes, no longer verifies.
"""

from __future__ import annotations

import hashlib
import hmac
import json
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any, NamedTuple

import asyncpg
from asyncpg.pool import PoolConnectionProxy

CHAIN_LOCK = 7_330_301
GENESIS = "0" * 64
FIELDS = ("at", "actor", "role", "district", "action", "target", "outcome", "source_ip", "detail")
VERIFY_BATCH = 1000


def canonical(record: Mapping[str, Any] | asyncpg.Record) -> bytes:
    """The unambiguous bytes a record's hash covers: its fields, `seq` and `prev_hash`, as canonical JSON."""
    fields = {name: record[name] for name in (*FIELDS, "seq", "prev_hash")}
    at: datetime = fields["at"]
    fields["at"] = at.astimezone(UTC).isoformat(timespec="microseconds")
    return json.dumps(fields, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode("utf-8")


def link(key: bytes, record: Mapping[str, Any] | asyncpg.Record) -> str:
    return hmac.new(key, canonical(record), hashlib.sha256).hexdigest()


class ChainCheck(NamedTuple):
    records: int
    first_seq: int | None  # 1 unless older records were archived; None when there is none
    broken: int | None  # the seq of the first broken link


class AuditLog:
    def __init__(self, pool: asyncpg.Pool, key: str) -> None:
        self._pool = pool
        self._key = key.encode("utf-8")

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
        async with self._pool.acquire() as conn, conn.transaction():
            await conn.execute("SELECT pg_advisory_xact_lock($1)", CHAIN_LOCK)
            # The time after the lock, so that `at` follows `seq`; the detail as jsonb gives it back
            # (key order, numbers), so that the hash covers what verification will read.
            head = await conn.fetchrow(
                """SELECT coalesce(last.seq, 0) + 1 AS seq, coalesce(last.hash, $2) AS prev_hash,
                          clock_timestamp() AS at, $1::jsonb AS detail
                   FROM (SELECT 1) one LEFT JOIN LATERAL
                        (SELECT seq, hash FROM audit_log ORDER BY seq DESC LIMIT 1) last ON true""",
                detail or {},
                GENESIS,
            )
            assert head is not None  # one row, always
            entry = {
                "seq": head["seq"],
                "prev_hash": head["prev_hash"],
                "at": head["at"],
                "actor": actor,
                "role": role,
                "district": district,
                "action": action,
                "target": target,
                "outcome": outcome,
                "source_ip": source_ip,
                "detail": head["detail"],
            }
            await conn.execute(
                """INSERT INTO audit_log (seq, prev_hash, hash, at, actor, role, district, action, target,
                                          outcome, source_ip, detail)
                   VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)""",
                entry["seq"],
                entry["prev_hash"],
                link(self._key, entry),
                *(entry[name] for name in FIELDS),
            )

    async def verify_chain(self) -> ChainCheck:
        """The chain recomputed with the key, from the first record kept.

        A link is broken when a record's hash is not the keyed hash of its content (the record
        was altered, or hashed without the key) or its `prev_hash` is not the hash of the record
        before it (a record was removed or inserted there). The first record is anchored at the
        genesis when it is seq 1; after an archiving, at the `prev_hash` it carries.
        """
        records, first_seq = 0, None
        previous_seq, previous_hash = 0, GENESIS
        async with self._pool.acquire() as conn:
            while True:
                rows = await conn.fetch(
                    f"SELECT seq, prev_hash, hash, {', '.join(FIELDS)} FROM audit_log"
                    " WHERE seq > $1 ORDER BY seq LIMIT $2",
                    previous_seq,
                    VERIFY_BATCH,
                )
                for row in rows:
                    if first_seq is None and row["seq"] > 1:  # the records before were archived
                        previous_seq, previous_hash = row["seq"] - 1, row["prev_hash"]
                    first_seq = first_seq or row["seq"]
                    records += 1
                    intact = (
                        row["seq"] == previous_seq + 1
                        and row["prev_hash"] == previous_hash
                        and hmac.compare_digest(row["hash"], link(self._key, row))
                    )
                    if not intact:
                        total: int = await conn.fetchval("SELECT count(*) FROM audit_log")
                        return ChainCheck(total, first_seq, row["seq"])
                    previous_seq, previous_hash = row["seq"], row["hash"]
                if len(rows) < VERIFY_BATCH:
                    return ChainCheck(records, first_seq, None)


async def key_legacy_chain(conn: PoolConnectionProxy[asyncpg.Record], key: str) -> int:
    """Migration 008: the records of the unkeyed chain (migration 003) chained again with the key.

    Runs once, as the owner, in 008's transaction, before 008 drops the unkeyed hash function:
    the unkeyed chain must verify first, so that keying it cannot launder an altered record.
    Returns how many records were keyed.
    """
    broken = await conn.fetchval(
        """SELECT seq FROM (
               SELECT seq, hash, prev_hash, audit_log_record_hash(a) AS expected,
                      lag(hash, 1, repeat('0', 64)) OVER (ORDER BY seq) AS previous
               FROM audit_log a) chain
           WHERE hash <> expected OR prev_hash <> previous
           ORDER BY seq LIMIT 1"""
    )
    if broken is not None:
        raise RuntimeError(
            f"the audit chain is broken at seq {broken}: migration 008 will not key an altered trail;"
            " investigate it (python -m store verify-audit on the previous release) before upgrading"
        )
    rows = await conn.fetch(f"SELECT id, seq, {', '.join(FIELDS)} FROM audit_log ORDER BY seq")
    if not rows:
        return 0
    secret = key.encode("utf-8")
    previous = GENESIS
    await conn.execute("ALTER TABLE audit_log DISABLE TRIGGER audit_log_append_only")
    for row in rows:
        entry = {**dict(row), "prev_hash": previous}
        previous = link(secret, entry)
        await conn.execute(
            "UPDATE audit_log SET prev_hash = $2, hash = $3 WHERE id = $1", row["id"], entry["prev_hash"], previous
        )
    await conn.execute("ALTER TABLE audit_log ENABLE TRIGGER audit_log_append_only")
    return len(rows)
