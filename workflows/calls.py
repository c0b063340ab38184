"""Each activity as the workflow calls it: timeouts, retries, summaries and idempotency keys.

Runs inside the workflow (these functions issue its commands); the workflow module imports it
through the sandbox's pass-through, like the activities themselves.
"""

from __future__ import annotations

import asyncio
import dataclasses
from collections.abc import Awaitable, Callable
from datetime import date, timedelta
from typing import Any, TypeVar

from temporalio import workflow
from temporalio.common import RetryPolicy
from temporalio.exceptions import ActivityError, ApplicationError, WorkflowAlreadyStartedError
from temporalio.exceptions import TimeoutError as ActivityTimeout

from activities.permit import PermitActivities
from domain import errors
from domain.eligibility import Finding, VehicleFacts
from domain.statuses import ShipmentState, UsageChangeState
from workflows import texts
from workflows.permit_lifecycle import PermitLifecycleWorkflow
from workflows.permit_lifecycle import workflow_id as lifecycle_workflow_id
from workflows.permit_lifecycle_types import lifecycle_input
from workflows.state import current_details, search_attributes, view
from workflows.types import (
    ApplicationState,
    AssessmentInput,
    Deadlines,
    DeadlinesQuery,
    DocumentRequest,
    InspectionReport,
    JobQuery,
    ModelQuery,
    PermitApplicationInput,
    PermitRequest,
    ProjectionRequest,
    Shipment,
    ShipmentRequest,
    SmsRequest,
    Timing,
    TrackingQuery,
    UsageChangeJob,
    UsageChangeReport,
    UsageChangeRequest,
    VehicleQuery,
    VehicleRecord,
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


Wait = Callable[[Callable[[], bool], timedelta, str], Awaitable[bool]]


def give_up(timing: Timing) -> timedelta:
    """How long a call is retried before its step opens an incident: garbage answers do not retry forever."""
    return timedelta(seconds=timing.give_up_after_s)


def key(step: str) -> str:
    """The idempotency key of one step of this application."""
    return f"{workflow.info().workflow_id}:{step}"


async def department(activity: Activity[Arg, Result], arg: Arg, timing: Timing, summary: str | None = None) -> Result:
    """A department's system: retried with backoff until it answers or `timing` gives up, except for its
    refusals."""
    return await _remote(activity, arg, timing, DEPARTMENT_RETRY, summary)


async def store(activity: Activity[Arg, Result], arg: Arg, timing: Timing, summary: str | None = None) -> Result:
    """The project's own store, through the server: retried until it answers or `timing` gives up."""
    return await _remote(activity, arg, timing, STORE_RETRY, summary)


async def _remote(
    activity: Activity[Arg, Result], arg: Arg, timing: Timing, retry: RetryPolicy, summary: str | None
) -> Result:
    return await workflow.execute_activity_method(
        activity,
        arg,
        start_to_close_timeout=ACTIVITY_TIMEOUT,
        schedule_to_close_timeout=give_up(timing),
        retry_policy=retry,
        summary=summary or ACTIVITY_SUMMARIES.get(activity.__name__),
    )


async def local(activity: Activity[Arg, Result], arg: Arg, timing: Timing) -> Result:
    """A store write or a calendar lookup, run by the worker itself: no round trip through the server.
    Its failure is raised as an ActivityError naming the activity, like any other activity's."""
    try:
        return await workflow.execute_local_activity_method(
            activity,
            arg,
            start_to_close_timeout=LOCAL_ACTIVITY_TIMEOUT,
            schedule_to_close_timeout=give_up(timing),
            retry_policy=STORE_RETRY,
            summary=ACTIVITY_SUMMARIES.get(activity.__name__),
        )
    except (ApplicationError, ActivityTimeout) as err:  # a local activity's failure comes unwrapped
        raise ActivityError(
            f"local activity {activity.__name__} failed",
            scheduled_event_id=0,
            started_event_id=0,
            identity="",
            activity_type=activity.__name__,
            activity_id="",
            retry_state=None,
        ) from err


async def wait_for(condition: Callable[[], bool], timeout: timedelta, summary: str) -> bool:
    """Wait for `condition`; False when the timeout came first."""
    try:
        await workflow.wait_condition(condition, timeout=timeout, timeout_summary=summary)
    except TimeoutError:
        return False
    return True


async def send_sms(input: PermitApplicationInput, step: str, text: str) -> None:
    """One text, in as many parts as the gateway's limit needs (each part its own idempotency key)."""
    parts = texts.sms_parts(text)
    for n, part in enumerate(parts, start=1):
        part_key = key(f"sms:{step}") if n == 1 else key(f"sms:{step}:part-{n}")
        summary = f"SMS to the applicant: {step}" + (f" ({n}/{len(parts)})" if len(parts) > 1 else "")
        await department(
            PermitActivities.send_sms, SmsRequest(input.applicant.phone, part, part_key), input.timing, summary
        )


async def issue_document(state: ApplicationState, kind: str, data: dict[str, Any]) -> None:
    request = DocumentRequest(state.input.application_id, kind, key(f"document:{kind}"), data)
    document_id = await store(PermitActivities.issue_document, request, state.input.timing, f"Document: {kind}")
    state.documents.append({"kind": kind, "document_id": document_id})


async def shared_data(
    query: VehicleQuery, vehicle: VehicleRecord, timing: Timing
) -> tuple[InspectionReport, int | None]:
    """Invoice, purchase tax and inspection report (and an NEV's range) at once: the report and the range."""
    invoice = department(PermitActivities.fetch_invoice, query, timing)
    tax = department(PermitActivities.fetch_purchase_tax, query, timing)
    inspection = department(PermitActivities.fetch_inspection_report, query, timing)
    if vehicle.fuel not in ("bev", "phev"):
        _, _, report = await asyncio.gather(invoice, tax, inspection)
        return report, None
    nev = department(PermitActivities.fetch_nev_range, ModelQuery(vehicle.model), timing)
    _, _, report, nev_range = await asyncio.gather(invoice, tax, inspection, nev)
    return report, nev_range.range_km


async def assess_eligibility(
    vehicle: VehicleRecord, inspection: InspectionReport, nev_range_km: int | None, on: date, timing: Timing
) -> list[Finding]:
    facts = VehicleFacts(
        plate=vehicle.plate,
        seats=vehicle.seats,
        fuel=vehicle.fuel,
        usage_nature=vehicle.usage_nature,
        flags=list(vehicle.flags),
        inspection_passed=inspection.passed,
        inspection_valid_until=inspection.valid_until,
        nev_range_km=nev_range_km,
        registered_on=vehicle.registered_on,
    )
    return await store(PermitActivities.assess_eligibility, AssessmentInput(facts=facts, on=on.isoformat()), timing)


async def allocate_permit(input: PermitApplicationInput, vehicle: VehicleRecord, on: date) -> dict[str, str]:
    """The permit as the view and the document show it: its number, issue and expiry days."""
    request = PermitRequest(input.application_id, on.isoformat(), vehicle.registered_on)
    answer = await store(PermitActivities.allocate_permit, request, input.timing)
    return {"number": answer.number, "issued_on": answer.issued_on, "valid_until": answer.valid_until}


async def compute_deadlines(accepted_on: str, timing: Timing) -> Deadlines:
    query = DeadlinesQuery(
        accepted_on=accepted_on,
        insurance_working_days=timing.insurance_working_days,
        decision_working_days=timing.decision_working_days,
        reminder_working_days=list(timing.reminder_working_days),
        warning_working_days=timing.warning_working_days,
    )
    return await local(PermitActivities.compute_deadlines, query, timing)


async def request_usage_change(input: PermitApplicationInput, target: str, step: str) -> UsageChangeJob:
    request = UsageChangeRequest(
        vin=input.vehicle.vin,
        plate=input.vehicle.plate,
        owner_id_number=input.applicant.id_number,
        target_nature=target,
        reference=input.application_id,
        idempotency_key=key(step),
    )
    return await department(PermitActivities.request_usage_change, request, input.timing)


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
    return await department(PermitActivities.create_shipment, request, input.timing)


async def start_lifecycle(input: PermitApplicationInput, vehicle: VehicleRecord, permit: dict[str, str]) -> None:
    """The permit's own life, for years (workflows/permit_lifecycle.py): a child that outlives this
    application, one per permit number. One already running under the number (a store restored
    without Temporal's history) is left to run: it never holds the delivery of the documents up."""
    try:
        await workflow.start_child_workflow(
            PermitLifecycleWorkflow.run,
            lifecycle_input(input, vehicle, permit),
            id=lifecycle_workflow_id(permit["number"]),
            parent_close_policy=workflow.ParentClosePolicy.ABANDON,
            static_summary=f"Permit {permit['number']}: its life after issue",
        )
    except WorkflowAlreadyStartedError:
        workflow.logger.error(
            "permit %s: a lifecycle already runs under its number; an operator checks it", permit["number"]
        )


class UsageChangeFailed(Exception):
    """The vehicle administration reported that it could not carry out a change of usage nature."""


async def usage_change_done(
    job: UsageChangeJob,
    reports: dict[str, UsageChangeReport],
    timing: Timing,
    wait: Wait = wait_for,
    between_polls: Callable[[timedelta], Awaitable[None]] | None = None,
    poll: timedelta | None = None,
) -> UsageChangeJob:
    """Wait for a usage-change job to complete: the vehicle administration's callback (into `reports`)
    first, polling as fall-back, every `poll` (backing off). A job that failed raises UsageChangeFailed.
    `wait` waits for the callback (the workflow's own wait stops for a closing); `between_polls` runs
    before each wait with the next poll's interval (the workflow may continue as new there)."""
    first = timedelta(seconds=timing.usage_change_poll_s)
    job_id, poll = job.job_id, poll or first
    cap = max(first, timedelta(seconds=timing.poll_max_s))
    while job.status != UsageChangeState.COMPLETED:
        if job.status == UsageChangeState.FAILED:
            raise UsageChangeFailed(job.target_nature)
        if between_polls is not None:
            await between_polls(poll)
        reported = await wait(
            lambda: job_id in reports, poll, "vehicle administration callback, else poll the usage-nature change"
        )
        if reported:
            report = reports[job_id]
            job = dataclasses.replace(job, status=report.status, driving_license_no=report.driving_license_no)
            if job.status != UsageChangeState.COMPLETED:
                del reports[job_id]
        else:
            job = await department(PermitActivities.get_usage_change, JobQuery(job_id), timing)
            poll = min(poll * 2, cap)  # a job pending for weeks: a poll an hour at most
    return job


async def shipment_delivered(tracking_number: str, delivered: set[str], timing: Timing) -> None:
    """Wait until the courier delivers: its callback (into `delivered`) first, polling as fall-back."""
    poll = timedelta(seconds=timing.delivery_poll_s)
    cap = max(poll, timedelta(seconds=timing.poll_max_s))
    while tracking_number not in delivered:
        if not await wait_for(lambda: tracking_number in delivered, poll, "courier callback, else poll the shipment"):
            shipment = await department(PermitActivities.get_shipment, TrackingQuery(tracking_number), timing)
            if shipment.status == ShipmentState.DELIVERED:
                delivered.add(tracking_number)
            poll = min(poll * 2, cap)


class Projector:
    """Writes the view to the store (a local activity: its marker in the history, without the view)
    and the search attributes to Temporal's visibility, each time the application moves."""

    def __init__(self, state: ApplicationState, version: int = 0) -> None:
        self._state = state
        self.version = version  # the store keeps the projection of the highest version
        self._upserted: dict[str, Any] = {}

    async def __call__(self) -> None:
        self.version += 1
        values = search_attributes(self._state)
        changed = [key.value_set(v) for key, v in values.items() if self._upserted.get(key.name) != v]
        if changed:
            workflow.upsert_search_attributes(changed)
            self._upserted.update({key.name: v for key, v in values.items()})
        workflow.set_current_details(current_details(self._state))
        request = ProjectionRequest(self.version, view(self._state))
        try:
            await local(PermitActivities.project, request, self._state.input.timing)
        except ActivityError as err:  # the inbox lags until the next projection; the workflow holds the state
            workflow.logger.error("projection %d failed: %s", self.version, type(err.cause).__name__)
