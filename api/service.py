"""Application use cases shared by the routes: start, view, and act on workflows."""

from __future__ import annotations

import asyncio
import dataclasses
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import structlog
from temporalio.client import WorkflowUpdateFailedError, WorkflowUpdateRPCTimeoutOrCancelledError
from temporalio.common import WorkflowIDConflictPolicy
from temporalio.exceptions import ApplicationError
from temporalio.service import RPCError, RPCStatusCode

from api.auth import Principal, Role
from api.deps import Resources, application_for
from api.errors import ApiError, field_error, not_found
from api.schemas import ApplicationIn, DecisionIn
from domain import errors
from domain.districts import CITY_CODE, DISTRICTS, covers
from domain.views import mask_view
from store.repository import ApplicationInProgress, ApplicationRow, IdempotencyKeyReused, canonical_sha256
from workers.temporal import workflow_id
from workflows.permit_application import PermitApplicationWorkflow
from workflows.types import Applicant, Decision, Delivery, PermitApplicationInput, Timing, Vehicle

log = structlog.get_logger(__name__)

QUERY_TIMEOUT = timedelta(seconds=5)

UPDATE_REFUSALS = {
    errors.NOT_AWAITING_THIS_STEP: (409, "the application is not awaiting this step"),
    errors.ALREADY_CLOSED: (409, "the application is closed"),
    errors.CANNOT_WITHDRAW: (409, "the permit has been issued; the application can no longer be withdrawn"),
    "invalid_outcome": (422, "this outcome is not possible at this step"),
}


def _initial_view(wf_input: PermitApplicationInput) -> dict[str, Any]:
    return {
        "application_id": wf_input.application_id,
        "status": "submitted",
        "step": None,
        "district": wf_input.district,
        "channel": wf_input.channel,
        "submitted_at": wf_input.submitted_at,
        "accepted_on": None,
        "vehicle": {"plate": wf_input.vehicle.plate, "vin": wf_input.vehicle.vin},
        "applicant": {
            "name": wf_input.applicant.name,
            "id_number": wf_input.applicant.id_number,
            "phone": wf_input.applicant.phone,
        },
        "delivery": {"method": wf_input.delivery.method, "tracking_number": None},
        "materials": [{"kind": kind, "material_id": mid} for kind, mid in sorted(wf_input.materials.items())],
        "deadlines": {},
        "findings": [],
        "pending": [{"action": "collect_shared_data", "actor": "system"}],
        "documents": [],
        "timeline": [{"at": wf_input.submitted_at, "event": "submitted", "actor": "applicant"}],
        "permit": None,
    }


async def check_materials(
    resources: Resources, principal: Principal, materials: dict[str, str], loc: list[str]
) -> None:
    """Each material exists, belongs to the applicant and is of the kind it is given as."""
    for kind, material_id in materials.items():
        material = await resources.store.get_material(material_id)
        if material is None or material.owner_sub != principal.sub:
            raise field_error([*loc, kind], "no such material of yours; upload it with POST /v1/materials")
        if material.kind != kind:
            raise field_error([*loc, kind], f"this material was uploaded as {material.kind}")


async def submit(
    resources: Resources, principal: Principal, body: ApplicationIn, idempotency_key: str | None, timing: Timing
) -> tuple[dict[str, Any], bool]:
    """Reserve the vehicle, start the workflow; the same Idempotency-Key gives the same application."""
    applicant = await resources.store.get_applicant(principal.sub)
    if applicant is None:
        raise ApiError(403, "identity_not_verified", "sign in with the electronic ID (POST /v1/auth/eid) first")
    await check_materials(resources, principal, body.materials.model_dump(), ["body", "materials"])
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
        reservation = await resources.store.reserve_application(
            application_id=application_id,
            workflow_id=workflow_id(application_id),
            applicant_sub=principal.sub,
            district=body.district,
            channel=body.channel.value,
            vin=body.vehicle.vin,
            plate=body.vehicle.plate,
            submitted_at=submitted_at,
            view=mask_view(_initial_view(wf_input)),
            start_input=dataclasses.asdict(wf_input),
            idempotency_key=idempotency_key,
            request_sha256=canonical_sha256(body.model_dump(mode="json")),
        )
    except ApplicationInProgress:
        unstarted = await resources.store.open_application_for_vin(body.vehicle.vin)
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


async def _ensure_started(resources: Resources, row: ApplicationRow) -> None:
    """Start the workflow (or find it running), then forget the start input's personal data.

    When the start fails the row stays, holding the vehicle: the start may have gone through
    unseen. The applicant's next submission for the vehicle (with or without the same
    Idempotency-Key) starts it or finds it, never a second one.
    """
    try:
        await resources.client.start_workflow(
            PermitApplicationWorkflow.run,
            row.start_input,
            id=row.workflow_id,
            task_queue=resources.settings.task_queue,
            id_conflict_policy=WorkflowIDConflictPolicy.USE_EXISTING,
            static_summary=f"Permit application {row.application_id} · district {row.district}",
            static_details=(
                f"**Application:** {row.application_id}\n\n**District:** {row.district}\n\n"
                f"**Channel:** {row.start_input.get('channel', '') if row.start_input else ''}"
            ),
        )
    except RPCError as err:
        log.error("application.start_failed", application_id=row.application_id, code=str(err.status))
        raise ApiError(503, "temporal_unavailable", "the application could not be started; try again") from None
    await resources.store.mark_started(row.application_id)
    log.info("application.started", application_id=row.application_id)


async def current_view(resources: Resources, row: ApplicationRow) -> dict[str, Any]:
    """The read model: the view the workflow projects at every change, masked.

    Reading it costs one indexed row, not a query through Temporal to a worker (which made
    polling applicants the largest load in `make bench`); decisions and other updates
    answer with the workflow's own view, so whoever acts sees the result at once.
    """
    return row.view


async def act(resources: Resources, row: ApplicationRow, update: Any, arg: Any = None) -> dict[str, Any]:
    """Run a workflow update; refusals by its validator become 409/422 without touching history."""
    handle = resources.client.get_workflow_handle(row.workflow_id)
    args = [] if arg is None else [arg]
    try:
        view = await asyncio.wait_for(
            handle.execute_update(update, *args, rpc_timeout=_timeout(resources)), _timeout(resources).total_seconds()
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


async def act_audited(
    resources: Resources,
    principal: Principal,
    row: ApplicationRow,
    action: str,
    update: Any,
    arg: Any = None,
    *,
    source_ip: str | None,
) -> dict[str, Any]:
    """`act`, with the outcome (done or refused, and why) in the audit trail."""
    try:
        view = await act(resources, row, update, arg)
    except ApiError as err:
        await audit(resources, principal, action, row.application_id, f"refused:{err.error}", source_ip=source_ip)
        raise
    await audit(resources, principal, action, row.application_id, "ok", source_ip=source_ip)
    return view


async def decide(
    resources: Resources, principal: Principal, row: ApplicationRow, body: DecisionIn, source_ip: str | None
) -> dict[str, Any]:
    """A transport clerk's decision at the step the application waits for, audited."""
    decision = Decision(
        step=body.step.value,
        outcome=body.outcome.value,
        actor="transport_clerk",
        reason=body.reason,
        items=list(getattr(body, "items", [])),
        request_id=structlog.contextvars.get_contextvars().get("request_id", ""),
    )
    action = f"decision.{body.step.value}.{body.outcome.value}"
    return await act_audited(
        resources, principal, row, action, PermitApplicationWorkflow.decide, decision, source_ip=source_ip
    )


async def audit(
    resources: Resources,
    principal: Principal,
    action: str,
    target: str | None,
    outcome: str,
    *,
    source_ip: str | None,
    **detail: str,
) -> None:
    await resources.store.audit(
        detail=detail,
        actor=principal.sub,
        role=principal.role.value,
        district=principal.district,
        action=action,
        target=target,
        outcome=outcome,
        source_ip=source_ip,
    )


def inbox_scope(principal: Principal, district: str | None) -> dict[str, Any]:
    """Whose applications a principal lists: an applicant their own; staff their district's (the city: all)."""
    if principal.role == Role.APPLICANT:
        return {"applicant_sub": principal.sub, "districts": [district] if district else None}
    assert principal.district is not None
    visible = [d for d in DISTRICTS if covers(principal.district, d)]
    if district is not None and district != CITY_CODE:
        visible = [d for d in visible if d == district]
    return {"districts": visible}


async def document_for(resources: Resources, principal: Principal, document_id: str) -> Any:
    """A document of an application this principal may see; 404 otherwise."""
    document = await resources.store.get_document(document_id)
    if document is None:
        raise not_found("document")
    await application_for(resources, principal, document.application_id)
    return document


async def material_of(resources: Resources, view: dict[str, Any], material_id: str) -> tuple[str, bytes]:
    """A scan the application was submitted (or supplemented) with; 404 for any other material."""
    if material_id not in {m["material_id"] for m in view.get("materials", [])}:
        raise not_found("material")
    found = await resources.store.get_material_content(material_id)
    if found is None:
        raise not_found("material")
    return found


def _timeout(resources: Resources) -> timedelta:
    return timedelta(seconds=resources.settings.update_timeout_s)


REVEALABLE = {
    "name": ("applicant", "name"),
    "id_number": ("applicant", "id_number"),
    "phone": ("applicant", "phone"),
    "plate": ("vehicle", "plate"),
    "vin": ("vehicle", "vin"),
}


async def reveal(resources: Resources, row: ApplicationRow, field: str) -> str:
    """The full value, from the running workflow (the store keeps only masked views)."""
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
