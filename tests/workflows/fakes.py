"""In-memory departments and store, registered under the real activity names."""

from __future__ import annotations

import asyncio
import dataclasses
import uuid
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any

from temporalio import activity
from temporalio.exceptions import ApplicationError

from activities.permit import PermitActivities
from domain import errors
from domain.calendar import WorkingDayCalendar, official_calendar
from domain.eligibility import assess, load_policy
from domain.statuses import USAGE_PRIVATE
from workflows.permit_lifecycle_types import PermitProjection
from workflows.permit_types import RegulatorStateChange, RegulatorVehicleRecord
from workflows.texts import SMS_MAX_CHARS
from workflows.types import (
    Applicant,
    AssessmentInput,
    DeadlineAnswer,
    Deadlines,
    DeadlinesQuery,
    Delivery,
    DeliveryReport,
    DocumentRequest,
    InspectionReport,
    Invoice,
    JobQuery,
    ModelQuery,
    NevRange,
    PermitAnswer,
    PermitApplicationInput,
    PermitRequest,
    Policy,
    PolicyReport,
    ProjectionRequest,
    PurchaseTax,
    Shipment,
    ShipmentRequest,
    SmsRequest,
    Timing,
    TrackingQuery,
    UsageChangeJob,
    UsageChangeRequest,
    Vehicle,
    VehicleQuery,
    VehicleRecord,
)

OWNER_ID = "330302199001011235"
VIN = "LSVAU218XN2183294"
PLATE = "浙C12345"


def application_input(channel: str = "online", method: str = "mail", **timing: Any) -> PermitApplicationInput:
    """An application; a pickup one has no delivery address."""
    return PermitApplicationInput(
        application_id=str(uuid.uuid4()),
        applicant=Applicant(sub="eid-test", name="张三", id_number=OWNER_ID, phone="13800138000"),
        vehicle=Vehicle(plate=PLATE, vin=VIN),
        district="330382",
        channel=channel,
        delivery=Delivery(
            method=method,
            recipient="张三",
            phone="13800138000",
            address="乐清市城南街道 1 号" if method == "mail" else "",
        ),
        materials={"registration_certificate": "m1", "driving_license": "m2"},
        submitted_at=datetime.now(UTC).isoformat(),
        timing=Timing(**timing),
    )


@dataclass
class FakeWorld:
    """Departments and store in memory; every activity call is recorded."""

    vehicle: VehicleRecord = field(
        default_factory=lambda: VehicleRecord(
            plate=PLATE,
            vin=VIN,
            owner_name="张三",
            owner_id_number=OWNER_ID,
            usage_nature="非营运",
            seats=5,
            fuel="bev",
            model="BYD Qin PLUS EV",
            registered_on="2025-06-01",
            flags=[],
        )
    )
    ownership_failures: int = 0
    # The vehicle administration refuses the usage-nature change with this error type, fails its job,
    # or refuses the reversal (back to 非营运) with this error type.
    usage_change_refusal: str | None = None
    usage_change_fails: bool = False
    # The vehicle administration leaves the change to ride-hailing pending (a reversal still completes).
    usage_change_pending: bool = False
    reversal_refusal: str | None = None
    policy: Policy | None = None
    deadline_days: int | None = None
    calendar: WorkingDayCalendar = field(default_factory=official_calendar)
    calls: list[tuple[str, Any]] = field(default_factory=list)
    sms: list[SmsRequest] = field(default_factory=list)
    documents: dict[str, DocumentRequest] = field(default_factory=dict)
    jobs: dict[str, UsageChangeJob] = field(default_factory=dict)
    shipments: dict[str, ShipmentRequest] = field(default_factory=dict)
    projections: list[ProjectionRequest] = field(default_factory=list)
    permit_numbers: dict[str, str] = field(default_factory=dict)
    courier_calls_back_first: bool = False
    insurer_calls_back_on_entry: bool = False
    # The projection of this status takes two slow attempts (the first fails): longer than a workflow task may last.
    slow_projection_of: str | None = None
    # When given, the SMS gateway holds every message until this event is set.
    sms_gateway: asyncio.Event | None = None
    # Activity name → the error type it answers every call with, for good (non-retryable), until removed.
    refusals: dict[str, str] = field(default_factory=dict)
    # The SMS gateway is down (retryable) until this is set False.
    sms_unavailable: bool = False
    # The permit lifecycle: the register's rows, and the national regulator (down while `regulator_down`).
    permit_projections: list[PermitProjection] = field(default_factory=list)
    regulator_reports: list[RegulatorVehicleRecord | RegulatorStateChange] = field(default_factory=list)
    regulator_down: bool = False

    async def current_calendar(self) -> WorkingDayCalendar:
        return self.calendar

    def refuse_if_told(self, name: str) -> None:
        if name in self.refusals:
            raise ApplicationError(f"{name} refused", type=self.refusals[name], non_retryable=True)

    def names(self) -> list[str]:
        return [name for name, _ in self.calls]

    def buy_policy(self, bought_at: datetime) -> None:
        self.policy = Policy(
            policy_no="CLI-0001",
            vin=VIN,
            plate=PLATE,
            kind="carrier_liability",
            valid_from=bought_at.date().isoformat(),
            valid_until=(bought_at + timedelta(days=365)).date().isoformat(),
            bought_at=bought_at.isoformat(),
        )

    def complete_jobs(self) -> None:
        for job_id, job in list(self.jobs.items()):
            self.jobs[job_id] = dataclasses.replace(job, status="completed", driving_license_no="DL-NEW-1")

    def activities(self) -> list[Any]:
        world = self

        @activity.defn(name="verify_ownership")
        async def verify_ownership(query: VehicleQuery) -> VehicleRecord:
            world.calls.append(("verify_ownership", query))
            world.refuse_if_told("verify_ownership")
            if world.ownership_failures > 0:
                world.ownership_failures -= 1
                raise ApplicationError("vehicle administration unavailable", type=errors.DEPARTMENT_UNAVAILABLE)
            if query.owner_id_number != world.vehicle.owner_id_number:
                raise ApplicationError("not the owner", type=errors.OWNER_MISMATCH, non_retryable=True)
            return world.vehicle

        @activity.defn(name="fetch_invoice")
        async def fetch_invoice(query: VehicleQuery) -> Invoice:
            world.calls.append(("fetch_invoice", query))
            world.refuse_if_told("fetch_invoice")
            return Invoice(invoice_no="INV-1", vin=VIN, amount_yuan=150000.0, issued_on="2025-05-20")

        @activity.defn(name="fetch_purchase_tax")
        async def fetch_purchase_tax(query: VehicleQuery) -> PurchaseTax:
            world.calls.append(("fetch_purchase_tax", query))
            world.refuse_if_told("fetch_purchase_tax")
            return PurchaseTax(certificate_no="TAX-1", vin=VIN, paid_on="2025-05-25")

        @activity.defn(name="fetch_inspection_report")
        async def fetch_inspection_report(query: VehicleQuery) -> InspectionReport:
            world.calls.append(("fetch_inspection_report", query))
            world.refuse_if_told("fetch_inspection_report")
            return InspectionReport(report_no="INS-1", vin=VIN, passed=True, valid_until="2099-01-01")

        @activity.defn(name="fetch_nev_range")
        async def fetch_nev_range(query: ModelQuery) -> NevRange:
            world.calls.append(("fetch_nev_range", query))
            world.refuse_if_told("fetch_nev_range")
            return NevRange(model=query.model, range_km=420)

        @activity.defn(name="assess_eligibility")
        async def assess_eligibility(request: AssessmentInput) -> list:
            world.calls.append(("assess_eligibility", request))
            world.refuse_if_told("assess_eligibility")
            return assess(request.facts, load_policy(), date.fromisoformat(request.on))

        @activity.defn(name="compute_deadlines")
        async def compute_deadlines(query: DeadlinesQuery) -> Deadlines:
            """The real computation on `world.calendar`, or calendar days when `deadline_days` is set."""
            world.calls.append(("compute_deadlines", query))
            world.refuse_if_told("compute_deadlines")
            if world.deadline_days is None:
                return await PermitActivities(None, None, world.current_calendar).compute_deadlines(query)  # type: ignore[arg-type]
            # As on the real calendar, no statutory timer falls on the insurance deadline's instant: the
            # time-skipping server strands a run whose task cancels a timer that fired meanwhile
            # (temporalio/sdk-java#3088), as the clock's timer would be when the application expires.
            start = date.fromisoformat(query.accepted_on)

            def due(days: int) -> str:
                return (start + timedelta(days=days)).isoformat()

            return Deadlines(
                insurance=DeadlineAnswer(
                    query.accepted_on, query.insurance_working_days, due(world.deadline_days), False
                ),
                decision=DeadlineAnswer(
                    query.accepted_on, query.decision_working_days, due(world.deadline_days + 3), False
                ),
                reminder_dates={},
                decision_warning_from=due(world.deadline_days + 2),
            )

        @activity.defn(name="send_sms")
        async def send_sms(request: SmsRequest) -> str:
            world.calls.append(("send_sms", request))
            world.refuse_if_told("send_sms")
            if world.sms_gateway is not None:
                await world.sms_gateway.wait()
            if world.sms_unavailable:
                raise ApplicationError("SMS gateway answered HTTP 503", type=errors.DEPARTMENT_UNAVAILABLE)
            if len(request.text) > SMS_MAX_CHARS:  # as the sandbox's gateway (its 422)
                raise ApplicationError(
                    "SMS gateway rejected the text message with HTTP 422",
                    type=errors.DEPARTMENT_REJECTED_REQUEST,
                    non_retryable=True,
                )
            if all(s.idempotency_key != request.idempotency_key for s in world.sms):
                world.sms.append(request)
            return request.idempotency_key

        @activity.defn(name="issue_document")
        async def issue_document(request: DocumentRequest) -> str:
            world.calls.append(("issue_document", request))
            world.refuse_if_told("issue_document")
            world.documents[request.key] = request
            return str(uuid.uuid5(uuid.NAMESPACE_URL, request.key))

        @activity.defn(name="request_usage_change")
        async def request_usage_change(request: UsageChangeRequest) -> UsageChangeJob:
            world.calls.append(("request_usage_change", request))
            world.refuse_if_told("request_usage_change")
            refusal = world.reversal_refusal if request.target_nature == USAGE_PRIVATE else world.usage_change_refusal
            if refusal:
                raise ApplicationError("the vehicle administration refused", type=refusal, non_retryable=True)
            job_id = f"job-{request.idempotency_key}"
            world.jobs.setdefault(
                job_id,
                UsageChangeJob(
                    job_id=job_id,
                    vin=request.vin,
                    target_nature=request.target_nature,
                    reference=request.reference,
                    status="failed"
                    if world.usage_change_fails and request.target_nature != USAGE_PRIVATE
                    else "pending",
                    requested_at=datetime.now(UTC).isoformat(),
                ),
            )
            return world.jobs[job_id]

        @activity.defn(name="get_usage_change")
        async def get_usage_change(query: JobQuery) -> UsageChangeJob:
            """The vehicle administration has finished any job by the time it is polled."""
            world.calls.append(("get_usage_change", query))
            world.refuse_if_told("get_usage_change")
            if not (world.usage_change_pending and world.jobs[query.job_id].target_nature != USAGE_PRIVATE):
                world.complete_jobs()
            return world.jobs[query.job_id]

        @activity.defn(name="find_policy")
        async def find_policy(query: VehicleQuery) -> Policy | None:
            world.calls.append(("find_policy", query))
            world.refuse_if_told("find_policy")
            return world.policy

        @activity.defn(name="allocate_permit")
        async def allocate_permit(request: PermitRequest) -> PermitAnswer:
            world.calls.append(("allocate_permit", request))
            world.refuse_if_told("allocate_permit")
            number = world.permit_numbers.setdefault(
                request.application_id, f"3303002026{len(world.permit_numbers) + 1:06d}"
            )
            return PermitAnswer(number=number, issued_on=request.issued_on, valid_until="2033-06-01")

        @activity.defn(name="create_shipment")
        async def create_shipment(request: ShipmentRequest) -> Shipment:
            world.calls.append(("create_shipment", request))
            world.refuse_if_told("create_shipment")
            world.shipments.setdefault(request.idempotency_key, request)
            tracking_number = f"SF-{request.idempotency_key[-8:]}"
            if world.courier_calls_back_first:  # the callback overtakes this answer
                handle = activity.client().get_workflow_handle(activity.info().workflow_id)
                await handle.signal("report_delivery", DeliveryReport(tracking_number, "delivered"))
            return Shipment(tracking_number=tracking_number, reference=request.reference, status="in_transit")

        @activity.defn(name="get_shipment")
        async def get_shipment(query: TrackingQuery) -> Shipment:
            world.calls.append(("get_shipment", query))
            world.refuse_if_told("get_shipment")
            return Shipment(tracking_number=query.tracking_number, reference="", status="delivered")

        @activity.defn(name="project")
        async def project(request: ProjectionRequest) -> None:
            world.refuse_if_told("project")
            world.projections.append(request)
            if request.view["status"] == world.slow_projection_of and activity.info().attempt <= 2:
                await asyncio.sleep(4.5)  # under the local activity's 5-second timeout
                if activity.info().attempt == 1:
                    raise RuntimeError("the store fails late")
            if (
                world.insurer_calls_back_on_entry
                and request.view["status"] == "awaiting_insurance"
                and world.policy is None
            ):
                # the policy is bought and the insurer calls back while the status is being projected
                world.buy_policy(activity.info().current_attempt_scheduled_time)
                handle = activity.client().get_workflow_handle(activity.info().workflow_id)
                await handle.signal("report_policy", PolicyReport(policy_no="CLI-0001"))

        return [
            verify_ownership,
            fetch_invoice,
            fetch_purchase_tax,
            fetch_inspection_report,
            fetch_nev_range,
            assess_eligibility,
            compute_deadlines,
            send_sms,
            issue_document,
            request_usage_change,
            get_usage_change,
            find_policy,
            allocate_permit,
            create_shipment,
            get_shipment,
            project,
            *world.lifecycle_activities(),
        ]

    def lifecycle_activities(self) -> list[Any]:
        world = self

        @activity.defn(name="project_permit")
        async def project_permit(request: PermitProjection) -> None:
            world.permit_projections.append(request)

        async def report(request: RegulatorVehicleRecord | RegulatorStateChange) -> None:
            world.calls.append(("regulator", request))
            if world.regulator_down:
                raise ApplicationError("regulator unavailable", type=errors.DEPARTMENT_UNAVAILABLE)
            if request not in world.regulator_reports:  # whole-record PUTs: a retry changes nothing
                world.regulator_reports.append(request)

        @activity.defn(name="report_vehicle")
        async def report_vehicle(record: RegulatorVehicleRecord) -> None:
            await report(record)

        @activity.defn(name="report_state")
        async def report_state(change: RegulatorStateChange) -> None:
            await report(change)

        return [project_permit, report_vehicle, report_state]
