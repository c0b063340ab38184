"""`python -m store migrate`: apply the SQL migrations to DATABASE_URL."""

import asyncio
import sys

from config import get_settings
from store.db import create_pool, migrate


async def _migrate() -> None:
    url = get_settings().database_url
    if not url:
        raise SystemExit("DATABASE_URL is required")
    pool = await create_pool(url, max_size=1)
    try:
        applied = await migrate(pool)
    finally:
        await pool.close()
    print(f"migrations applied: {', '.join(applied) or 'none (up to date)'}")


if __name__ == "__main__":
    if sys.argv[1:] != ["migrate"]:
        raise SystemExit("usage: python -m store migrate")
    asyncio.run(_migrate())
