"""The follow-ups of bad ratings (差评): opened with the rating, stepped by supervisors, read from the
projection (store/follow_ups.py) without Temporal. The workflow is workflows/rating_follow_up.py."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from typing import Any

import structlog
from temporalio.client import WorkflowUpdateFailedError, WorkflowUpdateRPCTimeoutOrCancelledError
from temporalio.common import WorkflowIDConflictPolicy, WorkflowIDReusePolicy
from temporalio.exceptions import ApplicationError, WorkflowAlreadyStartedError
from temporalio.service import RPCError, RPCStatusCode

from api.auth import Principal, Role
from api.errors import ApiError, field_error, not_found
from api.resources import Resources
from api.services import audit
from api.services.inbox import visible_districts
from domain.districts import covers
from store.follow_ups import FollowUpRow
from workflows import rating_follow_up
from workflows.rating_follow_up import RatingFollowUpWorkflow
from workflows.rating_types import (
    NOT_ITS_DISTRICT,
    NOTE_REQUIRED,
    STEP_FORBIDDEN,
    WRONG_STEP,
    FollowUpInput,
    FollowUpState,
    FollowUpStep,
    FollowUpTiming,
    StepRecord,
    follow_up_workflow_id,
)

log = structlog.get_logger(__name__)

NOT_FOUND = "rating follow-up"
NOTE_MAX = 2000
REFUSALS = frozenset({NOT_ITS_DISTRICT, STEP_FORBIDDEN, NOTE_REQUIRED, WRONG_STEP})
VIEW_KEYS = ("status", "callback_due_on", "rectification_due_on", "answer", "appealed", "voided", "warning")


def _refusal(error: str) -> ApiError:
    """A refusal of the workflow's validator, as the API answers it."""
    if error == NOT_ITS_DISTRICT:
        return not_found(NOT_FOUND)
    if error == STEP_FORBIDDEN:
        return ApiError(403, "forbidden", "only a supervisor of its district takes this step (a city one decides)")
    if error == NOTE_REQUIRED:
        return field_error(["body", "note"], "a note is required")
    return ApiError(409, "not_awaiting_this_step", "the follow-up is not awaiting this step")


async def open_follow_up(
    resources: Resources,
    *,
    rating_id: str,
    application_id: str,
    district: str,
    rated_at: datetime,
    timing: FollowUpTiming | None = None,
) -> None:
    """Start the follow-up of a bad rating, or find it (running or ended): never a second one.

    Its first view is written at once (version 0), so that the rating reads its follow-up before
    the workflow has counted the deadlines; the workflow's own views overwrite it."""
    at = rated_at if rated_at.tzinfo else rated_at.replace(tzinfo=UTC)
    wf_input = FollowUpInput(rating_id, application_id, district, at.isoformat(), timing or FollowUpTiming())
    try:
        await resources.client.start_workflow(
            RatingFollowUpWorkflow.run,
            wf_input,
            id=follow_up_workflow_id(rating_id),
            task_queue=resources.settings.task_queue,
            id_reuse_policy=WorkflowIDReusePolicy.REJECT_DUPLICATE,
            id_conflict_policy=WorkflowIDConflictPolicy.USE_EXISTING,
            static_summary=f"差评 follow-up · rating {rating_id} · district {district}",
        )
    except WorkflowAlreadyStartedError:
        log.info("follow_up.already_ended", rating_id=rating_id)
    except RPCError as err:
        log.error("follow_up.start_failed", rating_id=rating_id, code=str(err.status))
        raise ApiError(503, "temporal_unavailable", "the follow-up could not be started; try again") from None
    else:
        log.info("follow_up.started", rating_id=rating_id, district=district)
    await resources.store.follow_ups.project(0, rating_follow_up.view(FollowUpState(wf_input)))


async def follow_up_view(resources: Resources, rating_id: str) -> dict[str, Any] | None:
    """What the rating shows of its follow-up (its applicant and the district's staff alike); None if none."""
    row = await resources.store.follow_ups.get(rating_id)
    return None if row is None else {key: row.view.get(key) for key in VIEW_KEYS}


async def record_step(
    resources: Resources,
    principal: Principal,
    rating_id: str,
    step: str,
    note: str,
    *,
    source_ip: str | None = None,
) -> dict[str, Any]:
    """A supervisor's step (callback | rectification | appeal; a city supervisor's appeal_upheld |
    appeal_voided): the follow-up's view once recorded. Refused: 404 outside the principal's districts,
    403 for others than supervisors, 422 naming `step` or `note`, 409 out of turn; refusals audited."""
    row = await resources.store.follow_ups.get(rating_id)
    if row is None or principal.district is None or not covers(principal.district, row.district):
        raise not_found(NOT_FOUND)
    action = f"rating_follow_up.{step}" if step in set(FollowUpStep) else "rating_follow_up.step"
    try:
        view = await _step(resources, principal, row, step, note)
    except ApiError as err:
        await audit.record(resources, principal, action, rating_id, f"refused:{err.error}", source_ip=source_ip)
        raise
    return view  # the workflow audits the step itself


async def _step(resources: Resources, principal: Principal, row: FollowUpRow, step: str, note: str) -> dict[str, Any]:
    if principal.role is not Role.SUPERVISOR:
        raise _refusal(STEP_FORBIDDEN)
    if step not in set(FollowUpStep):
        raise field_error(["body", "step"], f"one of {', '.join(FollowUpStep)}")
    if not note.strip() or len(note) > NOTE_MAX:
        raise field_error(["body", "note"], f"a note of 1 to {NOTE_MAX} characters is required")
    assert principal.district is not None  # covers() above
    request_id = structlog.contextvars.get_contextvars().get("request_id", "")
    record = StepRecord(step, note, principal.sub, principal.role.value, principal.district, request_id)
    handle = resources.client.get_workflow_handle(follow_up_workflow_id(row.rating_id))
    timeout = timedelta(seconds=resources.settings.update_timeout_s)
    try:
        view: dict[str, Any] = await asyncio.wait_for(
            handle.execute_update(RatingFollowUpWorkflow.record_step, record, rpc_timeout=timeout),
            timeout.total_seconds(),
        )
    except (TimeoutError, WorkflowUpdateRPCTimeoutOrCancelledError):
        raise ApiError(503, "still_processing", "taken, but still being recorded; read it again shortly") from None
    except WorkflowUpdateFailedError as err:
        cause = err.cause
        if isinstance(cause, ApplicationError) and cause.type in REFUSALS:
            raise _refusal(cause.type) from None
        log.error("follow_up.step_failed", rating_id=row.rating_id, step=step, error=type(cause).__name__)
        raise ApiError(503, "step_failed", "the step could not be recorded; try again") from None
    except RPCError as err:
        if err.status == RPCStatusCode.NOT_FOUND:  # the follow-up has ended (answered or voided)
            raise _refusal(WRONG_STEP) from None
        raise ApiError(503, "temporal_unavailable", "the workflow service is unavailable; try again") from None
    return view


async def open_follow_ups(resources: Resources, principal: Principal, *, limit: int) -> tuple[list[FollowUpRow], int]:
    """The open follow-ups of the districts `principal` covers, red first, then yellow; with their total."""
    return await resources.store.follow_ups.list_open(visible_districts(principal, None), limit=limit)
