"""The supervisors' side of the rating in the console, over a fake store and a faked follow-up workflow:
the month's figures of the districts a supervisor covers (their chart and CSV export), and a 差评's page
with the forms of the step it waits for, each step through the API's service, a refusal as a message."""

from __future__ import annotations

import csv
import io
import re
from collections.abc import AsyncIterator
from dataclasses import replace
from datetime import UTC, date, datetime
from types import SimpleNamespace
from typing import Any

import httpx
import pytest
from temporalio.client import WorkflowUpdateFailedError
from temporalio.exceptions import ApplicationError

from api.app import create_app
from api.auth import Principal, Role, issue_token
from api.console.ratings import chart_bars, months_offered
from api.console.session import SESSION_COOKIE
from api.services import ratings
from store.applications import ApplicationRow
from store.follow_ups import FollowUpRow
from store.ratings import MonthFigures, Rating
from tests.support_console import alert_of, csrf_of
from tests.support_settings import settings_for_tests
from workflows.rating_types import STEP_FORBIDDEN, WRONG_STEP, FollowUpTiming, StepRecord

SETTINGS = settings_for_tests()
RATING_ID = "0b7f5a52-3c1e-4f43-9a53-2f1d4f0e8a10"
APP_ID = "5f0c7a36-54a4-4bb2-9d0e-0f4c1c9a2c11"
RATING = Rating(
    RATING_ID, APP_ID, "330302", "online", 1, {"整体满意度": 1, "办事效率": 2}, "2026.1", ["办理时间长"],
    "打了三次电话 13812345678 都没人接", datetime(2026, 9, 30, 2, tzinfo=UTC), None, None, None, None, None,
)  # fmt: skip
APPLICATION = ApplicationRow(APP_ID, f"permit-{APP_ID}", "eid-rater-7", "330302", "rejected", {}, None)
ASSIGNED = {"event": "assigned", "at": "2026-09-30T10:00:00+08:00", "by": "system", "district": "330302"}
FOLLOW_UP = FollowUpRow(
    RATING_ID, APP_ID, "330302", "awaiting_callback", "red", None, datetime(2026, 9, 30, 2, tzinfo=UTC),
    date(2026, 10, 9), date(2026, 10, 28), {"callback": None, "answer": None, "timeline": [ASSIGNED]},
)  # fmt: skip
FIGURES = {
    "330302": MonthFigures(
        {5: 6, 4: 2, 3: 1, 1: 1}, voided=1, bad=1, answered=1, rectified_on_time=1, ended=20, unrated=10
    ),
    "330303": MonthFigures({5: 1, 2: 3}, bad=3, answered=1, addenda_satisfied=1, ended=4, unrated=0),
}  # fmt: skip


class Store:
    """The rows the pages read; a step recorded moves the follow-up as the workflow's projection does."""

    def __init__(self) -> None:
        self.follow_up = FOLLOW_UP
        self.asked: list[list[str]] = []
        self.audited: list[dict[str, Any]] = []
        self.ratings = SimpleNamespace(get=self._rating, month_figures=self._figures)
        self.applications = SimpleNamespace(get=self._application)
        self.follow_ups = SimpleNamespace(get=self._follow_up)
        self.audit = SimpleNamespace(record=self._record)

    async def _rating(self, rating_id: str) -> Rating | None:
        return RATING if rating_id == RATING_ID else None

    async def _application(self, application_id: str) -> ApplicationRow | None:
        return APPLICATION if application_id == APP_ID else None

    async def _follow_up(self, rating_id: str) -> FollowUpRow | None:
        return self.follow_up if rating_id == RATING_ID else None

    async def _figures(self, districts: list[str], start: datetime, end: datetime) -> dict[str, MonthFigures]:
        self.asked.append(districts)
        return {d: FIGURES.get(d, MonthFigures()) for d in districts}

    async def _record(self, **entry: Any) -> None:
        self.audited.append(entry)


class Workflow:
    """The follow-up's handle: refuses with `refusals[step]`, else records the step and projects it."""

    def __init__(self, store: Store) -> None:
        self.store = store
        self.records: list[StepRecord] = []
        self.refusals: dict[str, str] = {}

    def get_workflow_handle(self, workflow_id: str) -> Workflow:
        assert workflow_id == f"rating-follow-up-{RATING_ID}"
        return self

    async def execute_update(self, update: Any, record: StepRecord, rpc_timeout: Any = None) -> dict[str, Any]:
        if record.step in self.refusals:
            raise WorkflowUpdateFailedError(ApplicationError("refused", type=self.refusals[record.step]))
        self.records.append(record)
        moved = {"callback": "awaiting_rectification", "rectification": "answered"}
        follow_up = self.store.follow_up
        taken = {"note": record.note, "at": "2026-10-02T09:00:00+08:00", "by": record.actor}
        view = {**follow_up.view, record.step: taken, "answer": record.note if record.step == "rectification" else None}
        view["timeline"] = [*follow_up.view["timeline"], {"event": record.step, **taken}]
        appeal = "pending" if record.step == "appeal" else follow_up.appeal
        status = moved.get(record.step, follow_up.status)
        self.store.follow_up = replace(follow_up, status=status, warning_level="none", appeal=appeal, view=view)
        return view


@pytest.fixture
def store() -> Store:
    return Store()


@pytest.fixture
def workflow(store: Store) -> Workflow:
    return Workflow(store)


@pytest.fixture
async def console(store: Store, workflow: Workflow) -> AsyncIterator[httpx.AsyncClient]:
    app = create_app(SETTINGS)
    app.state.resources = SimpleNamespace(settings=SETTINGS, store=store, client=workflow)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app), base_url="https://api") as http:
        yield http


def as_staff(http: httpx.AsyncClient, role: Role, district: str) -> httpx.AsyncClient:
    token = issue_token(SETTINGS, Principal(f"{role}-{district}", role, district))
    http.cookies.set(SESSION_COOKIE, token, domain="api.local", path="/console")
    return http


def figure(html: str, name: str) -> str:
    match = re.search(rf'data-figure="{name}">([^<]+)<', html)
    assert match, name
    return match.group(1)


def options(html: str, select_id: str) -> list[str]:
    select = html.split(f'id="{select_id}"')[1].split("</select>", maxsplit=1)[0]
    return re.findall(r'<option value="([^"]*)"', select)


# The figures page


async def test_a_district_supervisor_reads_their_district_figures_chart_and_csv_link(
    console: httpx.AsyncClient, store: Store
) -> None:
    page = await as_staff(console, Role.SUPERVISOR, "330302").get("/console/ratings?month=2026-10")
    assert page.status_code == 200, page.text
    assert store.asked == [["330302"]]
    assert options(page.text, "f-district") == ["330302"]
    assert figure(page.text, "good_rate") == "80.0%"  # 8 of 10 ratings are 5 or 4
    assert figure(page.text, "bad") == "1"
    assert figure(page.text, "unrated_rate") == "50.0%"
    assert figure(page.text, "reply_rate") == "100.0%"
    assert figure(page.text, "rectification_rate") == "100.0%"
    assert figure(page.text, "rectification_satisfaction_rate") == "0.0%"
    bars = dict(re.findall(r'<g class="bar" data-level="(\d)" data-count="(\d+)"', page.text))
    assert bars == {"5": "6", "4": "2", "3": "1", "2": "0", "1": "1"}
    assert "<svg" in page.text and "<script" not in page.text
    assert 'href="/console/ratings/export.csv?district=330302&amp;month=2026-10"' in page.text
    assert 'href="/console/ratings" aria-current="page"' in page.text


async def test_the_csv_link_serves_the_apis_export_with_the_session(console: httpx.AsyncClient) -> None:
    export = await as_staff(console, Role.SUPERVISOR, "330302").get(
        "/console/ratings/export.csv", params={"district": "330302", "month": "2026-10"}
    )
    assert export.status_code == 200
    assert export.headers["content-type"].startswith("text/csv")
    assert 'filename="ratings-330302-2026-10.csv"' in export.headers["content-disposition"]
    lines = list(csv.DictReader(io.StringIO(export.text)))
    assert [(line["district"], line["level_5"], line["good_rate"]) for line in lines] == [("330302", "6", "0.8")]


async def test_a_city_supervisor_chooses_the_city_or_any_district(console: httpx.AsyncClient, store: Store) -> None:
    city = as_staff(console, Role.SUPERVISOR, "330300")
    page = await city.get("/console/ratings?district=330300&month=2026-10")
    assert page.status_code == 200
    assert len(store.asked[0]) == 12
    assert options(page.text, "f-district")[:3] == ["330300", "330302", "330303"]
    assert figure(page.text, "bad") == "4"
    assert re.findall(r'class="district-row" data-district="(\d+)"', page.text)[:2] == ["330302", "330303"]
    one = await city.get("/console/ratings?district=330303&month=2026-10")
    assert store.asked[1] == ["330303"] and figure(one.text, "good_rate") == "25.0%"
    export = await city.get("/console/ratings/export.csv?district=330300&month=2026-10")
    assert export.text.strip().splitlines()[-1].startswith("330300,")  # the city's total after the districts


async def test_a_district_supervisor_cannot_read_another_district_nor_the_city(
    console: httpx.AsyncClient, store: Store
) -> None:
    supervisor = as_staff(console, Role.SUPERVISOR, "330302")
    for district in ("330303", "330300"):
        refused = await supervisor.get(f"/console/ratings?district={district}&month=2026-10")
        assert refused.status_code == 403
        assert "全市统计仅供市级" in refused.text
        assert (await supervisor.get(f"/console/ratings/export.csv?district={district}")).status_code == 403
    assert store.asked == []


async def test_a_clerk_reads_no_figures_and_a_bad_month_is_named(console: httpx.AsyncClient, store: Store) -> None:
    clerk = as_staff(console, Role.TRANSPORT_CLERK, "330302")
    assert (await clerk.get("/console/ratings")).status_code == 403
    assert (await clerk.get("/console/ratings/export.csv")).status_code == 403
    bad = await as_staff(console, Role.SUPERVISOR, "330302").get("/console/ratings?month=2026-13")
    assert bad.status_code == 422 and "month" in bad.text
    assert store.asked == []


def test_the_chart_scales_to_the_largest_count_and_the_month_selector_goes_back_two_years() -> None:
    bars = chart_bars({"5": 4, "4": 2, "3": 0, "2": 0, "1": 1})
    assert [(b["level"], b["height"], b["bad"]) for b in bars] == [
        (5, 160, False), (4, 80, False), (3, 0, False), (2, 0, True), (1, 40, True),
    ]  # fmt: skip
    assert all(b["height"] == 0 for b in chart_bars({}))
    months = months_offered(date(2026, 1, 15), "2026-01")
    assert months[:2] == ["2026-01", "2025-12"] and len(months) == 24
    assert months_offered(date(2026, 1, 15), "2020-05")[-1] == "2020-05"


def test_the_follow_ups_limits_are_the_settings() -> None:
    settings = settings_for_tests(rating_callback_working_days=2, rating_rectification_working_days=10)
    timing = ratings.follow_up_timing(settings)
    assert (timing.callback_working_days, timing.rectification_working_days) == (2, 10)
    assert ratings.follow_up_timing(SETTINGS) == FollowUpTiming()


async def test_a_bad_rating_opens_its_follow_up_with_the_configured_limits(monkeypatch: pytest.MonkeyPatch) -> None:
    opened: list[FollowUpTiming | None] = []

    async def open_follow_up(resources: Any, *, timing: FollowUpTiming | None = None, **_: Any) -> None:
        opened.append(timing)

    async def follow_up_view(resources: Any, rating_id: str) -> None:
        return None

    monkeypatch.setattr(ratings.follow_ups, "open_follow_up", open_follow_up)
    monkeypatch.setattr(ratings.follow_ups, "follow_up_view", follow_up_view)
    settings = settings_for_tests(rating_rectification_working_days=20)
    await ratings._open_follow_up(SimpleNamespace(settings=settings), RATING)  # type: ignore[arg-type]
    assert opened == [FollowUpTiming(rectification_working_days=20)]


# A 差评's page and its steps


async def test_the_rating_page_shows_the_rating_masked_the_case_and_the_due_dates(console: httpx.AsyncClient) -> None:
    page = await as_staff(console, Role.SUPERVISOR, "330302").get(f"/console/ratings/{RATING_ID}")
    assert page.status_code == 200, page.text
    assert "非常不满意" in page.text and "办理时间长" in page.text and "办事效率" in page.text
    assert "13812345678" not in page.text and "打了三次电话" in page.text  # the phone number masked
    assert "eid-rater-7" not in page.text  # never who rated
    assert APP_ID in page.text and "status-rejected" in page.text
    follow_up = page.text.split('id="h-follow-up"')[1]
    assert "2026-10-09" in follow_up and "2026-10-28" in follow_up and "badge-red" in follow_up
    assert re.findall(r'data-step="(\w+)"', follow_up) == ["callback", "appeal"]
    assert "分派至区县科室负责人 · 系统" in follow_up
    assert 'name="csrf_token"' in follow_up


async def test_the_supervision_list_links_to_the_rating_page(console: httpx.AsyncClient, store: Store) -> None:
    async def list_open(districts: Any, *, limit: int) -> tuple[list[FollowUpRow], int]:
        return [store.follow_up], 1

    async def empty(*_: Any, **__: Any) -> tuple[list[Any], int]:
        return [], 0

    store.follow_ups.list_open = list_open
    store.applications.list = empty
    store.incidents = SimpleNamespace(list=empty)
    page = await as_staff(console, Role.SUPERVISOR, "330302").get("/console/supervision")
    assert f'href="/console/ratings/{RATING_ID}"' in page.text


async def test_a_supervisor_answers_a_bad_rating_step_by_step(
    console: httpx.AsyncClient, workflow: Workflow, store: Store
) -> None:
    supervisor = as_staff(console, Role.SUPERVISOR, "330302")
    url = f"/console/ratings/{RATING_ID}"
    token = csrf_of((await supervisor.get(url)).text)
    called = await supervisor.post(
        f"{url}/follow-up", data={"csrf_token": token, "step": "callback", "note": "已电话回访"}
    )
    assert called.status_code == 200, called.text
    assert "回访已记录" in called.text
    assert re.findall(r'data-step="(\w+)"', called.text) == ["rectification", "appeal"]
    answered = await supervisor.post(
        f"{url}/follow-up",
        data={"csrf_token": token, "step": "rectification", "note": "已安排专人，答复：致歉并加急办理"},
    )
    assert "整改情况与答复已记录" in answered.text and 'data-status="answered"' in answered.text
    assert "致歉并加急办理" in answered.text and 'data-step="' not in answered.text
    assert "记录回访 · supervisor-330302：已电话回访" in answered.text
    assert [(r.step, r.actor, r.role, r.actor_district) for r in workflow.records] == [
        ("callback", "supervisor-330302", "supervisor", "330302"),
        ("rectification", "supervisor-330302", "supervisor", "330302"),
    ]


async def test_a_step_out_of_turn_is_a_message_on_the_page_with_the_note_kept(
    console: httpx.AsyncClient, workflow: Workflow, store: Store
) -> None:
    workflow.refusals["callback"] = WRONG_STEP
    supervisor = as_staff(console, Role.SUPERVISOR, "330302")
    url = f"/console/ratings/{RATING_ID}"
    token = csrf_of((await supervisor.get(url)).text)
    refused = await supervisor.post(
        f"{url}/follow-up", data={"csrf_token": token, "step": "callback", "note": "回访记录"}
    )
    assert refused.status_code == 409
    assert "不在这一环节" in alert_of(refused.text)
    assert ">回访记录</textarea>" in refused.text
    assert store.audited[-1]["outcome"] == "refused:not_awaiting_this_step"
    blank = await supervisor.post(f"{url}/follow-up", data={"csrf_token": token, "step": "callback", "note": "  "})
    assert blank.status_code == 422 and "请填写说明" in alert_of(blank.text)
    assert workflow.records == []


async def test_the_city_decides_an_appeal_and_a_district_cannot(
    console: httpx.AsyncClient, workflow: Workflow, store: Store
) -> None:
    district = as_staff(console, Role.SUPERVISOR, "330302")
    url = f"/console/ratings/{RATING_ID}"
    token = csrf_of((await district.get(url)).text)
    appealed = await district.post(f"{url}/follow-up", data={"csrf_token": token, "step": "appeal", "note": "误评"})
    assert "申诉已提交" in appealed.text and "申诉待市级审核" in appealed.text
    assert re.findall(r'data-step="(\w+)"', appealed.text) == ["callback"]
    workflow.refusals["appeal_voided"] = STEP_FORBIDDEN
    refused = await district.post(f"{url}/follow-up", data={"csrf_token": token, "step": "appeal_voided", "note": "x"})
    assert refused.status_code == 403 and "市级" in alert_of(refused.text)
    city = as_staff(console, Role.SUPERVISOR, "330300")
    page = await city.get(url)
    assert re.findall(r'data-step="(\w+)"', page.text) == ["callback", "appeal_upheld", "appeal_voided"]


async def test_who_may_open_a_rating_page_and_take_a_step(console: httpx.AsyncClient, workflow: Workflow) -> None:
    url = f"/console/ratings/{RATING_ID}"
    other = as_staff(console, Role.SUPERVISOR, "330303")
    assert (await other.get(url)).status_code == 404
    token = csrf_of((await other.get("/console/ratings?month=2026-10")).text)
    step = {"csrf_token": token, "step": "callback", "note": "回访"}
    assert (await other.post(f"{url}/follow-up", data=step)).status_code == 404
    clerk = as_staff(console, Role.TRANSPORT_CLERK, "330302")
    assert (await clerk.get(url)).status_code == 403
    assert (await clerk.post(f"{url}/follow-up", data=step)).status_code == 403
    unknown = as_staff(console, Role.SUPERVISOR, "330302")
    assert (await unknown.get("/console/ratings/00000000-0000-0000-0000-000000000000")).status_code == 404
    assert (
        await unknown.post(f"{url}/follow-up", data={"step": "callback", "note": "x"})
    ).status_code == 403  # no CSRF
    assert workflow.records == []
