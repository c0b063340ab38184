"""A step of a bad rating's follow-up over HTTP (POST /v1/ratings/{id}/follow-up), the workflow faked:
who may take it (a clerk 403, a supervisor of another district 404), a body naming its bad field, and
the workflow's refusals (out of turn 409, an appeal's decision by a district 403) with API.md's body."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime
from types import SimpleNamespace
from typing import Any

import httpx
import pytest
from temporalio.client import WorkflowUpdateFailedError
from temporalio.exceptions import ApplicationError

from api.app import create_app
from api.auth import Principal, Role, issue_token
from store.follow_ups import FollowUpRow
from tests.support_settings import settings_for_tests
from workflows.rating_types import STEP_FORBIDDEN, WRONG_STEP, StepRecord

SETTINGS = settings_for_tests()
RATING_ID = "0b7f5a52-3c1e-4f43-9a53-2f1d4f0e8a10"
URL = f"/v1/ratings/{RATING_ID}/follow-up"
VIEW = {"rating_id": RATING_ID, "status": "awaiting_rectification", "warning": "none", "answer": None}
ROW = FollowUpRow(
    RATING_ID, "5f0c7a36-54a4-4bb2-9d0e-0f4c1c9a2c11", "330302", "awaiting_callback", "yellow", None,
    datetime(2026, 9, 30, 2, tzinfo=UTC), None, None, VIEW,
)  # fmt: skip


class Workflow:
    """The follow-up's handle: refuses with `refusals[step]`, else answers the view."""

    def __init__(self) -> None:
        self.records: list[StepRecord] = []
        self.refusals: dict[str, str] = {}

    def get_workflow_handle(self, workflow_id: str) -> Workflow:
        assert workflow_id == f"rating-follow-up-{RATING_ID}"
        return self

    async def execute_update(self, update: Any, record: StepRecord, rpc_timeout: Any = None) -> dict[str, Any]:
        if record.step in self.refusals:
            raise WorkflowUpdateFailedError(ApplicationError("refused", type=self.refusals[record.step]))
        self.records.append(record)
        return VIEW


class FakeStore:
    def __init__(self) -> None:
        self.audited: list[dict[str, Any]] = []
        self.follow_ups = SimpleNamespace(get=self._get)
        self.audit = SimpleNamespace(record=self._record)

    async def _get(self, rating_id: str) -> FollowUpRow | None:
        return ROW if rating_id == RATING_ID else None

    async def _record(self, **entry: Any) -> None:
        self.audited.append(entry)


@pytest.fixture
def world() -> tuple[FakeStore, Workflow]:
    return FakeStore(), Workflow()


@pytest.fixture
async def api(world: tuple[FakeStore, Workflow]) -> AsyncIterator[httpx.AsyncClient]:
    store, workflow = world
    app = create_app(SETTINGS)
    app.state.resources = SimpleNamespace(settings=SETTINGS, store=store, client=workflow)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app), base_url="http://api") as http:
        yield http


def bearer(role: Role, district: str = "330302") -> dict[str, str]:
    return {"Authorization": f"Bearer {issue_token(SETTINGS, Principal(f'{role}-1', role, district))}"}


async def test_the_districts_supervisor_records_the_callback(
    api: httpx.AsyncClient, world: tuple[FakeStore, Workflow]
) -> None:
    response = await api.post(URL, json={"step": "callback", "note": "已电话回访"}, headers=bearer(Role.SUPERVISOR))
    assert response.status_code == 200, response.text
    assert response.json()["status"] == "awaiting_rectification"
    [record] = world[1].records
    assert (record.step, record.actor, record.actor_district) == ("callback", "supervisor-1", "330302")


@pytest.mark.parametrize(
    ("headers", "body", "status", "error"),
    [
        (bearer(Role.TRANSPORT_CLERK), {"step": "callback", "note": "x"}, 403, "forbidden"),
        (bearer(Role.SUPERVISOR, "330303"), {"step": "callback", "note": "x"}, 404, "not_found"),
        (bearer(Role.SUPERVISOR), {"step": "skip", "note": "x"}, 422, "validation_failed"),
        (bearer(Role.SUPERVISOR), {"step": "callback"}, 422, "validation_failed"),
    ],
)
async def test_who_may_take_a_step_and_what_it_needs(
    api: httpx.AsyncClient,
    world: tuple[FakeStore, Workflow],
    headers: dict[str, str],
    body: dict[str, str],
    status: int,
    error: str,
) -> None:
    response = await api.post(URL, json=body, headers=headers)
    assert response.status_code == status, response.text
    assert response.json()["error"] == error
    assert world[1].records == []


async def test_a_step_of_no_such_rating_is_404(api: httpx.AsyncClient) -> None:
    other = "1b7f5a52-3c1e-4f43-9a53-2f1d4f0e8a10"
    response = await api.post(
        f"/v1/ratings/{other}/follow-up", json={"step": "callback", "note": "x"}, headers=bearer(Role.SUPERVISOR)
    )
    assert response.status_code == 404


async def test_the_workflows_refusals_with_the_error_body(
    api: httpx.AsyncClient, world: tuple[FakeStore, Workflow]
) -> None:
    store, workflow = world
    workflow.refusals = {"rectification": WRONG_STEP, "appeal_voided": STEP_FORBIDDEN}
    late = await api.post(URL, json={"step": "rectification", "note": "已整改"}, headers=bearer(Role.SUPERVISOR))
    assert late.status_code == 409
    assert late.json() == {"error": "not_awaiting_this_step", "detail": "the follow-up is not awaiting this step"}
    decided = await api.post(URL, json={"step": "appeal_voided", "note": "恶意差评"}, headers=bearer(Role.SUPERVISOR))
    assert decided.status_code == 403 and decided.json()["error"] == "forbidden"
    outcomes = [(e["action"], e["outcome"]) for e in store.audited]
    assert outcomes == [
        ("rating_follow_up.rectification", "refused:not_awaiting_this_step"),
        ("rating_follow_up.appeal_voided", "refused:forbidden"),
    ]
