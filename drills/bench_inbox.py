"""`make bench-inbox`: 100,000 applications and 100,000 permits in a scratch database, then the
clerks' inbox queries and the register of permits' (在册运输证) queries.

Prints p50/p95/max per query (goal: p95 under 20 ms on a 2-core machine; a query over it is
marked). Uses the PostgreSQL of TEST_DATABASE_ADMIN_URL (default: the local server) and drops
its scratch database at the end. `BENCH_INBOX_N` changes the number of applications,
`BENCH_REGISTER_N` the number of permits.
"""

from __future__ import annotations

import asyncio
import json
import os
import random
import statistics
import time
import uuid
from collections.abc import Awaitable, Callable, Mapping
from datetime import UTC, date, datetime, timedelta
from typing import Any, TypeVar

import asyncpg

from config import DEV_DIGEST_KEY
from domain.districts import CITY_CODE, DISTRICTS
from domain.statuses import Channel, PendingAction, Status, WarningLevel
from drills.measure import percentile
from store import Store
from store.applications import InboxQuery
from store.db import create_pool, migrate
from store.digest import keyed_digest
from store.permits import RegisterQuery
from workflows.permit_lifecycle import add_years
from workflows.permit_lifecycle_types import PermitEnd, PermitState

ADMIN_DSN = os.environ.get("TEST_DATABASE_ADMIN_URL", "postgresql://postgres@127.0.0.1:5432/postgres")
N = int(os.environ.get("BENCH_INBOX_N", "100000"))
PERMITS_N = int(os.environ.get("BENCH_REGISTER_N", "100000"))
RUNS = 200
BUDGET_P95_MS = 20.0  # the inbox's latency budget, the register's too
SERVICE_YEARS = 8  # a ride-hailing vehicle leaves at 8 years of use: the permit's validity ends then
REVIEW_DUE_DAYS = 30  # the lifecycle marks the annual review due this many days before its date
TODAY = date(2026, 11, 28)  # the register's "today", fixed so that runs compare
Q = TypeVar("Q")
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


def permit_row(i: int, rng: random.Random, today: date = TODAY) -> tuple[Any, ...]:
    """A permit as its lifecycle projects it: valid until the vehicle's 8 years of use; lapsed once they
    have passed (or a review was missed), cancelled on exit; review_due in the month before its review."""
    district = rng.choice(list(DISTRICTS))
    registered = today - timedelta(days=rng.randrange(0, (SERVICE_YEARS + 2) * 365))
    issued = min(today, registered + timedelta(days=rng.randrange(0, 3 * 365)))
    valid_until = add_years(registered, SERVICE_YEARS)
    ended: PermitEnd | None = None
    if valid_until <= today:
        ended = PermitEnd.EXPIRED
    else:
        ended = rng.choices([None, PermitEnd.CANCELLED, PermitEnd.REVIEW_MISSED], weights=[92, 5, 3])[0]
    next_review = next_review_due_on(issued, valid_until, today) if ended is None else None
    if ended is not None:
        state = PermitState.CANCELLED if ended == PermitEnd.CANCELLED else PermitState.LAPSED
    elif next_review is not None and next_review <= today + timedelta(days=REVIEW_DUE_DAYS):
        state = PermitState.REVIEW_DUE
    else:
        state = PermitState.VALID
    return (
        f"{district}{issued.year}{i:06d}",
        uuid.UUID(int=rng.getrandbits(128)),
        f"sub-{i % 50000}",
        "浙C1***5",
        district,
        state.value,
        ended.value if ended else None,
        issued,
        valid_until,
        next_review,
        rng.randrange(0, 600_000),
        False,
        1,
    )


def next_review_due_on(issued: date, valid_until: date, today: date) -> date | None:
    """The first anniversary of the issue from today on, while the permit is still valid then."""
    years = max(1, today.year - issued.year)
    due = add_years(issued, years)
    if due < today:
        due = add_years(issued, years + 1)
    return due if due < valid_until else None


PERMIT_COLUMNS = [
    "number",
    "application_id",
    "holder_subject",
    "plate_masked",
    "district",
    "state",
    "ended",
    "issued_on",
    "valid_until",
    "next_review_due_on",
    "mileage_km",
    "regulator_pending",
    "version",
]


def register_queries(rng: random.Random, today: date = TODAY) -> dict[str, RegisterQuery]:
    """The clerks' register queries: each answers one page and the count of its pages."""
    district = rng.choice(list(DISTRICTS))
    city = list(DISTRICTS)
    return {
        "district, soonest ending first": RegisterQuery(districts=[district], page_size=20),
        "district + review_due": RegisterQuery(districts=[district], state=PermitState.REVIEW_DUE, page_size=20),
        "district + valid, ending in 90 days": RegisterQuery(
            districts=[district], state=PermitState.VALID, expiring_before=today + timedelta(days=90), page_size=20
        ),
        "city, ending in 30 days": RegisterQuery(districts=city, expiring_before=today + timedelta(days=30)),
        "city, lapsed, page 20": RegisterQuery(districts=city, state=PermitState.LAPSED, page=20, page_size=20),
        "city supervisor, page 50": RegisterQuery(districts=city, page=50, page_size=20),
    }


async def measure(
    make_queries: Callable[[], Mapping[str, Q]], run: Callable[[Q], Awaitable[object]], runs: int = RUNS
) -> dict[str, list[float]]:
    """Milliseconds of each labelled query, `runs` times over (fresh parameters each round)."""
    timings: dict[str, list[float]] = {}
    for _ in range(runs):
        for label, query in make_queries().items():
            t0 = time.perf_counter()
            await run(query)
            timings.setdefault(label, []).append((time.perf_counter() - t0) * 1000)
    return timings


def summary_lines(title: str, timings: Mapping[str, list[float]], budget_ms: float = BUDGET_P95_MS) -> list[str]:
    """A table of p50/p95/max per query; a p95 over the budget is marked."""
    lines = [f"{title:40} {'p50 ms':>8} {'p95 ms':>8} {'max ms':>8}"]
    for label, values in timings.items():
        ordered = sorted(values)
        p95 = percentile(ordered, 95)
        mark = f"  OVER BUDGET ({budget_ms:g} ms)" if p95 > budget_ms else ""
        lines.append(f"{label:40} {statistics.median(ordered):8.2f} {p95:8.2f} {ordered[-1]:8.2f}{mark}")
    return lines


async def fill_register(dsn: str, rng: random.Random) -> None:
    conn = await asyncpg.connect(dsn)
    try:
        records = (permit_row(i, rng) for i in range(PERMITS_N))
        await conn.copy_records_to_table("permit_register", records=records, columns=PERMIT_COLUMNS)
        await conn.execute("VACUUM ANALYZE permit_register")
    finally:
        await conn.close()


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
        inbox = await measure(lambda: queries(rng), store.applications.list)
        print("\n".join(summary_lines(f"inbox query ({RUNS} runs each)", inbox)))
        started = time.perf_counter()
        await fill_register(dsn, rng)
        print(f"filled {PERMITS_N:,} permits in {time.perf_counter() - started:.1f} s")
        register = await measure(lambda: register_queries(rng), store.permit_register.search)
        print("\n".join(summary_lines(f"register query, page + count ({RUNS} runs)", register)))
        await pool.close()
    finally:
        await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        await admin.close()


if __name__ == "__main__":
    asyncio.run(main())
