"""The register of permits (在册运输证): staff list their districts' permits; a permit is read by its holder
and the staff of its district (404 to anyone else, as for applications)."""

from __future__ import annotations

import asyncio
from datetime import date, datetime, timedelta
from typing import Any

import structlog
from temporalio.client import WorkflowUpdateFailedError, WorkflowUpdateRPCTimeoutOrCancelledError
from temporalio.exceptions import ApplicationError
from temporalio.service import RPCError, RPCStatusCode

from api.auth import CLERK_ROLES, Principal, Role
from api.errors import ApiError, not_found
from api.resources import Resources
from api.services import audit
from api.services.inbox import visible_districts
from domain.calendar import CST
from domain.districts import covers
from store.permits import RegisteredPermit, RegisterQuery
from workflows.permit_lifecycle import NOT_REVIEW_DUE, PermitLifecycleWorkflow, workflow_id
from workflows.permit_lifecycle_types import ReviewRecord

log = structlog.get_logger(__name__)

NO_REVIEW_DUE = "no_review_due"  # the API's error code: the permit awaits no annual review now


def permit_view(permit: RegisteredPermit) -> dict[str, Any]:
    """As api/views.py's `RegisteredPermitView`: the plate masked (stored so), the holder not named."""
    return {
        "number": permit.number,
        "plate": permit.plate,
        "district": permit.district,
        "state": permit.state,
        "issued_on": permit.issued_on,
        "valid_until": permit.valid_until,
        "next_review_due_on": permit.next_review_due_on,
        "regulator_pending": permit.regulator_pending,
        "exit": None,  # the exit "one thing" is not built yet
    }


def may_read(principal: Principal, permit: RegisteredPermit) -> bool:
    if principal.role == Role.APPLICANT:
        return permit.holder_subject == principal.sub
    return (
        principal.role in CLERK_ROLES and principal.district is not None and covers(principal.district, permit.district)
    )


async def read(resources: Resources, principal: Principal, number: str) -> dict[str, Any]:
    permit = await resources.store.permit_register.get(number)
    if permit is None or not may_read(principal, permit):
        raise not_found("permit")
    return permit_view(permit)


async def register(
    resources: Resources,
    principal: Principal,
    *,
    district: str | None,
    state: str | None,
    expiring_before: date | None,
    page: int,
    page_size: int,
) -> dict[str, Any]:
    """One page of the permits of the districts the staff principal covers, the validity ending soonest first."""
    query = RegisterQuery(
        districts=visible_districts(principal, district),
        state=state,
        expiring_before=expiring_before,
        page=page,
        page_size=page_size,
    )
    permits, total = await resources.store.permit_register.search(query)
    return {"items": [permit_view(p) for p in permits], "total": total, "page": page, "page_size": page_size}


async def record_review(
    resources: Resources, principal: Principal, number: str, *, source_ip: str | None = None
) -> dict[str, Any]:
    """A clerk of the permit's district records this year's annual review (年度审验) passed, through the
    lifecycle workflow's `record_review` update: the permit's state once recorded. Refused: 404 outside
    the clerk's districts, 409 `no_review_due` when none is due (or the lifecycle has ended); audited."""
    permit = await resources.store.permit_register.get(number)
    if permit is None or principal.role not in CLERK_ROLES or not may_read(principal, permit):
        raise not_found("permit")
    try:
        view = await _record_review(resources, principal, number)
    except ApiError as err:
        await audit.record(resources, principal, "permit.review", number, f"refused:{err.error}", source_ip=source_ip)
        raise
    await audit.record(resources, principal, "permit.review", number, "ok", source_ip=source_ip)
    return view


async def _record_review(resources: Resources, principal: Principal, number: str) -> dict[str, Any]:
    record = ReviewRecord(reviewed_on=datetime.now(CST).date().isoformat(), clerk=principal.sub)
    handle = resources.client.get_workflow_handle(workflow_id(number))
    timeout = timedelta(seconds=resources.settings.update_timeout_s)
    try:
        view: dict[str, Any] = await asyncio.wait_for(
            handle.execute_update(PermitLifecycleWorkflow.record_review, record, rpc_timeout=timeout),
            timeout.total_seconds(),
        )
    except (TimeoutError, WorkflowUpdateRPCTimeoutOrCancelledError):
        raise ApiError(503, "still_processing", "taken, but still being recorded; read it again shortly") from None
    except WorkflowUpdateFailedError as err:
        cause = err.cause
        if isinstance(cause, ApplicationError) and cause.type == NOT_REVIEW_DUE:
            raise ApiError(409, NO_REVIEW_DUE, "no annual review is due for this permit") from None
        log.error("permit.review_failed", number=number, error=type(cause).__name__)
        raise ApiError(503, "review_failed", "the review could not be recorded; try again") from None
    except RPCError as err:
        if err.status == RPCStatusCode.NOT_FOUND:  # the lifecycle has ended: nothing is due any more
            raise ApiError(409, NO_REVIEW_DUE, "no annual review is due for this permit") from None
        raise ApiError(503, "temporal_unavailable", "the workflow service is unavailable; try again") from None
    return view
