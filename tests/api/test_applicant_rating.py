"""The rating in the applicant's app over HTTP, on a real store: the form only once the application has
ended; a good rating kept and shown read-only; a 差评 without a reason refused beside the field and nothing
kept; the follow-up's due dates, and the 追评 form only after the answer (once); the service's refusals as
page messages. And the console's QR block for the rating at the window."""

from __future__ import annotations

import re
import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from typing import Any

import httpx
import pytest

from api.app import create_app
from api.applicant import labels
from api.applicant.session import SESSION_COOKIE
from api.auth import Principal, Role, issue_token
from api.console.session import SESSION_COOKIE as CONSOLE_COOKIE
from api.resources import Resources
from api.services import follow_ups
from store import Store
from tests.store.own_database import own_store
from tests.support_applicant import SETTINGS, csrf_of, field_errors
from tests.support_views import view_of

DISTRICT = "330382"
APPLICANT = Principal(f"eid-{uuid.uuid4().hex}", Role.APPLICANT)


@pytest.fixture(scope="module")
async def store(database_url: str) -> AsyncIterator[Store]:
    async with own_store(database_url) as store:
        yield store


class FollowUpsOpened:
    """In place of Temporal: each follow-up opened is recorded and projected as its workflow first would."""

    def __init__(self, store: Store) -> None:
        self.store, self.opened = store, list[dict[str, str]]()

    async def open(self, resources: Any, *, rating_id: str, application_id: str, rated_at: Any, **_: Any) -> None:
        self.opened.append({"rating_id": rating_id, "application_id": application_id})
        first = follow_up(rating_id, application_id, rated_at.isoformat(), counted=False)
        await self.store.follow_ups.project(0, first)


def follow_up(
    rating_id: str, application_id: str, rated_at: str, *, counted: bool = True, answer: str | None = None
) -> dict[str, Any]:
    """The follow-up's view as projected: first before the workflow has counted its deadlines (as the
    service writes it on opening), then awaiting the call back, then answered."""
    taken = {"note": answer, "at": datetime.now(UTC).isoformat(), "by": "sup-1"} if answer else None
    return {
        "rating_id": rating_id,
        "application_id": application_id,
        "district": DISTRICT,
        "rated_at": rated_at,
        "status": "answered" if answer else "awaiting_callback",
        "callback_due_on": "2026-10-09" if counted else None,
        "rectification_due_on": "2026-10-29" if counted else None,
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


def client(store: Store, cookie: tuple[str, str], **settings: object) -> httpx.AsyncClient:
    current = SETTINGS.model_copy(update=settings)
    app = create_app(current)
    app.state.resources = Resources(settings=current, store=store, client=None, departments=None)  # type: ignore[arg-type]
    transport = httpx.ASGITransport(app=app)
    return httpx.AsyncClient(transport=transport, base_url="http://testserver", cookies=dict([cookie]))


@pytest.fixture
async def app(store: Store, opened: FollowUpsOpened) -> AsyncIterator[httpx.AsyncClient]:
    """The applicant's app, signed in as APPLICANT; the follow-up's workflow faked (FollowUpsOpened)."""
    async with client(store, (SESSION_COOKIE, issue_token(SETTINGS, APPLICANT))) as http:
        yield http


async def application(store: Store, status: str, channel: str = "online", owner: Principal = APPLICANT) -> str:
    application_id = str(uuid.uuid4())
    await store.applications.reserve(
        application_id=application_id,
        workflow_id=f"permit-{application_id}",
        applicant_sub=owner.sub,
        district=DISTRICT,
        channel=channel,
        vin=f"VIN{uuid.uuid4().hex[:14]}",
        plate="浙C12345",
        submitted_at=datetime.now(UTC),
        view=view_of(application_id, status=status, district=DISTRICT, channel=channel, pending=[]),
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


async def rate(http: httpx.AsyncClient, application_id: str, **fields: object) -> httpx.Response:
    page = await http.get(f"/app/applications/{application_id}")
    form = {"csrf_token": csrf_of(page.text), **fields}
    return await http.post(f"/app/applications/{application_id}/rating", data=form)


async def test_the_form_is_offered_only_once_the_application_has_ended(app: httpx.AsyncClient, store: Store) -> None:
    running = await application(store, "final_review")
    page = await app.get(f"/app/applications/{running}")
    assert page.status_code == 200 and 'id="rating"' not in page.text
    refused = await rate(app, running, level="5")
    assert refused.status_code == 409 and "申请办结后方可评价" in refused.text
    assert await store.ratings.for_application(running) is None
    for status in ("completed", "rejected", "withdrawn", "expired"):
        ended = await application(store, status)
        page = await app.get(f"/app/applications/{ended}")
        assert 'id="rating-form"' in page.text, status
    levels = re.findall(r'<input type="radio" name="level" value="(\d)"\s*> (\S+)</label>', page.text)
    assert levels == [("5", "非常满意"), ("4", "满意"), ("3", "基本满意"), ("2", "不满意"), ("1", "非常不满意")]
    online = re.findall(r'<label for="indicator_\d">([^<]+)</label>', page.text)
    assert online == ["办事效率", "办事指南精确度", "办事便捷度", "平台操作性"]
    window = await app.get(f"/app/applications/{await application(store, 'completed', channel='window')}")
    assert re.findall(r'<label for="indicator_\d">([^<]+)</label>', window.text) == ["服务效率", "服务水平", "服务态度"]


async def test_a_good_rating_is_kept_and_shown_read_only(app: httpx.AsyncClient, store: Store) -> None:
    application_id = await application(store, "completed")
    forged = await app.post(f"/app/applications/{application_id}/rating", data={"level": "5"})
    assert forged.status_code == 403 and "CSRF" in forged.text
    out_of_range = await rate(app, application_id, level="4", indicator_1="9")
    assert out_of_range.status_code == 422 and field_errors(out_of_range.text) == {
        "indicators": "每项评价指标请选择 1–5 分"
    }
    assert await store.ratings.for_application(application_id) is None
    answer = await rate(app, application_id, level="4", indicator_1="5", indicator_4="3", rating_text="很方便")
    assert answer.status_code == 200 and "感谢您的评价" in answer.text
    kept = await store.ratings.for_application(application_id)
    assert kept is not None and kept.level == 4 and kept.text == "很方便"
    assert kept.indicators == {"整体满意度": 4, "办事效率": 5, "平台操作性": 3}
    page = await app.get(f"/app/applications/{application_id}")
    assert '<dd id="rating-level">满意</dd>' in page.text and 'id="rating-form"' not in page.text
    assert 'id="follow-up"' not in page.text and 'id="addendum-form"' not in page.text
    again = await app.post(
        f"/app/applications/{application_id}/rating", data={"csrf_token": csrf_of(page.text), "level": "1"}
    )
    assert again.status_code == 409 and "该申请已评价，不能重复评价" in again.text


async def test_a_bad_rating_without_a_reason_is_refused_beside_the_field(app: httpx.AsyncClient, store: Store) -> None:
    application_id = await application(store, "rejected")
    for level in ("2", "1"):
        answer = await rate(app, application_id, level=level, rating_text="  ")
        assert answer.status_code == 422
        assert field_errors(answer.text) == {"reasons": labels.PROBLEMS["reasons"]}
        assert "请至少选择一个原因或填写具体意见" in labels.PROBLEMS["reasons"]
        assert f'<input type="radio" name="level" value="{level}" checked>' in answer.text
    missing_level = await rate(app, application_id, reasons="多次跑动")
    assert missing_level.status_code == 422 and field_errors(missing_level.text) == {"level": "请选择满意程度"}
    unknown = await rate(app, application_id, level="2", reasons="不存在的原因")
    assert unknown.status_code == 422 and set(field_errors(unknown.text)) == {"reasons"}
    assert await store.ratings.for_application(application_id) is None


async def test_a_bad_rating_shows_its_follow_up_and_the_addendum_only_after_the_answer(
    app: httpx.AsyncClient, store: Store, opened: FollowUpsOpened
) -> None:
    application_id = await application(store, "rejected")
    answer = await rate(app, application_id, level="2", reasons=["多次跑动", "服务态度差"])
    assert answer.status_code == 200 and "差评已转区县督查人员回访整改" in answer.text
    (opened_one,) = opened.opened
    assert '<dd id="follow-up-status">待回访</dd>' in answer.text
    assert '<span id="callback-due-pending" class="muted">期限计算中' in answer.text and "None" not in answer.text
    assert '<dd id="rating-reasons">多次跑动、服务态度差</dd>' in answer.text
    assert 'id="addendum-form"' not in answer.text
    rated_at = datetime.now(UTC).isoformat()
    await store.follow_ups.project(1, follow_up(opened_one["rating_id"], application_id, rated_at))
    page = await app.get(f"/app/applications/{application_id}")
    assert '<time id="callback-due" datetime="2026-10-09">' in page.text
    assert '<time id="rectification-due" datetime="2026-10-29">' in page.text
    early = await app.post(
        f"/app/applications/{application_id}/rating/addendum",
        data={"csrf_token": csrf_of(page.text), "addendum_level": "4"},
    )
    assert early.status_code == 409 and "差评尚未答复，答复后方可追评" in early.text

    answered = follow_up(opened_one["rating_id"], application_id, rated_at, answer="已约谈窗口，改进流程")
    await store.follow_ups.project(2, answered)
    page = await app.get(f"/app/applications/{application_id}")
    assert '<dd id="follow-up-answer">已约谈窗口，改进流程</dd>' in page.text and 'id="addendum-form"' in page.text
    no_level = await app.post(
        f"/app/applications/{application_id}/rating/addendum", data={"csrf_token": csrf_of(page.text)}
    )
    assert no_level.status_code == 422 and field_errors(no_level.text) == {"addendum_level": "请选择追评的满意程度"}
    added = await app.post(
        f"/app/applications/{application_id}/rating/addendum",
        data={"csrf_token": csrf_of(page.text), "addendum_level": "4", "addendum_text": "已改进"},
    )
    assert added.status_code == 200 and "追评已提交" in added.text
    assert 'id="addendum"' in added.text and 'id="addendum-form"' not in added.text
    kept = await store.ratings.for_application(application_id)
    assert kept is not None and (kept.addendum_level, kept.addendum_text) == (4, "已改进")
    twice = await app.post(
        f"/app/applications/{application_id}/rating/addendum",
        data={"csrf_token": csrf_of(page.text), "addendum_level": "1"},
    )
    assert twice.status_code == 409 and "已追评，不能再次追评" in twice.text


async def test_another_applicants_application_is_not_rated(app: httpx.AsyncClient, store: Store) -> None:
    mine = await application(store, "completed")
    theirs = await application(store, "completed", owner=Principal("eid-someone-else", Role.APPLICANT))
    page = await app.get(f"/app/applications/{mine}")
    refused = await app.post(
        f"/app/applications/{theirs}/rating", data={"csrf_token": csrf_of(page.text), "level": "5"}
    )
    assert refused.status_code == 404 and "没有找到" in refused.text
    assert await store.ratings.for_application(theirs) is None


async def test_the_console_shows_the_rating_qr_code_of_an_ended_window_application(store: Store) -> None:
    clerk = Principal("clerk-7", Role.TRANSPORT_CLERK, DISTRICT)
    window = await application(store, "completed", channel="window")
    running = await application(store, "final_review", channel="window")
    online = await application(store, "completed", channel="online")
    cookie = (CONSOLE_COOKIE, issue_token(SETTINGS, clerk))
    async with client(store, cookie, public_base_url="https://permits.example.cn") as console:
        page = await console.get(f"/console/applications/{window}")
        others = [(await console.get(f"/console/applications/{other}")).text for other in (running, online)]
    assert page.status_code == 200 and "请办事人扫码评价" in page.text
    url = f"https://permits.example.cn/app/applications/{window}#rating"
    assert f'<figcaption class="mono" id="rating-url">{url}</figcaption>' in page.text
    assert re.search(r'<svg [^>]*class="rating-qr"[^>]*><title>请办事人扫码评价</title><path ', page.text)
    assert 'name="level"' not in page.text  # a clerk never rates
    assert all("请办事人扫码评价" not in other for other in others)
