"""An application's state, and what is shown of it, as pure functions over that state.

The workflow holds one `ApplicationState` and changes it step by step; the view (the query, the
projection for the clerks' inbox and API.md's application), the pending list, the Web UI's
current details and the search attributes are all derived here, without Temporal.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from temporalio.common import SearchAttributeKey

from domain.statuses import TERMINAL, Actor, PendingAction, Status
from workflows import search_attributes as sa
from workflows.clocks import end_of_day
from workflows.types import ApplicationState

# What an open application waits for, by status (awaiting_originals depends on the shipment).
PENDING_BY_STATUS: dict[Status, tuple[PendingAction, Actor]] = {
    Status.SUBMITTED: (PendingAction.COLLECT_SHARED_DATA, Actor.SYSTEM),
    Status.COLLECTING_DATA: (PendingAction.COLLECT_SHARED_DATA, Actor.SYSTEM),
    Status.PRELIMINARY_REVIEW: (PendingAction.PRELIMINARY_REVIEW, Actor.TRANSPORT_CLERK),
    Status.SUPPLEMENT_REQUESTED: (PendingAction.SUBMIT_SUPPLEMENTS, Actor.APPLICANT),
    Status.VEHICLE_NATURE_CHANGE: (PendingAction.CHANGE_USAGE_NATURE, Actor.VEHICLE_ADMIN),
    Status.AWAITING_INSURANCE: (PendingAction.BUY_CARRIER_LIABILITY_INSURANCE, Actor.APPLICANT),
    Status.FINAL_REVIEW: (PendingAction.FINAL_REVIEW, Actor.TRANSPORT_CLERK),
    Status.DELIVERING: (PendingAction.DELIVER_DOCUMENTS, Actor.COURIER),
}


def pending(state: ApplicationState) -> list[dict[str, Any]]:
    """What the application waits for, and from whom; once it is closed, only a refused undo's incident."""
    if state.incident is not None:
        return [{"action": PendingAction.RESOLVE_INCIDENT.value, "actor": Actor.SUPERVISOR.value}]
    if state.status in TERMINAL:
        return []
    if state.status == Status.AWAITING_ORIGINALS:
        if state.originals_tracking:
            return [{"action": PendingAction.ORIGINALS_RECEIVED.value, "actor": Actor.TRANSPORT_CLERK.value}]
        return [{"action": PendingAction.SHIP_ORIGINALS.value, "actor": Actor.APPLICANT.value}]
    if state.status not in PENDING_BY_STATUS:
        return []
    action, actor = PENDING_BY_STATUS[state.status]
    item: dict[str, Any] = {"action": action.value, "actor": actor.value}
    if state.status == Status.SUPPLEMENT_REQUESTED:
        item["items"] = list(state.supplement_items)
    return [item]


def deadlines_view(state: ApplicationState) -> dict[str, Any]:
    info = state.deadlines
    if info is None:
        return {}
    return {
        "insurance": {
            "due_on": info.insurance.due_on,
            "working_days": info.insurance.working_days,
            "provisional": info.insurance.provisional,
            "reminders_on": sorted(info.reminder_dates.values()),
        },
        "decision": {
            "due_on": info.decision.due_on,
            "working_days": info.decision.working_days,
            "provisional": info.decision.provisional,
            "warning": state.warning.value,
        },
    }


def view(state: ApplicationState) -> dict[str, Any]:
    """The application as its applicant and clerks see it, before masking (API.md)."""
    input = state.input
    return {
        "application_id": input.application_id,
        "status": state.status.value,
        "step": state.step.value if state.step else None,
        "district": input.district,
        "channel": input.channel,
        "submitted_at": input.submitted_at,
        "accepted_on": state.accepted_on,
        "vehicle": {"plate": input.vehicle.plate, "vin": input.vehicle.vin},
        "applicant": {
            "name": input.applicant.name,
            "id_number": input.applicant.id_number,
            "phone": input.applicant.phone,
        },
        "delivery": {"method": input.delivery.method, "tracking_number": state.delivery_tracking},
        "materials": [{"kind": kind, "material_id": mid} for kind, mid in sorted(state.materials.items())],
        "deadlines": deadlines_view(state),
        "findings": list(state.findings),
        "pending": pending(state),
        "documents": list(state.documents),
        "timeline": list(state.timeline),
        "permit": dict(state.permit) if state.permit else None,
        "incident": dict(state.incident) if state.incident else None,
    }


def current_details(state: ApplicationState) -> str:
    """What an operator sees in the Web UI: status, what it waits for, the due dates (no personal data)."""
    lines = [f"**Status:** {state.status.value}"]
    waiting = pending(state)
    if waiting:
        lines.append(f"**Waiting for:** {waiting[0]['action']} ({waiting[0]['actor']})")
    if state.deadlines is not None:
        insurance = state.deadlines.insurance
        provisional = " (provisional)" if insurance.provisional else ""
        lines.append(f"**Insurance due:** {insurance.due_on} 24:00 CST{provisional}")
        lines.append(f"**Decision due:** {state.deadlines.decision.due_on} — warning {state.warning.value}")
    if state.permit:
        lines.append(f"**Permit:** {state.permit['number']}")
    return "\n\n".join(lines)


def search_attributes(state: ApplicationState) -> dict[SearchAttributeKey[Any], Any]:
    """The values operators filter on in the Web UI (workflows/search_attributes.py): no personal data."""
    waiting = pending(state)
    values: dict[SearchAttributeKey[Any], Any] = {
        sa.STATUS: state.status.value,
        sa.DISTRICT: state.input.district,
        sa.CHANNEL: state.input.channel,
        sa.WARNING_LEVEL: state.warning.value,
        sa.PENDING_ACTOR: waiting[0]["actor"] if waiting else "none",
        sa.INCIDENT: state.incident["department"] if state.incident else "none",
    }
    if state.deadlines is not None:
        values[sa.INSURANCE_DUE] = end_of_day(state.deadlines.insurance.due_on)
        values[sa.DECISION_DUE] = end_of_day(state.deadlines.decision.due_on)
    return values


def note(state: ApplicationState, at: datetime, event: str, actor: str, **details: Any) -> None:
    """Add an event to the timeline; empty details are left out."""
    entry: dict[str, Any] = {"at": at.isoformat(), "event": event, "actor": str(actor)}
    entry.update({k: v for k, v in details.items() if v not in (None, "", [])})
    state.timeline.append(entry)
