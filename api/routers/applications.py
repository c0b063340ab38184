from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Header, Query, Request, Response

from api import service
from api.auth import Principal, Role
from api.deps import PrincipalDep, ResourcesDep, application_for, rate_limited, require
from api.errors import ApiError, documented
from api.schemas import ApplicationIn, DecisionIn, IsoDate, OriginalsShipmentIn, RevealIn, SupplementsIn, WithdrawalIn
from domain.statuses import Channel, Status
from store.repository import ApplicationRow, InboxQuery
from workflows.permit_application import PermitApplicationWorkflow
from workflows.types import OriginalsShipment, Supplements, Withdrawal

router = APIRouter(
    prefix="/v1/applications", tags=["applications"], responses=documented(401, 403, 404, 409, 413, 422, 429, 503)
)

IdempotencyKey = Annotated[str | None, Header(alias="Idempotency-Key", min_length=1, max_length=128)]


@router.post("", status_code=201, dependencies=[rate_limited("submission", "rate_limit_submissions")])
async def create_application(
    body: ApplicationIn,
    resources: ResourcesDep,
    request: Request,
    response: Response,
    idempotency_key: IdempotencyKey = None,
    principal: Principal = require(Role.APPLICANT),
) -> dict[str, Any]:
    """Submit an application: one set of materials, one submission (五个一)."""
    timing = request.app.state.workflow_timing
    view, created = await service.submit(resources, principal, body, idempotency_key, timing)
    response.headers["Location"] = f"/v1/applications/{view['application_id']}"
    if not created:
        response.status_code = 200
    await _audit(
        resources,
        request,
        principal,
        "application.submit",
        view["application_id"],
        "created" if created else "replayed",
    )
    return view


PLATE_PATTERN = r"^浙C([A-HJ-NP-Z0-9]{5}|[DF][A-HJ-NP-Z0-9][0-9]{4}|[0-9]{5}[DF])$"
Step = Literal[
    "collect_shared_data",
    "preliminary_review",
    "submit_supplements",
    "ship_originals",
    "originals_received",
    "change_usage_nature",
    "buy_carrier_liability_insurance",
    "final_review",
    "deliver_documents",
]


@router.get("")
async def list_applications(
    resources: ResourcesDep,
    principal: PrincipalDep,
    status: Status | None = None,
    step: Annotated[Step | None, Query(description="the pending action")] = None,
    channel: Channel | None = None,
    district: Annotated[str | None, Query(pattern=r"^\d{6}$")] = None,
    warning: Literal["none", "yellow", "red"] | None = None,
    due: Annotated[
        Literal["decision", "insurance"], Query(description="which due date due_from/due_to filter")
    ] = "decision",
    due_from: IsoDate | None = None,
    due_to: IsoDate | None = None,
    plate: Annotated[str | None, Query(pattern=PLATE_PATTERN, description="the exact plate, e.g. 浙C12345")] = None,
    sort: Literal["submitted", "decision_due", "insurance_due"] = "submitted",
    page: Annotated[int, Query(ge=1, le=10_000)] = 1,
    page_size: Annotated[int, Query(ge=1, le=100)] = 20,
) -> dict[str, Any]:
    """An applicant's own applications, or the inbox of a clerk's district (from the projection, never Temporal)."""
    query = InboxQuery(
        **service.inbox_scope(principal, district),
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
    items, total = await resources.store.list_applications(query)
    return {"items": items, "total": total, "page": page, "page_size": page_size}


@router.get("/{application_id}")
async def read_application(application_id: str, resources: ResourcesDep, principal: PrincipalDep) -> dict[str, Any]:
    """The application view, personal data masked."""
    row = await application_for(resources, principal, application_id)
    return await service.current_view(resources, row)


@router.post("/{application_id}/withdraw")
async def withdraw_application(
    application_id: str,
    resources: ResourcesDep,
    request: Request,
    body: WithdrawalIn | None = None,
    principal: Principal = require(Role.APPLICANT),
) -> dict[str, Any]:
    """Withdraw before the permit is issued; a changed usage nature is reverted."""
    row = await application_for(resources, principal, application_id)
    reason = body.reason if body else ""
    return await _act(
        resources,
        request,
        principal,
        row,
        "application.withdraw",
        PermitApplicationWorkflow.withdraw,
        Withdrawal(reason),
    )


@router.post("/{application_id}/supplements")
async def submit_supplements(
    application_id: str,
    body: SupplementsIn,
    resources: ResourcesDep,
    request: Request,
    principal: Principal = require(Role.APPLICANT),
) -> dict[str, Any]:
    """Hand in what the clerk asked for (一次性告知补正)."""
    row = await application_for(resources, principal, application_id)
    materials = {kind.value: material_id for kind, material_id in body.materials.items()}
    await service.check_materials(resources, principal, materials, ["body", "materials"])
    return await _act(
        resources,
        request,
        principal,
        row,
        "application.supplements",
        PermitApplicationWorkflow.submit_supplements,
        Supplements(materials, body.note),
    )


@router.post("/{application_id}/originals-shipment")
async def report_originals_shipment(
    application_id: str,
    body: OriginalsShipmentIn,
    resources: ResourcesDep,
    request: Request,
    principal: Principal = require(Role.APPLICANT),
) -> dict[str, Any]:
    """The applicant has mailed the original certificates."""
    row = await application_for(resources, principal, application_id)
    return await _act(
        resources,
        request,
        principal,
        row,
        "application.originals_shipment",
        PermitApplicationWorkflow.report_originals_shipment,
        OriginalsShipment(body.tracking_number),
    )


@router.post(
    "/{application_id}/insurance-check", dependencies=[rate_limited("insurance_check", "rate_limit_insurance_checks")]
)
async def request_insurance_check(
    application_id: str,
    resources: ResourcesDep,
    request: Request,
    principal: Principal = require(Role.APPLICANT),
) -> dict[str, Any]:
    """ "I have insured": query the insurance platform now."""
    row = await application_for(resources, principal, application_id)
    return await _act(
        resources, request, principal, row, "application.insurance_check", PermitApplicationWorkflow.check_insurance
    )


@router.post("/{application_id}/decisions")
async def take_decision(
    application_id: str,
    body: DecisionIn,
    resources: ResourcesDep,
    request: Request,
    principal: Principal = require(Role.TRANSPORT_CLERK),
) -> dict[str, Any]:
    """A transport clerk's decision at the step the application waits for."""
    row = await application_for(resources, principal, application_id)
    return await service.decide(resources, principal, row, body, _ip(request))


@router.post("/{application_id}/reveal")
async def reveal_field(
    application_id: str,
    body: RevealIn,
    resources: ResourcesDep,
    request: Request,
    principal: Principal = require(Role.TRANSPORT_CLERK, Role.SUPERVISOR),
) -> dict[str, str]:
    """One personal field in full, for a clerk who says why; every such request is audited."""
    row = await application_for(resources, principal, application_id)
    try:
        value = await service.reveal(resources, row, body.field)
    except ApiError as err:
        await _audit(
            resources,
            request,
            principal,
            f"reveal.{body.field}",
            row.application_id,
            f"refused:{err.error}",
            reason=body.reason,
        )
        raise
    await _audit(resources, request, principal, f"reveal.{body.field}", row.application_id, "ok", reason=body.reason)
    return {"field": body.field, "value": value}


async def _act(
    resources, request, principal, row: ApplicationRow, action: str, update: Any, arg: Any = None
) -> dict[str, Any]:
    return await service.act_audited(resources, principal, row, action, update, arg, source_ip=_ip(request))


async def _audit(
    resources, request: Request, principal: Principal, action: str, target: str, outcome: str, **detail: str
) -> None:
    await service.audit(resources, principal, action, target, outcome, source_ip=_ip(request), **detail)


def _ip(request: Request) -> str | None:
    return request.client.host if request.client else None
