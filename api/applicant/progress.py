"""Follow it: the applicant's applications, and the progress of one (its steps, whom it waits
for, the insurance due date, the timeline, refusals' reasons, documents as PDF, and once it has
ended its rating)."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

from fastapi import Request, Response

from api.applicant import labels
from api.applicant.pages import SIGNED_IN, applicant_router, page
from api.applicant.rating_section import rating_section
from api.auth import Principal
from api.deps import ResourcesDep, SourceIpDep
from api.resources import Resources
from api.services import applications, calendar, documents, inbox
from api.services.inbox import InboxQuery
from domain.calendar import cst_date
from domain.statuses import TERMINAL, PendingAction, Status

router = applicant_router()

WITHDRAWABLE_UNTIL = frozenset({Status.DELIVERING, *TERMINAL})  # the permit is issued, or it is over


# The events after which a closed application had passed a step: how many steps it had passed.
STEPS_PASSED_BY = {"accepted": 1, "originals_received": 2, "usage_nature_changed": 3, "insurance_found": 4}


def steps_of(view: dict[str, Any]) -> list[dict[str, str]]:
    """The six steps, each `done`, `current` or `todo`; a closed application has no current step."""
    status = view["status"]
    current = next((i for i, (_, statuses) in enumerate(labels.STEPS) if status in statuses), None)
    if status == Status.COMPLETED:
        passed = len(labels.STEPS)
    elif current is None:  # rejected, withdrawn or expired: the steps it had passed
        events = [entry["event"] for entry in view.get("timeline", [])]
        passed = max((STEPS_PASSED_BY.get(event, 0) for event in events), default=0)
    else:
        passed = current
    return [
        {"name": name, "state": "done" if i < passed else "current" if i == current else "todo"}
        for i, (name, _) in enumerate(labels.STEPS)
    ]


def refusals_of(view: dict[str, Any]) -> list[dict[str, Any]]:
    """What was refused and why, in Chinese: a clerk's reasons, and the eligibility findings."""
    refused = [
        {"title": labels.EVENTS.get(entry["event"], entry["event"]), "reason": entry["reason"]}
        for entry in view.get("timeline", [])
        if entry["event"] in ("rejected", "supplement_requested") and entry.get("reason")
    ]
    return refused + [{"title": "车辆条件不符", "reason": finding["message"]} for finding in view.get("findings", [])]


async def _insurance(resources: Resources, view: dict[str, Any]) -> dict[str, Any] | None:
    """The insurance deadline with the working days left, while insurance is awaited."""
    deadline = (view.get("deadlines") or {}).get("insurance")
    if not deadline or view["status"] in TERMINAL:
        return None
    due_on = date.fromisoformat(str(deadline["due_on"]))
    left = await calendar.working_days_left(resources, cst_date(datetime.now(UTC)), due_on)
    return {**deadline, "days_left": max(left, 0)}


@router.get("")
async def read_home(request: Request, resources: ResourcesDep, principal: Principal = SIGNED_IN) -> Response:
    """The applicant's applications, newest first."""
    items, total = await inbox.list_applications(resources, principal, InboxQuery(page=1, page_size=50))
    items.sort(key=lambda view: view["submitted_at"], reverse=True)
    return page(request, "home.html", {"principal": principal, "items": items, "total": total})


@router.get("/applications/{application_id}")
async def read_application(
    application_id: str, request: Request, resources: ResourcesDep, principal: Principal = SIGNED_IN
) -> Response:
    """The progress of one application, and what the applicant can do now."""
    row = await applications.application_for(resources, principal, application_id)
    view = await applications.current_view(resources, row)
    return await progress_page(request, resources, principal, view)


async def progress_page(
    request: Request,
    resources: Resources,
    principal: Principal,
    view: dict[str, Any],
    status: int = 200,
    **extra: Any,
) -> Response:
    """The progress view of `view`, with the forms of what the applicant is asked to do."""
    asked = {item["action"]: item for item in view.get("pending", []) if item.get("actor") == "applicant"}
    context = {
        "principal": principal,
        "view": view,
        "steps": steps_of(view),
        "refusals": refusals_of(view),
        "insurance": await _insurance(resources, view),
        "supplements": asked.get(PendingAction.SUBMIT_SUPPLEMENTS),
        "ship_originals": PendingAction.SHIP_ORIGINALS in asked,
        "buy_insurance": PendingAction.BUY_CARRIER_LIABILITY_INSURANCE in asked,
        "withdrawable": view["status"] not in WITHDRAWABLE_UNTIL,
        "rating": await rating_section(resources, principal, view),
        "max_bytes": resources.settings.max_upload_bytes,
        "problems": {},
        "form": {},
        "notice": None,
        "failure": None,
        **extra,
    }
    return page(request, "application.html", context, status)


@router.get("/documents/{document_id}")
async def read_document(
    document_id: str,
    request: Request,
    resources: ResourcesDep,
    source_ip: SourceIpDep,
    principal: Principal = SIGNED_IN,
) -> Response:
    """A document of the applicant's application, as PDF (a download)."""
    pdf = await documents.pdf_for(resources, principal, document_id, str(request.base_url), source_ip=source_ip)
    disposition = f'attachment; filename="{document_id}.pdf"'
    return Response(pdf, media_type="application/pdf", headers={"Content-Disposition": disposition})
