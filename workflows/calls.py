"""Each activity as the workflow calls it: timeouts, retries, summaries and idempotency keys.

Runs inside the workflow (these functions issue its commands); the workflow module imports it
through the sandbox's pass-through, like the activities themselves.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import timedelta
from typing import Any, TypeVar

from temporalio import workflow
from temporalio.common import RetryPolicy

from activities.permit import PermitActivities
from domain import errors
from workflows.state import ApplicationState, current_details, search_attributes, view
from workflows.types import (
    Deadlines,
    DeadlinesQuery,
    DocumentRequest,
    PermitApplicationInput,
    ProjectionRequest,
    Shipment,
    ShipmentRequest,
    SmsRequest,
    Timing,
    UsageChangeJob,
    UsageChangeRequest,
)

DEPARTMENT_RETRY = RetryPolicy(
    initial_interval=timedelta(seconds=1),
    backoff_coefficient=2.0,
    maximum_interval=timedelta(minutes=5),
    non_retryable_error_types=sorted(errors.BUSINESS_REFUSALS),
)
STORE_RETRY = RetryPolicy(initial_interval=timedelta(seconds=1), maximum_interval=timedelta(minutes=1))
ACTIVITY_TIMEOUT = timedelta(seconds=30)
LOCAL_ACTIVITY_TIMEOUT = timedelta(seconds=5)

ACTIVITY_SUMMARIES = {
    "verify_ownership": "Vehicle administration: the applicant is the registered owner",
    "fetch_invoice": "Tax: vehicle purchase invoice",
    "fetch_purchase_tax": "Tax: purchase tax certificate",
    "fetch_inspection_report": "Inspection station: performance report",
    "fetch_nev_range": "MIIT: NEV range catalogue",
    "assess_eligibility": "Eligibility under the local policy",
    "compute_deadlines": "Working-day deadlines",
    "send_sms": "SMS to the applicant",
    "issue_document": "Document",
    "request_usage_change": "Vehicle administration: request the usage-nature change",
    "get_usage_change": "Vehicle administration: poll the usage-nature change",
    "find_policy": "Insurance platform: carrier liability policy",
    "allocate_permit": "Permit number",
    "create_shipment": "Courier: shipment",
    "get_shipment": "Courier: poll the shipment",
    "project": "Projection for the clerks' inbox",
}

Arg = TypeVar("Arg")
Result = TypeVar("Result")
Activity = Callable[[PermitActivities, Arg], Awaitable[Result]]


def key(step: str) -> str:
    """The idempotency key of one step of this application."""
    return f"{workflow.info().workflow_id}:{step}"


async def department(activity: Activity[Arg, Result], arg: Arg, summary: str | None = None) -> Result:
    """A department's system: retried with backoff until it answers, except for its business refusals."""
    return await workflow.execute_activity_method(
        activity,
        arg,
        start_to_close_timeout=ACTIVITY_TIMEOUT,
        retry_policy=DEPARTMENT_RETRY,
        summary=summary or ACTIVITY_SUMMARIES.get(activity.__name__),
    )


async def store(activity: Activity[Arg, Result], arg: Arg, summary: str | None = None) -> Result:
    return await workflow.execute_activity_method(
        activity,
        arg,
        start_to_close_timeout=ACTIVITY_TIMEOUT,
        retry_policy=STORE_RETRY,
        summary=summary or ACTIVITY_SUMMARIES.get(activity.__name__),
    )


async def local(activity: Activity[Arg, Result], arg: Arg) -> Result:
    """A store write or a calendar lookup, run by the worker itself: no round trip through the server."""
    return await workflow.execute_local_activity_method(
        activity,
        arg,
        start_to_close_timeout=LOCAL_ACTIVITY_TIMEOUT,
        retry_policy=STORE_RETRY,
        summary=ACTIVITY_SUMMARIES.get(activity.__name__),
    )


async def wait_for(condition: Callable[[], bool], timeout: timedelta, summary: str) -> bool:
    """Wait for `condition`; False when the timeout came first."""
    try:
        await workflow.wait_condition(condition, timeout=timeout, timeout_summary=summary)
    except TimeoutError:
        return False
    return True


async def send_sms(input: PermitApplicationInput, step: str, text: str) -> None:
    request = SmsRequest(input.applicant.phone, text, key(f"sms:{step}"))
    await department(PermitActivities.send_sms, request, summary=f"SMS to the applicant: {step}")


async def issue_document(state: ApplicationState, kind: str, data: dict[str, Any]) -> None:
    request = DocumentRequest(state.input.application_id, kind, key(f"document:{kind}"), data)
    document_id = await store(PermitActivities.issue_document, request, summary=f"Document: {kind}")
    state.documents.append({"kind": kind, "document_id": document_id})


async def compute_deadlines(accepted_on: str, timing: Timing) -> Deadlines:
    query = DeadlinesQuery(
        accepted_on=accepted_on,
        insurance_working_days=timing.insurance_working_days,
        decision_working_days=timing.decision_working_days,
        reminder_working_days=list(timing.reminder_working_days),
        warning_working_days=timing.warning_working_days,
    )
    return await local(PermitActivities.compute_deadlines, query)


async def request_usage_change(input: PermitApplicationInput, target: str, step: str) -> UsageChangeJob:
    request = UsageChangeRequest(
        vin=input.vehicle.vin,
        plate=input.vehicle.plate,
        owner_id_number=input.applicant.id_number,
        target_nature=target,
        reference=input.application_id,
        idempotency_key=key(step),
    )
    return await department(PermitActivities.request_usage_change, request)


async def ship(input: PermitApplicationInput, step: str, contents: str) -> Shipment:
    """A parcel to the applicant's delivery address (the applicant's own name and phone if none given)."""
    delivery = input.delivery
    request = ShipmentRequest(
        reference=input.application_id,
        recipient=delivery.recipient or input.applicant.name,
        phone=delivery.phone or input.applicant.phone,
        address=delivery.address,
        contents=contents,
        idempotency_key=key(step),
    )
    return await department(PermitActivities.create_shipment, request)


class Projector:
    """Writes the view to the store (a local activity: its marker in the history, without the view)
    and the search attributes to Temporal's visibility, each time the application moves."""

    def __init__(self, state: ApplicationState) -> None:
        self._state = state
        self._version = 0
        self._upserted: dict[str, Any] = {}

    async def __call__(self) -> None:
        self._version += 1
        values = search_attributes(self._state)
        changed = [key.value_set(v) for key, v in values.items() if self._upserted.get(key.name) != v]
        if changed:
            workflow.upsert_search_attributes(changed)
            self._upserted.update({key.name: v for key, v in values.items()})
        workflow.set_current_details(current_details(self._state))
        await local(PermitActivities.project, ProjectionRequest(self._version, view(self._state)))
