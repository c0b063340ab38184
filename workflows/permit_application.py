"""PermitApplicationWorkflow: one ride-hailing permit application, from submission to the documents in
the owner's hands (DOMAIN.md, steps 1-9). The source of truth for the application's state: clerks decide
through updates (validated before they reach history), departments report through signals, the view is a
query. An ending without a permit undoes what was done (saga.py, undos.py); no department's answer fails
the execution: it closes the application or opens an incident (incidents.py); the insurance deadline holds
at every wait from acceptance until the policy is found (waits.py); a long history continues as new
(rollover.py). Beside it: the state's views (state.py), the activities as called (calls.py), the clocks
(statutory_clocks.py, clocks.py), the insurance step (insurance.py), the clerks' decisions (decisions.py),
the validators' rules (refusals.py), what the applicant reads (texts.py), the converter's types (types.py).
"""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

from temporalio import workflow

# Passed through: the sandbox would otherwise import (and, without bytecode on disk, compile) these
# modules again for every workflow instance it creates. All are free of state and side effects.
with workflow.unsafe.imports_passed_through():
    from activities.permit import PermitActivities
    from domain.calendar import cst_date
    from domain.statuses import (
        TERMINAL,
        USAGE_RIDE_HAILING,
        Actor,
        Channel,
        DeliveryMethod,
        Outcome,
        ShipmentState,
        Status,
        Step,
    )
    from workflows import calls, refusals, texts, undos
    from workflows.decisions import Decisions
    from workflows.incidents import Incidents
    from workflows.insurance import InsuranceChecks
    from workflows.rollover import Rollover
    from workflows.saga import Closed, Saga
    from workflows.state import note, view
    from workflows.statutory_clocks import StatutoryClocks
    from workflows.types import (
        ApplicationState,
        CalendarChanged,
        Carried,
        Decision,
        DeliveryReport,
        IncidentResolution,
        OriginalsShipment,
        PermitApplicationInput,
        PermitApplicationResult,
        PolicyReport,
        Supplements,
        UsageChangeReport,
        VehicleQuery,
        Withdrawal,
    )
    from workflows.waits import Waits


@workflow.defn
class PermitApplicationWorkflow:
    @workflow.init
    def __init__(self, input: PermitApplicationInput) -> None:
        """A new application, or (`input.carried`) the next run of one that continued as new (rollover.py)."""
        was = input.carried or Carried(ApplicationState(input, materials=dict(input.materials)))
        self._state, self._input = was.state, was.state.input
        self._project = calls.Projector(self._state, was.projection_version)
        self._clocks = StatutoryClocks(self._state, self._project, was.reminders_handled)
        self._waits = Waits(self._clocks)
        self._wait = self._waits.wait
        self._incidents = Incidents(self._state, self._wait, self._incident_changed)
        self._saga = Saga(failed=self._compensation_failed)
        checks = InsuranceChecks(self._state, self._clocks, self._incidents, self._wait, was.insurance_queried_at)
        self._insurance_checks = checks
        self._rollover = checks.rollover = Rollover(
            input.timing, lambda: checks.answered, self._clocks.idle, self._interrupted, self._carry
        )
        # Human steps.
        self._decisions = Decisions(was.decisions_taken)
        self._supplements: Supplements | None = None
        # Departments' callbacks, and the usage-nature change in flight.
        self._usage_reports: dict[str, UsageChangeReport] = dict(was.usage_reports)
        self._delivered = set(was.delivered)  # tracking numbers, reported by callback (even before `ship` answers)
        self._usage_job, self._usage_poll_s = was.usage_job, was.usage_poll_s
        for step in was.undos:
            self._undo(step)

    # ------------------------------------------------------------------ run

    @workflow.run
    async def run(self, input: PermitApplicationInput) -> PermitApplicationResult:
        carried = input.carried
        if carried is None:
            workflow.logger.info("application started", extra={"request_id": input.request_id})
            self._note("submitted", Actor.APPLICANT, channel=input.channel)
            await self._project()
        else:
            self._clocks.resume()
        try:
            await self._steps(carried.state.status if carried else None)
        except Closed as closed:
            await self._close_without_permit(closed)
        self._state.licensing_decided = True
        await self._clocks.stopped()
        await workflow.wait_condition(workflow.all_handlers_finished)
        number = self._state.permit["number"] if self._state.permit else None
        return PermitApplicationResult(input.application_id, self._state.status.value, number)

    async def _steps(self, resume_at: Status | None) -> None:
        """The process in order; a continued run resumes at the long wait where the last run handed over."""
        if resume_at is None:
            await self._enter(Status.COLLECTING_DATA)
            await self._collect_and_assess()
            await self._preliminary_review()
            if self._input.channel == Channel.ONLINE:
                await self._originals()
        if resume_at in (None, Status.VEHICLE_NATURE_CHANGE):
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
        vehicle_id = input.vehicle
        query = VehicleQuery(vin=vehicle_id.vin, plate=vehicle_id.plate, owner_id_number=input.applicant.id_number)
        guard, timing = self._incidents.guard, input.timing
        vehicle = await guard(lambda: calls.department(PermitActivities.verify_ownership, query, timing))
        self._state.vehicle = vehicle
        self._note("ownership_verified", Actor.VEHICLE_ADMIN)
        report, range_km = await guard(lambda: calls.shared_data(query, vehicle, timing))
        self._note("shared_data_fetched", Actor.SYSTEM, sources=["tax", "inspection"] + (["miit"] if range_km else []))
        findings = await guard(lambda: calls.assess_eligibility(vehicle, report, range_km, self._today(), timing))
        self._state.findings = [{"rule": f.rule, "message": f.message} for f in findings]
        if findings:
            raise Closed(Status.REJECTED, texts.FINDINGS_SEPARATOR.join(f.message for f in findings), Actor.SYSTEM)
        self._note("eligible", Actor.SYSTEM)

    async def _preliminary_review(self) -> None:
        while True:
            await self._enter(Status.PRELIMINARY_REVIEW, awaiting=Step.PRELIMINARY_REVIEW)
            decision = await self._await_decision()
            if decision.outcome == Outcome.APPROVE:
                await self._accept(decision)
                return
            if decision.outcome == Outcome.REJECT:
                raise Closed(Status.REJECTED, decision.reason, decision.actor)
            self._state.supplement_items = list(decision.items)
            self._note("supplement_requested", decision.actor, reason=decision.reason, items=decision.items)
            await self._enter(Status.SUPPLEMENT_REQUESTED)
            text = texts.supplement_request(decision.items, decision.reason)
            await self._notify(f"supplement-request-{self._decisions.taken}", text)
            self._decisions.settle()
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
        insurance = (await self._incidents.guard(self._clocks.start)).insurance
        self._note("accepted", decision.actor, reason=decision.reason)
        online = self._input.channel == Channel.ONLINE
        await self._move_on(Status.AWAITING_ORIGINALS if online else Status.VEHICLE_NATURE_CHANGE)
        await self._document("joint_handling_confirmation", texts.joint_handling_confirmation(accepted_on))
        await self._document("insurance_one_time_notice", texts.insurance_one_time_notice(insurance))
        await self._notify("one-time-notice", texts.one_time_notice(insurance))
        self._decisions.settle()

    async def _originals(self) -> None:
        """Online channel: the applicant mails the originals; a clerk confirms receipt."""
        shipped = self._state.originals_tracking is not None  # during the acceptance paperwork
        await self._enter(Status.AWAITING_ORIGINALS, awaiting=Step.ORIGINALS_RECEIVED if shipped else None)
        await self._wait(lambda: self._state.originals_tracking is not None)
        self._note("originals_shipped", Actor.APPLICANT)
        self._state.step = Step.ORIGINALS_RECEIVED
        await self._project()
        decision = await self._await_decision()
        self._undo(undos.ORIGINALS_RETURN)
        self._note("originals_received", decision.actor)
        await self._move_on(Status.VEHICLE_NATURE_CHANGE)
        await self._notify("originals-received", texts.sms(texts.Sms.ORIGINALS_RECEIVED))
        self._decisions.settle()

    async def _usage_change(self) -> None:
        """并联审批: the vehicle administration changes the usage nature to ride-hailing and feeds back."""
        await self._enter(Status.VEHICLE_NATURE_CHANGE)
        plate, guard = self._input.vehicle.plate, self._incidents.guard
        if self._usage_job is None:  # else requested by the run before this one
            await self._document("vehicle_change_contact_form", texts.vehicle_change_contact_form(plate))
            change = calls.request_usage_change
            self._usage_job = await guard(lambda: change(self._input, USAGE_RIDE_HAILING, "usage-change"))
            self._undo(undos.USAGE_NATURE_REVERSAL)
        requested, reports, timing = self._usage_job, self._usage_reports, self._input.timing
        poll = timedelta(seconds=self._usage_poll_s) if self._usage_poll_s else None

        async def hand_over(next_poll: timedelta) -> None:
            self._usage_poll_s = next_poll.total_seconds()
            await self._rollover.at_quiet_point()

        try:
            done = calls.usage_change_done
            job = await guard(lambda: done(requested, reports, timing, self._wait, hand_over, poll))
        except calls.UsageChangeFailed:
            self._saga.discard(undos.USAGE_NATURE_REVERSAL)  # nothing changed at the vehicle administration
            raise Closed(Status.REJECTED, texts.REASON_USAGE_CHANGE_FAILED, Actor.VEHICLE_ADMIN) from None
        self._usage_job = self._usage_poll_s = None
        self._note("usage_nature_changed", Actor.VEHICLE_ADMIN, target_nature=USAGE_RIDE_HAILING)
        await self._document(
            "usage_nature_feedback_form", texts.usage_nature_feedback_form(plate, job.driving_license_no)
        )

    async def _insurance(self) -> None:
        """容缺受理: wait for the carrier liability policy until the insurance deadline."""
        await self._enter(Status.AWAITING_INSURANCE)
        await self._insurance_checks.until_found()
        self._note("insurance_found", Actor.INSURANCE)

    async def _final_review(self) -> None:
        await self._enter(Status.FINAL_REVIEW, awaiting=Step.FINAL_REVIEW)
        decision = await self._await_decision()
        self._state.licensing_decided = True
        self._clocks.refresh_warning()
        if decision.outcome == Outcome.REJECT:
            raise Closed(Status.REJECTED, decision.reason, decision.actor)
        self._note("final_review_approved", decision.actor)
        self._decisions.settle()

    async def _issue(self) -> None:
        """审核发证: a permit number, the permit document, and no way back."""
        input, vehicle = self._input, self._state.vehicle
        assert vehicle is not None, "the ownership is verified first"
        permit = await self._incidents.guard(lambda: calls.allocate_permit(input, vehicle, self._today()))
        self._state.permit = permit
        self._note("permit_issued", Actor.TRANSPORT_CLERK, number=permit["number"])
        await self._document("permit", texts.permit(permit, input.vehicle.plate, vehicle.owner_name))
        await calls.start_lifecycle(input, vehicle, permit)

    async def _deliver(self) -> None:
        input = self._input
        await self._enter(Status.DELIVERING)
        if input.delivery.method == DeliveryMethod.PICKUP:
            await self._notify("pickup-ready", texts.sms(texts.Sms.PICKUP_READY))
            self._note("ready_for_pickup", Actor.SYSTEM)
            return
        shipment = await self._incidents.guard(lambda: calls.ship(input, "delivery", texts.CONTENTS_DOCUMENTS))
        tracking = self._state.delivery_tracking = shipment.tracking_number
        self._note("documents_shipped", Actor.COURIER, tracking_number=tracking)
        await self._project()
        delivered = self._delivered  # no withdrawal once issued
        await self._incidents.guard(lambda: calls.shipment_delivered(tracking, delivered, input.timing))
        self._note("documents_delivered", Actor.COURIER)

    # ------------------------------------------------------- compensation

    async def _close_without_permit(self, closed: Closed) -> None:
        """Undo what the steps did, the latest first, then give notice of the closing."""
        self._state.status, self._state.step = closed.status, None
        self._note(closed.status.value, closed.actor, reason=closed.reason)
        self._decisions.settle()
        await self._project()
        await self._saga.compensate(after_each=self._project, guard=self._incidents.undo)
        if closed.status in (Status.REJECTED, Status.EXPIRED):
            notice = texts.termination_notice(closed.status, closed.reason)
            issued = calls.issue_document(self._state, "termination_notice", notice)
            await self._saga.attempt("termination_notice", Actor.SYSTEM, issued)
        sent = calls.send_sms(self._input, "closed", texts.closing(closed.status, closed.reason))
        await self._saga.attempt("closing_sms", Actor.SYSTEM, sent)
        await self._project()

    def _compensation_failed(self, step: str, actor: Actor, err: Exception) -> None:
        workflow.logger.error("closing step %s failed: %s; an operator must follow up", step, type(err).__name__)
        self._note("compensation_failed", actor, step=step)

    # ------------------------------------------------- updates, signals and the view

    @workflow.update
    async def decide(self, decision: Decision) -> dict[str, Any]:
        """A clerk's decision at the step the application waits for."""
        await self._decisions.take(decision, closed=lambda: self._state.status in TERMINAL)
        return self.view()

    @decide.validator
    def _validate_decide(self, decision: Decision) -> None:
        refusals.decision(self._state, self._closing(), decision, undecided=self._decisions.next is None)

    @workflow.update
    async def submit_supplements(self, supplements: Supplements) -> dict[str, Any]:
        self._supplements = supplements
        await workflow.wait_condition(lambda: self._state.status != Status.SUPPLEMENT_REQUESTED)
        return self.view()

    @submit_supplements.validator
    def _validate_supplements(self, supplements: Supplements) -> None:
        refusals.unless(self._state, self._closing(), Status.SUPPLEMENT_REQUESTED, self._supplements is None)

    @workflow.update
    async def report_originals_shipment(self, shipment: OriginalsShipment) -> dict[str, Any]:
        self._state.originals_tracking = shipment.tracking_number
        self._state.step = Step.ORIGINALS_RECEIVED  # the step the view now shows is the one a clerk may take
        return self.view()

    @report_originals_shipment.validator
    def _validate_originals_shipment(self, shipment: OriginalsShipment) -> None:
        no_shipment = self._state.originals_tracking is None
        refusals.unless(self._state, self._closing(), Status.AWAITING_ORIGINALS, no_shipment)

    @workflow.update
    async def check_insurance(self) -> dict[str, Any]:
        """The applicant says "I have insured": query the insurance platform now, or answer at once when it
        was queried within the window (a few minutes): updates are not an application's unbounded history."""
        await self._insurance_checks.check()
        return self.view()

    @check_insurance.validator
    def _validate_check_insurance(self) -> None:
        refusals.unless(self._state, self._closing(), Status.AWAITING_INSURANCE, True)

    @workflow.update
    async def withdraw(self, withdrawal: Withdrawal) -> dict[str, Any]:
        self._waits.closing = Closed(Status.WITHDRAWN, withdrawal.reason, Actor.APPLICANT)
        self._state.status = Status.WITHDRAWN
        return self.view()

    @withdraw.validator
    def _validate_withdraw(self, withdrawal: Withdrawal) -> None:
        refusals.withdrawal(self._state, self._closing())

    @workflow.update
    async def resolve_incident(self, resolution: IncidentResolution) -> dict[str, Any]:
        """A supervisor retries the step of the open incident, skips its notification, or closes the application;
        on a closed application, retries the undo it refused."""
        workflow.logger.info("incident %s: %s", resolution.incident_id, resolution.action)
        self._incidents.resolution = resolution
        await workflow.wait_condition(lambda: resolution.incident_id in self._incidents.settled)
        return self.view()

    @resolve_incident.validator
    def _validate_resolve_incident(self, resolution: IncidentResolution) -> None:
        if self._state.incident is None or self._state.status not in TERMINAL:  # else: an undo's, once closed
            refusals.if_closed(self._state, self._closing())
        refusal = self._incidents.refusal(resolution)
        if refusal is not None:
            raise refusal

    @workflow.signal
    def report_usage_change(self, report: UsageChangeReport) -> None:
        self._usage_reports[report.job_id] = report

    @workflow.signal
    def report_policy(self, report: PolicyReport) -> None:
        """The insurer's callback: query the platform rather than trust the message."""
        if self._state.status == Status.AWAITING_INSURANCE:
            self._insurance_checks.request()

    @workflow.signal
    def recompute_deadlines(self, change: CalendarChanged) -> None:
        """A calendar year was loaded: provisional deadlines are computed again."""
        self._clocks.recompute()

    @workflow.signal
    def report_delivery(self, report: DeliveryReport) -> None:
        if report.status == ShipmentState.DELIVERED:
            self._delivered.add(report.tracking_number)

    @workflow.query
    def view(self) -> dict[str, Any]:
        """The application as its applicant and clerks see it, before masking."""
        return view(self._state)

    # ------------------------------------------------------------- helpers

    def _closing(self) -> bool:
        """A withdrawal was taken and not yet acted on."""
        return self._waits.closing is not None

    async def _await_decision(self) -> Decision:
        """The clerk's decision at the step set by `_enter`; validated by `_validate_decide`."""
        decision = await self._decisions.awaited(self._wait)
        self._state.step = None
        return decision

    async def _move_on(self, status: Status) -> None:
        """Answer the clerk with the status the decision leads to, and show it before the paperwork it starts."""
        self._decisions.settle()
        if not self._closing():
            self._state.status, self._state.step = status, None
            await self._project()

    async def _enter(self, status: Status, awaiting: Step | None = None) -> None:
        """Move to `status` (and the clerk step it awaits) in one step, then project it."""
        self._waits.check_closing()
        self._state.status, self._state.step = status, awaiting
        await self._project()

    def _note(self, event: str, actor: str, **details: Any) -> None:
        note(self._state, workflow.now(), event, actor, **details)

    def _today(self) -> date:
        return cst_date(workflow.now())

    async def _notify(self, step: str, text: str) -> None:
        await self._incidents.notify(lambda: calls.send_sms(self._input, step, text))

    async def _document(self, kind: str, data: dict[str, Any]) -> None:
        await self._incidents.guard(lambda: calls.issue_document(self._state, kind, data))

    async def _incident_changed(self) -> None:
        """An incident opened or was resolved: the clerk's decision that led to it is answered with it."""
        self._decisions.settle()
        await self._project()

    def _undo(self, step: str) -> None:
        """Register the undo of a step that succeeded (undos.py), by the step's name."""
        self._saga.add(step, *undos.by_step(self._state, self._usage_reports)[step])

    def _interrupted(self) -> bool:
        """What a long wait acts on before it may hand over: a withdrawal, a check, a clerk, an incident."""
        human = self._decisions.next is not None or self._supplements is not None
        return self._closing() or self._insurance_checks.pending() or human or self._state.incident is not None

    def _carry(self) -> Carried:
        return Carried(
            state=self._state,
            undos=self._saga.steps(),
            usage_job=self._usage_job,
            usage_poll_s=self._usage_poll_s,
            usage_reports=dict(self._usage_reports),
            delivered=sorted(self._delivered),
            decisions_taken=self._decisions.taken,
            projection_version=self._project.version,
            reminders_handled=sorted(self._clocks.reminders_handled),
            insurance_queried_at=self._insurance_checks.queried_at,
        )
