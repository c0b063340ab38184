"""PermitApplicationWorkflow: one ride-hailing permit application, from submission to
the documents in the owner's hands (DOMAIN.md, steps 1-9).

The workflow is the source of truth for the application's state. Clerks decide
through updates (validated before they reach history), departments report through
signals, and the view is a query. Every ending without a permit after the vehicle
administration was asked to change the usage nature reverts it and returns the originals.

Beside it: the state and its view (state.py), the statutory clocks' arithmetic (clocks.py),
what the applicant reads (texts.py), and every type that crosses the data converter (types.py).
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import functools
from collections.abc import Awaitable, Callable
from datetime import date, datetime, timedelta
from typing import Any, TypeVar

from temporalio import workflow
from temporalio.common import RetryPolicy
from temporalio.exceptions import ActivityError, ApplicationError

# Passed through: the sandbox would otherwise import (and, without bytecode on disk, compile) these
# modules again for every workflow instance it creates. All are free of state and side effects.
with workflow.unsafe.imports_passed_through():
    from activities.permit import PermitActivities
    from domain import errors
    from domain.calendar import cst_date
    from domain.eligibility import VehicleFacts
    from domain.statuses import (
        STEP_OUTCOMES,
        TERMINAL,
        USAGE_PRIVATE,
        USAGE_RIDE_HAILING,
        Actor,
        Channel,
        DeliveryMethod,
        Outcome,
        ShipmentState,
        Status,
        Step,
        UsageChangeState,
    )
    from workflows import clocks, texts
    from workflows.state import ApplicationState, current_details, search_attributes, view
    from workflows.types import (
        AssessmentInput,
        CalendarChanged,
        Deadlines,
        DeadlinesQuery,
        Decision,
        DeliveryReport,
        DocumentRequest,
        JobQuery,
        ModelQuery,
        OriginalsShipment,
        PermitApplicationInput,
        PermitApplicationResult,
        PermitRequest,
        PolicyReport,
        ProjectionRequest,
        ShipmentRequest,
        SmsRequest,
        Supplements,
        TrackingQuery,
        UsageChangeJob,
        UsageChangeReport,
        UsageChangeRequest,
        VehicleQuery,
        VehicleRecord,
        Withdrawal,
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


class _UsageChangeFailed(Exception):
    """The vehicle administration reported that it could not carry out a change of usage nature."""


class _Closed(Exception):
    """Raised inside the main path when the application ends without a permit."""

    def __init__(self, status: Status, reason: str, actor: str) -> None:
        super().__init__(reason)
        self.status, self.reason, self.actor = status, reason, actor


@workflow.defn
class PermitApplicationWorkflow:
    @workflow.init
    def __init__(self, input: PermitApplicationInput) -> None:
        self._input = input
        self._state = ApplicationState(input=input, materials=dict(input.materials))
        self._closing: _Closed | None = None
        # Compensation: what to undo if the application ends without a permit.
        self._nature_change_requested = False
        self._originals_received = False
        # Human steps.
        self._decision: Decision | None = None
        self._decisions_taken = 0
        self._decisions_settled = 0
        self._supplements: Supplements | None = None
        # Departments' callbacks and the applicant's checks.
        self._usage_reports: dict[str, UsageChangeReport] = {}
        self._insurance_checks_requested = 0
        self._insurance_checks_done = 0
        self._delivery_reports: set[str] = set()
        self._delivered = False
        # Statutory clocks (started at acceptance).
        self._clock: asyncio.Task[None] | None = None
        self._deadline_changes = 0
        self._recompute_requests = 0
        self._reminders_handled: set[str] = set()
        # Projections.
        self._version = 0
        self._search_attributes: dict[str, Any] = {}

    # ------------------------------------------------------------------ run

    @workflow.run
    async def run(self, input: PermitApplicationInput) -> PermitApplicationResult:
        workflow.logger.info("application started", extra={"request_id": input.request_id})
        self._note("submitted", Actor.APPLICANT, channel=input.channel)
        await self._project()
        try:
            await self._steps()
        except _Closed as closed:
            await self._close_without_permit(closed)
        self._state.licensing_decided = True
        if self._clock is not None:
            await self._clock
        await workflow.wait_condition(workflow.all_handlers_finished)
        permit = self._state.permit
        number = permit["number"] if permit else None
        return PermitApplicationResult(input.application_id, self._state.status.value, number)

    async def _steps(self) -> None:
        await self._enter(Status.COLLECTING_DATA)
        await self._collect_and_assess()
        await self._preliminary_review()
        if self._input.channel == Channel.ONLINE:
            await self._originals()
        await self._usage_change()
        await self._insurance()
        await self._final_review()
        await self._issue()
        await self._deliver()
        await self._enter(Status.COMPLETED)
        self._note("completed", Actor.SYSTEM)
        await self._project()

    # ------------------------------------------------------------ the steps

    async def _collect_and_assess(self) -> None:
        """Shared data from the departments (一网通办), then the eligibility rules."""
        input = self._input
        query = VehicleQuery(
            vin=input.vehicle.vin, plate=input.vehicle.plate, owner_id_number=input.applicant.id_number
        )
        try:
            vehicle = self._state.vehicle = await self._department(PermitActivities.verify_ownership, query)
            self._note("ownership_verified", Actor.VEHICLE_ADMIN)
            invoice, tax, inspection = (
                self._department(PermitActivities.fetch_invoice, query),
                self._department(PermitActivities.fetch_purchase_tax, query),
                self._department(PermitActivities.fetch_inspection_report, query),
            )
            if vehicle.fuel in ("bev", "phev"):
                nev = self._department(PermitActivities.fetch_nev_range, ModelQuery(vehicle.model))
                _, _, report, nev_range = await asyncio.gather(invoice, tax, inspection, nev)
                range_km: int | None = nev_range.range_km
            else:
                _, _, report = await asyncio.gather(invoice, tax, inspection)
                range_km = None
        except ActivityError as err:
            raise self._refusal(err) from err
        self._note("shared_data_fetched", Actor.SYSTEM, sources=["tax", "inspection"] + (["miit"] if range_km else []))
        facts = VehicleFacts(
            plate=vehicle.plate,
            seats=vehicle.seats,
            fuel=vehicle.fuel,
            usage_nature=vehicle.usage_nature,
            flags=list(vehicle.flags),
            inspection_passed=report.passed,
            inspection_valid_until=report.valid_until,
            nev_range_km=range_km,
        )
        findings = await self._store_call(
            PermitActivities.assess_eligibility, AssessmentInput(facts=facts, on=self._today().isoformat())
        )
        self._state.findings = [{"rule": f.rule, "message": f.message} for f in findings]
        if findings:
            raise _Closed(Status.REJECTED, texts.FINDINGS_SEPARATOR.join(f.message for f in findings), Actor.SYSTEM)
        self._note("eligible", Actor.SYSTEM)

    async def _preliminary_review(self) -> None:
        while True:
            await self._enter(Status.PRELIMINARY_REVIEW, awaiting=Step.PRELIMINARY_REVIEW)
            decision = await self._await_decision()
            if decision.outcome == Outcome.APPROVE:
                await self._accept(decision)
                return
            if decision.outcome == Outcome.REJECT:
                raise _Closed(Status.REJECTED, decision.reason, decision.actor)
            self._state.supplement_items = list(decision.items)
            self._note("supplement_requested", decision.actor, reason=decision.reason, items=decision.items)
            await self._enter(Status.SUPPLEMENT_REQUESTED)
            await self._sms(
                f"supplement-request-{self._decisions_taken}", texts.supplement_request(decision.items, decision.reason)
            )
            self._settle_decision()
            await self._wait(lambda: self._supplements is not None)
            assert self._supplements is not None
            self._note("supplements_submitted", Actor.APPLICANT, materials=sorted(self._supplements.materials))
            self._state.materials.update(self._supplements.materials)
            self._supplements = None
            self._state.supplement_items = []

    async def _accept(self, decision: Decision) -> None:
        """受理: start the statutory clocks and give the one-time notice (一次性告知).

        The clerk is answered, and the applicant shown the acceptance with its deadline, before the
        paperwork: a flaky SMS gateway must not hide an acceptance while its 15-working-day clock runs."""
        accepted_on = self._state.accepted_on = self._today().isoformat()
        self._state.accepted_at = workflow.now()
        self._apply_deadlines(await self._compute_deadlines())
        insurance = self._deadlines().insurance
        self._note("accepted", decision.actor, reason=decision.reason)
        self._clock = asyncio.create_task(self._run_clocks())
        online = self._input.channel == Channel.ONLINE
        await self._move_on(Status.AWAITING_ORIGINALS if online else Status.VEHICLE_NATURE_CHANGE)
        await self._document("joint_handling_confirmation", texts.joint_handling_confirmation(accepted_on))
        await self._document("insurance_one_time_notice", texts.insurance_one_time_notice(insurance))
        await self._sms("one-time-notice", texts.one_time_notice(insurance))
        self._settle_decision()

    async def _originals(self) -> None:
        """Online channel: the applicant mails the originals; a clerk confirms receipt."""
        shipped = self._state.originals_tracking is not None  # during the acceptance paperwork
        await self._enter(Status.AWAITING_ORIGINALS, awaiting=Step.ORIGINALS_RECEIVED if shipped else None)
        await self._wait(lambda: self._state.originals_tracking is not None)
        self._note("originals_shipped", Actor.APPLICANT)
        self._state.step = Step.ORIGINALS_RECEIVED
        await self._project()
        decision = await self._await_decision()
        self._originals_received = True
        self._note("originals_received", decision.actor)
        await self._move_on(Status.VEHICLE_NATURE_CHANGE)
        await self._sms("originals-received", texts.sms(texts.Sms.ORIGINALS_RECEIVED))
        self._settle_decision()

    async def _usage_change(self) -> None:
        """并联审批: the vehicle administration changes the usage nature to ride-hailing and feeds back."""
        await self._enter(Status.VEHICLE_NATURE_CHANGE)
        plate = self._input.vehicle.plate
        await self._document("vehicle_change_contact_form", texts.vehicle_change_contact_form(plate))
        try:
            job = await self._request_usage_change(USAGE_RIDE_HAILING, "usage-change")
            self._nature_change_requested = True
            job = await self._usage_change_done(job)
        except ActivityError as err:
            raise self._refusal(err) from err
        except _UsageChangeFailed:
            self._nature_change_requested = False  # nothing changed at the vehicle administration: nothing to revert
            raise _Closed(Status.REJECTED, texts.REASON_USAGE_CHANGE_FAILED, Actor.VEHICLE_ADMIN) from None
        self._note("usage_nature_changed", Actor.VEHICLE_ADMIN, target_nature=USAGE_RIDE_HAILING)
        await self._document(
            "usage_nature_feedback_form", texts.usage_nature_feedback_form(plate, job.driving_license_no)
        )

    async def _insurance(self) -> None:
        """容缺受理: wait for the carrier liability policy until the insurance deadline."""
        await self._enter(Status.AWAITING_INSURANCE)
        query = VehicleQuery(vin=self._input.vehicle.vin, plate=self._input.vehicle.plate)
        while self._state.policy is None:
            deadline = self._insurance_deadline()
            remaining = deadline - workflow.now()
            if remaining <= timedelta(0):
                await self._query_policy(query, before=deadline)
                if self._state.policy is None and deadline == self._insurance_deadline():
                    raise _Closed(Status.EXPIRED, texts.REASON_NO_POLICY, Actor.SYSTEM)
                continue
            requested = self._insurance_checks_done  # requests not yet answered count, whenever they came
            checked = await self._wait(
                functools.partial(self._insurance_news, requested, self._deadline_changes),
                timeout=min(remaining, timedelta(seconds=self._input.timing.insurance_poll_s)),
                summary=f"insurance deadline {deadline.isoformat()} or the next policy query",
            )
            if workflow.now() >= self._insurance_deadline():
                continue  # the last check, at the deadline, is made above
            if checked and self._insurance_checks_requested == requested:
                continue  # the deadline moved: the timer is set anew
            await self._query_policy(query, before=self._insurance_deadline())
        self._note("insurance_found", Actor.INSURANCE)

    def _insurance_news(self, requested: int, deadline_changes: int) -> bool:
        return self._insurance_checks_requested > requested or self._deadline_changes > deadline_changes

    async def _query_policy(self, query: VehicleQuery, before: datetime) -> None:
        requested = self._insurance_checks_requested
        policy = await self._department(PermitActivities.find_policy, query)
        if policy is not None and clocks.department_instant(policy.bought_at) < before:
            self._state.policy = policy
        self._insurance_checks_done = requested

    async def _final_review(self) -> None:
        await self._enter(Status.FINAL_REVIEW, awaiting=Step.FINAL_REVIEW)
        decision = await self._await_decision()
        self._state.licensing_decided = True
        self._refresh_warning()
        if decision.outcome == Outcome.REJECT:
            raise _Closed(Status.REJECTED, decision.reason, decision.actor)
        self._note("final_review_approved", decision.actor)
        self._settle_decision()

    async def _issue(self) -> None:
        """审核发证: a permit number, the permit document, and no way back."""
        input, vehicle = self._input, self._vehicle()
        answer = await self._store_call(
            PermitActivities.allocate_permit,
            PermitRequest(input.application_id, self._today().isoformat(), vehicle.registered_on),
        )
        permit = {"number": answer.number, "issued_on": answer.issued_on, "valid_until": answer.valid_until}
        self._state.permit = permit
        self._note("permit_issued", Actor.TRANSPORT_CLERK, number=answer.number)
        await self._document("permit", texts.permit(permit, input.vehicle.plate, vehicle.owner_name))

    async def _deliver(self) -> None:
        input = self._input
        await self._enter(Status.DELIVERING)
        if input.delivery.method == DeliveryMethod.PICKUP:
            await self._sms("pickup-ready", texts.sms(texts.Sms.PICKUP_READY))
            self._note("ready_for_pickup", Actor.SYSTEM)
            return
        shipment = await self._department(
            PermitActivities.create_shipment,
            ShipmentRequest(
                reference=input.application_id,
                recipient=input.delivery.recipient,
                phone=input.delivery.phone,
                address=input.delivery.address,
                contents=texts.CONTENTS_DOCUMENTS,
                idempotency_key=self._key("delivery"),
            ),
        )
        tracking = self._state.delivery_tracking = shipment.tracking_number
        if tracking in self._delivery_reports:
            self._delivered = True  # the callback came before the shipment's own answer
        self._note("documents_shipped", Actor.COURIER, tracking_number=tracking)
        await self._project()
        while not self._delivered:
            arrived = await self._wait(
                lambda: self._delivered,
                timeout=timedelta(seconds=input.timing.delivery_poll_s),
                summary="courier callback, else poll the shipment",
            )
            if not arrived:
                current = await self._department(PermitActivities.get_shipment, TrackingQuery(tracking))
                self._delivered = current.status == ShipmentState.DELIVERED
        self._note("documents_delivered", Actor.COURIER)

    # ------------------------------------------------------- compensation

    async def _close_without_permit(self, closed: _Closed) -> None:
        self._state.status, self._state.step = closed.status, None
        self._note(closed.status.value, closed.actor, reason=closed.reason)
        self._settle_decision()
        await self._project()
        if self._nature_change_requested:
            await self._revert_usage_nature()
        if self._originals_received:
            await self._compensate("originals_return", self._return_originals())
        if closed.status in (Status.REJECTED, Status.EXPIRED):
            notice = texts.termination_notice(closed.status, closed.reason)
            await self._compensate("termination_notice", self._document("termination_notice", notice))
        await self._compensate("closing_sms", self._sms("closed", texts.closing(closed.status, closed.reason)))
        await self._project()

    async def _compensate(self, step: str, action: Awaitable[Any]) -> None:
        """One step of closing down; a department's refusal is recorded for an operator, not fatal."""
        try:
            await action
        except ActivityError as err:
            workflow.logger.error("closing step %s failed: %s", step, type(err.cause).__name__)
            self._note("compensation_failed", Actor.SYSTEM, step=step)

    async def _revert_usage_nature(self) -> None:
        try:
            await self._usage_change_done(await self._request_usage_change(USAGE_PRIVATE, "usage-reversal"))
        except (ActivityError, _UsageChangeFailed):
            workflow.logger.error(
                "the vehicle administration did not revert the usage nature; an operator must follow up"
            )
            self._note("compensation_failed", Actor.VEHICLE_ADMIN, step="usage_nature_reversal")
            await self._project()
            return
        self._note("usage_nature_reverted", Actor.VEHICLE_ADMIN, target_nature=USAGE_PRIVATE)
        await self._project()

    async def _return_originals(self) -> None:
        input = self._input
        if not input.delivery.address:
            await self._sms("originals-pickup", texts.sms(texts.Sms.ORIGINALS_PICKUP))
            self._note("originals_ready_for_pickup", Actor.SYSTEM)
            return
        shipment = await self._department(
            PermitActivities.create_shipment,
            ShipmentRequest(
                reference=input.application_id,
                recipient=input.delivery.recipient or input.applicant.name,
                phone=input.delivery.phone or input.applicant.phone,
                address=input.delivery.address,
                contents=texts.CONTENTS_ORIGINALS_RETURNED,
                idempotency_key=self._key("return-originals"),
            ),
        )
        self._note("originals_returned", Actor.COURIER, tracking_number=shipment.tracking_number)

    # -------------------------------------------- usage-change jobs at the vehicle administration

    async def _request_usage_change(self, target: str, step: str) -> UsageChangeJob:
        input = self._input
        request = UsageChangeRequest(
            vin=input.vehicle.vin,
            plate=input.vehicle.plate,
            owner_id_number=input.applicant.id_number,
            target_nature=target,
            reference=input.application_id,
            idempotency_key=self._key(step),
        )
        return await self._department(PermitActivities.request_usage_change, request)

    async def _usage_change_done(self, job: UsageChangeJob) -> UsageChangeJob:
        """Wait for the job to complete: the vehicle administration's callback first, polling as fall-back."""
        job_id = job.job_id
        while job.status != UsageChangeState.COMPLETED:
            if job.status == UsageChangeState.FAILED:
                raise _UsageChangeFailed(job.target_nature)
            reported = await self._wait_without_closing(
                lambda: job_id in self._usage_reports,
                timedelta(seconds=self._input.timing.usage_change_poll_s),
                "vehicle administration callback, else poll the usage-nature change",
            )
            if reported:
                report = self._usage_reports[job_id]
                job = dataclasses.replace(job, status=report.status, driving_license_no=report.driving_license_no)
                if job.status != UsageChangeState.COMPLETED:
                    del self._usage_reports[job_id]
            else:
                job = await self._department(PermitActivities.get_usage_change, JobQuery(job_id))
        return job

    # ------------------------------------------------- updates, signals and the view

    @workflow.update
    async def decide(self, decision: Decision) -> dict[str, Any]:
        """A clerk's decision at the step the application waits for."""
        self._decisions_taken += 1
        ticket = self._decisions_taken
        self._decision = decision
        await workflow.wait_condition(lambda: self._decisions_settled >= ticket or self._state.status in TERMINAL)
        return self.view()

    @decide.validator
    def _validate_decide(self, decision: Decision) -> None:
        self._refuse_if_closed()
        if self._state.step is None or self._state.step != decision.step or self._decision is not None:
            raise ApplicationError(
                f"the application is not awaiting {decision.step}", type=errors.NOT_AWAITING_THIS_STEP
            )
        if decision.outcome not in STEP_OUTCOMES[Step(decision.step)]:
            raise ApplicationError(f"{decision.outcome} is not possible at {decision.step}", type="invalid_outcome")

    @workflow.update
    async def submit_supplements(self, supplements: Supplements) -> dict[str, Any]:
        self._supplements = supplements
        await workflow.wait_condition(lambda: self._state.status != Status.SUPPLEMENT_REQUESTED)
        return self.view()

    @submit_supplements.validator
    def _validate_supplements(self, supplements: Supplements) -> None:
        self._refuse_unless(Status.SUPPLEMENT_REQUESTED, self._supplements is None)

    @workflow.update
    async def report_originals_shipment(self, shipment: OriginalsShipment) -> dict[str, Any]:
        self._state.originals_tracking = shipment.tracking_number
        self._state.step = Step.ORIGINALS_RECEIVED  # the step the view now shows is the one a clerk may take
        return self.view()

    @report_originals_shipment.validator
    def _validate_originals_shipment(self, shipment: OriginalsShipment) -> None:
        self._refuse_unless(Status.AWAITING_ORIGINALS, self._state.originals_tracking is None)

    @workflow.update
    async def check_insurance(self) -> dict[str, Any]:
        """The applicant says "I have insured": query the insurance platform now."""
        self._insurance_checks_requested += 1
        ticket = self._insurance_checks_requested
        await workflow.wait_condition(
            lambda: self._insurance_checks_done >= ticket or self._state.status != Status.AWAITING_INSURANCE
        )
        return self.view()

    @check_insurance.validator
    def _validate_check_insurance(self) -> None:
        self._refuse_unless(Status.AWAITING_INSURANCE, True)

    @workflow.update
    async def withdraw(self, withdrawal: Withdrawal) -> dict[str, Any]:
        self._closing = _Closed(Status.WITHDRAWN, withdrawal.reason, Actor.APPLICANT)
        self._state.status = Status.WITHDRAWN
        return self.view()

    @withdraw.validator
    def _validate_withdraw(self, withdrawal: Withdrawal) -> None:
        self._refuse_if_closed()
        state = self._state
        if state.licensing_decided or state.permit is not None or state.status in (Status.DELIVERING, Status.COMPLETED):
            raise ApplicationError(
                "the permit has been issued; it can no longer be withdrawn", type=errors.CANNOT_WITHDRAW
            )

    @workflow.signal
    def report_usage_change(self, report: UsageChangeReport) -> None:
        self._usage_reports[report.job_id] = report

    @workflow.signal
    def report_policy(self, report: PolicyReport) -> None:
        """The insurer's callback: query the platform rather than trust the message."""
        if self._state.status == Status.AWAITING_INSURANCE:
            self._insurance_checks_requested += 1

    @workflow.signal
    def recompute_deadlines(self, change: CalendarChanged) -> None:
        """A calendar year was loaded: provisional deadlines are computed again."""
        if self._state.deadlines is not None and self._state.status not in TERMINAL:
            self._recompute_requests += 1

    @workflow.signal
    def report_delivery(self, report: DeliveryReport) -> None:
        if report.status != ShipmentState.DELIVERED:
            return
        self._delivery_reports.add(report.tracking_number)
        if report.tracking_number == self._state.delivery_tracking:
            self._delivered = True

    @workflow.query
    def view(self) -> dict[str, Any]:
        """The application as its applicant and clerks see it, before masking."""
        return view(self._state)

    # ------------------------------------------------------------- helpers

    def _refuse_if_closed(self) -> None:
        if self._state.status in TERMINAL or self._closing is not None:
            raise ApplicationError(f"the application is {self._state.status.value}", type=errors.ALREADY_CLOSED)

    def _refuse_unless(self, status: Status, ok: bool) -> None:
        self._refuse_if_closed()
        if self._state.status != status or not ok:
            raise ApplicationError(f"the application is not in {status.value}", type=errors.NOT_AWAITING_THIS_STEP)

    async def _await_decision(self) -> Decision:
        """The clerk's decision at the step set by `_enter`; validated by `_validate_decide`."""
        await self._wait(lambda: self._decision is not None)
        decision = self._decision
        assert decision is not None
        self._decision = None
        self._state.step = None
        workflow.logger.info(
            "decision %s at %s", decision.outcome, decision.step, extra={"request_id": decision.request_id}
        )
        return decision

    def _settle_decision(self) -> None:
        self._decisions_settled = self._decisions_taken

    async def _move_on(self, status: Status) -> None:
        """Answer the clerk with the status the decision leads to, and show it before the paperwork it starts."""
        if self._closing is None:
            self._state.status, self._state.step = status, None
        self._settle_decision()
        if self._closing is None:
            await self._project()

    async def _wait(
        self, condition: Callable[[], bool], timeout: timedelta | None = None, summary: str | None = None
    ) -> bool:
        """Wait for `condition`; False on timeout; raises _Closed when withdrawn meanwhile."""
        try:
            await workflow.wait_condition(
                lambda: condition() or self._closing is not None, timeout=timeout, timeout_summary=summary
            )
        except TimeoutError:
            return False
        finally:
            self._check_closing()
        return True

    async def _wait_without_closing(self, condition: Callable[[], bool], timeout: timedelta, summary: str) -> bool:
        try:
            await workflow.wait_condition(condition, timeout=timeout, timeout_summary=summary)
        except TimeoutError:
            return False
        return True

    def _check_closing(self) -> None:
        if self._closing is not None:
            closing, self._closing = self._closing, None
            raise closing

    async def _enter(self, status: Status, awaiting: Step | None = None) -> None:
        """Move to `status` (and the clerk step it awaits) in one step, then project it."""
        self._check_closing()
        self._state.status, self._state.step = status, awaiting
        await self._project()

    def _note(self, event: str, actor: str, **details: Any) -> None:
        entry: dict[str, Any] = {"at": workflow.now().isoformat(), "event": event, "actor": str(actor)}
        entry.update({k: v for k, v in details.items() if v not in (None, "", [])})
        self._state.timeline.append(entry)

    def _today(self) -> date:
        return cst_date(workflow.now())

    def _key(self, step: str) -> str:
        return f"{workflow.info().workflow_id}:{step}"

    def _vehicle(self) -> VehicleRecord:
        assert self._state.vehicle is not None, "the ownership is verified first"
        return self._state.vehicle

    def _deadlines(self) -> Deadlines:
        assert self._state.deadlines is not None, "the deadlines are computed at acceptance"
        return self._state.deadlines

    def _refusal(self, err: ActivityError) -> _Closed:
        cause = err.cause
        if isinstance(cause, ApplicationError) and cause.type in errors.BUSINESS_REFUSALS:
            reason = errors.REFUSAL_REASONS.get(cause.type or "", cause.message)
            return _Closed(Status.REJECTED, reason, Actor.SYSTEM)
        raise err

    async def _department(self, activity: Activity[Arg, Result], arg: Arg, summary: str | None = None) -> Result:
        return await workflow.execute_activity_method(
            activity,
            arg,
            start_to_close_timeout=ACTIVITY_TIMEOUT,
            retry_policy=DEPARTMENT_RETRY,
            summary=summary or ACTIVITY_SUMMARIES.get(activity.__name__),
        )

    async def _store_call(self, activity: Activity[Arg, Result], arg: Arg, summary: str | None = None) -> Result:
        return await workflow.execute_activity_method(
            activity,
            arg,
            start_to_close_timeout=ACTIVITY_TIMEOUT,
            retry_policy=STORE_RETRY,
            summary=summary or ACTIVITY_SUMMARIES.get(activity.__name__),
        )

    async def _local(self, activity: Activity[Arg, Result], arg: Arg) -> Result:
        """A store write or calendar lookup: no round trip through the server."""
        return await workflow.execute_local_activity_method(
            activity,
            arg,
            start_to_close_timeout=LOCAL_ACTIVITY_TIMEOUT,
            retry_policy=STORE_RETRY,
            summary=ACTIVITY_SUMMARIES.get(activity.__name__),
        )

    async def _sms(self, step: str, text: str) -> None:
        request = SmsRequest(self._input.applicant.phone, text, self._key(f"sms:{step}"))
        await self._department(PermitActivities.send_sms, request, summary=f"SMS to the applicant: {step}")

    async def _document(self, kind: str, data: dict[str, Any]) -> None:
        request = DocumentRequest(self._input.application_id, kind, self._key(f"document:{kind}"), data)
        document_id = await self._store_call(PermitActivities.issue_document, request, summary=f"Document: {kind}")
        self._state.documents.append({"kind": kind, "document_id": document_id})

    async def _project(self) -> None:
        """Write the view to the store (a local activity: its marker in the history, without the view)
        and the search attributes to Temporal's visibility."""
        self._version += 1
        values = search_attributes(self._state)
        changed = [key.value_set(v) for key, v in values.items() if self._search_attributes.get(key.name) != v]
        if changed:
            workflow.upsert_search_attributes(changed)
            self._search_attributes.update({key.name: v for key, v in values.items()})
        workflow.set_current_details(current_details(self._state))
        await self._local(PermitActivities.project, ProjectionRequest(self._version, view(self._state)))

    # ------------------------------------------------------ statutory clocks

    async def _compute_deadlines(self) -> Deadlines:
        timing, accepted_on = self._input.timing, self._state.accepted_on
        assert accepted_on is not None
        query = DeadlinesQuery(
            accepted_on=accepted_on,
            insurance_working_days=timing.insurance_working_days,
            decision_working_days=timing.decision_working_days,
            reminder_working_days=list(timing.reminder_working_days),
            warning_working_days=timing.warning_working_days,
        )
        return await self._local(PermitActivities.compute_deadlines, query)

    def _apply_deadlines(self, deadlines: Deadlines) -> None:
        self._state.deadlines = deadlines
        self._deadline_changes += 1
        self._refresh_warning()

    def _insurance_deadline(self) -> datetime:
        assert self._state.accepted_at is not None
        return clocks.insurance_deadline(self._deadlines(), self._input.timing, self._state.accepted_at)

    def _refresh_warning(self) -> bool:
        state = self._state
        level = clocks.warning_level(state.deadlines, workflow.now(), decided=state.licensing_decided)
        changed, state.warning = level != state.warning, level
        return changed

    def _reminder_instants(self) -> dict[str, datetime]:
        deadline = self._insurance_deadline()
        return clocks.reminder_instants(self._deadlines(), self._input.timing, deadline, self._reminders_handled)

    def _clocks_stopped(self) -> bool:
        return self._state.licensing_decided or self._state.status in TERMINAL

    def _clock_news(self, requested: int) -> bool:
        return self._recompute_requests > requested or self._clocks_stopped()

    async def _run_clocks(self) -> None:
        """Alongside the main path: reminders, the decision warning, and recomputed deadlines."""
        while not self._clocks_stopped():
            if self._refresh_warning():
                self._note(f"decision_warning_{self._state.warning.value}", Actor.SYSTEM)
                await self._project()
            await self._send_due_reminders()
            now = workflow.now()
            reminders = self._reminder_instants().values() if self._state.policy is None else ()
            next_at = clocks.next_wake_up(now, self._state.deadlines, self._state.warning, reminders)
            requested = self._recompute_requests
            with contextlib.suppress(TimeoutError):
                await workflow.wait_condition(
                    functools.partial(self._clock_news, requested),
                    timeout=(next_at - now) if next_at else None,
                    timeout_summary=f"statutory clock: next reminder or warning at {next_at.isoformat()}"
                    if next_at
                    else None,
                )
            if self._recompute_requests > requested and not self._clocks_stopped():
                await self._recompute_deadlines()

    async def _send_due_reminders(self) -> None:
        """At most one SMS per reminder; when several are due at once only the nearest is sent."""
        if self._state.policy is not None or self._state.status in TERMINAL:
            return
        due = clocks.due_reminders(self._reminder_instants(), workflow.now())
        if not due:
            return
        self._reminders_handled.update(str(n) for n in due)
        await self._sms(f"reminder-{due[0]}", texts.insurance_reminder(self._deadlines().insurance.due_on, due[0]))
        self._note("insurance_reminder_sent", Actor.SYSTEM, working_days_left=due[0])

    async def _recompute_deadlines(self) -> None:
        before = self._deadlines().insurance
        self._apply_deadlines(await self._compute_deadlines())
        after = self._deadlines().insurance
        changed = (after.due_on, after.provisional) != (before.due_on, before.provisional)
        if changed and self._state.policy is None:
            await self._sms(
                f"deadline-update-{after.due_on}", texts.sms(texts.Sms.DEADLINE_UPDATE, due_on=after.due_on)
            )
        self._note("deadlines_recomputed", Actor.SYSTEM, insurance_due_on=after.due_on, provisional=after.provisional)
        await self._project()
