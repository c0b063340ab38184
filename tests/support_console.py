"""The console as its tests drive it: signed-in browser-like clients, its forms with their CSRF
token, and applications as the console sees them (shared by the tests over HTTP and in the browser)."""

from __future__ import annotations

import re
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx

from domain.views import mask_view
from drills.people import new_citizen, new_vehicle
from tests.support_stack import Stack

CLERK, SUPERVISOR = "transport_clerk", "supervisor"
CSRF = re.compile(r'name="csrf_token" value="([0-9a-f]{64})"')


def csrf_of(html: str) -> str:
    match = CSRF.search(html)
    assert match, "the page has no CSRF token"
    return match.group(1)


def alert_of(html: str) -> str:
    match = re.search(r'role="alert"[^>]*>([^<]+)<', html)
    return match.group(1) if match else ""


async def sign_in(stack: Stack, role: str = CLERK, district: str = "330382") -> httpx.AsyncClient:
    """A browser-like client signed in through the console's development sign-in form."""
    client = httpx.AsyncClient(base_url=str(stack.api.base_url), timeout=40)
    form = await client.get("/console/sign-in")
    data = {"csrf_token": csrf_of(form.text), "role": role, "sub": f"{role}-{district}", "district": district}
    signed = await client.post("/console/sign-in", data=data)
    assert signed.status_code == 303 and signed.headers["location"] == "/console/inbox", signed.text
    return client


async def post_form(client: httpx.AsyncClient, url: str, data: dict[str, str]) -> httpx.Response:
    """Post a console form with the CSRF token of the client's current session."""
    token = csrf_of((await client.get("/console/inbox")).text)
    return await client.post(url, data={"csrf_token": token, **data})


async def overdue_projection(stack: Stack, district: str = "330382", **changes: Any) -> str:
    """An application as the workflow projects it once its licensing decision is overdue.

    Real time cannot make a decision overdue within a test, and the inbox and the
    supervisor's page read only the projection, so the row is written as the workflow's
    projection activity writes it; no workflow stands behind it. `changes` replace keys of the view.
    """
    owner = new_citizen()
    vehicle = new_vehicle(owner)
    application_id = str(uuid.uuid4())
    submitted_at = datetime.now(UTC) - timedelta(days=41)
    accepted = submitted_at.date() + timedelta(days=1)
    view = {
        "application_id": application_id,
        "status": "final_review",
        "step": "final_review",
        "district": district,
        "channel": "window",
        "submitted_at": submitted_at.isoformat(),
        "accepted_on": accepted.isoformat(),
        "vehicle": {"plate": vehicle["plate"], "vin": vehicle["vin"]},
        "applicant": {"name": owner["name"], "id_number": owner["id_number"], "phone": owner["phone"]},
        "delivery": {"method": "pickup", "tracking_number": None},
        "materials": [],
        "deadlines": {
            "insurance": {
                "due_on": (accepted + timedelta(days=21)).isoformat(),
                "working_days": 15,
                "provisional": False,
                "reminders_on": [],
            },
            "decision": {
                "due_on": (accepted + timedelta(days=28)).isoformat(),
                "working_days": 20,
                "provisional": False,
                "warning": "red",
            },
        },
        "findings": [],
        "pending": [{"action": "final_review", "actor": "transport_clerk"}],
        "documents": [],
        "timeline": [{"at": f"{accepted.isoformat()}T09:00:00+08:00", "event": "accepted", "actor": "transport_clerk"}],
        "permit": None,
        **changes,
    }
    await stack.store.applications.reserve(
        application_id=application_id,
        workflow_id=f"permit-{application_id}",
        applicant_sub="seeded",
        district=district,
        channel="window",
        vin=vehicle["vin"],
        plate=vehicle["plate"],
        submitted_at=submitted_at,
        view=mask_view(view),
        start_input={},
        idempotency_key=None,
        request_sha256="",
    )
    await stack.store.applications.mark_started(application_id)
    await stack.store.applications.project(1, view, mask_view(view))
    return application_id


INCIDENT_ANSWER = "department_rejected_request: 422 injected_refusal"


async def incident_projection(
    stack: Stack, district: str = "330382", step: str = "verify_ownership", department: str = "vehicle_admin"
) -> tuple[str, str]:
    """An application in an incident (by default at the vehicle administration's ownership check), as
    the workflow projects it (no workflow behind it): its id and the incident's."""
    incident_id = str(uuid.uuid4())
    application_id = await overdue_projection(
        stack,
        district,
        status="collecting_data",
        step=None,
        pending=[{"action": "resolve_incident", "actor": "supervisor"}],
        incident={
            "incident_id": incident_id,
            "step": step,
            "department": department,
            "answer": INCIDENT_ANSWER,
            "opened_at": "2026-09-26T02:00:00+00:00",
        },
    )
    return application_id, incident_id
