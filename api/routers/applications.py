from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Header, Path, Query, Request, Response

from api.auth import Principal, Role
from api.deps import PrincipalDep, ResourcesDep, SourceIpDep, rate_limited, require
from api.errors import documented
from api.schemas import (
    ApplicationIn,
    DecisionIn,
    IncidentResolutionIn,
    IsoDate,
    OriginalsShipmentIn,
    RevealIn,
    RevealOut,
    SupplementsIn,
    WithdrawalIn,
)
from api.services import applications, inbox
from api.views import ApplicationPage, ApplicationView
from domain.statuses import Channel, PendingAction, Status, WarningLevel
from domain.validators import WENZHOU_PLATE_PATTERN

router = APIRouter(
    prefix="/v1/applications", tags=["applications"], responses=documented(401, 403, 404, 409, 413, 422, 429, 503)
)

IdempotencyKey = Annotated[str | None, Header(alias="Idempotency-Key", min_length=1, max_length=128)]
APPLICANT = require(Role.APPLICANT)
VIEW: dict[str, Any] = {"response_model": ApplicationView, "response_model_exclude_unset": True}


@router.post("", status_code=201, dependencies=[rate_limited("submission", "rate_limit_submissions")], **VIEW)
async def create_application(
    body: ApplicationIn,
    resources: ResourcesDep,
    request: Request,
    response: Response,
    source_ip: SourceIpDep,
    idempotency_key: IdempotencyKey = None,
    principal: Principal = APPLICANT,
) -> dict[str, Any]:
    """Submit an application: one set of materials, one submission (五个一)."""
    timing = request.app.state.workflow_timing
    view, created = await applications.submit(resources, principal, body, idempotency_key, timing, source_ip=source_ip)
    response.headers["Location"] = f"/v1/applications/{view['application_id']}"
    if not created:
        response.status_code = 200
    return view


@router.get("", response_model=ApplicationPage, response_model_exclude_unset=True)
async def list_applications(
    resources: ResourcesDep,
    principal: PrincipalDep,
    status: Status | None = None,
    step: Annotated[PendingAction | None, Query(description="the pending action")] = None,
    channel: Channel | None = None,
    district: Annotated[str | None, Query(pattern=r"^\d{6}$")] = None,
    warning: WarningLevel | None = None,
    due: Annotated[inbox.Due, Query(description="which due date due_from/due_to filter")] = "decision",
    due_from: IsoDate | None = None,
    due_to: IsoDate | None = None,
    plate: Annotated[
        str | None, Query(pattern=WENZHOU_PLATE_PATTERN, description="the exact plate, e.g. 浙C12345")
    ] = None,
    sort: inbox.Sort = "submitted",
    page: Annotated[int, Query(ge=1, le=10_000)] = 1,
    page_size: Annotated[int, Query(ge=1, le=100)] = 20,
) -> dict[str, Any]:
    """An applicant's own applications, or the inbox of a clerk's district (from the projection, never Temporal)."""
    query = inbox.InboxQuery(
        status=status,
        step=step,
        channel=channel,
        warning_level=warning,
        due=due,
        due_from=due_from,
        due_to=due_to,
        plate=plate,
        sort=sort,
        page=page,
        page_size=page_size,
    )
    items, total = await inbox.list_applications(resources, principal, query, district=district)
    return {"items": items, "total": total, "page": page, "page_size": page_size}


@router.get("/{application_id}", **VIEW)
async def read_application(application_id: str, resources: ResourcesDep, principal: PrincipalDep) -> dict[str, Any]:
    """The application view, personal data masked."""
    row = await applications.application_for(resources, principal, application_id)
    return await applications.current_view(resources, row)


@router.post("/{application_id}/withdraw", **VIEW)
async def withdraw_application(
    application_id: str,
    resources: ResourcesDep,
    source_ip: SourceIpDep,
    body: WithdrawalIn | None = None,
    principal: Principal = APPLICANT,
) -> dict[str, Any]:
    """Withdraw before the permit is issued; a changed usage nature is reverted."""
    row = await applications.application_for(resources, principal, application_id)
    reason = body.reason if body else ""
    return await applications.withdraw(resources, principal, row, reason, source_ip=source_ip)


@router.post("/{application_id}/supplements", **VIEW)
async def submit_supplements(
    application_id: str,
    body: SupplementsIn,
    resources: ResourcesDep,
    source_ip: SourceIpDep,
    principal: Principal = APPLICANT,
) -> dict[str, Any]:
    """Hand in what the clerk asked for (一次性告知补正)."""
    row = await applications.application_for(resources, principal, application_id)
    supplied = {kind.value: material_id for kind, material_id in body.materials.items()}
    return await applications.submit_supplements(resources, principal, row, supplied, body.note, source_ip=source_ip)


@router.post("/{application_id}/originals-shipment", **VIEW)
async def report_originals_shipment(
    application_id: str,
    body: OriginalsShipmentIn,
    resources: ResourcesDep,
    source_ip: SourceIpDep,
    principal: Principal = APPLICANT,
) -> dict[str, Any]:
    """The applicant has mailed the original certificates."""
    row = await applications.application_for(resources, principal, application_id)
    return await applications.report_originals_shipment(
        resources, principal, row, body.tracking_number, source_ip=source_ip
    )


@router.post(
    "/{application_id}/insurance-check",
    dependencies=[rate_limited("insurance_check", "rate_limit_insurance_checks")],
    **VIEW,
)
async def request_insurance_check(
    application_id: str, resources: ResourcesDep, source_ip: SourceIpDep, principal: Principal = APPLICANT
) -> dict[str, Any]:
    """ "I have insured": query the insurance platform now."""
    row = await applications.application_for(resources, principal, application_id)
    return await applications.check_insurance(resources, principal, row, source_ip=source_ip)


@router.post("/{application_id}/decisions", **VIEW)
async def take_decision(
    application_id: str,
    body: DecisionIn,
    resources: ResourcesDep,
    source_ip: SourceIpDep,
    principal: Principal = require(Role.TRANSPORT_CLERK),
) -> dict[str, Any]:
    """A transport clerk's decision at the step the application waits for."""
    row = await applications.application_for(resources, principal, application_id)
    return await applications.decide(resources, principal, row, body, source_ip)


@router.post("/{application_id}/incidents/{incident_id}/resolution", **VIEW)
async def resolve_incident(
    application_id: str,
    incident_id: Annotated[str, Path(min_length=1, max_length=100, pattern=r"^[\w.:-]+$")],
    body: IncidentResolutionIn,
    resources: ResourcesDep,
    source_ip: SourceIpDep,
    principal: Principal = require(Role.SUPERVISOR),
) -> dict[str, Any]:
    """A supervisor of the application's district resolves its open incident: retry, skip or close."""
    row = await applications.application_for(resources, principal, application_id)
    return await applications.resolve_incident(resources, principal, row, incident_id, body, source_ip=source_ip)


@router.post("/{application_id}/reveal", response_model=RevealOut)
async def reveal_field(
    application_id: str,
    body: RevealIn,
    resources: ResourcesDep,
    source_ip: SourceIpDep,
    principal: Principal = require(Role.TRANSPORT_CLERK, Role.SUPERVISOR),
) -> RevealOut:
    """One personal field in full, for a clerk who says why; every such request is audited."""
    row = await applications.application_for(resources, principal, application_id)
    value = await applications.reveal(resources, principal, row, body.field, body.reason, source_ip=source_ip)
    return RevealOut(field=body.field, value=value)
