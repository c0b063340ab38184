"""Activities of the permit application workflow.

Each activity is small and idempotent: calls that change something at a department
carry an idempotency key chosen by the workflow, and store writes are upserts. The
class receives its adapters and store; it never builds a client itself.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Awaitable, Callable
from datetime import date
from typing import Any

from temporalio import activity
from temporalio.exceptions import ApplicationError

from adapters.departments import Departments
from domain import errors
from domain.calendar import WorkingDayCalendar
from domain.eligibility import Finding, assess, load_policy, permit_valid_until
from domain.views import mask_view
from store import Store
from workflows.types import (
    AssessmentInput,
    DeadlineAnswer,
    Deadlines,
    DeadlinesQuery,
    DocumentRequest,
    InspectionReport,
    Invoice,
    JobQuery,
    ModelQuery,
    NevRange,
    PermitAnswer,
    PermitRequest,
    Policy,
    ProjectionRequest,
    PurchaseTax,
    Shipment,
    ShipmentRequest,
    SmsRequest,
    TrackingQuery,
    UsageChangeJob,
    UsageChangeRequest,
    VehicleQuery,
    VehicleRecord,
)

CalendarSource = Callable[[], Awaitable[WorkingDayCalendar]]  # the calendar as loaded now


class PermitActivities:
    def __init__(self, departments: Departments, store: Store, calendar: CalendarSource) -> None:
        self._dep = departments
        self._store = store
        self._calendar = calendar

    @activity.defn
    async def verify_ownership(self, query: VehicleQuery) -> VehicleRecord:
        """The applicant is the registered owner of the vehicle with this plate."""
        record = await self._dep.vehicle_admin.get_vehicle(query.vin)
        if record.plate != query.plate:
            raise ApplicationError(
                "the plate does not match PSB's record of this vehicle",
                type=errors.VEHICLE_UNKNOWN,
                non_retryable=True,
            )
        if record.owner_id_number != query.owner_id_number:
            raise ApplicationError(
                "the applicant is not the registered owner of this vehicle",
                type=errors.OWNER_MISMATCH,
                non_retryable=True,
            )
        return record

    @activity.defn
    async def fetch_invoice(self, query: VehicleQuery) -> Invoice:
        return await self._dep.tax.get_invoice(query.vin)

    @activity.defn
    async def fetch_purchase_tax(self, query: VehicleQuery) -> PurchaseTax:
        return await self._dep.tax.get_purchase_tax(query.vin)

    @activity.defn
    async def fetch_inspection_report(self, query: VehicleQuery) -> InspectionReport:
        return await self._dep.inspection.get_report(query.vin)

    @activity.defn
    async def fetch_nev_range(self, query: ModelQuery) -> NevRange:
        return await self._dep.miit.get_nev_range(query.model)

    @activity.defn
    async def assess_eligibility(self, request: AssessmentInput) -> list[Finding]:
        """Findings against the policy file as it stands today."""
        return assess(request.facts, load_policy(), date.fromisoformat(request.on))

    @activity.defn
    async def compute_deadlines(self, query: DeadlinesQuery) -> Deadlines:
        """Insurance and decision deadlines on the calendar as loaded now (provisional where unknown)."""
        calendar: WorkingDayCalendar = await self._calendar()
        accepted_on = date.fromisoformat(query.accepted_on)

        def deadline(days: int) -> DeadlineAnswer:
            found = calendar.add_working_days(accepted_on, days)
            return DeadlineAnswer(query.accepted_on, days, found.due_on.isoformat(), found.provisional)

        insurance = deadline(query.insurance_working_days)
        decision = deadline(query.decision_working_days)
        insurance_due = date.fromisoformat(insurance.due_on)
        decision_due = date.fromisoformat(decision.due_on)
        return Deadlines(
            insurance=insurance,
            decision=decision,
            reminder_dates={
                str(n): calendar.working_day_before(insurance_due, n).isoformat()
                for n in query.reminder_working_days
                if n < query.insurance_working_days
            },
            decision_warning_from=calendar.working_day_before(decision_due, query.warning_working_days).isoformat(),
        )

    @activity.defn
    async def send_sms(self, request: SmsRequest) -> str:
        return await self._dep.sms.send(phone=request.phone, text=request.text, idempotency_key=request.idempotency_key)

    @activity.defn
    async def issue_document(self, request: DocumentRequest) -> str:
        return await self._store.documents.save(
            application_id=request.application_id, kind=request.kind, key=request.key, data=request.data
        )

    @activity.defn
    async def request_usage_change(self, request: UsageChangeRequest) -> UsageChangeJob:
        return await self._dep.vehicle_admin.request_usage_change(
            vin=request.vin,
            plate=request.plate,
            owner_id_number=request.owner_id_number,
            target_nature=request.target_nature,
            reference=request.reference,
            idempotency_key=request.idempotency_key,
        )

    @activity.defn
    async def get_usage_change(self, query: JobQuery) -> UsageChangeJob:
        return await self._dep.vehicle_admin.get_usage_change(query.job_id)

    @activity.defn
    async def find_policy(self, query: VehicleQuery) -> Policy | None:
        return await self._dep.insurance.find_policy(vin=query.vin, plate=query.plate)

    @activity.defn
    async def allocate_permit(self, request: PermitRequest) -> PermitAnswer:
        """A permit number, sequential per city and allocated once per application."""
        valid_until = permit_valid_until(date.fromisoformat(request.vehicle_registered_on), load_policy())
        issued = await self._store.permits.allocate(
            application_id=request.application_id,
            issued_on=date.fromisoformat(request.issued_on),
            valid_until=valid_until,
        )
        return PermitAnswer(
            number=issued.number, issued_on=issued.issued_on.isoformat(), valid_until=issued.valid_until.isoformat()
        )

    @activity.defn
    async def create_shipment(self, request: ShipmentRequest) -> Shipment:
        fields = dataclasses.asdict(request)
        return await self._dep.courier.create_shipment(**fields)

    @activity.defn
    async def get_shipment(self, query: TrackingQuery) -> Shipment:
        return await self._dep.courier.get_shipment(query.tracking_number)

    @activity.defn
    async def project(self, request: ProjectionRequest) -> None:
        """Write the masked view to the PostgreSQL projection (newer versions win)."""
        await self._store.applications.project(request.version, request.view, mask_view(request.view))

    def all(self) -> list[Any]:
        return [
            self.verify_ownership,
            self.fetch_invoice,
            self.fetch_purchase_tax,
            self.fetch_inspection_report,
            self.fetch_nev_range,
            self.assess_eligibility,
            self.compute_deadlines,
            self.send_sms,
            self.issue_document,
            self.request_usage_change,
            self.get_usage_change,
            self.find_policy,
            self.allocate_permit,
            self.create_shipment,
            self.get_shipment,
            self.project,
        ]
