"""The inbox: the district's applications, with filters, warning badges and due dates."""

from __future__ import annotations

from typing import Annotated
from urllib.parse import urlencode

from fastapi import Query, Request, Response
from pydantic import BeforeValidator

from api.auth import Principal, Role
from api.console.rendering import page
from api.console.security import console_router, staff
from api.deps import ResourcesDep
from api.services import inbox
from api.services.inbox import InboxQuery
from domain.districts import DISTRICTS, covers
from domain.statuses import Channel, PendingAction, Status, WarningLevel
from domain.validators import WENZHOU_PLATE_PATTERN

router = console_router()

PAGE_SIZE = 20


def _blank_is_none(value: object) -> object:
    return None if value == "" else value


BlankIsNone = BeforeValidator(_blank_is_none)  # an empty filter of the form means no filter


@router.get("/inbox")
async def read_inbox(
    request: Request,
    resources: ResourcesDep,
    principal: Principal = staff(Role.TRANSPORT_CLERK, Role.SUPERVISOR),
    status: Annotated[Status | None, BlankIsNone] = None,
    step: Annotated[PendingAction | None, BlankIsNone] = None,
    channel: Annotated[Channel | None, BlankIsNone] = None,
    warning: Annotated[WarningLevel | None, BlankIsNone] = None,
    # A blank district or plate means no filter: each pattern admits the blank, which becomes None below
    # (a validator turning it into None first would leave the pattern to check None: a 500).
    district: Annotated[str | None, Query(pattern=r"^(\d{6})?$")] = None,
    plate: Annotated[str | None, Query(pattern=f"{WENZHOU_PLATE_PATTERN}|^$")] = None,
    sort: inbox.Sort = "submitted",
    page_number: Annotated[int, Query(alias="page", ge=1, le=10_000)] = 1,
) -> Response:
    """The district's applications, with filters, warning badges and due dates."""
    district, plate = district or None, plate or None
    query = InboxQuery(
        status=status,
        step=step,
        channel=channel,
        warning_level=warning,
        plate=plate,
        sort=sort,
        page=page_number,
        page_size=PAGE_SIZE,
    )
    items, total = await inbox.list_applications(resources, principal, query, district=district)
    filters = {
        "status": status,
        "step": step,
        "channel": channel,
        "warning": warning,
        "district": district,
        "plate": plate,
        "sort": sort,
    }
    context = {
        "principal": principal,
        "items": items,
        "total": total,
        "page": page_number,
        "pages": max(1, -(-total // PAGE_SIZE)),
        "filters": filters,
        "query_for": lambda n: urlencode({**{k: v for k, v in filters.items() if v}, "page": n}),
        "visible_districts": {code: name for code, name in DISTRICTS.items() if covers(principal.district or "", code)},
    }
    return page(request, "inbox.html", context)
