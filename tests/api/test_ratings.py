"""The service rating over HTTP, on a real store: who may rate and read what (another's case 404, staff
403), the 409s and the 422s naming their field, the 追评 after the answer, the follow-up opened for a
bad rating, the rater's identity kept from staff, every write audited, and the level counter."""

from __future__ import annotations

import re
import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from typing import Any

import httpx
import pytest

from api.app import create_app
from api.auth import Principal, Role, issue_token
from api.errors import ApiError
from api.resources import Resources
from api.services import follow_ups
from store import Store
from tests.store.own_database import own_store
from tests.support_settings import settings_for_tests
from tests.support_views import view_of

SETTINGS = settings_for_tests()
DISTRICT = "330382"
APPLICANT = Principal(f"eid-{uuid.uuid4().hex}", Role.APPLICANT)


@pytest.fixture(scope="module")
async def store(database_url: str) -> AsyncIterator[Store]:
    async with own_store(database_url) as store:
        yield store


class FollowUpsOpened:
    """In place of Temporal: each follow-up opened is recorded and projected as its workflow would first."""

    def __init__(self, store: Store) -> None:
        self.store, self.opened, self.unavailable = store, [], False

    async def open(
        self, resources: Any, *, rating_id: str, application_id: str, district: str, rated_at: Any, timing: Any = None
    ) -> None:
        if self.unavailable:
            raise ApiError(503, "temporal_unavailable", "the follow-up could not be started; try again")
        self.opened.append({"rating_id": rating_id, "application_id": application_id, "district": district})
        await self.store.follow_ups.project(0, follow_up(rating_id, application_id, district, rated_at.isoformat()))


def follow_up(rating_id: str, application_id: str, district: str, rated_at: str, answer: str | None = None) -> Any:
    taken = {"note": answer, "at": datetime.now(UTC).isoformat(), "by": "sup-1"} if answer else None
    return {
        "rating_id": rating_id,
        "application_id": application_id,
        "district": district,
        "rated_at": rated_at,
        "status": "answered" if answer else "awaiting_callback",
        "callback_due_on": "2026-10-09",
        "rectification_due_on": "2026-10-29",
        "warning": "none",
        "callback": taken,
        "rectification": taken,
        "answer": answer,
        "appealed": False,
        "appeal": None,
        "voided": False,
        "timeline": [],
    }


@pytest.fixture
def opened(store: Store, monkeypatch: pytest.MonkeyPatch) -> FollowUpsOpened:
    fake = FollowUpsOpened(store)
    monkeypatch.setattr(follow_ups, "open_follow_up", fake.open)
    return fake


@pytest.fixture
async def api(store: Store, opened: FollowUpsOpened) -> AsyncIterator[httpx.AsyncClient]:
    """The app over the test's store; the follow-up's workflow is not started (see FollowUpsOpened)."""
    app = create_app(SETTINGS)
    app.state.resources = Resources(settings=SETTINGS, store=store, client=None, departments=None)  # type: ignore[arg-type]
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://testserver") as client:
        yield client


def bearer(principal: Principal) -> dict[str, str]:
    return {"Authorization": f"Bearer {issue_token(SETTINGS, principal)}"}


def staff(role: Role = Role.SUPERVISOR, district: str = DISTRICT) -> dict[str, str]:
    return bearer(Principal(f"{role.value}-1", role, district))


async def application(
    store: Store,
    *,
    status: str = "completed",
    owner: Principal = APPLICANT,
    district: str = DISTRICT,
    channel: str = "online",
) -> str:
    application_id = str(uuid.uuid4())
    await store.applications.reserve(
        application_id=application_id,
        workflow_id=f"permit-{application_id}",
        applicant_sub=owner.sub,
        district=district,
        channel=channel,
        vin=f"VIN{uuid.uuid4().hex[:14]}",
        plate="浙C12345",
        submitted_at=datetime.now(UTC),
        view=view_of(application_id, district=district, channel=channel),
        start_input=None,
        idempotency_key=None,
        request_sha256="x",
    )
    closed = "now()" if status in ("completed", "rejected", "withdrawn", "expired") else "NULL"
    await store.pool.execute(
        f"UPDATE applications SET status = $2, closed_at = {closed} WHERE application_id = $1",
        uuid.UUID(application_id),
        status,
    )
    return application_id


async def audited(store: Store, target: str) -> list[tuple[str, str, str]]:
    records = await store.pool.fetch(
        "SELECT action, outcome, role FROM audit_log WHERE target = $1 ORDER BY id", target
    )
    return [(r["action"], r["outcome"], r["role"]) for r in records]


def counter(metrics: str, level: int, channel: str) -> float:
    pattern = rf'^permit_ratings_total\{{channel="{channel}",level="{level}"\}} (\S+)$'
    match = re.search(pattern, metrics, re.MULTILINE)
    return float(match.group(1)) if match else 0.0


async def test_the_applicant_rates_their_ended_application(api: httpx.AsyncClient, store: Store) -> None:
    application_id = await application(store, status="withdrawn")
    before = counter((await api.get("/metrics")).text, 4, "online")
    body = {"level": 4, "indicators": {"办事效率": 5, "平台操作性": 3}}
    response = await api.post(f"/v1/applications/{application_id}/rating", headers=bearer(APPLICANT), json=body)
    assert response.status_code == 201, response.text
    rating = response.json()
    assert (rating["level"], rating["level_name"], rating["channel"], rating["follow_up"]) == (
        4,
        "满意",
        "online",
        None,
    )
    assert rating["indicators"] == {"整体满意度": 4, "办事效率": 5, "平台操作性": 3}
    assert rating["indicator_version"] and uuid.UUID(rating["rating_id"])
    read = await api.get(f"/v1/applications/{application_id}/rating", headers=bearer(APPLICANT))
    assert read.status_code == 200 and read.json() == rating
    assert await audited(store, application_id) == [("rating.give", "created", "applicant")]
    assert counter((await api.get("/metrics")).text, 4, "online") == before + 1


async def test_another_persons_application_is_not_found(api: httpx.AsyncClient, store: Store) -> None:
    application_id = await application(store)
    someone = bearer(Principal("eid-someone-else", Role.APPLICANT))
    for path in ("rating", "rating/addendum"):
        response = await api.post(f"/v1/applications/{application_id}/{path}", headers=someone, json={"level": 5})
        assert response.status_code == 404 and response.json()["error"] == "not_found"
    await api.post(f"/v1/applications/{application_id}/rating", headers=bearer(APPLICANT), json={"level": 5})
    assert (await api.get(f"/v1/applications/{application_id}/rating", headers=someone)).status_code == 404
    missing = f"/v1/applications/{uuid.uuid4()}/rating"
    assert (await api.post(missing, headers=bearer(APPLICANT), json={"level": 5})).status_code == 404


@pytest.mark.parametrize("role", [Role.TRANSPORT_CLERK, Role.SUPERVISOR, Role.OPERATOR])
async def test_staff_cannot_rate_and_the_attempt_is_audited(api: httpx.AsyncClient, store: Store, role: Role) -> None:
    application_id = await application(store)
    for path in ("rating", "rating/addendum"):
        response = await api.post(f"/v1/applications/{application_id}/{path}", headers=staff(role), json={"level": 5})
        assert response.status_code == 403 and response.json()["error"] == "forbidden"
    assert await store.ratings.for_application(application_id) is None
    assert await audited(store, application_id) == [
        ("rating.give", "refused:forbidden", role.value),
        ("rating.addendum", "refused:forbidden", role.value),
    ]


async def test_a_case_is_rated_after_its_end_and_once(api: httpx.AsyncClient, store: Store) -> None:
    open_one = await application(store, status="final_review")
    response = await api.post(f"/v1/applications/{open_one}/rating", headers=bearer(APPLICANT), json={"level": 5})
    assert response.status_code == 409 and response.json()["error"] == "not_ended"
    ended = await application(store, status="rejected")
    first = await api.post(f"/v1/applications/{ended}/rating", headers=bearer(APPLICANT), json={"level": 5})
    assert first.status_code == 201
    again = await api.post(
        f"/v1/applications/{ended}/rating", headers=bearer(APPLICANT), json={"level": 1, "text": "x"}
    )
    assert again.status_code == 409 and again.json()["error"] == "already_rated"
    assert (await store.ratings.for_application(ended)).level == 5  # type: ignore[union-attr]
    assert [outcome for _, outcome, _ in await audited(store, ended)] == ["created", "refused:already_rated"]
    assert [outcome for _, outcome, _ in await audited(store, open_one)] == ["refused:not_ended"]


@pytest.mark.parametrize(
    ("body", "loc"),
    [
        ({"level": 2}, ["body", "reasons"]),
        ({"level": 1, "reasons": [], "text": "  "}, ["body", "reasons"]),
        ({"level": 1, "reasons": ["太慢了"]}, ["body", "reasons"]),
        ({"level": 4, "indicators": {"服务态度": 5}}, ["body", "indicators", "服务态度"]),
        ({"level": 4, "indicators": {"办事效率": 0}}, ["body", "indicators", "办事效率"]),
        ({"level": 7}, ["body", "level"]),
        ({"level": 3, "text": "慢" * 501}, ["body", "text"]),
        ({"level": 3, "rater": "x"}, ["body", "rater"]),
        ({"level": 3, "text": "a\u0000b"}, ["body", "text"]),
    ],
)
async def test_a_bad_rating_names_its_field(
    api: httpx.AsyncClient, store: Store, body: dict[str, Any], loc: list[str]
) -> None:
    application_id = await application(store)
    response = await api.post(f"/v1/applications/{application_id}/rating", headers=bearer(APPLICANT), json=body)
    assert response.status_code == 422, response.text
    assert response.json()["error"] == "validation_failed"
    assert [f["loc"] for f in response.json()["fields"]] == [loc]
    assert await store.ratings.for_application(application_id) is None


async def test_a_window_case_has_the_window_indicators(api: httpx.AsyncClient, store: Store) -> None:
    application_id = await application(store, channel="window")
    body = {"level": 5, "indicators": {"服务态度": 5}}
    response = await api.post(f"/v1/applications/{application_id}/rating", headers=bearer(APPLICANT), json=body)
    assert response.status_code == 201 and response.json()["channel"] == "window"


async def test_a_bad_rating_opens_its_follow_up_and_staff_never_see_who_rated(
    api: httpx.AsyncClient, store: Store, opened: FollowUpsOpened
) -> None:
    application_id = await application(store)
    body = {"level": 1, "reasons": ["多次跑动"], "text": "跑了三次,请回电13812345678"}
    response = await api.post(f"/v1/applications/{application_id}/rating", headers=bearer(APPLICANT), json=body)
    assert response.status_code == 201, response.text
    rating = response.json()
    assert opened.opened == [{"rating_id": rating["rating_id"], "application_id": application_id, "district": DISTRICT}]
    assert rating["follow_up"]["status"] == "awaiting_callback" and rating["follow_up"]["answer"] is None
    assert rating["text"] == body["text"]  # the applicant reads their own words

    for role in (Role.TRANSPORT_CLERK, Role.SUPERVISOR):
        seen = await api.get(f"/v1/applications/{application_id}/rating", headers=staff(role))
        assert seen.status_code == 200
        assert seen.json()["text"] == "跑了三次,请回电138****5678"
        assert APPLICANT.sub not in seen.text and "applicant" not in seen.json()
    elsewhere = await api.get(f"/v1/applications/{application_id}/rating", headers=staff(district="330381"))
    assert elsewhere.status_code == 404


async def test_a_follow_up_not_opened_is_opened_when_the_rating_is_read(
    api: httpx.AsyncClient, store: Store, opened: FollowUpsOpened
) -> None:
    application_id = await application(store)
    opened.unavailable = True
    body = {"level": 2, "reasons": ["其他"]}
    response = await api.post(f"/v1/applications/{application_id}/rating", headers=bearer(APPLICANT), json=body)
    assert response.status_code == 201 and response.json()["follow_up"] is None
    opened.unavailable = False
    read = await api.get(f"/v1/applications/{application_id}/rating", headers=staff())
    assert read.json()["follow_up"]["status"] == "awaiting_callback"
    assert [o["application_id"] for o in opened.opened] == [application_id]


async def test_the_addendum_after_the_answer_and_once(api: httpx.AsyncClient, store: Store) -> None:
    application_id = await application(store)
    rated = await api.post(
        f"/v1/applications/{application_id}/rating", headers=bearer(APPLICANT), json={"level": 2, "text": "态度差"}
    )
    rating = rated.json()
    addendum = f"/v1/applications/{application_id}/rating/addendum"
    early = await api.post(addendum, headers=bearer(APPLICANT), json={"level": 4})
    assert early.status_code == 409 and early.json()["error"] == "not_answered"

    answered = follow_up(
        rating["rating_id"], application_id, DISTRICT, rating["rated_at"], answer="已约谈窗口人员并整改"
    )
    assert await store.follow_ups.project(3, answered)
    bad_level = await api.post(addendum, headers=bearer(APPLICANT), json={"level": 0})
    assert bad_level.status_code == 422 and bad_level.json()["fields"][0]["loc"] == ["body", "level"]
    added = await api.post(addendum, headers=bearer(APPLICANT), json={"level": 4, "text": "已解决"})
    assert added.status_code == 201, added.text
    assert added.json()["addendum"] | {"added_at": None} == {
        "level": 4,
        "level_name": "满意",
        "text": "已解决",
        "added_at": None,
    }
    assert added.json()["follow_up"]["answer"] == "已约谈窗口人员并整改"
    again = await api.post(addendum, headers=bearer(APPLICANT), json={"level": 1, "text": "x"})
    assert again.status_code == 409 and again.json()["error"] == "addendum_exists"
    assert [(a, o) for a, o, _ in await audited(store, application_id)] == [
        ("rating.give", "created"),
        ("rating.addendum", "refused:not_answered"),
        ("rating.addendum", "created"),
        ("rating.addendum", "refused:addendum_exists"),
    ]


async def test_a_good_rating_has_no_addendum(api: httpx.AsyncClient, store: Store) -> None:
    application_id = await application(store)
    await api.post(f"/v1/applications/{application_id}/rating", headers=bearer(APPLICANT), json={"level": 3})
    response = await api.post(
        f"/v1/applications/{application_id}/rating/addendum", headers=bearer(APPLICANT), json={"level": 5}
    )
    assert response.status_code == 409 and response.json()["error"] == "not_a_bad_rating"


async def test_an_unrated_application_reads_null_and_has_no_addendum(api: httpx.AsyncClient, store: Store) -> None:
    unrated = await application(store)
    for headers in (bearer(APPLICANT), staff(Role.TRANSPORT_CLERK)):
        read = await api.get(f"/v1/applications/{unrated}/rating", headers=headers)
        assert read.status_code == 200 and read.json() is None
    addendum = await api.post(
        f"/v1/applications/{unrated}/rating/addendum", headers=bearer(APPLICANT), json={"level": 5}
    )
    assert addendum.status_code == 409 and addendum.json()["error"] == "not_rated"


async def test_the_indicator_sets(api: httpx.AsyncClient) -> None:
    online = await api.get("/v1/rating-indicators", headers=bearer(APPLICANT))
    assert online.status_code == 200
    assert online.json()["indicators"] == ["整体满意度", "办事效率", "办事指南精确度", "办事便捷度", "平台操作性"]
    assert online.json()["levels"][0] == {"level": 5, "name": "非常满意"}
    window = await api.get("/v1/rating-indicators", headers=staff(), params={"channel": "window"})
    assert window.json()["indicators"] == ["整体满意度", "服务效率", "服务水平", "服务态度"]
    wrong = await api.get("/v1/rating-indicators", headers=bearer(APPLICANT), params={"channel": "phone"})
    assert wrong.status_code == 422 and wrong.json()["fields"][0]["loc"] == ["query", "channel"]
    assert (await api.get("/v1/rating-indicators")).status_code == 401


async def test_a_follow_up_step_is_a_supervisors(api: httpx.AsyncClient, monkeypatch: pytest.MonkeyPatch) -> None:
    steps: list[tuple[str, str, str, str]] = []

    async def record_step(resources: Any, principal: Principal, rating_id: str, step: str, note: str, **_: Any) -> Any:
        steps.append((principal.sub, rating_id, step, note))
        return {"status": "awaiting_rectification"}

    monkeypatch.setattr(follow_ups, "record_step", record_step)
    rating_id = str(uuid.uuid4())
    path = f"/v1/ratings/{rating_id}/follow-up"
    body = {"step": "callback", "note": "已电话回访"}
    assert (await api.post(path, headers=staff(), json=body)).json() == {"status": "awaiting_rectification"}
    assert steps == [("supervisor-1", rating_id, "callback", "已电话回访")]
    assert (await api.post(path, headers=staff(Role.TRANSPORT_CLERK), json=body)).status_code == 403
    assert (await api.post(path, headers=bearer(APPLICANT), json=body)).status_code == 403
    wrong = await api.post(path, headers=staff(), json={"step": "call", "note": "x"})
    assert wrong.status_code == 422 and wrong.json()["fields"][0]["loc"] == ["body", "step"]
    assert len(steps) == 1
