"""Ratings over real PostgreSQL: once per application even when two requests race, the 追评 and the
voiding each once, a given rating never changed nor deleted (by the app role or the owner), and a month's
figures per district (voided ratings out, the follow-up's progress read from its projection)."""

from __future__ import annotations

import asyncio
import uuid
from datetime import UTC, date, datetime, timedelta

import asyncpg
import pytest

from store import Store
from store.db import create_pool, migrate_as_owner, url_as
from store.ratings import AlreadyRated, MonthFigures
from tests.store.own_database import own_store
from tests.support_settings import settings_for_tests
from tests.support_views import view_of


async def application(store: Store, district: str = "330382", *, ended: bool = True, channel: str = "online") -> str:
    application_id = str(uuid.uuid4())
    await store.applications.reserve(
        application_id=application_id,
        workflow_id=f"permit-{application_id}",
        applicant_sub=f"eid-{uuid.uuid4()}",
        district=district,
        channel=channel,
        vin=f"VIN{uuid.uuid4().hex[:14]}",
        plate="浙C12345",
        submitted_at=datetime.now(UTC),
        view=view_of(application_id),
        start_input=None,
        idempotency_key=None,
        request_sha256="x",
    )
    if ended:
        await store.pool.execute(
            "UPDATE applications SET status = 'completed', closed_at = now() WHERE application_id = $1",
            uuid.UUID(application_id),
        )
    return application_id


async def rate(store: Store, application_id: str, level: int, district: str = "330382") -> str:
    rating = await store.ratings.add(
        application_id=application_id,
        district=district,
        channel="online",
        level=level,
        indicators={"整体满意度": level},
        indicator_version="t1",
        reasons=["其他"] if level <= 2 else [],
        text="",
    )
    return rating.rating_id


async def test_a_rating_is_kept_with_its_indicators_and_reasons(store: Store) -> None:
    application_id = await application(store)
    rating = await store.ratings.add(
        application_id=application_id,
        district="330382",
        channel="online",
        level=2,
        indicators={"整体满意度": 2, "办事效率": 1},
        indicator_version="2026.1",
        reasons=["多次跑动", "其他"],
        text="跑了三次",
    )
    found = await store.ratings.for_application(application_id)
    assert found == rating == await store.ratings.get(rating.rating_id)
    assert (found.level, found.indicators, found.reasons, found.text) == (
        2,
        {"整体满意度": 2, "办事效率": 1},
        ["多次跑动", "其他"],
        "跑了三次",
    )
    assert await store.ratings.for_application(str(uuid.uuid4())) is None


async def test_two_racing_ratings_store_one(store: Store) -> None:
    application_id = await application(store)
    outcomes = await asyncio.gather(
        rate(store, application_id, 5), rate(store, application_id, 1), return_exceptions=True
    )
    assert sorted(type(o).__name__ for o in outcomes) == ["AlreadyRated", "str"]
    with pytest.raises(AlreadyRated):
        await rate(store, application_id, 4)
    count = await store.pool.fetchval(
        "SELECT count(*) FROM ratings WHERE application_id = $1", uuid.UUID(application_id)
    )
    assert count == 1


async def test_the_addendum_and_the_voiding_are_each_given_once(store: Store) -> None:
    rating_id = await rate(store, await application(store), 1)
    added = await store.ratings.add_addendum(rating_id, 4, "已整改")
    assert added is not None and (added.addendum_level, added.addendum_text) == (4, "已整改")
    assert await store.ratings.add_addendum(rating_id, 1, "again") is None
    assert await store.ratings.void(rating_id, "city-sup", "恶意差评") is True
    assert await store.ratings.void(rating_id, "other", "again") is False
    kept = await store.ratings.get(rating_id)
    assert kept is not None and kept.voided_at is not None and kept.void_reason == "恶意差评"
    assert kept.addendum_level == 4


@pytest.mark.parametrize(
    "change",
    ["level = 5", "text = 'changed'", "reasons = '{}'", "rated_at = now() - interval '1 day'"],
)
async def test_a_given_rating_is_not_changed(store: Store, change: str) -> None:
    rating_id = await rate(store, await application(store), 2)
    with pytest.raises(asyncpg.IntegrityConstraintViolationError):
        await store.pool.execute(f"UPDATE ratings SET {change} WHERE rating_id = $1", uuid.UUID(rating_id))


async def test_neither_the_application_role_nor_the_owner_deletes_a_rating(database_url: str, store: Store) -> None:
    application_id = await application(store)
    rating_id = await rate(store, application_id, 3)
    role = f"permit_app_{uuid.uuid4().hex[:8]}"
    app_url = url_as(database_url, role, "tests-only-app-role-password")
    await migrate_as_owner(settings_for_tests(database_url=app_url, migration_database_url=database_url))
    pool = await create_pool(app_url)
    try:
        assert await Store(pool).ratings.get(rating_id) is not None
        for conn in (pool, store.pool):
            with pytest.raises(asyncpg.IntegrityConstraintViolationError):
                await conn.execute("DELETE FROM ratings WHERE rating_id = $1", uuid.UUID(rating_id))
        with pytest.raises(asyncpg.IntegrityConstraintViolationError):
            await store.pool.execute("DELETE FROM applications WHERE application_id = $1", uuid.UUID(application_id))
        with pytest.raises(asyncpg.IntegrityConstraintViolationError):
            await store.pool.execute("TRUNCATE ratings")
        assert await store.ratings.get(rating_id) is not None
    finally:
        await pool.close()
        await store.pool.execute(f'DROP OWNED BY "{role}"')
        await store.pool.execute(f'DROP ROLE "{role}"')


async def follow_up(
    store: Store, rating_id: str, application_id: str, *, called_on: date | None, answered_on: date | None
) -> None:
    """The follow-up as its workflow projects it: due the day after and 15 days after today."""
    today = datetime.now(UTC).date()

    def at(day: date | None) -> datetime | None:
        return datetime(day.year, day.month, day.day, 2, tzinfo=UTC) if day else None

    await store.pool.execute(
        """INSERT INTO rating_follow_ups (rating_id, application_id, district, status, rated_at, callback_due_on,
               rectification_due_on, callback_at, answered_at, view, version)
           VALUES ($1, $2, '330382', $3, now(), $4, $5, $6, $7, '{}', 1)""",
        rating_id,
        application_id,
        "answered" if answered_on else "awaiting_rectification",
        today + timedelta(days=1),
        today + timedelta(days=15),
        at(called_on),
        at(answered_on),
    )


async def test_a_months_figures_per_district(database_url: str) -> None:
    async with own_store(database_url) as store:
        today = datetime.now(UTC).date()
        for level in (5, 5, 4, 3):
            await rate(store, await application(store), level)
        on_time = await application(store)
        await follow_up(store, await rate(store, on_time, 2), on_time, called_on=today, answered_on=today)
        await store.ratings.add_addendum((await store.ratings.for_application(on_time)).rating_id, 5, "")  # type: ignore[union-attr]
        late = await application(store)
        await follow_up(store, await rate(store, late, 1), late, called_on=today + timedelta(days=3), answered_on=today)
        await follow_up(
            store,
            await rate(store, (waiting := await application(store)), 1),
            waiting,
            called_on=None,
            answered_on=None,
        )
        await rate(store, await application(store), 1)  # no follow-up projected yet
        await store.ratings.void(await rate(store, await application(store), 1), "city-sup", "恶意差评")
        for _ in range(2):
            await application(store)  # ended, not rated
        await application(store, ended=False)
        await rate(store, await application(store, "330381"), 1, district="330381")

        now = datetime.now(UTC)
        figures = await store.ratings.month_figures(
            ["330382", "330381"], now - timedelta(hours=1), now + timedelta(hours=1)
        )
        assert figures["330382"] == MonthFigures(
            levels={5: 2, 4: 1, 3: 1, 2: 1, 1: 3},
            voided=1,
            bad=4,
            answered=2,
            rectified_on_time=1,
            addenda_satisfied=1,
            ended=11,
            unrated=2,
        )
        assert figures["330381"] == MonthFigures(levels={1: 1}, bad=1, ended=1)
        before = await store.ratings.month_figures(["330382"], now - timedelta(days=40), now - timedelta(days=10))
        assert before == {"330382": MonthFigures()}
