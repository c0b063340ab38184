from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query

from api.auth import Principal, Role
from api.deps import ResourcesDep, require
from api.errors import documented
from api.services import incidents
from api.views import IncidentOut, IncidentPage

router = APIRouter(prefix="/v1/incidents", tags=["incidents"], responses=documented(401, 403, 422, 503))


@router.get("", response_model=IncidentPage)
async def list_incidents(
    resources: ResourcesDep,
    district: Annotated[str | None, Query(pattern=r"^\d{6}$", description="one district; 330300 the city")] = None,
    open_only: Annotated[bool, Query(alias="open", description="false lists the resolved incidents too")] = True,
    page: Annotated[int, Query(ge=1, le=10_000)] = 1,
    page_size: Annotated[int, Query(ge=1, le=100)] = 20,
    principal: Principal = require(Role.SUPERVISOR),
) -> IncidentPage:
    """Incidents of the supervisor's districts, waiting for a resolution (retry, skip or close), open first."""
    found, total = await incidents.list_incidents(
        resources, principal, district=district, open_only=open_only, page=page, page_size=page_size
    )
    items = [IncidentOut.model_validate(incident, from_attributes=True) for incident in found]
    return IncidentPage(items=items, total=total, page=page, page_size=page_size)
