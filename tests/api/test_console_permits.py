"""The register of permits (在册运输证) in the console, over a fake register and a faked lifecycle
workflow: the staff's districts only, the filters and paging, masked plates, and the annual review's
form recording through the workflow's `record_review` update, a refusal shown as the page's message."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from dataclasses import replace
from datetime import date, timedelta
from types import SimpleNamespace
from typing import Any

import httpx
import pytest
from temporalio.client import WorkflowUpdateFailedError
from temporalio.exceptions import ApplicationError
from temporalio.service import RPCError, RPCStatusCode

from api.app import create_app
from api.auth import Principal, Role, issue_token
from api.console.session import SESSION_COOKIE
from store.permits import RegisteredPermit, RegisterQuery
from tests.support_console import alert_of, csrf_of
from tests.support_settings import settings_for_tests
from workflows.permit_lifecycle import NOT_REVIEW_DUE, PermitLifecycleWorkflow
from workflows.permit_lifecycle_types import ReviewRecord

SETTINGS = settings_for_tests()
TODAY = date(2026, 11, 28)


def permit(number: str, district: str, state: str, valid_until: date, **changes: Any) -> RegisteredPermit:
    return replace(
        RegisteredPermit(
            number, "5f0c7a36-54a4-4bb2-9d0e-0f4c1c9a2c11", "eid-holder-1", "浙C1***5", district, state, None,
            date(2024, 3, 1), valid_until, date(2027, 3, 1), 120_000, False,
        ),
        **changes,
    )  # fmt: skip


REVIEW_DUE = permit("3303022024000001", "330302", "review_due", date(2030, 3, 1), next_review_due_on=TODAY)
PERMITS = [
    REVIEW_DUE,
    permit("3303022024000002", "330302", "valid", date(2027, 1, 15)),
    permit("3303022024000003", "330302", "lapsed", date(2026, 12, 1), ended="review_missed", next_review_due_on=None),
    permit("3303032024000004", "330303", "valid", date(2028, 6, 30)),
    *(permit(f"33030220250{i:05d}", "330302", "valid", date(2031, 1, 1) + timedelta(days=i)) for i in range(25)),
]


class Register:
    """`permit_register` as the store answers it: the query's filters over the rows, soonest validity first."""

    def __init__(self) -> None:
        self.rows = {p.number: p for p in PERMITS}
        self.queries: list[RegisterQuery] = []

    async def get(self, number: str) -> RegisteredPermit | None:
        return self.rows.get(number)

    async def search(self, query: RegisterQuery) -> tuple[list[RegisteredPermit], int]:
        self.queries.append(query)
        found = sorted(
            (
                p
                for p in self.rows.values()
                if (query.districts is None or p.district in query.districts)
                and (query.state is None or p.state == query.state)
                and (query.expiring_before is None or p.valid_until < query.expiring_before)
            ),
            key=lambda p: (p.valid_until, p.number),
        )
        start = (query.page - 1) * query.page_size
        return found[start : start + query.page_size], len(found)


class Lifecycle:
    """The lifecycle's handle: a review is taken only while it is due, and projected as the workflow does."""

    def __init__(self, register: Register) -> None:
        self.register = register
        self.records: list[ReviewRecord] = []
        self.ended: set[str] = set()
        self.handles: list[str] = []

    def get_workflow_handle(self, workflow_id: str) -> Lifecycle:
        self.handles.append(workflow_id)
        return self

    async def execute_update(self, update: Any, record: ReviewRecord, rpc_timeout: Any = None) -> dict[str, Any]:
        assert update is PermitLifecycleWorkflow.record_review
        number = self.handles[-1].removeprefix("permit-lifecycle-")
        if number in self.ended:
            raise RPCError("workflow not found", RPCStatusCode.NOT_FOUND, b"")
        row = self.register.rows[number]
        if row.state != "review_due":
            raise WorkflowUpdateFailedError(ApplicationError("no review is due", type=NOT_REVIEW_DUE))
        self.records.append(record)
        self.register.rows[number] = replace(row, state="valid", next_review_due_on=date(2027, 11, 28))
        return {"number": number, "state": "valid"}


class Store:
    def __init__(self) -> None:
        self.permit_register = Register()
        self.audited: list[dict[str, Any]] = []
        self.audit = SimpleNamespace(record=self._record)

    async def _record(self, **entry: Any) -> None:
        self.audited.append(entry)


@pytest.fixture
def store() -> Store:
    return Store()


@pytest.fixture
def lifecycle(store: Store) -> Lifecycle:
    return Lifecycle(store.permit_register)


@pytest.fixture
async def console(store: Store, lifecycle: Lifecycle) -> AsyncIterator[httpx.AsyncClient]:
    app = create_app(SETTINGS)
    app.state.resources = SimpleNamespace(settings=SETTINGS, store=store, client=lifecycle)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app), base_url="https://api") as http:
        yield http


def as_staff(http: httpx.AsyncClient, role: Role, district: str) -> httpx.AsyncClient:
    token = issue_token(SETTINGS, Principal(f"{role}-{district}", role, district))
    http.cookies.set(SESSION_COOKIE, token, domain="api.local", path="/console")
    return http


def numbers(html: str) -> list[str]:
    return re.findall(r'class="permit-row" data-number="(\d+)"', html)


# The register


async def test_a_clerk_reads_their_districts_permits_soonest_ending_first_with_masked_plates(
    console: httpx.AsyncClient, store: Store
) -> None:
    page = await as_staff(console, Role.TRANSPORT_CLERK, "330302").get("/console/permits")
    assert page.status_code == 200, page.text
    assert store.permit_register.queries[0].districts == ["330302"]
    listed = numbers(page.text)
    assert listed[:3] == ["3303022024000003", "3303022024000002", "3303022024000001"]
    assert "3303032024000004" not in listed and len(listed) == 20
    assert "共 28 本" in page.text and 'rel="next"' in page.text
    assert "浙C1***5" in page.text
    assert 'href="/console/permits/3303022024000001"' in page.text
    assert 'data-state="review_due">待年度审验</span> <span class="badge badge-yellow">' in page.text
    assert "2027-03-01" in page.text  # the next review's due date
    assert 'href="/console/permits" aria-current="page"' in page.text


async def test_the_second_page_keeps_the_filters(console: httpx.AsyncClient) -> None:
    clerk = as_staff(console, Role.TRANSPORT_CLERK, "330302")
    page = await clerk.get("/console/permits", params={"state": "valid", "page": 2})
    assert page.status_code == 200
    assert len(numbers(page.text)) == 6  # 26 valid permits of 330302, 20 a page
    assert 'href="/console/permits?state=valid&amp;page=1" rel="prev"' in page.text


async def test_the_filters_narrow_the_register(console: httpx.AsyncClient, store: Store) -> None:
    clerk = as_staff(console, Role.TRANSPORT_CLERK, "330302")
    lapsed = await clerk.get("/console/permits", params={"state": "lapsed", "district": "", "expiring_before": ""})
    assert numbers(lapsed.text) == ["3303022024000003"]
    ending = await clerk.get("/console/permits", params={"expiring_before": "2027-02-01"})
    assert numbers(ending.text) == ["3303022024000003", "3303022024000002"]
    assert store.permit_register.queries[-1].expiring_before == date(2027, 2, 1)


async def test_a_city_supervisor_narrows_to_a_district_a_district_clerk_cannot_widen(
    console: httpx.AsyncClient, store: Store
) -> None:
    city = await as_staff(console, Role.SUPERVISOR, "330300").get("/console/permits", params={"district": "330303"})
    assert numbers(city.text) == ["3303032024000004"]
    assert 'id="f-district"' in city.text
    other = await as_staff(console, Role.TRANSPORT_CLERK, "330302").get(
        "/console/permits", params={"district": "330303"}
    )
    assert other.status_code == 200 and numbers(other.text) == []
    assert store.permit_register.queries[-1].districts == []


async def test_bad_filters_are_a_4xx_never_a_500(console: httpx.AsyncClient) -> None:
    clerk = as_staff(console, Role.TRANSPORT_CLERK, "330302")
    for params in ({"state": "sold"}, {"expiring_before": "next week"}, {"district": "33"}, {"page": "0"}):
        response = await clerk.get("/console/permits", params=params)
        assert 400 <= response.status_code < 500, params


# A permit and its annual review


async def test_a_permit_of_another_district_is_not_found(console: httpx.AsyncClient) -> None:
    page = await as_staff(console, Role.TRANSPORT_CLERK, "330303").get("/console/permits/3303022024000001")
    assert page.status_code == 404
    assert "没有找到该运输证" in alert_of(page.text)


async def test_the_review_form_records_through_the_lifecycle_and_is_audited(
    console: httpx.AsyncClient, store: Store, lifecycle: Lifecycle
) -> None:
    clerk = as_staff(console, Role.TRANSPORT_CLERK, "330302")
    url = "/console/permits/3303022024000001"
    page = await clerk.get(url)
    assert page.status_code == 200
    assert 'action="/console/permits/3303022024000001/review"' in page.text and "年度审验通过" in page.text
    recorded = await clerk.post(f"{url}/review", data={"csrf_token": csrf_of(page.text)})
    assert recorded.status_code == 200, recorded.text
    assert "年度审验通过已记录" in recorded.text
    assert lifecycle.handles == ["permit-lifecycle-3303022024000001"]
    assert [r.clerk for r in lifecycle.records] == ["transport_clerk-330302"]
    assert 'data-state="valid"' in recorded.text and "2027-11-28" in recorded.text
    assert [(a["action"], a["target"], a["outcome"]) for a in store.audited] == [
        ("permit.review", "3303022024000001", "ok")
    ]


async def test_a_review_not_due_is_refused_as_a_message(
    console: httpx.AsyncClient, store: Store, lifecycle: Lifecycle
) -> None:
    clerk = as_staff(console, Role.TRANSPORT_CLERK, "330302")
    url = "/console/permits/3303022024000002"  # valid, its review due 2027-03-01: the form is offered
    page = await clerk.get(url)
    assert "年度审验通过" in page.text
    refused = await clerk.post(f"{url}/review", data={"csrf_token": csrf_of(page.text)})
    assert refused.status_code == 409
    assert "没有待办的年度审验" in alert_of(refused.text)
    assert lifecycle.records == []
    assert store.audited[-1]["outcome"] == "refused:no_review_due"


async def test_an_ended_lifecycle_refuses_the_review_as_a_message(
    console: httpx.AsyncClient, lifecycle: Lifecycle
) -> None:
    lifecycle.ended.add("3303022024000001")
    clerk = as_staff(console, Role.TRANSPORT_CLERK, "330302")
    url = "/console/permits/3303022024000001"
    refused = await clerk.post(f"{url}/review", data={"csrf_token": csrf_of((await clerk.get(url)).text)})
    assert refused.status_code == 409 and "没有待办的年度审验" in alert_of(refused.text)


async def test_a_lapsed_permit_offers_no_review_form(console: httpx.AsyncClient) -> None:
    page = await as_staff(console, Role.TRANSPORT_CLERK, "330302").get("/console/permits/3303022024000003")
    assert page.status_code == 200 and "已失效" in page.text
    assert "/review" not in page.text


async def test_the_review_needs_the_csrf_token_and_the_permits_district(
    console: httpx.AsyncClient, lifecycle: Lifecycle
) -> None:
    clerk = as_staff(console, Role.TRANSPORT_CLERK, "330302")
    forged = await clerk.post("/console/permits/3303022024000001/review", data={"csrf_token": "forged"})
    assert forged.status_code == 403
    other = as_staff(console, Role.TRANSPORT_CLERK, "330303")
    token = csrf_of((await other.get("/console/permits")).text)
    outside = await other.post("/console/permits/3303022024000001/review", data={"csrf_token": token})
    assert outside.status_code == 404
    assert lifecycle.records == []
