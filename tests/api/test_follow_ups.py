"""The follow-ups' service without a stack: opening one (idempotent, its first view projected at once),
reading it, and a step's refusals as 403/404/409/422 in the audit trail, before and by the workflow."""

from __future__ import annotations

from datetime import UTC, datetime
from types import SimpleNamespace
from typing import Any

import pytest
from temporalio.client import WorkflowUpdateFailedError
from temporalio.common import WorkflowIDConflictPolicy, WorkflowIDReusePolicy
from temporalio.exceptions import ApplicationError, WorkflowAlreadyStartedError
from temporalio.service import RPCError, RPCStatusCode

from api.auth import Principal, Role
from api.errors import ApiError
from api.services import follow_ups
from store.follow_ups import FollowUpRow
from tests.support_settings import settings_for_tests
from workflows.rating_follow_up import RatingFollowUpWorkflow
from workflows.rating_types import NOT_ITS_DISTRICT, NOTE_REQUIRED, STEP_FORBIDDEN, WRONG_STEP, StepRecord

RATING_ID = "0b7f5a52-3c1e-4f43-9a53-2f1d4f0e8a10"
APP_ID = "5f0c7a36-54a4-4bb2-9d0e-0f4c1c9a2c11"
SUPERVISOR = Principal("sup-1", Role.SUPERVISOR, "330302")
VIEW = {
    "rating_id": RATING_ID,
    "status": "awaiting_rectification",
    "callback_due_on": "2026-10-09",
    "rectification_due_on": "2026-10-28",
    "answer": None,
    "appealed": False,
    "voided": False,
    "warning": "none",
    "callback": {"note": "已回访", "at": "2026-10-09T09:00:00+08:00", "by": "sup-1", "late": False},
    "timeline": [],
}
ROW = FollowUpRow(
    RATING_ID, APP_ID, "330302", "awaiting_rectification", "none", None, datetime(2026, 9, 30, 2, tzinfo=UTC),
    None, None, VIEW,
)  # fmt: skip


class FakeHandle:
    def __init__(self, failure: BaseException | None = None) -> None:
        self.failure = failure
        self.updates: list[tuple[Any, StepRecord]] = []

    async def execute_update(self, update: Any, record: StepRecord, rpc_timeout: Any = None) -> dict[str, Any]:
        self.updates.append((update, record))
        if self.failure is not None:
            raise self.failure
        return VIEW


class FakeClient:
    def __init__(self, handle: FakeHandle, start_failure: BaseException | None = None) -> None:
        self.handle, self.start_failure = handle, start_failure
        self.handles: list[str] = []
        self.starts: list[tuple[tuple[Any, ...], dict[str, Any]]] = []

    def get_workflow_handle(self, workflow_id: str) -> FakeHandle:
        self.handles.append(workflow_id)
        return self.handle

    async def start_workflow(self, *args: Any, **kwargs: Any) -> None:
        self.starts.append((args, kwargs))
        if self.start_failure is not None:
            raise self.start_failure


class FakeStore:
    def __init__(self) -> None:
        self.audited: list[dict[str, Any]] = []
        self.projected: list[tuple[int, dict[str, Any]]] = []
        self.follow_ups = SimpleNamespace(get=self._get, project=self._project)
        self.audit = SimpleNamespace(record=self._record)

    async def _get(self, rating_id: str) -> FollowUpRow | None:
        return ROW if rating_id == RATING_ID else None

    async def _project(self, version: int, view: dict[str, Any]) -> bool:
        self.projected.append((version, view))
        return True

    async def _record(self, **entry: Any) -> None:
        self.audited.append(entry)


def resources(failure: BaseException | None = None, start_failure: BaseException | None = None) -> Any:
    client = FakeClient(FakeHandle(failure), start_failure)
    return SimpleNamespace(settings=settings_for_tests(), store=FakeStore(), client=client)


def refusal(error: str) -> WorkflowUpdateFailedError:
    return WorkflowUpdateFailedError(ApplicationError("refused", type=error, non_retryable=True))


async def test_a_supervisor_of_the_district_records_a_step_through_the_workflow() -> None:
    res = resources()
    view = await follow_ups.record_step(
        res, SUPERVISOR, RATING_ID, "rectification", "已整改并答复", source_ip="10.0.0.1"
    )
    assert view == VIEW
    assert res.client.handles == [f"rating-follow-up-{RATING_ID}"]
    update, record = res.client.handle.updates[0]
    assert update == RatingFollowUpWorkflow.record_step
    assert (record.step, record.note, record.actor, record.role, record.actor_district) == (
        "rectification", "已整改并答复", "sup-1", "supervisor", "330302",
    )  # fmt: skip
    assert res.store.audited == []  # the workflow audits the step it records


@pytest.mark.parametrize(
    ("principal", "rating_id", "step", "note", "status", "named"),
    [
        (SUPERVISOR, "no-such-rating", "callback", "x", 404, None),
        (Principal("sup-2", Role.SUPERVISOR, "330303"), RATING_ID, "callback", "x", 404, None),
        (Principal("clerk-1", Role.TRANSPORT_CLERK, "330302"), RATING_ID, "callback", "x", 403, None),
        (SUPERVISOR, RATING_ID, "skip", "x", 422, "step"),
        (SUPERVISOR, RATING_ID, "callback", "   ", 422, "note"),
    ],
)
async def test_refused_before_the_workflow(
    principal: Principal, rating_id: str, step: str, note: str, status: int, named: str | None
) -> None:
    res = resources()
    with pytest.raises(ApiError) as refused:
        await follow_ups.record_step(res, principal, rating_id, step, note)
    assert refused.value.status == status
    if named:
        assert refused.value.extra["fields"][0]["loc"] == ["body", named]
    assert res.client.handle.updates == []
    if status in (403, 422):
        assert res.store.audited[0]["outcome"] == f"refused:{refused.value.error}"
        assert res.store.audited[0]["target"] == RATING_ID


@pytest.mark.parametrize(
    ("failure", "status", "error"),
    [
        (refusal(WRONG_STEP), 409, "not_awaiting_this_step"),
        (refusal(NOT_ITS_DISTRICT), 404, "not_found"),
        (refusal(STEP_FORBIDDEN), 403, "forbidden"),
        (refusal(NOTE_REQUIRED), 422, "validation_failed"),
        (RPCError("gone", RPCStatusCode.NOT_FOUND, b""), 409, "not_awaiting_this_step"),
        (RPCError("down", RPCStatusCode.UNAVAILABLE, b""), 503, "temporal_unavailable"),
        (refusal("ActivityError"), 503, "step_failed"),  # voiding the rating failed: nothing changed
    ],
)
async def test_the_workflows_refusals_become_the_apis_and_are_audited(
    failure: BaseException, status: int, error: str
) -> None:
    res = resources(failure)
    with pytest.raises(ApiError) as refused:
        await follow_ups.record_step(res, SUPERVISOR, RATING_ID, "appeal_voided", "恶意差评")
    assert (refused.value.status, refused.value.error) == (status, error)
    [entry] = res.store.audited
    assert (entry["action"], entry["outcome"], entry["actor"]) == (
        "rating_follow_up.appeal_voided", f"refused:{error}", "sup-1",
    )  # fmt: skip


async def test_opening_starts_one_workflow_per_rating_and_projects_its_first_view() -> None:
    res = resources()
    rated_at = datetime(2026, 9, 30, 2, tzinfo=UTC)
    await follow_ups.open_follow_up(
        res, rating_id=RATING_ID, application_id=APP_ID, district="330302", rated_at=rated_at
    )
    (args, kwargs) = res.client.starts[0]
    assert args[0] == RatingFollowUpWorkflow.run
    assert (args[1].rating_id, args[1].district, args[1].rated_at) == (RATING_ID, "330302", rated_at.isoformat())
    assert kwargs["id"] == f"rating-follow-up-{RATING_ID}"
    assert kwargs["id_reuse_policy"] == WorkflowIDReusePolicy.REJECT_DUPLICATE
    assert kwargs["id_conflict_policy"] == WorkflowIDConflictPolicy.USE_EXISTING
    [(version, view)] = res.store.projected
    assert (version, view["status"], view["rating_id"], view["warning"]) == (0, "awaiting_callback", RATING_ID, "none")


async def test_opening_one_already_ended_is_no_error_and_temporal_down_is_503() -> None:
    ended = resources(start_failure=WorkflowAlreadyStartedError("rating-follow-up-x", "RatingFollowUpWorkflow"))
    await follow_ups.open_follow_up(
        ended, rating_id=RATING_ID, application_id=APP_ID, district="330302", rated_at=datetime.now(UTC)
    )
    down = resources(start_failure=RPCError("down", RPCStatusCode.UNAVAILABLE, b""))
    with pytest.raises(ApiError) as refused:
        await follow_ups.open_follow_up(
            down, rating_id=RATING_ID, application_id=APP_ID, district="330302", rated_at=datetime.now(UTC)
        )
    assert refused.value.status == 503
    assert down.store.projected == []


async def test_the_view_read_from_the_projection_shows_the_contracts_keys_only() -> None:
    res = resources()
    assert await follow_ups.follow_up_view(res, "no-such-rating") is None
    view = await follow_ups.follow_up_view(res, RATING_ID)
    assert view == {key: VIEW[key] for key in follow_ups.VIEW_KEYS}
    assert "callback" not in view and "timeline" not in view  # who called back stays with the staff
