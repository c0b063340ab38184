"""The application page: what it waits for, deadlines, materials, documents, timeline, and the
clerk's decision forms; the scans and documents it links to."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import Form, Path, Request, Response
from pydantic import TypeAdapter, ValidationError

from api.applicant.rating_link import window_rating_link
from api.auth import Principal, Role
from api.console import labels
from api.console.rendering import page, refusal
from api.console.security import CsrfChecked, console_router, staff
from api.deps import ResourcesDep, SourceIpDep
from api.errors import ApiError
from api.resources import Resources
from api.schemas import DecisionIn, IncidentResolutionIn
from api.services import applications, documents, materials
from domain.statuses import STEP_OUTCOMES, Outcome, Step

router = console_router()

OUTCOME_ORDER = (Outcome.APPROVE, Outcome.REQUEST_SUPPLEMENT, Outcome.REJECT)
CLERK = staff(Role.TRANSPORT_CLERK)
SUPERVISOR = staff(Role.SUPERVISOR)
STAFF = staff(Role.TRANSPORT_CLERK, Role.SUPERVISOR)


async def _application_page(
    request: Request,
    resources: Resources,
    principal: Principal,
    view: dict[str, Any],
    status: int = 200,
    **extra: Any,
) -> Response:
    """The page of an application as `view` shows it, with the decisions its step admits."""
    scans = []
    for item in view.get("materials", []):
        material = await materials.find(resources, item["material_id"])
        scans.append(
            {
                **item,
                "content_type": material.content_type if material else None,
                "size": material.size if material else None,
            }
        )
    step = view.get("step")
    outcomes = [o for o in OUTCOME_ORDER if step in STEP_OUTCOMES and o in STEP_OUTCOMES[Step(step)]]
    context = {
        "principal": principal,
        "view": view,
        "materials": scans,
        "outcomes": outcomes if principal.role == Role.TRANSPORT_CLERK else [],
        "rating_link": window_rating_link(resources, str(request.base_url), view),
        "notice": None,
        "error": None,
        "problems": {},
        "form": {},
        **extra,
    }
    return page(request, "application.html", context, status)


async def _current_page(
    request: Request, resources: Resources, principal: Principal, application_id: str, status: int, **extra: Any
) -> Response:
    """The application as last projected: after a refusal, what it waits for now."""
    row = await applications.application_for(resources, principal, application_id)
    view = await applications.current_view(resources, row)
    return await _application_page(request, resources, principal, view, status, **extra)


@router.get("/applications/{application_id}")
async def read_application(
    application_id: str, request: Request, resources: ResourcesDep, principal: Principal = STAFF
) -> Response:
    """The application: what it waits for, deadlines, materials, documents, timeline, decision forms."""
    return await _current_page(request, resources, principal, application_id, 200)


@router.post("/applications/{application_id}/decisions")
async def take_decision(
    application_id: str,
    request: Request,
    resources: ResourcesDep,
    source_ip: SourceIpDep,
    principal: Principal = CLERK,
    _: None = CsrfChecked,
    step: Annotated[str, Form()] = "",
    outcome: Annotated[str, Form()] = "",
    reason: Annotated[str, Form()] = "",
    items: Annotated[str, Form()] = "",
) -> Response:
    """A decision at the step the application waits for (the API's schema, service and rules); the page
    shows the application as the workflow answers the decision."""
    row = await applications.application_for(resources, principal, application_id)
    form: dict[str, Any] = {"step": step, "outcome": outcome, "reason": reason.strip()}
    if outcome == Outcome.REQUEST_SUPPLEMENT:
        form["items"] = [line.strip() for line in items.splitlines() if line.strip()]
    entered = {**form, "items": items}
    try:
        body = TypeAdapter(DecisionIn).validate_python(form)
    except ValidationError as err:
        problems = _decision_problems(err)
        error = "未能提交：" + "；".join(problems.values())
        return await _current_page(
            request, resources, principal, application_id, 422, problems=problems, form=entered, error=error
        )
    try:
        view = await applications.decide(resources, principal, row, body, source_ip)
    except ApiError as err:
        return await _current_page(
            request, resources, principal, application_id, err.status, error=refusal(err), form=entered
        )
    notice = labels.OUTCOMES[(body.step, body.outcome)]
    return await _application_page(request, resources, principal, view, notice=notice)


def _decision_problems(err: ValidationError) -> dict[str, str]:
    """The first problem of each field, in Chinese, keyed by the field's name."""
    problems: dict[str, str] = {}
    for error in err.errors():
        loc = [str(part) for part in error["loc"]]
        field = next((part for part in reversed(loc) if part in labels.FIELDS), "outcome")
        kind = error["type"]
        if field == "reason":
            text = "理由最多 500 字" if kind == "string_too_long" else "驳回或要求补正时必须填写理由"
        elif field == "items":
            text = "请逐行列出需要补正的材料（1–20 项，每项不超过 100 字）"
        else:
            text = "请选择当前环节可作出的决定"
        problems.setdefault(field, text)
    return problems


@router.post("/applications/{application_id}/incidents/{incident_id}/resolution")
async def resolve_incident(
    application_id: str,
    incident_id: Annotated[str, Path(min_length=1, max_length=100, pattern=r"^[\w.:-]+$")],
    request: Request,
    resources: ResourcesDep,
    source_ip: SourceIpDep,
    principal: Principal = SUPERVISOR,
    _: None = CsrfChecked,
    action: Annotated[str, Form()] = "",
    reason: Annotated[str, Form()] = "",
) -> Response:
    """A supervisor resolves the application's open incident (the API's schema, service and rules); the
    page shows the application as the workflow answers the resolution."""
    row = await applications.application_for(resources, principal, application_id)
    entered = {"action": action, "reason": reason}
    try:
        body = IncidentResolutionIn.model_validate({"action": action, "reason": reason.strip()})
    except ValidationError as err:
        problems = _resolution_problems(err)
        error = "未能提交：" + "；".join(problems.values())
        return await _current_page(
            request, resources, principal, application_id, 422, problems=problems, form=entered, error=error
        )
    try:
        view = await applications.resolve_incident(resources, principal, row, incident_id, body, source_ip=source_ip)
    except ApiError as err:
        return await _current_page(
            request, resources, principal, application_id, err.status, error=refusal(err), form=entered
        )
    notice = labels.INCIDENT_ACTIONS[body.action]
    return await _application_page(request, resources, principal, view, notice=notice)


def _resolution_problems(err: ValidationError) -> dict[str, str]:
    """The first problem of each field of a resolution, in Chinese, keyed by the field's name."""
    problems: dict[str, str] = {}
    for error in err.errors():
        field = str(error["loc"][0]) if error["loc"] else "action"
        if field == "reason":
            text = "理由最多 500 字" if error["type"] == "string_too_long" else "处理异常时必须填写理由"
        else:
            text = "请选择处理方式：重试、跳过通知或终止申请"
        problems.setdefault(field, text)
    return problems


@router.get("/applications/{application_id}/materials/{material_id}")
async def read_material(
    application_id: str,
    material_id: str,
    resources: ResourcesDep,
    source_ip: SourceIpDep,
    principal: Principal = STAFF,
) -> Response:
    """A scan the application was submitted with, for preview; audited."""
    row = await applications.application_for(resources, principal, application_id)
    view = await applications.current_view(resources, row)
    content_type, content = await materials.content_of(resources, principal, view, material_id, source_ip=source_ip)
    return Response(content, media_type=content_type, headers={"Content-Disposition": "inline"})


@router.get("/documents/{document_id}")
async def read_document(
    document_id: str, request: Request, resources: ResourcesDep, source_ip: SourceIpDep, principal: Principal = STAFF
) -> Response:
    """A document of an application as PDF; audited."""
    pdf = await documents.pdf_for(resources, principal, document_id, str(request.base_url), source_ip=source_ip)
    return Response(
        pdf, media_type="application/pdf", headers={"Content-Disposition": f'inline; filename="{document_id}.pdf"'}
    )
