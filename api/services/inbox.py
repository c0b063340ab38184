"""The one inbox query: an applicant's own applications, or the applications of a clerk's district."""

from __future__ import annotations

import dataclasses
from typing import Any

from api.auth import Principal, Role
from api.resources import Resources
from domain.districts import CITY_CODE, DISTRICTS, covers
from store.applications import Due, InboxQuery, Sort

__all__ = ["Due", "InboxQuery", "Sort", "list_applications", "visible_districts"]


async def list_applications(
    resources: Resources, principal: Principal, query: InboxQuery, *, district: str | None = None
) -> tuple[list[dict[str, Any]], int]:
    """The masked views matching `query` among those `principal` may see, and their total.

    The query's `applicant_sub` and `districts` are replaced by the principal's scope;
    `district` narrows it to one district (330300, the whole city, does not narrow).
    """
    scoped = dataclasses.replace(query, **_scope(principal, district))
    return await resources.store.applications.list(scoped)


def _scope(principal: Principal, district: str | None) -> dict[str, Any]:
    if principal.role == Role.APPLICANT:
        return {"applicant_sub": principal.sub, "districts": [district] if district else None}
    return {"applicant_sub": None, "districts": visible_districts(principal, district)}


def visible_districts(principal: Principal, district: str | None) -> list[str]:
    """The districts a staff principal may list, narrowed to `district` (330300, the city, does not narrow)."""
    assert principal.district is not None
    visible = [d for d in DISTRICTS if covers(principal.district, d)]
    if district is not None and district != CITY_CODE:
        visible = [d for d in visible if d == district]
    return visible
