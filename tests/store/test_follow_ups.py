"""The follow-ups' projection over real PostgreSQL: newer versions win, the open ones of a district
red first, and the application's role may write it (migration 010 as the owner, then the grants)."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from typing import Any

import asyncpg
import pytest

from store import Store
from store.db import create_pool, migrate_as_owner, url_as
from tests.support_settings import settings_for_tests
from workflows.rating_follow_up import view
from workflows.rating_types import FollowUpInput, FollowUpState

ROLE = f"permit_app_{uuid.uuid4().hex[:8]}"


def follow_up(district: str = "330302", **changes: Any) -> dict[str, Any]:
    rating_id = str(uuid.uuid4())
    state = FollowUpState(FollowUpInput(rating_id, str(uuid.uuid4()), district, "2026-09-30T10:00:00+08:00"))
    return {
        **view(state),
        "callback_due_on": "2026-10-09",
        "rectification_due_on": "2026-10-28",
        **changes,
    }


async def test_a_newer_version_overwrites_an_older_never(store: Store) -> None:
    first = follow_up()
    assert await store.follow_ups.project(0, first)
    callback = {"note": "已回访", "at": "2026-10-09T09:00:00+08:00", "by": "sup-1", "late": False}
    answered = {**first, "status": "awaiting_rectification", "callback": callback}
    assert await store.follow_ups.project(2, answered)
    assert not await store.follow_ups.project(1, {**first, "status": "awaiting_callback"})
    row = await store.follow_ups.get(first["rating_id"])
    assert row is not None
    assert row.status == "awaiting_rectification"
    assert row.view["callback"] == callback
    assert str(row.rectification_due_on) == "2026-10-28"
    callback_at = await store.pool.fetchval(
        "SELECT callback_at FROM rating_follow_ups WHERE rating_id = $1", first["rating_id"]
    )
    assert callback_at.isoformat() == "2026-10-09T01:00:00+00:00"
    assert await store.follow_ups.get(str(uuid.uuid4())) is None


async def test_open_follow_ups_of_the_districts_asked_red_first_then_yellow(store: Store) -> None:
    district = "330381"
    none = follow_up(district, rectification_due_on="2026-10-20")
    yellow = follow_up(district, warning="yellow", rectification_due_on="2026-10-30")
    red = follow_up(district, warning="red", rectification_due_on="2026-11-05")
    answered = follow_up(district, status="answered", warning="none")
    elsewhere = follow_up("330382", warning="red")
    for n, projected in enumerate([none, yellow, red, answered, elsewhere], start=1):
        await store.follow_ups.project(n, projected)
    rows, total = await store.follow_ups.list_open([district])
    assert [r.rating_id for r in rows] == [red["rating_id"], yellow["rating_id"], none["rating_id"]]
    assert total == 3
    everywhere, _ = await store.follow_ups.list_open(None, limit=1000)
    assert elsewhere["rating_id"] in {r.rating_id for r in everywhere}
    assert answered["rating_id"] not in {r.rating_id for r in everywhere}


@pytest.fixture(scope="module")
async def app_pool(database_url: str) -> AsyncIterator[asyncpg.Pool]:
    app_url = url_as(database_url, ROLE, "tests-only-app-role-password")
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


async def test_the_application_role_projects_and_reads_follow_ups(app_pool: asyncpg.Pool) -> None:
    store = Store(app_pool)
    projected = follow_up()
    assert await store.follow_ups.project(1, projected)
    assert await store.follow_ups.project(2, {**projected, "warning": "yellow"})
    row = await store.follow_ups.get(projected["rating_id"])
    assert row is not None and row.warning_level == "yellow"
