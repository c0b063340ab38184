"""PermitApplicationWorkflow: one ride-hailing permit application, from submission to
the documents in the owner's hands (DOMAIN.md, steps 1-9).

The workflow is the source of truth for the application's state. Clerks decide
through updates (validated before they reach history), departments report through
signals, and the view is a query. Every ending without a permit after the PSB was
asked to change the usage nature reverts it and returns the originals.
"""

from __future__ import annotations

import asyncio
import dataclasses
from collections.abc import Awaitable, Callable
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from temporalio import workflow
from temporalio.common import RetryPolicy
from temporalio.exceptions import ActivityError, ApplicationError

# Passed through: the sandbox would otherwise import (and, without bytecode on disk, compile) these
# modules again for every workflow instance it creates. All are free of state and side effects.
with workflow.unsafe.imports_passed_through():
    from activities.permit import PermitActivities
    from domain import errors
    from domain.calendar import CST, cst_date, end_of_day_cst
    from domain.eligibility import VehicleFacts
    from domain.masking import mask_name, mask_plate
    from domain.statuses import (
        STEP_OUTCOMES,
        TERMINAL,
        USAGE_PRIVATE,
        USAGE_RIDE_HAILING,
        Channel,
        DeliveryMethod,
        Outcome,
        Status,
        Step,
    )
    from workflows import search_attributes as sa
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
        Policy,
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
    "verify_ownership": "PSB: the applicant is the registered owner",
    "fetch_invoice": "Tax: vehicle purchase invoice",
    "fetch_purchase_tax": "Tax: purchase tax certificate",
    "fetch_inspection_report": "Inspection station: performance report",
    "fetch_nev_range": "MIIT: NEV range catalogue",
    "assess_eligibility": "Eligibility under the local policy",
    "compute_deadlines": "Working-day deadlines",
    "send_sms": "SMS to the applicant",
    "issue_document": "Document",
    "request_usage_change": "PSB: request the usage-nature change",
    "get_usage_change": "PSB: poll the usage-nature change",
    "find_policy": "Insurance platform: carrier liability policy",
    "allocate_permit": "Permit number",
    "create_shipment": "Courier: shipment",
    "get_shipment": "Courier: poll the shipment",
    "project": "Projection for the clerks' inbox",
}

PENDING_BY_STATUS: dict[str, tuple[str, str]] = {
    Status.SUBMITTED: ("collect_shared_data", "system"),
    Status.COLLECTING_DATA: ("collect_shared_data", "system"),
    Status.PRELIMINARY_REVIEW: ("preliminary_review", "transport_clerk"),
    Status.SUPPLEMENT_REQUESTED: ("submit_supplements", "applicant"),
    Status.VEHICLE_NATURE_CHANGE: ("change_usage_nature", "vehicle_admin"),
    Status.AWAITING_INSURANCE: ("buy_carrier_liability_insurance", "applicant"),
    Status.FINAL_REVIEW: ("final_review", "transport_clerk"),
    Status.DELIVERING: ("deliver_documents", "courier"),
}


def _start_of_day_cst(day: str) -> datetime:
    return datetime.combine(date.fromisoformat(day), time(0), tzinfo=CST)


def _instant(text: str) -> datetime:
    """An ISO timestamp from a department; naive ones are taken as UTC."""
    parsed = datetime.fromisoformat(text)
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


class _UsageChangeFailed(Exception):
    """PSB reported that it could not carry out a change of usage nature."""


class _Closed(Exception):
    """Raised inside the main path when the application ends without a permit."""

    def __init__(self, status: Status, reason: str, actor: str) -> None:
        super().__init__(reason)
        self.status, self.reason, self.actor = status, reason, actor


@workflow.defn
class PermitApplicationWorkflow:
    def __init__(self) -> None:
        self._input: PermitApplicationInput | None = None
        self._status: Status = Status.SUBMITTED
        self._closing: _Closed | None = None
        self._timeline: list[dict[str, Any]] = []
        self._documents: list[dict[str, str]] = []
        self._findings: list[dict[str, str]] = []
        self._accepted_on: str | None = None
        self._accepted_at: datetime | None = None
        self._permit: dict[str, str] | None = None
        self._version = 0
        self._vehicle: VehicleRecord | None = None
        # Human steps.
        self._awaiting_step: Step | None = None
        self._decision: Decision | None = None
        self._decisions_taken = 0
        self._decisions_settled = 0
        self._supplement_items: list[str] = []
        self._supplements: Supplements | None = None
        self._materials: dict[str, str] = {}
        self._originals_tracking: str | None = None
        self._originals_received = False
        # Departments.
        self._usage_jobs: dict[str, UsageChangeJob] = {}
        self._usage_reports: dict[str, UsageChangeReport] = {}
        self._nature_change_requested = False
        self._policy: Policy | None = None
        self._insurance_checks_requested = 0
        self._insurance_checks_done = 0
        self._delivery_tracking: str | None = None
        self._delivered = False
        self._delivery_reports: set[str] = set()
        # Statutory clocks (started at acceptance).
        self._clock: asyncio.Task[None] | None = None
        self._licensing_decided = False
        self._deadline_info: Deadlines | None = None
        self._deadline_changes = 0
        self._recompute_requests = 0
        self._reminders_handled: set[str] = set()
        self._warning = "none"
        self._search_attributes: dict[str, Any] = {}

    # ------------------------------------------------------------------ run

    @workflow.run
    async def run(self, input: PermitApplicationInput) -> PermitApplicationResult:
        self._input = input
        self._materials = dict(input.materials)
        workflow.logger.info("application started", extra={"request_id": input.request_id})
        self._note("submitted", "applicant", channel=input.channel)
        await self._project()
        try:
            await self._handle(input)
        except _Closed as closed:
            await self._close_without_permit(closed)
        self._licensing_decided = True
        if self._clock is not None:
            await self._clock
        await workflow.wait_condition(workflow.all_handlers_finished)
        return PermitApplicationResult(
            application_id=input.application_id,
            status=self._status.value,
            permit_number=self._permit["number"] if self._permit else None,
        )

    async def _handle(self, input: PermitApplicationInput) -> None:
        await self._enter(Status.COLLECTING_DATA)
        await self._collect_and_assess(input)
        await self._preliminary_review()
        if input.channel == Channel.ONLINE:
            await self._originals()
        await self._change_usage_nature(input)
        await self._insurance(input)
        await self._final_review()
        await self._issue(input)
        await self._deliver(input)
        await self._enter(Status.COMPLETED)
        self._note("completed", "system")
        await self._project()

    # ------------------------------------------------------------ the steps

    async def _collect_and_assess(self, input: PermitApplicationInput) -> None:
        vin, plate = input.vehicle.vin, input.vehicle.plate
        query = VehicleQuery(vin=vin, plate=plate, owner_id_number=input.applicant.id_number)
        try:
            vehicle = await self._department(PermitActivities.verify_ownership, query)
            self._vehicle = vehicle
            self._note("ownership_verified", "vehicle_admin")
            fetches = [
                self._department(PermitActivities.fetch_invoice, query),
                self._department(PermitActivities.fetch_purchase_tax, query),
                self._department(PermitActivities.fetch_inspection_report, query),
            ]
            if vehicle.fuel in ("bev", "phev"):
                fetches.append(self._department(PermitActivities.fetch_nev_range, ModelQuery(vehicle.model)))
            results = await asyncio.gather(*fetches)
        except ActivityError as err:
            raise self._refusal(err) from err
        inspection = results[2]
        nev_range = results[3].range_km if len(results) > 3 else None
        self._note("shared_data_fetched", "system", sources=["tax", "inspection"] + (["miit"] if nev_range else []))
        facts = VehicleFacts(
            plate=vehicle.plate,
            seats=vehicle.seats,
            fuel=vehicle.fuel,
            usage_nature=vehicle.usage_nature,
            flags=list(vehicle.flags),
            inspection_passed=inspection.passed,
            inspection_valid_until=inspection.valid_until,
            nev_range_km=nev_range,
        )
        findings = await self._store_call(
            PermitActivities.assess_eligibility, AssessmentInput(facts=facts, on=self._today().isoformat())
        )
        self._findings = [{"rule": f.rule, "message": f.message} for f in findings]
        if findings:
            raise _Closed(Status.REJECTED, "；".join(f.message for f in findings), "system")
        self._note("eligible", "system")

    async def _preliminary_review(self) -> None:
        while True:
            await self._enter(Status.PRELIMINARY_REVIEW, awaiting=Step.PRELIMINARY_REVIEW)
            decision = await self._await_decision()
            if decision.outcome == Outcome.APPROVE:
                await self._accept(decision)
                return
            if decision.outcome == Outcome.REJECT:
                raise _Closed(Status.REJECTED, decision.reason, decision.actor)
            self._supplement_items = list(decision.items)
            self._note("supplement_requested", decision.actor, reason=decision.reason, items=decision.items)
            await self._enter(Status.SUPPLEMENT_REQUESTED)
            await self._sms(
                "supplement-request-%d" % self._decisions_taken,
                "您的网约车运输证联办申请需一次性补正材料：%s。请登录浙里办提交。"
                % "、".join(decision.items or [decision.reason]),
            )
            self._settle_decision()
            await self._wait(lambda: self._supplements is not None)
            assert self._supplements is not None
            self._note("supplements_submitted", "applicant", materials=sorted(self._supplements.materials))
            self._materials.update(self._supplements.materials)
            self._supplements = None
            self._supplement_items = []

    async def _accept(self, decision: Decision) -> None:
        """受理: start the statutory clocks and give the one-time notice (一次性告知)."""
        self._accepted_on = self._today().isoformat()
        self._accepted_at = workflow.now()
        self._apply_deadlines(await self._compute_deadlines())
        insurance = self._deadline_info.insurance if self._deadline_info else None
        assert insurance is not None
        self._note("accepted", decision.actor, reason=decision.reason)
        self._clock = asyncio.create_task(self._run_clocks())
        assert self._input is not None
        self._move_on(
            Status.AWAITING_ORIGINALS if self._input.channel == Channel.ONLINE else Status.VEHICLE_NATURE_CHANGE
        )
        await self._project_decision()
        await self._document("joint_handling_confirmation", {"accepted_on": self._accepted_on})
        await self._document(
            "insurance_one_time_notice",
            {
                "missing": "承运人责任险保单",
                "due_on": insurance.due_on,
                "provisional": insurance.provisional,
                "consequence": "逾期未投保的，申请终止，车辆使用性质恢复为非营运，原件退回。",
            },
        )
        await self._sms(
            "one-time-notice",
            "您的网约车运输证联办申请已受理。容缺材料：承运人责任险。请于%s（%s）24时前投保，逾期申请终止并恢复车辆使用性质。"
            % (insurance.due_on, "暂定，以国务院公布的节假日安排为准" if insurance.provisional else "工作日计算"),
        )
        self._settle_decision()

    async def _originals(self) -> None:
        """Online channel: the applicant mails the originals; a clerk confirms receipt."""
        shipped = self._originals_tracking is not None  # during the acceptance paperwork
        await self._enter(Status.AWAITING_ORIGINALS, awaiting=Step.ORIGINALS_RECEIVED if shipped else None)
        await self._wait(lambda: self._originals_tracking is not None)
        self._note("originals_shipped", "applicant")
        self._awaiting_step = Step.ORIGINALS_RECEIVED
        await self._project()
        decision = await self._await_decision()
        self._originals_received = True
        self._note("originals_received", decision.actor)
        self._move_on(Status.VEHICLE_NATURE_CHANGE)
        await self._project_decision()
        await self._sms(
            "originals-received", "您邮寄的机动车登记证书、行驶证原件已收到，车辆使用性质变更已提交公安车管所。"
        )
        self._settle_decision()

    async def _change_usage_nature(self, input: PermitApplicationInput) -> None:
        """并联审批: PSB changes the usage nature to ride-hailing and feeds back."""
        await self._enter(Status.VEHICLE_NATURE_CHANGE)
        await self._document(
            "vehicle_change_contact_form", {"target_nature": USAGE_RIDE_HAILING, **self._vehicle_fields()}
        )
        try:
            job = await self._usage_change(input, USAGE_RIDE_HAILING, "usage-change")
        except ActivityError as err:
            raise self._refusal(err) from err
        except _UsageChangeFailed:
            raise _Closed(Status.REJECTED, "公安车管所未能变更车辆使用性质", "vehicle_admin") from None
        self._note("usage_nature_changed", "vehicle_admin", target_nature=USAGE_RIDE_HAILING)
        await self._document(
            "usage_nature_feedback_form",
            {
                "usage_nature": USAGE_RIDE_HAILING,
                "driving_license_no": job.driving_license_no or "",
                **self._vehicle_fields(),
            },
        )

    async def _insurance(self, input: PermitApplicationInput) -> None:
        """容缺受理: wait for the carrier liability policy until 24:00 CST of the due date."""
        await self._enter(Status.AWAITING_INSURANCE)
        query = VehicleQuery(vin=input.vehicle.vin, plate=input.vehicle.plate)
        while self._policy is None:
            deadline = self._insurance_deadline()
            remaining = deadline - workflow.now()
            if remaining <= timedelta(0):
                await self._query_policy(query, before=deadline)
                if self._policy is None and deadline == self._insurance_deadline():
                    raise _Closed(Status.EXPIRED, "期限届满仍未查到承运人责任险保单", "system")
                continue
            changes = self._deadline_changes
            requested = self._insurance_checks_done  # requests not yet answered count, whenever they came
            checked = await self._wait(
                lambda: self._insurance_checks_requested > requested or self._deadline_changes > changes,
                timeout=min(remaining, timedelta(seconds=input.timing.insurance_poll_s)),
                summary=f"insurance deadline {deadline.isoformat()} or the next policy query",
            )
            if workflow.now() >= self._insurance_deadline():
                continue  # the last check, at the deadline, is made above
            if checked and self._insurance_checks_requested == requested:
                continue  # the deadline moved: the timer is set anew
            await self._query_policy(query, before=self._insurance_deadline())
        self._note("insurance_found", "insurance")

    async def _query_policy(self, query: VehicleQuery, before: datetime) -> None:
        requested = self._insurance_checks_requested
        policy = await self._department(PermitActivities.find_policy, query)
        if policy is not None and _instant(policy.bought_at) < before:
            self._policy = policy
        self._insurance_checks_done = requested

    async def _final_review(self) -> None:
        await self._enter(Status.FINAL_REVIEW, awaiting=Step.FINAL_REVIEW)
        decision = await self._await_decision()
        self._licensing_decided = True
        self._refresh_warning()
        if decision.outcome == Outcome.REJECT:
            raise _Closed(Status.REJECTED, decision.reason, decision.actor)
        self._note("final_review_approved", decision.actor)
        self._settle_decision()

    async def _issue(self, input: PermitApplicationInput) -> None:
        """审核发证: a permit number, the permit document, and no way back."""
        assert self._vehicle is not None
        permit = await self._store_call(
            PermitActivities.allocate_permit,
            PermitRequest(input.application_id, self._today().isoformat(), self._vehicle.registered_on),
        )
        self._permit = {"number": permit.number, "issued_on": permit.issued_on, "valid_until": permit.valid_until}
        self._note("permit_issued", "transport_clerk", number=permit.number)
        await self._document("permit", {**self._permit, **self._vehicle_fields(owner=True)})

    async def _deliver(self, input: PermitApplicationInput) -> None:
        await self._enter(Status.DELIVERING)
        if input.delivery.method == DeliveryMethod.PICKUP:
            await self._sms("pickup-ready", "您的网约车运输证及新行驶证已办结，请携带身份证到综合窗口领取。")
            self._note("ready_for_pickup", "system")
            return
        shipment = await self._department(
            PermitActivities.create_shipment,
            ShipmentRequest(
                reference=input.application_id,
                recipient=input.delivery.recipient,
                phone=input.delivery.phone,
                address=input.delivery.address,
                contents="网约车运输证、机动车行驶证、机动车登记证书",
                idempotency_key=self._key("delivery"),
            ),
        )
        self._delivery_tracking = shipment.tracking_number
        if shipment.tracking_number in self._delivery_reports:
            self._delivered = True  # the callback came before the shipment's own answer
        self._note("documents_shipped", "courier", tracking_number=shipment.tracking_number)
        await self._project()
        while not self._delivered:
            arrived = await self._wait(
                lambda: self._delivered,
                timeout=timedelta(seconds=input.timing.delivery_poll_s),
                summary="courier callback, else poll the shipment",
            )
            if not arrived:
                current = await self._department(PermitActivities.get_shipment, TrackingQuery(shipment.tracking_number))
                self._delivered = current.status == "delivered"
        self._note("documents_delivered", "courier")

    # ------------------------------------------------------- compensation

    async def _close_without_permit(self, closed: _Closed) -> None:
        assert self._input is not None
        self._status = closed.status
        self._awaiting_step = None
        self._note(closed.status.value, closed.actor, reason=closed.reason)
        self._settle_decision()
        await self._project()
        if self._nature_change_requested:
            await self._revert_usage_nature(self._input)
        if self._originals_received:
            await self._compensate("originals_return", self._return_originals(self._input))
        if closed.status in (Status.REJECTED, Status.EXPIRED):
            await self._compensate(
                "termination_notice",
                self._document("termination_notice", {"status": closed.status.value, "reason": closed.reason}),
            )
        await self._compensate(
            "closing_sms",
            self._sms(
                "closed",
                {
                    Status.REJECTED: "您的网约车运输证联办申请未通过：%s。",
                    Status.EXPIRED: "您的网约车运输证联办申请因逾期未投保承运人责任险已终止（%s），车辆使用性质将恢复为非营运。",
                    Status.WITHDRAWN: "您的网约车运输证联办申请已撤回（%s）。",
                }[closed.status]
                % (closed.reason or "—"),
            ),
        )
        await self._project()

    async def _compensate(self, step: str, action: Awaitable[Any]) -> None:
        """One step of closing down; a department's refusal is recorded for an operator, not fatal."""
        try:
            await action
        except ActivityError as err:
            workflow.logger.error("closing step %s failed: %s", step, type(err.cause).__name__)
            self._note("compensation_failed", "system", step=step)

    async def _revert_usage_nature(self, input: PermitApplicationInput) -> None:
        try:
            await self._usage_change(input, USAGE_PRIVATE, "usage-reversal")
        except (ActivityError, _UsageChangeFailed):
            workflow.logger.error("PSB did not revert the usage nature; an operator must follow up")
            self._note("compensation_failed", "vehicle_admin", step="usage_nature_reversal")
            await self._project()
            return
        self._note("usage_nature_reverted", "vehicle_admin", target_nature=USAGE_PRIVATE)
        await self._project()

    async def _return_originals(self, input: PermitApplicationInput) -> None:
        if not input.delivery.address:
            await self._sms("originals-pickup", "您的机动车登记证书、行驶证原件请携带身份证到综合窗口领取。")
            self._note("originals_ready_for_pickup", "system")
            return
        shipment = await self._department(
            PermitActivities.create_shipment,
            ShipmentRequest(
                reference=input.application_id,
                recipient=input.delivery.recipient or input.applicant.name,
                phone=input.delivery.phone or input.applicant.phone,
                address=input.delivery.address,
                contents="机动车登记证书、机动车行驶证（原件退回）",
                idempotency_key=self._key("return-originals"),
            ),
        )
        self._note("originals_returned", "courier", tracking_number=shipment.tracking_number)

    # ------------------------------------------------------ PSB job helper

    async def _usage_change(self, input: PermitApplicationInput, target: str, step: str) -> UsageChangeJob:
        """Request a change of usage nature and wait for it: callback first, polling as fall-back."""
        job = await self._department(
            PermitActivities.request_usage_change,
            UsageChangeRequest(
                vin=input.vehicle.vin,
                plate=input.vehicle.plate,
                owner_id_number=input.applicant.id_number,
                target_nature=target,
                reference=input.application_id,
                idempotency_key=self._key(step),
            ),
        )
        self._usage_jobs[job.job_id] = job
        if target == USAGE_RIDE_HAILING:
            self._nature_change_requested = True
        while job.status != "completed":
            if job.status == "failed":
                if target == USAGE_RIDE_HAILING:
                    self._nature_change_requested = False  # nothing changed at PSB: nothing to revert
                raise _UsageChangeFailed(target)
            reported = await self._wait_without_closing(
                lambda: job.job_id in self._usage_reports,
                timedelta(seconds=input.timing.usage_change_poll_s),
                "PSB callback, else poll the usage-nature change",
            )
            if reported:
                report = self._usage_reports[job.job_id]
                job = dataclasses.replace(job, status=report.status, driving_license_no=report.driving_license_no)
                if job.status != "completed":
                    del self._usage_reports[job.job_id]
            else:
                job = await self._department(PermitActivities.get_usage_change, JobQuery(job.job_id))
        self._usage_jobs[job.job_id] = job
        return job

    # ------------------------------------------------- updates and signals

    @workflow.update
    async def decide(self, decision: Decision) -> dict[str, Any]:
        """A clerk's decision at the step the application waits for."""
        self._decisions_taken += 1
        ticket = self._decisions_taken
        self._decision = decision
        await workflow.wait_condition(lambda: self._decisions_settled >= ticket or self._status in TERMINAL)
        return self.view()

    @decide.validator
    def _validate_decide(self, decision: Decision) -> None:
        self._refuse_if_closed()
        if self._awaiting_step is None or self._awaiting_step != decision.step or self._decision is not None:
            raise ApplicationError(
                f"the application is not awaiting {decision.step}", type=errors.NOT_AWAITING_THIS_STEP
            )
        if decision.outcome not in STEP_OUTCOMES[Step(decision.step)]:
            raise ApplicationError(f"{decision.outcome} is not possible at {decision.step}", type="invalid_outcome")

    @workflow.update
    async def submit_supplements(self, supplements: Supplements) -> dict[str, Any]:
        self._supplements = supplements
        await workflow.wait_condition(lambda: self._status != Status.SUPPLEMENT_REQUESTED)
        return self.view()

    @submit_supplements.validator
    def _validate_supplements(self, supplements: Supplements) -> None:
        self._refuse_unless(Status.SUPPLEMENT_REQUESTED, self._supplements is None)

    @workflow.update
    async def report_originals_shipment(self, shipment: OriginalsShipment) -> dict[str, Any]:
        self._originals_tracking = shipment.tracking_number
        self._awaiting_step = Step.ORIGINALS_RECEIVED  # the step the view now shows is the one a clerk may take
        return self.view()

    @report_originals_shipment.validator
    def _validate_originals_shipment(self, shipment: OriginalsShipment) -> None:
        self._refuse_unless(Status.AWAITING_ORIGINALS, self._originals_tracking is None)

    @workflow.update
    async def check_insurance(self) -> dict[str, Any]:
        """The applicant says "I have insured": query the insurance platform now."""
        self._insurance_checks_requested += 1
        ticket = self._insurance_checks_requested
        await workflow.wait_condition(
            lambda: self._insurance_checks_done >= ticket or self._status != Status.AWAITING_INSURANCE
        )
        return self.view()

    @check_insurance.validator
    def _validate_check_insurance(self) -> None:
        self._refuse_unless(Status.AWAITING_INSURANCE, True)

    @workflow.update
    async def withdraw(self, withdrawal: Withdrawal) -> dict[str, Any]:
        self._closing = _Closed(Status.WITHDRAWN, withdrawal.reason, "applicant")
        self._status = Status.WITHDRAWN
        return self.view()

    @withdraw.validator
    def _validate_withdraw(self, withdrawal: Withdrawal) -> None:
        self._refuse_if_closed()
        if self._licensing_decided or self._permit is not None or self._status in (Status.DELIVERING, Status.COMPLETED):
            raise ApplicationError(
                "the permit has been issued; it can no longer be withdrawn", type=errors.CANNOT_WITHDRAW
            )

    @workflow.signal
    def report_usage_change(self, report: UsageChangeReport) -> None:
        self._usage_reports[report.job_id] = report

    @workflow.signal
    def report_policy(self, report: PolicyReport) -> None:
        """The insurer's callback: query the platform rather than trust the message."""
        if self._status == Status.AWAITING_INSURANCE:
            self._insurance_checks_requested += 1

    @workflow.signal
    def recompute_deadlines(self, change: CalendarChanged) -> None:
        """A calendar year was loaded: provisional deadlines are computed again."""
        if self._deadline_info is not None and self._status not in TERMINAL:
            self._recompute_requests += 1

    @workflow.signal
    def report_delivery(self, report: DeliveryReport) -> None:
        if report.status == "delivered":
            self._delivery_reports.add(report.tracking_number)
        if report.tracking_number == self._delivery_tracking and report.status == "delivered":
            self._delivered = True

    @workflow.query
    def view(self) -> dict[str, Any]:
        """The application as its applicant and clerks see it, before masking."""
        assert self._input is not None
        input = self._input
        pending: list[dict[str, Any]] = []
        if self._status not in TERMINAL:
            if self._status == Status.AWAITING_ORIGINALS:
                pending.append(
                    {"action": "originals_received", "actor": "transport_clerk"}
                    if self._originals_tracking
                    else {"action": "ship_originals", "actor": "applicant"}
                )
            elif self._status in PENDING_BY_STATUS:
                action, actor = PENDING_BY_STATUS[self._status]
                item: dict[str, Any] = {"action": action, "actor": actor}
                if self._status == Status.SUPPLEMENT_REQUESTED:
                    item["items"] = list(self._supplement_items)
                pending.append(item)
        return {
            "application_id": input.application_id,
            "status": self._status.value,
            "step": self._awaiting_step.value if self._awaiting_step else None,
            "district": input.district,
            "channel": input.channel,
            "submitted_at": input.submitted_at,
            "accepted_on": self._accepted_on,
            "vehicle": {"plate": input.vehicle.plate, "vin": input.vehicle.vin},
            "applicant": {
                "name": input.applicant.name,
                "id_number": input.applicant.id_number,
                "phone": input.applicant.phone,
            },
            "delivery": {"method": input.delivery.method, "tracking_number": self._delivery_tracking},
            "materials": [{"kind": kind, "material_id": mid} for kind, mid in sorted(self._materials.items())],
            "deadlines": self._deadlines_view(),
            "findings": list(self._findings),
            "pending": pending,
            "documents": list(self._documents),
            "timeline": list(self._timeline),
            "permit": dict(self._permit) if self._permit else None,
        }

    def _deadlines_view(self) -> dict[str, Any]:
        info = self._deadline_info
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
                "warning": self._warning,
            },
        }

    # ------------------------------------------------------------- helpers

    def _refuse_if_closed(self) -> None:
        if self._status in TERMINAL or self._closing is not None:
            raise ApplicationError(f"the application is {self._status.value}", type=errors.ALREADY_CLOSED)

    def _refuse_unless(self, status: Status, ok: bool) -> None:
        self._refuse_if_closed()
        if self._status != status or not ok:
            raise ApplicationError(f"the application is not in {status.value}", type=errors.NOT_AWAITING_THIS_STEP)

    async def _await_decision(self) -> Decision:
        """The clerk's decision at the step set by `_enter`; validated by `_validate_decide`."""
        await self._wait(lambda: self._decision is not None)
        decision = self._decision
        assert decision is not None
        self._decision = None
        self._awaiting_step = None
        workflow.logger.info(
            "decision %s at %s", decision.outcome, decision.step, extra={"request_id": decision.request_id}
        )
        return decision

    def _settle_decision(self) -> None:
        self._decisions_settled = self._decisions_taken

    def _move_on(self, status: Status) -> None:
        """Answer the clerk with the status the decision leads to (`_project_decision` shows it)."""
        if self._closing is None:
            self._status, self._awaiting_step = status, None
        self._settle_decision()

    async def _project_decision(self) -> None:
        """Show the applicant where a decision has led before the paperwork it starts (a flaky SMS
        gateway must not hide an acceptance while its 15-working-day clock runs)."""
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
        self._status = status
        self._awaiting_step = awaiting
        await self._project()

    def _note(self, event: str, actor: str, **details: Any) -> None:
        entry: dict[str, Any] = {"at": workflow.now().isoformat(), "event": event, "actor": actor}
        entry.update({k: v for k, v in details.items() if v not in (None, "", [])})
        self._timeline.append(entry)

    def _today(self) -> date:
        return cst_date(workflow.now())

    def _key(self, step: str) -> str:
        return f"{workflow.info().workflow_id}:{step}"

    def _refusal(self, err: ActivityError) -> _Closed:
        cause = err.cause
        if isinstance(cause, ApplicationError) and cause.type in errors.BUSINESS_REFUSALS:
            return _Closed(Status.REJECTED, errors.REFUSAL_REASONS.get(cause.type or "", cause.message), "system")
        raise err

    async def _department(self, activity: Any, arg: Any, summary: str | None = None) -> Any:
        return await workflow.execute_activity_method(
            activity,
            arg,
            start_to_close_timeout=ACTIVITY_TIMEOUT,
            retry_policy=DEPARTMENT_RETRY,
            summary=summary or ACTIVITY_SUMMARIES.get(activity.__name__),
        )

    async def _store_call(self, activity: Any, arg: Any, summary: str | None = None) -> Any:
        return await workflow.execute_activity_method(
            activity,
            arg,
            start_to_close_timeout=ACTIVITY_TIMEOUT,
            retry_policy=STORE_RETRY,
            summary=summary or ACTIVITY_SUMMARIES.get(activity.__name__),
        )

    async def _sms(self, step: str, text: str) -> None:
        assert self._input is not None
        await self._department(
            PermitActivities.send_sms,
            SmsRequest(self._input.applicant.phone, text, self._key(f"sms:{step}")),
            summary=f"SMS to the applicant: {step}",
        )

    def _vehicle_fields(self, *, owner: bool = False) -> dict[str, str]:
        """The plate (and the registered owner) as documents show them: masked, documents being stored in clear."""
        assert self._input is not None and self._vehicle is not None
        fields = {"plate": mask_plate(self._input.vehicle.plate)}
        if owner:
            fields["owner"] = mask_name(self._vehicle.owner_name)
        return fields

    async def _document(self, kind: str, data: dict[str, Any]) -> None:
        assert self._input is not None
        document_id = await self._store_call(
            PermitActivities.issue_document,
            DocumentRequest(self._input.application_id, kind, self._key(f"document:{kind}"), data),
            summary=f"Document: {kind}",
        )
        self._documents.append({"kind": kind, "document_id": document_id})

    async def _project(self) -> None:
        """Write the view to the store and the search attributes to Temporal's visibility."""
        self._version += 1
        self._upsert_search_attributes()
        workflow.set_current_details(self._current_details())
        request = ProjectionRequest(self._version, self.view())
        await workflow.execute_local_activity_method(
            PermitActivities.project,
            request,
            start_to_close_timeout=LOCAL_ACTIVITY_TIMEOUT,
            retry_policy=STORE_RETRY,
            summary=ACTIVITY_SUMMARIES["project"],
        )

    def _current_details(self) -> str:
        """What an operator sees in the Web UI: status, what it waits for, the due dates (no personal data)."""
        lines = [f"**Status:** {self._status.value}"]
        pending = self.view()["pending"]
        if pending:
            lines.append(f"**Waiting for:** {pending[0]['action']} ({pending[0]['actor']})")
        if self._deadline_info is not None:
            insurance = self._deadline_info.insurance
            lines.append(
                f"**Insurance due:** {insurance.due_on} 24:00 CST" + (" (provisional)" if insurance.provisional else "")
            )
            lines.append(f"**Decision due:** {self._deadline_info.decision.due_on} — warning {self._warning}")
        if self._permit:
            lines.append(f"**Permit:** {self._permit['number']}")
        return "\n\n".join(lines)

    def _upsert_search_attributes(self) -> None:
        assert self._input is not None
        pending = self.view()["pending"]
        values: dict[Any, Any] = {
            sa.STATUS: self._status.value,
            sa.DISTRICT: self._input.district,
            sa.CHANNEL: self._input.channel,
            sa.WARNING_LEVEL: self._warning,
            sa.PENDING_ACTOR: pending[0]["actor"] if pending else "none",
        }
        if self._deadline_info is not None:
            values[sa.INSURANCE_DUE] = end_of_day_cst(date.fromisoformat(self._deadline_info.insurance.due_on))
            values[sa.DECISION_DUE] = end_of_day_cst(date.fromisoformat(self._deadline_info.decision.due_on))
        changed = [key.value_set(v) for key, v in values.items() if self._search_attributes.get(key.name) != v]
        if changed:
            workflow.upsert_search_attributes(changed)
            self._search_attributes.update({key.name: v for key, v in values.items()})

    # ------------------------------------------------------ statutory clocks

    async def _compute_deadlines(self) -> Deadlines:
        assert self._input is not None and self._accepted_on is not None
        timing = self._input.timing
        query = DeadlinesQuery(
            accepted_on=self._accepted_on,
            insurance_working_days=timing.insurance_working_days,
            decision_working_days=timing.decision_working_days,
            reminder_working_days=list(timing.reminder_working_days),
            warning_working_days=timing.warning_working_days,
        )
        # A calendar lookup: no need for a round trip through the server.
        return await workflow.execute_local_activity_method(
            PermitActivities.compute_deadlines,
            query,
            start_to_close_timeout=LOCAL_ACTIVITY_TIMEOUT,
            retry_policy=STORE_RETRY,
            summary=ACTIVITY_SUMMARIES.get("compute_deadlines"),
        )

    def _apply_deadlines(self, info: Deadlines) -> None:
        self._deadline_info = info
        self._deadline_changes += 1
        self._refresh_warning()

    def _insurance_deadline(self) -> datetime:
        assert self._deadline_info is not None and self._input is not None
        drill = self._input.timing.insurance_deadline_s
        if drill is not None and self._accepted_at is not None:
            return self._accepted_at + timedelta(seconds=drill)
        return end_of_day_cst(date.fromisoformat(self._deadline_info.insurance.due_on))

    def _refresh_warning(self) -> bool:
        """Warning level of the licensing decision (行政许可法 art. 42): yellow, then red once overdue."""
        info = self._deadline_info
        level = "none"
        if info is not None and not self._licensing_decided:
            now = workflow.now()
            if now >= end_of_day_cst(date.fromisoformat(info.decision.due_on)):
                level = "red"
            elif now >= _start_of_day_cst(info.decision_warning_from):
                level = "yellow"
        changed, self._warning = level != self._warning, level
        return changed

    def _reminder_instants(self) -> dict[str, datetime]:
        assert self._input is not None and self._deadline_info is not None
        hour = time(self._input.timing.reminder_hour_cst, tzinfo=CST)
        deadline = self._insurance_deadline()
        instants = {
            n: datetime.combine(date.fromisoformat(day), hour) for n, day in self._deadline_info.reminder_dates.items()
        }
        return {n: at for n, at in instants.items() if at < deadline and n not in self._reminders_handled}

    def _clocks_stopped(self) -> bool:
        return self._licensing_decided or self._status in TERMINAL

    async def _run_clocks(self) -> None:
        """Alongside the main path: reminders, the decision warning, and recomputed deadlines."""
        while not self._clocks_stopped():
            if self._refresh_warning():
                self._note(f"decision_warning_{self._warning}", "system")
                await self._project()
            await self._send_due_reminders()
            now = workflow.now()
            wake_ups = list(self._reminder_instants().values()) if self._policy is None else []
            if self._warning != "red" and self._deadline_info is not None:
                wake_ups.append(end_of_day_cst(date.fromisoformat(self._deadline_info.decision.due_on)))
                if self._warning == "none":
                    wake_ups.append(_start_of_day_cst(self._deadline_info.decision_warning_from))
            requested = self._recompute_requests
            next_at = min((at for at in wake_ups if at > now), default=None)
            try:
                await workflow.wait_condition(
                    lambda: self._recompute_requests > requested or self._clocks_stopped(),
                    timeout=(next_at - now) if next_at else None,
                    timeout_summary=f"statutory clock: next reminder or warning at {next_at.isoformat()}"
                    if next_at
                    else None,
                )
            except TimeoutError:
                pass
            if self._recompute_requests > requested and not self._clocks_stopped():
                await self._recompute_deadlines()

    async def _send_due_reminders(self) -> None:
        """At most one SMS per reminder; when several are due at once only the nearest is sent."""
        if self._policy is not None or self._status in TERMINAL:
            return
        due = sorted((int(n) for n, at in self._reminder_instants().items() if at <= workflow.now()))
        if not due:
            return
        self._reminders_handled.update(str(n) for n in due)
        assert self._deadline_info is not None
        due_on = self._deadline_info.insurance.due_on
        await self._sms(
            f"reminder-{due[0]}",
            "提醒：您的网约车运输证联办申请须于%s 24时前投保承运人责任险（还剩%d个工作日），逾期申请终止。"
            % (due_on, due[0]),
        )
        self._note("insurance_reminder_sent", "system", working_days_left=due[0])

    async def _recompute_deadlines(self) -> None:
        assert self._deadline_info is not None
        before = self._deadline_info.insurance
        self._apply_deadlines(await self._compute_deadlines())
        after = self._deadline_info.insurance
        changed = (after.due_on, after.provisional) != (before.due_on, before.provisional)
        if changed and self._policy is None:
            await self._sms(
                f"deadline-update-{after.due_on}",
                "您的网约车运输证联办申请投保期限已按国务院公布的节假日安排确定为%s 24时前。" % after.due_on,
            )
        self._note("deadlines_recomputed", "system", insurance_due_on=after.due_on, provisional=after.provisional)
        await self._project()
