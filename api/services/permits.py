"""The register of permits (在册运输证): staff list their districts' permits; a permit is read by its holder
and the staff of its district (404 to anyone else, as for applications)."""

from __future__ import annotations

from datetime import date
from typing import Any

from api.auth import CLERK_ROLES, Principal, Role
from api.errors import not_found
from api.resources import Resources
from api.services.inbox import visible_districts
from domain.districts import covers
from store.permits import RegisteredPermit, RegisterQuery


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
