"""The store over real PostgreSQL (the session's fresh database), migrated once per module."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from store import Store
from store.db import create_pool, migrate


@pytest.fixture(scope="module")
async def store(database_url: str) -> AsyncIterator[Store]:
    pool = await create_pool(database_url)
    await migrate(pool)
    assert await migrate(pool) == []
    yield Store(pool)
    await pool.close()
