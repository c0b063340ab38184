"""Who may load the working-day calendar, when a loaded year may be replaced, and which running
applications a new or replaced year tells to recompute their deadlines: over HTTP, with the app's
own PostgreSQL and a Temporal client that records the signals it is asked to send."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any

import asyncpg
import httpx
import pytest

from api.app import create_app
from api.auth import Principal, Role, issue_token
from api.resources import Resources
from domain.calendar import official_calendar
from store import Store
from store.db import create_pool, migrate
from tests.support_settings import settings_for_tests
from workflows.types import CalendarChanged


@dataclass
class Signalled:
    workflow_id: str
    signal: Any
    arg: Any


class RecordingClient:
    """The Temporal client as the calendar service uses it: handles whose signals are recorded."""

    def __init__(self) -> None:
        self.signals: list[Signalled] = []

    def get_workflow_handle(self, workflow_id: str) -> Any:
        client = self

        class Handle:
            async def signal(self, signal: Any, arg: Any) -> None:
                client.signals.append(Signalled(workflow_id, signal, arg))

        return Handle()


@dataclass
class Api:
    http: httpx.AsyncClient
    temporal: RecordingClient
    pool: asyncpg.Pool
    settings: Any

    def token(self, role: Role, district: str) -> dict[str, str]:
        principal = Principal(f"{role.value}-{district}", role, district)
        return {"Authorization": f"Bearer {issue_token(self.settings, principal)}"}

    async def due_on(self, start: str, working_days: int) -> str:
        params = {"start": start, "working_days": working_days}
        answer = await self.http.get("/v1/calendar/deadline", params=params)
        assert answer.status_code == 200, answer.text
        return str(answer.json()["due_on"])

    async def last_audit(self, year: int) -> asyncpg.Record:
        return await self.pool.fetchrow(
            "SELECT * FROM audit_log WHERE action = 'calendar.load_year' AND target = $1 ORDER BY seq DESC LIMIT 1",
            str(year),
        )


@pytest.fixture(scope="module")
async def api(database_url: str) -> AsyncIterator[Api]:
    """The app over a database of this module's own (it replaces published years) and a recording client."""
    name = f"permit_cal_{uuid.uuid4().hex[:10]}"
    admin = await asyncpg.connect(database_url)
    try:
        await admin.execute(f'CREATE DATABASE "{name}"')
        head, sep, query = database_url.partition("?")
        settings = settings_for_tests(database_url=f"{head.rsplit('/', 1)[0]}/{name}{sep}{query}")
        pool = await create_pool(settings.database_url)
        try:
            await migrate(pool)
            app = create_app(settings)
            temporal = RecordingClient()
            store = Store.for_settings(pool, settings)
            app.state.resources = Resources(settings=settings, store=store, client=temporal, departments=None)  # type: ignore[arg-type]
            transport = httpx.ASGITransport(app)
            async with httpx.AsyncClient(transport=transport, base_url="http://permit.test") as http:
                yield Api(http, temporal, pool, settings)
        finally:
            await pool.close()
            await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    finally:
        await admin.close()


@pytest.fixture(autouse=True)
def forget_signals(api: Api) -> None:
    api.temporal.signals.clear()


def official(year: int) -> dict[str, list[str]]:
    schedule = next(s for s in official_calendar()._years.values() if s.year == year)
    return {
        "holidays": sorted(d.isoformat() for d in schedule.holidays),
        "makeup_workdays": sorted(d.isoformat() for d in schedule.makeup_workdays),
    }


async def projected(
    pool: asyncpg.Pool,
    status: str,
    accepted_on: str | None = None,
    insurance_due_on: str | None = None,
    decision_due_on: str | None = None,
) -> str:
    """An application row as the workflow projects it (no workflow behind it); its workflow id."""
    app_id = uuid.uuid4()
    workflow_id = f"permit-{app_id}"
    await pool.execute(
        """INSERT INTO applications (application_id, workflow_id, applicant_sub, district, channel, status,
               vin_digest, submitted_at, accepted_on, insurance_due_on, decision_due_on, view)
           VALUES ($1, $2, 'eid-1', '330382', 'online', $3, $4, $5, $6, $7, $8, '{}')""",
        app_id,
        workflow_id,
        status,
        uuid.uuid4().hex,
        datetime.now(UTC),
        *(date.fromisoformat(d) if d else None for d in (accepted_on, insurance_due_on, decision_due_on)),
    )
    return workflow_id


CITY, DISTRICT = "330300", "330382"


@pytest.mark.parametrize(
    ("role", "district"), [(Role.SUPERVISOR, DISTRICT), (Role.TRANSPORT_CLERK, CITY), (Role.OPERATOR, CITY)]
)
async def test_only_a_city_level_supervisor_loads_a_year(api: Api, role: Role, district: str) -> None:
    body = {"holidays": ["2033-01-03"], "makeup_workdays": []}
    refused = await api.http.put("/v1/calendar/years/2033", headers=api.token(role, district), json=body)
    assert refused.status_code == 403, refused.text
    assert refused.json()["error"] == "forbidden" and refused.json()["detail"]
    assert await api.pool.fetchval("SELECT count(*) FROM calendar_years WHERE year = 2033") == 0
    bad = {"holidays": ["2033-02-30"], "makeup_workdays": []}  # refused before the body is looked at
    assert (
        await api.http.put("/v1/calendar/years/2033", headers=api.token(role, district), json=bad)
    ).status_code == 403
    assert api.temporal.signals == []


async def test_an_unknown_year_loads_without_a_flag_and_the_same_schedule_again_changes_nothing(api: Api) -> None:
    supervisor = api.token(Role.SUPERVISOR, CITY)
    body = {"holidays": ["2031-01-01", "2031-01-23"], "makeup_workdays": ["2031-01-26"]}
    created = await api.http.put("/v1/calendar/years/2031", headers=supervisor, json=body)
    assert created.status_code == 200, created.text
    assert (created.json()["created"], created.json()["outcome"]) == (True, "created")
    assert (await api.last_audit(2031))["outcome"] == "created"
    for again in (body, {**body, "replace": True}):
        api.temporal.signals.clear()
        repeated = await api.http.put("/v1/calendar/years/2031", headers=supervisor, json=again)
        assert repeated.status_code == 200, repeated.text
        assert repeated.json()["outcome"] == "unchanged" and repeated.json()["recomputed_applications"] == 0
        assert api.temporal.signals == []
    published = await api.http.put("/v1/calendar/years/2025", headers=supervisor, json=official(2025))
    assert published.status_code == 200 and published.json()["outcome"] == "unchanged"


async def test_replacing_a_published_year_needs_the_flag(api: Api) -> None:
    supervisor = api.token(Role.SUPERVISOR, CITY)
    before = await api.due_on("2024-03-01", 15)
    revised = official(2024)
    revised["holidays"] = sorted([*revised["holidays"], "2024-03-05"])
    refused = await api.http.put("/v1/calendar/years/2024", headers=supervisor, json=revised)
    assert refused.status_code == 409, refused.text
    assert refused.json()["error"] == "calendar_year_loaded" and "replace" in refused.json()["detail"]
    assert await api.due_on("2024-03-01", 15) == before
    assert api.temporal.signals == []
    audit = await api.last_audit(2024)
    assert audit["outcome"] == "refused:calendar_year_loaded"
    assert "2024-03-05" in audit["detail"]["proposed"]["holidays"]
    assert "2024-03-05" not in audit["detail"]["loaded"]["holidays"]


async def test_the_flag_is_a_boolean(api: Api) -> None:
    body = {**official(2024), "replace": "yes"}
    refused = await api.http.put("/v1/calendar/years/2024", headers=api.token(Role.SUPERVISOR, CITY), json=body)
    assert refused.status_code == 422, refused.text
    assert refused.json()["fields"][0]["loc"] == ["body", "replace"]


async def test_a_replacement_is_audited_and_every_open_application_it_touches_recomputes(api: Api) -> None:
    """Deadlines exact (not provisional) in 2026 move when 2026 is revised: each such application is told."""
    moved = await projected(api.pool, "awaiting_insurance", "2026-03-02", "2026-03-20", "2026-04-10")
    reaching_in = await projected(api.pool, "final_review", "2025-12-22", "2026-01-13", "2026-02-03")
    starting_on_new_year = await projected(api.pool, "awaiting_insurance", "2026-12-31", "2027-01-22", "2027-02-12")
    not_projected_yet = await projected(api.pool, "preliminary_review")
    ended_before = await projected(api.pool, "final_review", "2025-11-03", "2025-11-24", "2025-12-31")
    starts_after = await projected(api.pool, "awaiting_insurance", "2027-01-04", "2027-01-25", "2027-02-15")
    closed = await projected(api.pool, "completed", "2026-03-02", "2026-03-20", "2026-04-10")
    before = await api.due_on("2026-03-02", 15)

    revised = official(2026)
    revised["holidays"] = sorted([*revised["holidays"], "2026-03-10"])
    supervisor = api.token(Role.SUPERVISOR, CITY)
    replaced = await api.http.put("/v1/calendar/years/2026", headers=supervisor, json={**revised, "replace": True})

    assert replaced.status_code == 200, replaced.text
    assert (replaced.json()["created"], replaced.json()["outcome"]) == (False, "replaced")
    assert await api.due_on("2026-03-02", 15) != before  # the exact deadline moved
    told = {s.workflow_id for s in api.temporal.signals}
    assert told == {moved, reaching_in, starting_on_new_year, not_projected_yet}
    assert not told & {ended_before, starts_after, closed}
    assert all(
        (s.signal.__name__, s.arg) == ("recompute_deadlines", CalendarChanged(2026)) for s in api.temporal.signals
    )
    assert replaced.json()["recomputed_applications"] == len(told)
    audit = await api.last_audit(2026)
    assert (audit["outcome"], audit["role"], audit["district"]) == ("replaced", "supervisor", CITY)
    assert audit["detail"]["previous"] == official(2026)
    assert audit["detail"]["schedule"] == revised
    assert audit["detail"]["recomputed"] == len(told)
