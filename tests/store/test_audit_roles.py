"""The API and the worker connect as a role that may read and append the audit trail, nothing more:
the migration, run as the owner, creates it and grants it what it needs."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator

import asyncpg
import pytest

from store import Store
from store.db import create_pool, migrate, migrate_as_owner, url_as
from tests.support_settings import settings_for_tests

ROLE = f"permit_app_{uuid.uuid4().hex[:8]}"
PASSWORD = "tests-only-app-role-password"


@pytest.fixture(scope="module")
async def app_pool(database_url: str) -> AsyncIterator[asyncpg.Pool]:
    """The session's database migrated as the owner, with the application's role set up, and a
    pool connected as that role; the role is dropped afterwards."""
    app_url = url_as(database_url, ROLE, PASSWORD)
    await migrate_as_owner(
        settings_for_tests(database_url=app_url, migration_database_url=database_url, audit_key="k" * 32)
    )
    pool = await create_pool(app_url)
    yield pool
    await pool.close()
    owner = await asyncpg.connect(database_url)
    try:
        await owner.execute(f'DROP OWNED BY "{ROLE}"')
        await owner.execute(f'DROP ROLE "{ROLE}"')
    finally:
        await owner.close()


async def test_the_role_appends_and_reads_the_trail(app_pool: asyncpg.Pool) -> None:
    store = Store(app_pool)
    await store.audit.record(actor="clerk-1", role="transport_clerk", action="decision.x", outcome="ok")
    assert await app_pool.fetchval("SELECT count(*) FROM audit_log WHERE actor = 'clerk-1'") == 1


@pytest.mark.parametrize(
    "statement",
    [
        "UPDATE audit_log SET outcome = 'forged'",
        "DELETE FROM audit_log",
        "TRUNCATE audit_log",
        "DROP TRIGGER audit_log_append_only ON audit_log",
        "ALTER TABLE audit_log DISABLE TRIGGER audit_log_append_only",
        "DROP TABLE audit_log",
        "CREATE TABLE audit_copy (id int)",
        "INSERT INTO schema_migrations (version) VALUES ('999_forged')",
    ],
)
async def test_the_role_cannot_alter_the_trail_or_the_schema(app_pool: asyncpg.Pool, statement: str) -> None:
    with pytest.raises(asyncpg.InsufficientPrivilegeError):
        await app_pool.execute(statement)


async def test_the_role_holds_exactly_what_the_processes_need(app_pool: asyncpg.Pool) -> None:
    role = await app_pool.fetchrow(
        "SELECT rolsuper, rolcreaterole, rolcreatedb, rolcanlogin FROM pg_roles WHERE rolname = current_user"
    )
    assert dict(role) == {"rolsuper": False, "rolcreaterole": False, "rolcreatedb": False, "rolcanlogin": True}
    privileges = await app_pool.fetch(
        """SELECT c.relname AS name, p.privilege
           FROM pg_class c, unnest(ARRAY['SELECT', 'INSERT', 'UPDATE', 'DELETE', 'TRUNCATE', 'TRIGGER']) p(privilege)
           WHERE c.relnamespace = 'public'::regnamespace AND c.relkind = 'r'
             AND has_table_privilege(current_user, c.oid, p.privilege)"""
    )
    held: dict[str, set[str]] = {}
    for row in privileges:
        held.setdefault(row["name"], set()).add(row["privilege"])
    assert held.pop("audit_log") == {"SELECT", "INSERT"}
    assert held.pop("schema_migrations") == {"SELECT"}
    assert {"applications", "materials", "idempotency_keys", "rate_limits"} <= set(held)
    assert all(granted == {"SELECT", "INSERT", "UPDATE", "DELETE"} for granted in held.values()), held
    assert not await app_pool.fetchval(
        "SELECT count(*) FROM pg_class WHERE relowner = (SELECT oid FROM pg_roles WHERE rolname = current_user)"
    )


async def test_the_role_starts_on_a_migrated_database_and_cannot_migrate_one(
    app_pool: asyncpg.Pool, database_url: str
) -> None:
    assert await migrate(app_pool) == []  # the API's and the worker's start
    name = f"unmigrated_{uuid.uuid4().hex[:8]}"
    owner = await asyncpg.connect(database_url)
    try:
        await owner.execute(f'CREATE DATABASE "{name}"')
        head, sep, query = url_as(database_url, ROLE, PASSWORD).partition("?")
        pool = await create_pool(f"{head.rsplit('/', 1)[0]}/{name}{sep}{query}", max_size=1)
        try:
            with pytest.raises(RuntimeError, match="MIGRATION_DATABASE_URL"):
                await migrate(pool)
        finally:
            await pool.close()
    finally:
        await owner.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        await owner.close()


async def test_migrating_as_the_application_role_itself_is_refused(database_url: str) -> None:
    with pytest.raises(RuntimeError, match="connects as the owner"):
        await migrate_as_owner(
            settings_for_tests(database_url=database_url, migration_database_url=database_url, audit_key="k" * 32)
        )
