"""The supervisors' monthly figures over HTTP, on a real store: a district supervisor reads their own
district only, a city supervisor any or the whole city; the measures; voided ratings left out; the
CSV export; a bad month or district named."""

from __future__ import annotations

import csv
import io
import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import httpx
import pytest

from api.app import create_app
from api.auth import Principal, Role, issue_token
from api.resources import Resources
from domain.districts import DISTRICTS
from store import Store
from tests.store.own_database import own_store
from tests.support_settings import settings_for_tests
from tests.support_views import view_of

SETTINGS = settings_for_tests()
MONTH = datetime.now(ZoneInfo("Asia/Shanghai")).strftime("%Y-%m")


@pytest.fixture(scope="module")
async def store(database_url: str) -> AsyncIterator[Store]:
    """A database of the module's own with, this month: in 330382 ratings 5, 5, 4, 2 (answered, called
    back in time, 追评 5), 1 (voided on appeal) and two ended cases unrated; in 330381 one rating 3."""
    async with own_store(database_url) as store:
        for level in (5, 5, 4):
            await rate(store, "330382", level)
        answered = await rate(store, "330382", 2)
        today = datetime.now(UTC)
        await store.pool.execute(
            """INSERT INTO rating_follow_ups (rating_id, application_id, district, status, rated_at, callback_due_on,
                   rectification_due_on, callback_at, answered_at, view, version)
               SELECT rating_id::text, application_id::text, district, 'answered', rated_at, $2, $2, $3, $3, '{}', 1
               FROM ratings WHERE rating_id = $1""",
            uuid.UUID(answered),
            datetime.now(ZoneInfo("Asia/Shanghai")).date(),
            today,
        )
        await store.ratings.add_addendum(answered, 5, "")
        await store.ratings.void(await rate(store, "330382", 1), "city-sup", "恶意差评")
        for _ in range(2):
            await ended_application(store, "330382")
        await rate(store, "330381", 3)
        yield store


async def ended_application(store: Store, district: str) -> str:
    application_id = str(uuid.uuid4())
    await store.applications.reserve(
        application_id=application_id,
        workflow_id=f"permit-{application_id}",
        applicant_sub=f"eid-{uuid.uuid4().hex}",
        district=district,
        channel="online",
        vin=f"VIN{uuid.uuid4().hex[:14]}",
        plate="浙C12345",
        submitted_at=datetime.now(UTC),
        view=view_of(application_id, district=district),
        start_input=None,
        idempotency_key=None,
        request_sha256="x",
    )
    await store.pool.execute(
        "UPDATE applications SET status = 'completed', closed_at = now() WHERE application_id = $1",
        uuid.UUID(application_id),
    )
    return application_id


async def rate(store: Store, district: str, level: int) -> str:
    stored = await store.ratings.add(
        application_id=await ended_application(store, district),
        district=district,
        channel="online",
        level=level,
        indicators={"整体满意度": level},
        indicator_version="t1",
        reasons=["其他"] if level <= 2 else [],
        text="",
    )
    return stored.rating_id


@pytest.fixture
async def api(store: Store) -> AsyncIterator[httpx.AsyncClient]:
    app = create_app(SETTINGS)
    app.state.resources = Resources(settings=SETTINGS, store=store, client=None, departments=None)  # type: ignore[arg-type]
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://testserver") as client:
        yield client


def bearer(role: Role = Role.SUPERVISOR, district: str = "330382") -> dict[str, str]:
    return {"Authorization": f"Bearer {issue_token(SETTINGS, Principal('staff-1', role, district))}"}


DISTRICT_330382 = {
    "district": "330382",
    "month": MONTH,
    "counts": {"5": 2, "4": 1, "3": 0, "2": 1, "1": 0},
    "rated": 4,
    "voided": 1,
    "bad": 1,
    "ended": 7,
    "unrated": 2,
    "good_rate": 0.75,
    "unrated_rate": 0.2857,
    "reply_rate": 1.0,
    "rectification_rate": 1.0,
    "rectification_satisfaction_rate": 1.0,
}


async def test_a_district_supervisor_reads_their_districts_month(api: httpx.AsyncClient) -> None:
    response = await api.get("/v1/ratings/summary", headers=bearer(), params={"month": MONTH})
    assert response.status_code == 200, response.text
    assert response.json() == DISTRICT_330382
    other = await api.get("/v1/ratings/summary", headers=bearer(), params={"month": MONTH, "district": "330381"})
    assert other.status_code == 403
    city = await api.get("/v1/ratings/summary", headers=bearer(), params={"month": MONTH, "district": "330300"})
    assert city.status_code == 403


async def test_a_city_supervisor_reads_any_district_or_the_city(api: httpx.AsyncClient) -> None:
    city = bearer(district="330300")
    one = await api.get("/v1/ratings/summary", headers=city, params={"month": MONTH, "district": "330382"})
    assert one.json() == DISTRICT_330382
    whole = (await api.get("/v1/ratings/summary", headers=city, params={"month": MONTH})).json()
    assert whole["district"] == "330300"
    assert (whole["counts"], whole["rated"], whole["ended"], whole["unrated"]) == (
        {"5": 2, "4": 1, "3": 1, "2": 1, "1": 0},
        5,
        8,
        2,
    )
    assert whole["good_rate"] == 0.6


async def test_a_month_without_anything_has_no_rates(api: httpx.AsyncClient) -> None:
    response = await api.get("/v1/ratings/summary", headers=bearer(), params={"month": "2020-02"})
    figures = response.json()
    assert figures["rated"] == figures["ended"] == 0
    assert figures["good_rate"] is None and figures["unrated_rate"] is None and figures["reply_rate"] is None


async def test_the_csv_export(api: httpx.AsyncClient) -> None:
    headers = {**bearer(district="330300"), "Accept": "text/csv"}
    response = await api.get("/v1/ratings/summary", headers=headers, params={"month": MONTH})
    assert response.status_code == 200 and response.headers["content-type"].startswith("text/csv")
    assert f'filename="ratings-330300-{MONTH}.csv"' in response.headers["content-disposition"]
    rows = list(csv.DictReader(io.StringIO(response.text)))
    assert [row["district"] for row in rows] == [*DISTRICTS, "330300"]
    by_district = {row["district"]: row for row in rows}
    assert (by_district["330382"]["level_5"], by_district["330382"]["good_rate"]) == ("2", "0.75")
    assert by_district["330381"]["level_3"] == "1" and by_district["330302"]["good_rate"] == ""
    own = await api.get("/v1/ratings/summary", headers={**bearer(), "Accept": "text/csv"}, params={"month": MONTH})
    assert [row["district"] for row in csv.DictReader(io.StringIO(own.text))] == ["330382"]


@pytest.mark.parametrize(
    ("params", "loc"),
    [
        ({"month": "2026-13"}, ["query", "month"]),
        ({"month": "2026-1"}, ["query", "month"]),
        ({}, ["query", "month"]),
        ({"month": "2026-10", "district": "110101"}, ["query", "district"]),
    ],
)
async def test_a_bad_month_or_district_is_named(api: httpx.AsyncClient, params: dict[str, str], loc: list[str]) -> None:
    response = await api.get("/v1/ratings/summary", headers=bearer(district="330300"), params=params)
    assert response.status_code == 422 and response.json()["fields"][0]["loc"] == loc


@pytest.mark.parametrize(
    ("role", "district"), [(Role.TRANSPORT_CLERK, "330382"), (Role.OPERATOR, "330382"), (Role.APPLICANT, None)]
)
async def test_the_figures_are_for_supervisors(api: httpx.AsyncClient, role: Role, district: str | None) -> None:
    token = issue_token(SETTINGS, Principal("someone", role, district))
    response = await api.get(
        "/v1/ratings/summary", headers={"Authorization": f"Bearer {token}"}, params={"month": MONTH}
    )
    assert response.status_code == 403
