"""The audit trail: append-only, hash-chained, and a command that names the first broken link."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys

import asyncpg
import pytest

from store import Store


async def record(store: Store, n: int) -> None:
    await store.audit.record(
        actor=f"clerk-{n}",
        role="transport_clerk",
        district="330382",
        action="decision.x",
        target=f"app-{n}",
        outcome="ok",
        source_ip="127.0.0.1",
        detail={"n": n},
    )


async def test_concurrent_records_form_one_chain(store: Store) -> None:
    await asyncio.gather(*(record(store, n) for n in range(40)))
    count, broken = await store.audit.verify_chain()
    assert count >= 40 and broken is None
    seqs = [r["seq"] for r in await store.pool.fetch("SELECT seq FROM audit_log ORDER BY seq")]
    assert seqs == list(range(1, len(seqs) + 1))


@pytest.mark.parametrize(
    "statement", ["UPDATE audit_log SET outcome = 'forged'", "DELETE FROM audit_log", "TRUNCATE audit_log"]
)
async def test_records_cannot_be_changed_or_removed(store: Store, statement: str) -> None:
    with pytest.raises(asyncpg.RaiseError, match="append-only"):
        await store.pool.execute(statement)


async def verify_audit(env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    """`python -m store verify-audit`, as an operator runs it."""
    command = [sys.executable, "-m", "store", "verify-audit"]
    return await asyncio.to_thread(subprocess.run, command, env=env, capture_output=True, text=True, check=False)


async def test_verify_names_the_first_broken_link(store: Store, database_url: str) -> None:
    await asyncio.gather(*(record(store, n) for n in range(5)))
    target = await store.pool.fetchval("SELECT seq FROM audit_log ORDER BY seq DESC OFFSET 2 LIMIT 1")
    env = {**os.environ, "DATABASE_URL": database_url}
    intact = await verify_audit(env)
    assert intact.returncode == 0 and "intact" in intact.stdout
    async with store.pool.acquire() as conn, conn.transaction():
        await conn.execute("ALTER TABLE audit_log DISABLE TRIGGER audit_log_append_only")
        await conn.execute("UPDATE audit_log SET outcome = 'forged' WHERE seq = $1", target)
        await conn.execute("ALTER TABLE audit_log ENABLE TRIGGER audit_log_append_only")
    try:
        assert (await store.audit.verify_chain())[1] == target
        broken = await verify_audit(env)
        assert broken.returncode == 1 and f"seq {target}" in broken.stdout
    finally:
        async with store.pool.acquire() as conn, conn.transaction():
            await conn.execute("ALTER TABLE audit_log DISABLE TRIGGER audit_log_append_only")
            await conn.execute("UPDATE audit_log SET outcome = 'ok' WHERE seq = $1", target)
            await conn.execute("ALTER TABLE audit_log ENABLE TRIGGER audit_log_append_only")
    assert (await store.audit.verify_chain())[1] is None
