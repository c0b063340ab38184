"""The rating and its follow-up together, over HTTP, on a Temporal dev server with the worker's real
follow-up workflow and a real store: a 差评 opens its follow-up, the district's supervisor calls back
and answers, the applicant adds the 追评, the month's figures count it; an appeal upheld by the city
voids another rating, which leaves the figures."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from typing import Any
from zoneinfo import ZoneInfo

import httpx
import pytest
from temporalio.testing import WorkflowEnvironment

from activities.permit import PermitActivities
from activities.rating import RatingActivities
from api.app import create_app
from api.auth import Principal, Role, issue_token
from api.resources import Resources
from store import Store
from tests.store.own_database import own_store
from tests.support_settings import settings_for_tests
from tests.support_views import view_of
from workers.main import build_worker

pytestmark = pytest.mark.timeout(120)

DISTRICT = "330382"
MONTH = datetime.now(ZoneInfo("Asia/Shanghai")).strftime("%Y-%m")
APPLICANT = Principal(f"eid-{uuid.uuid4().hex}", Role.APPLICANT)
SETTINGS_FOR_TOKENS = settings_for_tests()  # the same secret as each test's app


@pytest.fixture(scope="module")
async def store(database_url: str) -> AsyncIterator[Store]:
    async with own_store(database_url) as store:
        yield store


@pytest.fixture
async def api(store: Store, dev_server_env: WorkflowEnvironment) -> AsyncIterator[httpx.AsyncClient]:
    """The app over the store and the dev server, with a worker of the follow-up (as workers/main.py builds it)."""
    task_queue = f"ratings-{uuid.uuid4()}"
    settings = settings_for_tests(task_queue=task_queue)
    permits = PermitActivities(None, store, store.calendar.load)  # type: ignore[arg-type]  # no permit runs here
    ratings = RatingActivities(store, store.calendar.load, store.ratings.void)
    async with build_worker(dev_server_env.client, task_queue, permits, rating_activities=ratings):
        app = create_app(settings)
        app.state.resources = Resources(settings=settings, store=store, client=dev_server_env.client, departments=None)  # type: ignore[arg-type]
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://testserver") as client:
            yield client


def bearer(principal: Principal) -> dict[str, str]:
    return {"Authorization": f"Bearer {issue_token(SETTINGS_FOR_TOKENS, principal)}"}


SUPERVISOR = Principal("sup-330382", Role.SUPERVISOR, DISTRICT)
CITY_SUPERVISOR = Principal("sup-city", Role.SUPERVISOR, "330300")


async def ended_application(store: Store) -> str:
    application_id = str(uuid.uuid4())
    await store.applications.reserve(
        application_id=application_id,
        workflow_id=f"permit-{application_id}",
        applicant_sub=APPLICANT.sub,
        district=DISTRICT,
        channel="online",
        vin=f"VIN{uuid.uuid4().hex[:14]}",
        plate="浙C12345",
        submitted_at=datetime.now(UTC),
        view=view_of(application_id),
        start_input=None,
        idempotency_key=None,
        request_sha256="x",
    )
    await store.pool.execute(
        "UPDATE applications SET status = 'completed', closed_at = now() WHERE application_id = $1",
        uuid.UUID(application_id),
    )
    return application_id


async def rating_once(api: httpx.AsyncClient, application_id: str, check: Any) -> dict[str, Any]:
    """The rating as read, once `check` holds of it (the workflow projects its views asynchronously)."""
    for _ in range(200):
        rating = (await api.get(f"/v1/applications/{application_id}/rating", headers=bearer(SUPERVISOR))).json()
        if check(rating):
            return rating
        await asyncio.sleep(0.05)
    raise AssertionError(f"the rating never got there: {rating}")


async def step(api: httpx.AsyncClient, rating_id: str, who: Principal, name: str, note: str) -> httpx.Response:
    return await api.post(f"/v1/ratings/{rating_id}/follow-up", headers=bearer(who), json={"step": name, "note": note})


async def test_a_bad_rating_followed_up_answered_and_rated_again(api: httpx.AsyncClient, store: Store) -> None:
    application_id = await ended_application(store)
    body = {"level": 2, "reasons": ["多次跑动"]}
    rated = await api.post(f"/v1/applications/{application_id}/rating", headers=bearer(APPLICANT), json=body)
    assert rated.status_code == 201, rated.text
    rating_id = rated.json()["rating_id"]
    assert rated.json()["follow_up"]["status"] == "awaiting_callback"
    counted = await rating_once(api, application_id, lambda r: r["follow_up"]["callback_due_on"])
    assert counted["follow_up"]["rectification_due_on"] > counted["follow_up"]["callback_due_on"]

    addendum = f"/v1/applications/{application_id}/rating/addendum"
    early = await api.post(addendum, headers=bearer(APPLICANT), json={"level": 5})
    assert early.status_code == 409 and early.json()["error"] == "not_answered"
    assert (await step(api, rating_id, SUPERVISOR, "callback", "已电话回访")).status_code == 200
    answered = await step(api, rating_id, SUPERVISOR, "rectification", "已优化材料流转,无需再跑")
    assert answered.status_code == 200, answered.text
    await rating_once(api, application_id, lambda r: r["follow_up"]["answer"])
    added = await api.post(addendum, headers=bearer(APPLICANT), json={"level": 5, "text": "满意"})
    assert added.status_code == 201, added.text

    figures = (await api.get("/v1/ratings/summary", headers=bearer(SUPERVISOR), params={"month": MONTH})).json()
    assert (figures["bad"], figures["reply_rate"], figures["rectification_rate"]) == (1, 1.0, 1.0)
    assert figures["rectification_satisfaction_rate"] == 1.0


async def test_an_appeal_upheld_by_the_city_voids_the_rating(api: httpx.AsyncClient, store: Store) -> None:
    application_id = await ended_application(store)
    body = {"level": 1, "text": "无理由差评"}
    rated = await api.post(f"/v1/applications/{application_id}/rating", headers=bearer(APPLICANT), json=body)
    rating_id = rated.json()["rating_id"]
    await rating_once(api, application_id, lambda r: r["follow_up"]["callback_due_on"])
    before = (await api.get("/v1/ratings/summary", headers=bearer(SUPERVISOR), params={"month": MONTH})).json()

    assert (await step(api, rating_id, SUPERVISOR, "appeal", "申请人表示误评")).status_code == 200
    assert (await step(api, rating_id, SUPERVISOR, "appeal_voided", "区级不能裁决")).status_code == 403
    assert (await step(api, rating_id, CITY_SUPERVISOR, "appeal_voided", "核实为误评")).status_code == 200
    voided = await rating_once(api, application_id, lambda r: r["voided"])
    assert voided["follow_up"]["voided"] is True

    after = (await api.get("/v1/ratings/summary", headers=bearer(SUPERVISOR), params={"month": MONTH})).json()
    assert after["counts"]["1"] == before["counts"]["1"] - 1 and after["voided"] == before["voided"] + 1
