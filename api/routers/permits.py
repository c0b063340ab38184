"""The register of permits (在册运输证) after issue: the staff's list, and one permit."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Path, Query

from api.auth import Principal, Role
from api.deps import ResourcesDep, require
from api.errors import documented
from api.schemas import IsoDate
from api.services import permits
from api.views import PermitPage, RegisteredPermitView
from workflows.permit_lifecycle_types import PermitState

router = APIRouter(prefix="/v1/permits", tags=["permits"], responses=documented(401, 403, 404, 422, 503))

PermitNumber = Annotated[
    str, Path(pattern=r"^\d{6}\d{4}\d{6}$", description="the permit number, e.g. 3303002026000001")
]


@router.get("", response_model=PermitPage)
async def list_permits(
    resources: ResourcesDep,
    district: Annotated[str | None, Query(pattern=r"^\d{6}$", description="330300: the whole city")] = None,
    state: PermitState | None = None,
    expiring_before: Annotated[IsoDate | None, Query(description="the validity ends before this day")] = None,
    page: Annotated[int, Query(ge=1, le=10_000)] = 1,
    page_size: Annotated[int, Query(ge=1, le=100)] = 20,
    principal: Principal = require(Role.TRANSPORT_CLERK, Role.SUPERVISOR),
) -> dict[str, Any]:
    """The permits of the staff's districts, filtered, the validity ending soonest first."""
    return await permits.register(
        resources,
        principal,
        district=district,
        state=state.value if state else None,
        expiring_before=expiring_before,
        page=page,
        page_size=page_size,
    )


@router.get("/{number}", response_model=RegisteredPermitView)
async def read_permit(
    number: PermitNumber,
    resources: ResourcesDep,
    principal: Principal = require(Role.APPLICANT, Role.TRANSPORT_CLERK, Role.SUPERVISOR),
) -> dict[str, Any]:
    """One permit, for its holder and the staff of its district."""
    return await permits.read(resources, principal, number)
