"""The audit trail: append-only, chained with a key the database does not hold, and a command that
names the first broken link. Each test has a database of its own: other modules write audit
records with other keys, and these tests alter records."""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import json
import os
import subprocess
import sys
import uuid
from collections.abc import AsyncIterator
from datetime import UTC

import asyncpg
import pytest

from config import DEV_AUDIT_KEY, Settings
from store import Store
from store.db import create_pool, migrate, migration_files
from tests.support_settings import production_settings

AUDIT_KEY = "tests-only-audit-key-of-test-audit-chain"


@pytest.fixture
async def own_database(database_url: str) -> AsyncIterator[str]:
    """An empty database beside the session's, dropped afterwards."""
    name = f"audit_{uuid.uuid4().hex[:10]}"
    admin = await asyncpg.connect(database_url)
    try:
        await admin.execute(f'CREATE DATABASE "{name}"')
        head, sep, query = database_url.partition("?")
        yield f"{head.rsplit('/', 1)[0]}/{name}{sep}{query}"
        await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    finally:
        await admin.close()


@pytest.fixture
async def store(own_database: str) -> AsyncIterator[Store]:
    pool = await create_pool(own_database)
    await migrate(pool)
    yield Store(pool, audit_key=AUDIT_KEY)
    await pool.close()


async def record(store: Store, n: int) -> None:
    await store.audit.record(
        actor=f"clerk-{n}",
        role="transport_clerk",
        district="330382",
        action="decision.x",
        target=f"app-{n}",
        outcome="ok",
        source_ip="127.0.0.1",
        detail={"n": n, "reason": "材料不全", "ratio": 1e20},
    )


async def rewrite(store: Store, statement: str, *args: object) -> None:
    """What the table's owner can do: the append-only trigger off, the rows changed, the trigger on."""
    async with store.pool.acquire() as conn, conn.transaction():
        await conn.execute("ALTER TABLE audit_log DISABLE TRIGGER audit_log_append_only")
        await conn.execute(statement, *args)
        await conn.execute("ALTER TABLE audit_log ENABLE TRIGGER audit_log_append_only")


async def verify_audit(database_url: str, key: str) -> subprocess.CompletedProcess[str]:
    """`python -m store verify-audit`, as an operator runs it."""
    env = {**os.environ, "APP_ENV": "development", "DATABASE_URL": database_url, "AUDIT_KEY": key}
    command = [sys.executable, "-m", "store", "verify-audit"]
    return await asyncio.to_thread(subprocess.run, command, env=env, capture_output=True, text=True, check=False)


async def test_concurrent_records_form_one_chain(store: Store) -> None:
    await asyncio.gather(*(record(store, n) for n in range(40)))
    assert await store.audit.verify_chain() == (40, 1, None)
    rows = await store.pool.fetch("SELECT seq, prev_hash, hash FROM audit_log ORDER BY seq")
    assert [r["seq"] for r in rows] == list(range(1, 41))
    assert [r["prev_hash"] for r in rows[1:]] == [r["hash"] for r in rows[:-1]]


async def test_the_hash_is_an_hmac_of_the_canonical_json(store: Store) -> None:
    await record(store, 1)
    row = await store.pool.fetchrow("SELECT * FROM audit_log")
    fields = {
        name: row[name]
        for name in ("seq", "prev_hash", "actor", "role", "district", "action", "target", "outcome", "source_ip")
    }
    fields["at"] = row["at"].astimezone(UTC).isoformat(timespec="microseconds")
    fields["detail"] = {"n": 1, "ratio": 100000000000000000000, "reason": "材料不全"}  # as jsonb keeps it
    message = json.dumps(fields, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()
    assert row["prev_hash"] == "0" * 64
    assert row["hash"] == hmac.new(AUDIT_KEY.encode(), message, hashlib.sha256).hexdigest()


@pytest.mark.parametrize(
    "statement", ["UPDATE audit_log SET outcome = 'forged'", "DELETE FROM audit_log", "TRUNCATE audit_log"]
)
async def test_records_cannot_be_changed_or_removed(store: Store, statement: str) -> None:
    await record(store, 1)
    with pytest.raises(asyncpg.RaiseError, match="append-only"):
        await store.pool.execute(statement)


async def test_verify_names_the_first_broken_link(store: Store, own_database: str) -> None:
    for n in range(5):
        await record(store, n)
    intact = await verify_audit(own_database, AUDIT_KEY)
    assert intact.returncode == 0 and "intact: 5 records" in intact.stdout
    await rewrite(store, "UPDATE audit_log SET outcome = 'forged' WHERE seq = 3")
    assert await store.audit.verify_chain() == (5, 1, 3)
    broken = await verify_audit(own_database, AUDIT_KEY)
    assert broken.returncode == 1 and "seq 3 (of 5)" in broken.stdout


async def test_a_removed_record_breaks_the_link_after_it(store: Store) -> None:
    for n in range(4):
        await record(store, n)
    await rewrite(store, "DELETE FROM audit_log WHERE seq = 2")
    assert await store.audit.verify_chain() == (3, 1, 3)


async def test_verification_starts_from_the_first_record_kept_after_an_archiving(
    store: Store, own_database: str
) -> None:
    for n in range(5):
        await record(store, n)
    await rewrite(store, "DELETE FROM audit_log WHERE seq <= 2")
    assert await store.audit.verify_chain() == (3, 3, None)
    intact = await verify_audit(own_database, AUDIT_KEY)
    assert intact.returncode == 0 and "3 records, from seq 3" in intact.stdout
    await rewrite(store, "DELETE FROM audit_log WHERE seq = 4")
    assert await store.audit.verify_chain() == (2, 3, 5)


async def test_a_chain_recomputed_without_the_key_is_found(store: Store, own_database: str) -> None:
    """The owner rewrites a record and hashes the whole chain again, as the unkeyed chain allowed."""
    for n in range(3):
        await record(store, n)
    await rewrite(store, "UPDATE audit_log SET outcome = 'forged' WHERE seq = 2")
    rows = await store.pool.fetch("SELECT * FROM audit_log ORDER BY seq")
    previous = "0" * 64
    for row in rows:
        fields = {name: row[name] for name in ("actor", "role", "district", "action", "target", "outcome", "detail")}
        message = json.dumps({**fields, "seq": row["seq"], "prev_hash": previous}, sort_keys=True).encode()
        current = hashlib.sha256(message).hexdigest()
        await rewrite(
            store, "UPDATE audit_log SET prev_hash = $2, hash = $3 WHERE seq = $1", row["seq"], previous, current
        )
        previous = current
    assert await store.audit.verify_chain() == (3, 1, 1)
    assert (await verify_audit(own_database, AUDIT_KEY)).returncode == 1


async def test_another_key_does_not_verify(store: Store, own_database: str) -> None:
    await record(store, 1)
    assert await Store(store.pool, audit_key="another-key-than-the-one-that-chained").audit.verify_chain() == (1, 1, 1)
    assert (await verify_audit(own_database, "another-key-than-the-one-that-chained")).returncode == 1


async def migrated_before_the_keyed_chain(database_url: str) -> asyncpg.Pool:
    """A database as the release before migration 008 left it, with three records of the unkeyed chain."""
    pool = await create_pool(database_url, max_size=1)
    await pool.execute(
        "CREATE TABLE schema_migrations (version text PRIMARY KEY, applied_at timestamptz DEFAULT now())"
    )
    for version, sql in migration_files():
        if version >= "008":
            break
        async with pool.acquire() as conn, conn.transaction():
            await conn.execute(sql)
            await conn.execute("INSERT INTO schema_migrations (version) VALUES ($1)", version)
    for n in range(3):
        await pool.execute(
            "INSERT INTO audit_log (actor, role, action, outcome, detail) VALUES ($1, 'supervisor', 'x', 'ok', $2)",
            f"s-{n}",
            {"n": n},
        )
    return pool


async def test_migration_008_keys_the_records_of_the_unkeyed_chain(own_database: str) -> None:
    pool = await migrated_before_the_keyed_chain(own_database)
    try:
        with pytest.raises(RuntimeError, match="AUDIT_KEY is needed"):
            await migrate(pool)
        assert "008_audit_hmac" in await migrate(pool, audit_key=AUDIT_KEY)
        store = Store(pool, audit_key=AUDIT_KEY)
        await record(store, 3)
        assert await store.audit.verify_chain() == (4, 1, None)
        assert await pool.fetchval("SELECT to_regproc('audit_log_record_hash')") is None
    finally:
        await pool.close()


async def test_migration_008_refuses_to_key_an_altered_trail(own_database: str) -> None:
    pool = await migrated_before_the_keyed_chain(own_database)
    try:
        async with pool.acquire() as conn, conn.transaction():
            await conn.execute("ALTER TABLE audit_log DISABLE TRIGGER audit_log_append_only")
            await conn.execute("UPDATE audit_log SET outcome = 'forged' WHERE seq = 2")
            await conn.execute("ALTER TABLE audit_log ENABLE TRIGGER audit_log_append_only")
        with pytest.raises(RuntimeError, match="broken at seq 2"):
            await migrate(pool, audit_key=AUDIT_KEY)
        assert await pool.fetchval("SELECT count(*) FROM schema_migrations WHERE version >= '008'") == 0
    finally:
        await pool.close()


@pytest.mark.parametrize("key", [DEV_AUDIT_KEY, "short-key"])
def test_outside_development_the_published_or_a_short_key_is_refused(key: str) -> None:
    with pytest.raises(ValueError, match="AUDIT_KEY"):
        Settings(**{**production_settings().model_dump(), "audit_key": key})
