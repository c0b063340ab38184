"""The supervisor's page: open incidents, licensing decisions overdue or soon due, insurance soon due, and the
open follow-ups of bad ratings (差评整改)."""

from __future__ import annotations

from datetime import datetime, timedelta

from fastapi import Request, Response

from api.auth import Principal, Role
from api.console.rendering import page
from api.console.security import console_router, staff
from api.deps import ResourcesDep
from api.services import follow_ups, inbox, incidents
from api.services.inbox import InboxQuery
from domain.calendar import CST
from domain.statuses import Status, WarningLevel

router = console_router()

SECTION_LIMIT = 100
INSURANCE_SOON_DAYS = 7
FOLLOW_UP_STATUSES = {"awaiting_callback": "待回访", "awaiting_rectification": "待整改答复"}


@router.get("/supervision")
async def read_supervision(
    request: Request, resources: ResourcesDep, principal: Principal = staff(Role.SUPERVISOR)
) -> Response:
    """The supervisor's page: open incidents, decisions overdue or soon due, and insurance soon due."""
    today = datetime.now(CST).date()
    queries = {
        "overdue": InboxQuery(warning_level=WarningLevel.RED, sort="decision_due", page_size=SECTION_LIMIT),
        "soon": InboxQuery(warning_level=WarningLevel.YELLOW, sort="decision_due", page_size=SECTION_LIMIT),
        "insurance": InboxQuery(
            status=Status.AWAITING_INSURANCE,
            due="insurance",
            due_to=today + timedelta(days=INSURANCE_SOON_DAYS),
            sort="insurance_due",
            page_size=SECTION_LIMIT,
        ),
    }
    sections = {name: await inbox.list_applications(resources, principal, query) for name, query in queries.items()}
    open_incidents = await incidents.list_incidents(
        resources, principal, district=None, open_only=True, page=1, page_size=SECTION_LIMIT
    )
    open_follow_ups = await follow_ups.open_follow_ups(resources, principal, limit=SECTION_LIMIT)
    context = {
        "principal": principal,
        "follow_ups": open_follow_ups,
        "follow_up_statuses": FOLLOW_UP_STATUSES,
        "sections": sections,
        "incidents": open_incidents,
        "today": today,
        "insurance_days": INSURANCE_SOON_DAYS,
    }
    return page(request, "supervision.html", context)
