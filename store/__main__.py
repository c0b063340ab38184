"""`python -m store migrate` applies the migrations; `python -m store verify-audit` checks the audit chain."""

import asyncio
import sys

from config import get_settings
from store import Store
from store.db import create_pool, migrate

USAGE = "usage: python -m store migrate | verify-audit"


async def _run(command: str) -> int:
    url = get_settings().database_url
    if not url:
        raise SystemExit("DATABASE_URL is required")
    pool = await create_pool(url, max_size=1)
    try:
        if command == "migrate":
            applied = await migrate(pool)
            print(f"migrations applied: {', '.join(applied) or 'none (up to date)'}")
            return 0
        count, broken = await Store(pool).audit.verify_chain()
    finally:
        await pool.close()
    if broken is None:
        print(f"audit chain intact: {count} records")
        return 0
    print(f"audit chain BROKEN at record seq {broken} (of {count}): it or the record before it was altered")
    return 1


if __name__ == "__main__":
    if sys.argv[1:] not in (["migrate"], ["verify-audit"]):
        raise SystemExit(USAGE)
    raise SystemExit(asyncio.run(_run(sys.argv[1])))
