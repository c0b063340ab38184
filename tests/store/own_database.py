"""A database of one test module's own, for tests that touch every row of a table (sealing with a
rotated key, retention): what they do never reaches the rows other modules' tests wrote."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import asyncpg

from store import Store
from store.db import create_pool, migrate


@asynccontextmanager
async def own_store(database_url: str) -> AsyncIterator[Store]:
    name = f"permit_own_{uuid.uuid4().hex[:10]}"
    admin = await asyncpg.connect(database_url)
    try:
        await admin.execute(f'CREATE DATABASE "{name}"')
        head, sep, query = database_url.partition("?")
        pool = await create_pool(f"{head.rsplit('/', 1)[0]}/{name}{sep}{query}")
        try:
            await migrate(pool)
            yield Store(pool)
        finally:
            await pool.close()
            await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    finally:
        await admin.close()
