"""`make bench-inbox`: 100,000 applications in a scratch database, then the clerks' inbox queries.

Prints p50/p95/max per query (goal: p95 under 20 ms on a 2-core machine). Uses the
PostgreSQL of TEST_DATABASE_ADMIN_URL (default: the local server) and drops its scratch
database at the end. `BENCH_INBOX_N` changes the number of applications.
"""

from __future__ import annotations

import asyncio
import json
import os
import random
import statistics
import time
import uuid
from datetime import UTC, date, datetime, timedelta
from typing import Any

import asyncpg

from config import DEV_DIGEST_KEY
from domain.districts import CITY_CODE, DISTRICTS
from domain.statuses import Channel, PendingAction, Status, WarningLevel
from store import Store
from store.applications import InboxQuery
from store.db import create_pool, migrate
from store.digest import keyed_digest

ADMIN_DSN = os.environ.get("TEST_DATABASE_ADMIN_URL", "postgresql://postgres@127.0.0.1:5432/postgres")
N = int(os.environ.get("BENCH_INBOX_N", "100000"))
RUNS = 200
STEPS = {
    Status.PRELIMINARY_REVIEW: "preliminary_review",
    Status.SUPPLEMENT_REQUESTED: "submit_supplements",
    Status.AWAITING_ORIGINALS: "originals_received",
    Status.VEHICLE_NATURE_CHANGE: "change_usage_nature",
    Status.AWAITING_INSURANCE: "buy_carrier_liability_insurance",
    Status.FINAL_REVIEW: "final_review",
    Status.DELIVERING: "deliver_documents",
}
STATUS_WEIGHTS = {
    **dict.fromkeys(STEPS, 3),
    Status.COMPLETED: 40,
    Status.REJECTED: 5,
    Status.WITHDRAWN: 4,
    Status.EXPIRED: 3,
}


def row(i: int, rng: random.Random) -> tuple[Any, ...]:
    status = rng.choices(list(STATUS_WEIGHTS), weights=list(STATUS_WEIGHTS.values()))[0]
    district = rng.choice(list(DISTRICTS))
    submitted = datetime(2025, 1, 1, tzinfo=UTC) + timedelta(minutes=rng.randrange(0, 700 * 24 * 60))
    accepted = status not in (Status.PRELIMINARY_REVIEW, Status.SUPPLEMENT_REQUESTED)
    accepted_on = (submitted + timedelta(days=rng.randrange(0, 5))).date() if accepted else None
    insurance_due = accepted_on + timedelta(days=21) if accepted_on else None
    decision_due = accepted_on + timedelta(days=28) if accepted_on else None
    warning = rng.choices(["none", "yellow", "red"], weights=[90, 7, 3])[0] if accepted and status in STEPS else "none"
    plate = f"浙C{i:05d}"[-7:]
    application_id = uuid.UUID(int=rng.getrandbits(128))
    view = {
        "application_id": str(application_id),
        "status": status.value,
        "district": district,
        "channel": "online",
        "submitted_at": submitted.isoformat(),
        "accepted_on": accepted_on.isoformat() if accepted_on else None,
        "vehicle": {"plate": "浙C1***5", "vin": "LSVA*********3294"},
        "applicant": {"name": "张*", "id_number": "3303**********1234", "phone": "138****8000"},
        "deadlines": {},
        "pending": [],
        "documents": [],
        "timeline": [{"at": submitted.isoformat(), "event": "submitted"}] * 8,
        "permit": None,
    }
    return (
        application_id,
        f"permit-{application_id}",
        f"sub-{i % 50000}",
        district,
        rng.choice(["online", "window"]),
        status.value,
        STEPS.get(status),
        keyed_digest(DEV_DIGEST_KEY, f"VIN{i}"),
        submitted,
        accepted_on,
        insurance_due,
        decision_due,
        json.dumps(view),
        1,
        warning,
        keyed_digest(DEV_DIGEST_KEY, plate),
    )


COLUMNS = [
    "application_id",
    "workflow_id",
    "applicant_sub",
    "district",
    "channel",
    "status",
    "step",
    "vin_digest",
    "submitted_at",
    "accepted_on",
    "insurance_due_on",
    "decision_due_on",
    "view",
    "version",
    "warning_level",
    "plate_digest",
]


def queries(rng: random.Random) -> dict[str, InboxQuery]:
    district = rng.choice(list(DISTRICTS))
    start = date(2025, 1, 1) + timedelta(days=rng.randrange(0, 650))
    return {
        "district, newest first": InboxQuery(districts=[district]),
        "district + status": InboxQuery(districts=[district], status=rng.choice(list(STEPS))),
        "district + step + channel": InboxQuery(
            districts=[district], step=PendingAction.FINAL_REVIEW, channel=Channel.ONLINE
        ),
        "warning red, by decision due": InboxQuery(
            districts=[district], warning_level=WarningLevel.RED, sort="decision_due"
        ),
        "insurance due in a week": InboxQuery(
            districts=[district],
            due="insurance",
            due_from=start,
            due_to=start + timedelta(days=7),
            sort="insurance_due",
        ),
        "city supervisor, page 20": InboxQuery(districts=list(DISTRICTS), page=20, sort="decision_due"),
        "plate search (city)": InboxQuery(districts=list(DISTRICTS), plate=f"浙C{rng.randrange(N):05d}"[-7:]),
    }


async def main() -> None:
    name = f"permit_bench_{uuid.uuid4().hex[:8]}"
    admin = await asyncpg.connect(ADMIN_DSN)
    await admin.execute(f'CREATE DATABASE "{name}"')
    dsn = ADMIN_DSN.rsplit("/", 1)[0] + f"/{name}"
    try:
        pool = await create_pool(dsn, max_size=4)
        await migrate(pool)
        rng = random.Random(20261127)
        started = time.perf_counter()
        conn = await asyncpg.connect(dsn)
        await conn.set_type_codec(  # COPY speaks binary: jsonb is a version byte and the text
            "jsonb", encoder=lambda text: b"\x01" + text.encode(), decoder=bytes, schema="pg_catalog", format="binary"
        )
        await conn.copy_records_to_table("applications", records=(row(i, rng) for i in range(N)), columns=COLUMNS)
        await conn.execute("VACUUM ANALYZE applications")  # what autovacuum does after a bulk load
        await conn.close()
        elapsed = time.perf_counter() - started
        print(f"filled {N:,} applications in {elapsed:.1f} s (city {CITY_CODE}, {len(DISTRICTS)} districts)")
        store = Store(pool)
        timings: dict[str, list[float]] = {}
        for _ in range(RUNS):
            for label, query in queries(rng).items():
                t0 = time.perf_counter()
                await store.applications.list(query)
                timings.setdefault(label, []).append((time.perf_counter() - t0) * 1000)
        print(f"{'inbox query (' + str(RUNS) + ' runs each)':40} {'p50 ms':>8} {'p95 ms':>8} {'max ms':>8}")
        for label, values in timings.items():
            values.sort()
            p95 = values[int(len(values) * 0.95) - 1]
            print(f"{label:40} {statistics.median(values):8.2f} {p95:8.2f} {values[-1]:8.2f}")
        await pool.close()
    finally:
        await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        await admin.close()


if __name__ == "__main__":
    asyncio.run(main())
