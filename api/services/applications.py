"""Applications: submit, read, and act on their workflows (every act audited)."""

from __future__ import annotations

import asyncio
import dataclasses
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import structlog
from temporalio.client import WorkflowUpdateFailedError, WorkflowUpdateRPCTimeoutOrCancelledError
from temporalio.common import WorkflowIDConflictPolicy, WorkflowIDReusePolicy
from temporalio.exceptions import ApplicationError, WorkflowAlreadyStartedError
from temporalio.service import RPCError, RPCStatusCode

from api.auth import Principal, Role
from api.errors import ApiError, not_found
from api.resources import Resources
from api.schemas import ApplicationIn, DecisionIn, IncidentResolutionIn
from api.services import audit, materials
from domain import errors
from domain.districts import covers
from domain.documents import canonical_sha256
from domain.statuses import Actor
from domain.views import mask_view
from store.applications import ApplicationInProgress, ApplicationRow, IdempotencyKeyReused
from workers.temporal import workflow_id
from workflows.permit_application import PermitApplicationWorkflow
from workflows.state import note
from workflows.state import view as view_of_state
from workflows.types import (
    Applicant,
    ApplicationState,
    Decision,
    Delivery,
    IncidentResolution,
    OriginalsShipment,
    PermitApplicationInput,
    Supplements,
    Timing,
    Vehicle,
    Withdrawal,
)

log = structlog.get_logger(__name__)

QUERY_TIMEOUT = timedelta(seconds=5)

UPDATE_REFUSALS = {
    errors.NOT_AWAITING_THIS_STEP: (409, "the application is not awaiting this step"),
    errors.ALREADY_CLOSED: (409, "the application is closed"),
    errors.CANNOT_WITHDRAW: (409, "the permit has been issued; the application can no longer be withdrawn"),
    errors.INVALID_OUTCOME: (422, "this outcome is not possible at this step"),
    errors.INCIDENT_NOT_OPEN: (409, "this incident is not open (resolved already, or another one is)"),
    errors.RESOLUTION_NOT_POSSIBLE: (409, "only a notification can be skipped; retry or close this step"),
}

REVEALABLE = {
    "name": ("applicant", "name"),
    "id_number": ("applicant", "id_number"),
    "phone": ("applicant", "phone"),
    "plate": ("vehicle", "plate"),
    "vin": ("vehicle", "vin"),
}


def may_see(principal: Principal, row: ApplicationRow) -> bool:
    if principal.role == Role.APPLICANT:
        return row.applicant_sub == principal.sub
    return principal.district is not None and covers(principal.district, row.district)


async def application_for(resources: Resources, principal: Principal, application_id: str) -> ApplicationRow:
    """The application if this principal may see it; 404 whether it is missing or someone else's."""
    row = await resources.store.applications.get(application_id)
    if row is None or not may_see(principal, row):
        raise not_found()
    return row


async def current_view(resources: Resources, row: ApplicationRow) -> dict[str, Any]:
    """The read model: the view the workflow projects at every change, masked.

    Reading it costs one indexed row, not a query through Temporal to a worker (which made
    polling applicants the largest load in `make bench`); decisions and other updates
    answer with the workflow's own view, so whoever acts sees the result at once. An issued
    permit's state comes from the register its lifecycle keeps (one more indexed row).
    """
    view = row.view
    permit = view.get("permit")
    if permit and permit.get("number"):
        registered = await resources.store.permit_register.get(permit["number"])
        view = {**view, "permit": {**permit, "state": registered.state if registered else None}}
    return view


async def submit(
    resources: Resources,
    principal: Principal,
    body: ApplicationIn,
    idempotency_key: str | None,
    timing: Timing,
    *,
    source_ip: str | None,
) -> tuple[dict[str, Any], bool]:
    """Reserve the vehicle, start the workflow; the same Idempotency-Key gives the same application."""
    view, created = await _submit(resources, principal, body, idempotency_key, timing)
    outcome = "created" if created else "replayed"
    await audit.record(resources, principal, "application.submit", view["application_id"], outcome, source_ip=source_ip)
    return view, created


async def _submit(
    resources: Resources, principal: Principal, body: ApplicationIn, idempotency_key: str | None, timing: Timing
) -> tuple[dict[str, Any], bool]:
    applicant = await resources.store.applicants.get(principal.sub)
    if applicant is None:
        raise ApiError(403, "identity_not_verified", "sign in with the electronic ID (POST /v1/auth/eid) first")
    await materials.check_owned(resources, principal, body.materials.model_dump(), ["body", "materials"])
    application_id = str(uuid.uuid4())
    submitted_at = datetime.now(UTC)
    wf_input = PermitApplicationInput(
        application_id=application_id,
        applicant=Applicant(principal.sub, applicant["name"], applicant["id_number"], applicant["phone"]),
        vehicle=Vehicle(body.vehicle.plate, body.vehicle.vin),
        district=body.district,
        channel=body.channel.value,
        delivery=Delivery(
            method=body.delivery.method.value,
            recipient=body.delivery.recipient or "",
            phone=body.delivery.phone or "",
            address=body.delivery.address or "",
        ),
        materials=body.materials.model_dump(),
        submitted_at=submitted_at.isoformat(),
        timing=timing,
        request_id=structlog.contextvars.get_contextvars().get("request_id", ""),
    )
    try:
        reservation = await resources.store.applications.reserve(
            application_id=application_id,
            workflow_id=workflow_id(application_id),
            applicant_sub=principal.sub,
            district=body.district,
            channel=body.channel.value,
            vin=body.vehicle.vin,
            plate=body.vehicle.plate,
            submitted_at=submitted_at,
            view=mask_view(_initial_view(wf_input, submitted_at)),
            start_input=dataclasses.asdict(wf_input),
            idempotency_key=idempotency_key,
            request_sha256=canonical_sha256(body.model_dump(mode="json")),
        )
    except ApplicationInProgress:
        unstarted = await resources.store.applications.open_for_vin(body.vehicle.vin)
        if unstarted is None or unstarted.start_input is None or unstarted.applicant_sub != principal.sub:
            raise ApiError(
                409, "application_in_progress", "this vehicle already has an application in progress"
            ) from None
        await _ensure_started(resources, unstarted)  # an earlier submission whose start did not go through
        return unstarted.view, False
    except IdempotencyKeyReused:
        raise ApiError(
            422, "idempotency_key_reused", "this Idempotency-Key was used with a different request"
        ) from None
    row = reservation.row
    if row.start_input is not None:
        await _ensure_started(resources, row)
    return row.view, reservation.created


def _initial_view(wf_input: PermitApplicationInput, submitted_at: datetime) -> dict[str, Any]:
    """The view the workflow starts from, as the read model holds it until the first projection."""
    state = ApplicationState(input=wf_input, materials=dict(wf_input.materials))
    note(state, submitted_at, "submitted", Actor.APPLICANT, channel=wf_input.channel)
    return view_of_state(state)


async def _ensure_started(resources: Resources, row: ApplicationRow) -> None:
    """Start the workflow (or find it running, or ended), then forget the start input's personal data.

    When the start fails the row stays, holding the vehicle: the start may have gone through
    unseen. The applicant's next submission for the vehicle (with or without the same
    Idempotency-Key) starts it or finds it, never a second one: a running workflow is used
    as it is, and the id of one that has ended never starts again.
    """
    start_input = row.start_input or {}
    try:
        await resources.client.start_workflow(  # type: ignore[misc]  # the input is kept as JSON in the row
            PermitApplicationWorkflow.run,
            start_input,
            id=row.workflow_id,
            task_queue=resources.settings.task_queue,
            id_reuse_policy=WorkflowIDReusePolicy.REJECT_DUPLICATE,
            id_conflict_policy=WorkflowIDConflictPolicy.USE_EXISTING,
            static_summary=f"Permit application {row.application_id} · district {row.district}",
            static_details=(
                f"**Application:** {row.application_id}\n\n**District:** {row.district}\n\n"
                f"**Channel:** {start_input.get('channel', '')}"
            ),
        )
    except WorkflowAlreadyStartedError:
        log.info("application.already_ended", application_id=row.application_id)  # started unseen, and ended since
    except RPCError as err:
        log.error("application.start_failed", application_id=row.application_id, code=str(err.status))
        raise ApiError(503, "temporal_unavailable", "the application could not be started; try again") from None
    else:
        log.info("application.started", application_id=row.application_id)
    await resources.store.applications.mark_started(row.application_id)


async def withdraw(
    resources: Resources, principal: Principal, row: ApplicationRow, reason: str, *, source_ip: str | None
) -> dict[str, Any]:
    """Withdraw before the permit is issued; a changed usage nature is reverted."""
    update, arg = PermitApplicationWorkflow.withdraw, Withdrawal(reason)
    return await _act(resources, principal, row, "application.withdraw", update, arg, source_ip=source_ip)


async def submit_supplements(
    resources: Resources,
    principal: Principal,
    row: ApplicationRow,
    supplied: dict[str, str],
    note: str,
    *,
    source_ip: str | None,
) -> dict[str, Any]:
    """Hand in what the clerk asked for, each material the applicant's own and of its kind."""
    await materials.check_owned(resources, principal, supplied, ["body", "materials"])
    update, arg = PermitApplicationWorkflow.submit_supplements, Supplements(supplied, note)
    return await _act(resources, principal, row, "application.supplements", update, arg, source_ip=source_ip)


async def report_originals_shipment(
    resources: Resources, principal: Principal, row: ApplicationRow, tracking_number: str, *, source_ip: str | None
) -> dict[str, Any]:
    update, arg = PermitApplicationWorkflow.report_originals_shipment, OriginalsShipment(tracking_number)
    return await _act(resources, principal, row, "application.originals_shipment", update, arg, source_ip=source_ip)


async def check_insurance(
    resources: Resources, principal: Principal, row: ApplicationRow, *, source_ip: str | None
) -> dict[str, Any]:
    """The applicant says they have insured: the insurance platform is queried now."""
    update = PermitApplicationWorkflow.check_insurance
    return await _act(resources, principal, row, "application.insurance_check", update, None, source_ip=source_ip)


async def decide(
    resources: Resources, principal: Principal, row: ApplicationRow, body: DecisionIn, source_ip: str | None
) -> dict[str, Any]:
    """A transport clerk's decision at the step the application waits for: the workflow's new view, masked."""
    decision = Decision(
        step=body.step.value,
        outcome=body.outcome.value,
        actor="transport_clerk",
        reason=body.reason,
        items=list(getattr(body, "items", [])),
        request_id=structlog.contextvars.get_contextvars().get("request_id", ""),
    )
    action = f"decision.{body.step.value}.{body.outcome.value}"
    return await _act(
        resources, principal, row, action, PermitApplicationWorkflow.decide, decision, source_ip=source_ip
    )


async def resolve_incident(
    resources: Resources,
    principal: Principal,
    row: ApplicationRow,
    incident_id: str,
    body: IncidentResolutionIn,
    *,
    source_ip: str | None,
) -> dict[str, Any]:
    """A supervisor's resolution of the open incident: the view once it has taken effect, masked."""
    resolution = IncidentResolution(
        incident_id=incident_id,
        action=body.action.value,
        actor=Actor.SUPERVISOR.value,
        reason=body.reason,
        request_id=structlog.contextvars.get_contextvars().get("request_id", ""),
    )
    action = f"incident.{body.action.value}"
    update = PermitApplicationWorkflow.resolve_incident
    detail = {"incident_id": incident_id, "reason": body.reason}
    return await _act(resources, principal, row, action, update, resolution, source_ip=source_ip, **detail)


async def _act(
    resources: Resources,
    principal: Principal,
    row: ApplicationRow,
    action: str,
    update: Any,
    arg: Any,
    *,
    source_ip: str | None,
    **detail: Any,
) -> dict[str, Any]:
    """Run a workflow update, with its outcome (done, or refused and why) in the audit trail."""
    target = row.application_id
    try:
        view = await _update(resources, row, update, arg)
    except ApiError as err:
        await audit.record(resources, principal, action, target, f"refused:{err.error}", source_ip=source_ip, **detail)
        raise
    await audit.record(resources, principal, action, target, "ok", source_ip=source_ip, **detail)
    return view


async def _update(resources: Resources, row: ApplicationRow, update: Any, arg: Any) -> dict[str, Any]:
    """The update's answer, masked; refusals by its validator become 409/422 without touching history."""
    handle = resources.client.get_workflow_handle(row.workflow_id)
    args = [] if arg is None else [arg]
    timeout = timedelta(seconds=resources.settings.update_timeout_s)
    try:
        view = await asyncio.wait_for(
            handle.execute_update(update, *args, rpc_timeout=timeout), timeout.total_seconds()
        )
    except (TimeoutError, WorkflowUpdateRPCTimeoutOrCancelledError):
        raise ApiError(
            503, "still_processing", "taken, but the application is still processing it; read it again shortly"
        ) from None
    except WorkflowUpdateFailedError as err:
        cause = err.cause
        if isinstance(cause, ApplicationError) and cause.type in UPDATE_REFUSALS:
            status, detail = UPDATE_REFUSALS[cause.type]
            raise ApiError(status, cause.type, detail) from None
        raise
    except RPCError as err:
        if err.status == RPCStatusCode.NOT_FOUND:
            raise ApiError(409, errors.ALREADY_CLOSED, "the application is closed") from None
        raise ApiError(503, "temporal_unavailable", "the workflow service is unavailable; try again") from None
    return mask_view(view)


async def reveal(
    resources: Resources,
    principal: Principal,
    row: ApplicationRow,
    field: str,
    reason: str,
    *,
    source_ip: str | None,
) -> str:
    """One personal field in full, from the running workflow (the store keeps only masked views); audited."""
    action = f"reveal.{field}"
    try:
        value = await _revealed(resources, row, field)
    except ApiError as err:
        await audit.record(
            resources, principal, action, row.application_id, f"refused:{err.error}", source_ip=source_ip, reason=reason
        )
        raise
    await audit.record(resources, principal, action, row.application_id, "ok", source_ip=source_ip, reason=reason)
    return value


async def _revealed(resources: Resources, row: ApplicationRow, field: str) -> str:
    if not row.is_open:
        raise ApiError(409, "no_longer_held", "personal data of a closed application is no longer held in full")
    try:
        view = await resources.client.get_workflow_handle(row.workflow_id).query(
            PermitApplicationWorkflow.view, rpc_timeout=QUERY_TIMEOUT
        )
    except RPCError:
        raise ApiError(503, "temporal_unavailable", "the application cannot be read now; try again") from None
    section, key = REVEALABLE[field]
    return str(view[section][key])
