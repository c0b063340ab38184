"""`python -m store migrate` applies the migrations; `python -m store verify-audit` checks the audit chain.

migrate connects as the owner (MIGRATION_DATABASE_URL, else DATABASE_URL) and, given both, sets up
the role of DATABASE_URL (store/db.py). verify-audit reads as DATABASE_URL and needs AUDIT_KEY.
"""

import asyncio
import sys

from config import get_settings
from store import Store
from store.db import create_pool, migrate_as_owner

USAGE = "usage: python -m store migrate | verify-audit"


async def _migrate() -> int:
    applied = await migrate_as_owner(get_settings())
    print(f"migrations applied: {', '.join(applied) or 'none (up to date)'}")
    return 0


async def _verify_audit() -> int:
    settings = get_settings()
    if not settings.database_url:
        raise SystemExit("DATABASE_URL is required")
    pool = await create_pool(settings.database_url, max_size=1)
    try:
        check = await Store.for_settings(pool, settings).audit.verify_chain()
    finally:
        await pool.close()
    archived = f", from seq {check.first_seq}: the records before were archived" if (check.first_seq or 1) > 1 else ""
    if check.broken is None:
        print(f"audit chain intact: {check.records} records{archived}")
        return 0
    print(
        f"audit chain BROKEN at record seq {check.broken} (of {check.records}{archived}): it or the record before"
        " it was altered, removed or hashed without AUDIT_KEY"
    )
    return 1


if __name__ == "__main__":
    commands = {"migrate": _migrate, "verify-audit": _verify_audit}
    if len(sys.argv) != 2 or sys.argv[1] not in commands:
        raise SystemExit(USAGE)
    raise SystemExit(asyncio.run(commands[sys.argv[1]]()))
