"""The asyncpg pool, the SQL migrations, and the role the API and the worker connect as.

Migrations run as the database's owner: `python -m store migrate` with MIGRATION_DATABASE_URL
(else DATABASE_URL). When MIGRATION_DATABASE_URL is set, the user of DATABASE_URL is the
application's role: the migration creates it if missing (with the URL's password) and grants it
what the processes need on every table, and no more on `audit_log` than SELECT and INSERT. It
owns nothing, so it can neither alter the audit trail nor drop its triggers.
"""

from __future__ import annotations

import json
from importlib import resources
from urllib.parse import quote, unquote, urlsplit, urlunsplit

import asyncpg
import structlog
from asyncpg.pool import PoolConnectionProxy

from config import Settings
from store.audit import key_legacy_chain

log = structlog.get_logger(__name__)

MIGRATION_LOCK = 7_330_300
KEYED_AUDIT_MIGRATION = "008_audit_hmac"


async def _init_connection(conn: asyncpg.Connection) -> None:
    for name in ("json", "jsonb"):
        await conn.set_type_codec(name, encoder=json.dumps, decoder=json.loads, schema="pg_catalog")


async def create_pool(dsn: str, *, min_size: int = 1, max_size: int = 10) -> asyncpg.Pool:
    return await asyncpg.create_pool(dsn, min_size=min_size, max_size=max_size, init=_init_connection)


def migration_files() -> list[tuple[str, str]]:
    folder = resources.files("store.migrations")
    names = sorted(p.name for p in folder.iterdir() if p.name.endswith(".sql"))
    return [(name.removesuffix(".sql"), folder.joinpath(name).read_text(encoding="utf-8")) for name in names]


async def _applied(conn: PoolConnectionProxy[asyncpg.Record]) -> set[str] | None:
    """The versions applied so far; None before the first migration."""
    if await conn.fetchval("SELECT to_regclass('schema_migrations')") is None:
        return None
    return {r["version"] for r in await conn.fetch("SELECT version FROM schema_migrations")}


async def migrate(pool: asyncpg.Pool, *, audit_key: str | None = None) -> list[str]:
    """Apply the migrations not yet applied, each in its own transaction; returns their names.

    Up to date, it changes nothing, so the application's role may call it at start. `audit_key`
    is needed only to apply migration 008 over existing audit records (it keys their chain).
    """
    applied_now: list[str] = []
    async with pool.acquire() as conn:
        await conn.execute("SELECT pg_advisory_lock($1)", MIGRATION_LOCK)
        try:
            done = await _applied(conn)
            pending = [(v, sql) for v, sql in migration_files() if done is None or v not in done]
            if not pending:
                return []
            try:
                await conn.execute(
                    "CREATE TABLE IF NOT EXISTS schema_migrations ("
                    " version text PRIMARY KEY, applied_at timestamptz NOT NULL DEFAULT now())"
                )
                for version, sql in pending:
                    async with conn.transaction():
                        if version == KEYED_AUDIT_MIGRATION:
                            await _key_audit_chain(conn, audit_key)
                        await conn.execute(sql)
                        await conn.execute("INSERT INTO schema_migrations (version) VALUES ($1)", version)
                    applied_now.append(version)
                    log.info("store.migrated", version=version)
            except asyncpg.InsufficientPrivilegeError as err:
                raise RuntimeError(
                    f"migrations pending ({', '.join(v for v, _ in pending)}) and this role may not apply them:"
                    " run `python -m store migrate` with MIGRATION_DATABASE_URL, the owner's URL"
                ) from err
        finally:
            await conn.execute("SELECT pg_advisory_unlock($1)", MIGRATION_LOCK)
    return applied_now


async def _key_audit_chain(conn: PoolConnectionProxy[asyncpg.Record], audit_key: str | None) -> None:
    if await conn.fetchval("SELECT NOT EXISTS (SELECT FROM audit_log)"):
        return
    if audit_key is None:
        raise RuntimeError(f"migration {KEYED_AUDIT_MIGRATION} keys the existing audit records: AUDIT_KEY is needed")
    keyed = await key_legacy_chain(conn, audit_key)
    log.info("store.audit_chain_keyed", records=keyed)


def url_as(url: str, role: str, password: str | None = None) -> str:
    """`url` signing in as `role` (with `password`) instead of its own user."""
    parts = urlsplit(url)
    user = quote(role, safe="") + (":" + quote(password, safe="") if password else "")
    return urlunsplit(parts._replace(netloc=f"{user}@{parts.netloc.rpartition('@')[2]}"))


async def grant_app_role(pool: asyncpg.Pool, app_url: str) -> str:
    """As the owner: create the role of `app_url` if missing (its password set from the URL) and
    grant it what the API and the worker need. Returns the role's name."""
    parts = urlsplit(app_url)
    role = unquote(parts.username or "")
    if not role:
        raise RuntimeError("DATABASE_URL names no user: the application's role cannot be set up")
    password = unquote(parts.password) if parts.password else None
    async with pool.acquire() as conn:
        if role == await conn.fetchval("SELECT current_user"):
            raise RuntimeError(f"DATABASE_URL connects as the owner ({role}): name the application's own role")
        await _ensure_role(conn, role, password)
        async with conn.transaction():
            for statement in GRANTS:
                await conn.execute(
                    await conn.fetchval("SELECT format($1, $2::text, current_database())", statement, role)
                )
    log.info("store.app_role_granted", role=role)
    return role


# What the application's role (%1$I; %2$I the database) holds: the data of every table, the audit
# trail only read and appended, the migrations' record only read; no table of its own.
GRANTS = (
    "GRANT CONNECT ON DATABASE %2$I TO %1$I",
    "GRANT USAGE ON SCHEMA public TO %1$I",
    "GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA public TO %1$I",
    "GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA public TO %1$I",
    "REVOKE ALL ON audit_log FROM %1$I",
    "GRANT SELECT, INSERT ON audit_log TO %1$I",
    "REVOKE ALL ON schema_migrations FROM %1$I",
    "GRANT SELECT ON schema_migrations TO %1$I",
)


async def _ensure_role(conn: PoolConnectionProxy[asyncpg.Record], role: str, password: str | None) -> None:
    """The role, able to sign in and nothing more, with the URL's password (set again each time)."""
    options = " LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE NOINHERIT"
    if password:
        options += await conn.fetchval("SELECT format(' PASSWORD %L', $1::text)", password)
    if not await conn.fetchval("SELECT EXISTS (SELECT FROM pg_roles WHERE rolname = $1)", role):
        try:
            await conn.execute(await conn.fetchval("SELECT format('CREATE ROLE %I', $1::text)", role) + options)
            return
        except (asyncpg.DuplicateObjectError, asyncpg.UniqueViolationError):
            pass  # created meanwhile by a migration of another database on the same server
    await conn.execute(await conn.fetchval("SELECT format('ALTER ROLE %I', $1::text)", role) + options)


async def migrate_as_owner(settings: Settings) -> list[str]:
    """Apply the pending migrations as the owner (MIGRATION_DATABASE_URL, else DATABASE_URL); with
    MIGRATION_DATABASE_URL, the role of DATABASE_URL is set up too. Returns the migrations applied."""
    owner_url = settings.migration_database_url or settings.database_url
    if not owner_url:
        raise RuntimeError("DATABASE_URL is required")
    pool = await create_pool(owner_url, max_size=1)
    try:
        applied = await migrate(pool, audit_key=settings.audit_key)
        if settings.migration_database_url and settings.database_url:
            await grant_app_role(pool, settings.database_url)
        return applied
    finally:
        await pool.close()
