"""The register of permits (在册运输证): the permits of the staff's districts with filters and paging,
and a permit's page where this year's annual review (年度审验) is recorded passed.

Everything goes through the API's service (api.services.permits): the same scoping, masking and
refusals as `GET /v1/permits`; the review through the lifecycle workflow's update, audited there."""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Any
from urllib.parse import urlencode

from fastapi import Path, Query, Request, Response

from api.auth import Principal, Role
from api.console.inbox import BlankIsNone
from api.console.rendering import message_page, page
from api.console.security import CsrfChecked, console_router, staff
from api.deps import ResourcesDep, SourceIpDep
from api.errors import ApiError
from api.resources import Resources
from api.services import permits
from domain.calendar import CST
from domain.districts import DISTRICTS, covers
from workflows.permit_lifecycle_types import PermitState

router = console_router()

STAFF = staff(Role.TRANSPORT_CLERK, Role.SUPERVISOR)
PAGE_SIZE = 20
PermitNumber = Annotated[str, Path(pattern=r"^\d{16}$")]

STATES = {
    PermitState.VALID: "有效",
    PermitState.REVIEW_DUE: "待年度审验",
    PermitState.LAPSED: "已失效",
    PermitState.CANCELLED: "已注销",
}
NOT_FOUND = "没有找到该运输证，或它不属于您所在的区县。"
REVIEWED = "年度审验通过已记录。"
REVIEW_REFUSALS = {
    permits.NO_REVIEW_DUE: "该运输证当前没有待办的年度审验，可能已由他人记录或运输证已失效。",
    "still_processing": "已提交，系统仍在处理，请稍后刷新本页查看。",
    "temporal_unavailable": "审批流程服务暂时不可用，请稍后重试。",
    "review_failed": "未能记录年度审验，请稍后重试。",
}


def review_offered(permit: dict[str, Any], today: date) -> bool:
    """The form is offered when the review is due, or for a valid permit whose next review lies ahead
    (the workflow refuses it until the review is due: the refusal is then the page's message)."""
    due = permit["next_review_due_on"]
    if permit["state"] == PermitState.REVIEW_DUE:
        return True
    return permit["state"] == PermitState.VALID and due is not None and due >= today


@router.get("/permits")
async def read_permits(
    request: Request,
    resources: ResourcesDep,
    principal: Principal = STAFF,
    district: Annotated[str | None, Query(pattern=r"^(\d{6})?$")] = None,  # blank: every district
    state: Annotated[PermitState | None, BlankIsNone] = None,
    expiring_before: Annotated[date | None, BlankIsNone] = None,
    page_number: Annotated[int, Query(alias="page", ge=1, le=10_000)] = 1,
) -> Response:
    """The permits of the staff's districts, filtered, the validity ending soonest first."""
    district = district or None
    found = await permits.register(
        resources,
        principal,
        district=district,
        state=state.value if state else None,
        expiring_before=expiring_before,
        page=page_number,
        page_size=PAGE_SIZE,
    )
    filters = {"district": district, "state": state, "expiring_before": expiring_before}
    context = {
        "principal": principal,
        "items": found["items"],
        "total": found["total"],
        "page": page_number,
        "pages": max(1, -(-found["total"] // PAGE_SIZE)),
        "filters": filters,
        "states": STATES,
        "query_for": lambda n: urlencode({**{k: v for k, v in filters.items() if v}, "page": n}),
        "visible_districts": {code: name for code, name in DISTRICTS.items() if covers(principal.district or "", code)},
    }
    return page(request, "permits.html", context)


async def _permit_page(
    request: Request, resources: Resources, principal: Principal, number: str, status: int = 200, **extra: Any
) -> Response:
    try:
        permit = await permits.read(resources, principal, number)
    except ApiError as err:
        if err.status == 404:
            return message_page(request, NOT_FOUND, 404, principal)
        raise
    context = {
        "principal": principal,
        "permit": permit,
        "states": STATES,
        "review_offered": review_offered(permit, datetime.now(CST).date()),
        "notice": None,
        "error": None,
        **extra,
    }
    return page(request, "permit.html", context, status)


@router.get("/permits/{number}")
async def read_permit(
    number: PermitNumber, request: Request, resources: ResourcesDep, principal: Principal = STAFF
) -> Response:
    """A permit of the staff's districts: its register entry, and the annual review's form when one is due."""
    return await _permit_page(request, resources, principal, number)


@router.post("/permits/{number}/review")
async def record_review(
    number: PermitNumber,
    request: Request,
    resources: ResourcesDep,
    source_ip: SourceIpDep,
    principal: Principal = STAFF,
    _: None = CsrfChecked,
) -> Response:
    """年度审验通过, through the API's service; its refusal is shown on the permit's page."""
    try:
        await permits.record_review(resources, principal, number, source_ip=source_ip)
    except ApiError as err:
        if err.status == 404:
            return message_page(request, NOT_FOUND, 404, principal)
        error = REVIEW_REFUSALS.get(err.error, f"未能办理（{err.detail}）")
        return await _permit_page(request, resources, principal, number, err.status, error=error)
    return await _permit_page(request, resources, principal, number, notice=REVIEWED)
