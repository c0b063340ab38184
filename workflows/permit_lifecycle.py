"""One permit, one long-running workflow (id `permit-lifecycle-{number}`), from issue to its end.

The permit is valid for years: reminders to the holder before the validity ends (90, 30, 7 days), the
annual review (年度审验) each year with its own due date (review_due some days before it, lapsed if
missed), the end of the validity (the 8 years of use), a mileage of 600,000 km (scrapped) and the exit
(cancel). The national regulator is told when the permit is issued and when it ends; its failures never
block: the report is marked pending and tried again a day later. Each year's run ends at a quiet point
(the review passed, no update in flight) and continues as new with the permit's state.
"""

from __future__ import annotations

import contextlib
import dataclasses
from datetime import date, datetime, time, timedelta, timezone
from typing import Any

from temporalio import workflow
from temporalio.common import RetryPolicy
from temporalio.exceptions import ActivityError, ApplicationError

with workflow.unsafe.imports_passed_through():
    from activities.permit import PermitActivities
    from activities.permit_lifecycle import PermitLifecycleActivities
    from activities.regulator import RegulatorActivities
    from domain.masking import mask_plate
    from workflows import texts
    from workflows.permit_lifecycle_types import (
        ENDED_STATE,
        MILEAGE_LIMIT_KM,
        Cancellation,
        LifecycleCarried,
        MileageReport,
        PermitEnd,
        PermitLifecycleInput,
        PermitProjection,
        PermitState,
        ReviewRecord,
    )
    from workflows.permit_types import RegulatorStateChange
    from workflows.types import SmsRequest

LOCAL = timezone(timedelta(hours=8))  # the bureau's days
CALL_TIMEOUT = timedelta(seconds=30)
RETRY = RetryPolicy(initial_interval=timedelta(seconds=1), maximum_interval=timedelta(minutes=5))
NOT_REVIEW_DUE = "NotReviewDue"
END_REASONS = {
    PermitEnd.EXPIRED: "运输证有效期届满",
    PermitEnd.REVIEW_MISSED: "逾期未参加年度审验",
    PermitEnd.SCRAPPED: "行驶里程达到60万千米",
    PermitEnd.CANCELLED: "网约车退出营运，运输证注销",
}


def workflow_id(number: str) -> str:
    return f"permit-lifecycle-{number}"


def add_years(day: date, years: int) -> date:
    try:
        return day.replace(year=day.year + years)
    except ValueError:  # 29 February
        return day.replace(year=day.year + years, day=28)


def first_review_due_on(issued_on: str, valid_until: str) -> str | None:
    """The annual review is due each anniversary of the issue, while the permit is still valid then."""
    due = add_years(date.fromisoformat(issued_on), 1)
    return due.isoformat() if due < date.fromisoformat(valid_until) else None


@workflow.defn
class PermitLifecycleWorkflow:
    def __init__(self) -> None:
        self._input: PermitLifecycleInput | None = None
        self._s = LifecycleCarried()
        self._mileage: MileageReport | None = None
        self._cancellation: Cancellation | None = None
        self._reviewed: ReviewRecord | None = None

    @workflow.run
    async def run(self, input: PermitLifecycleInput) -> str:
        self._input = input
        if input.carried is not None:
            self._s = dataclasses.replace(input.carried, run=input.carried.run + 1)
        else:
            self._s.next_review_due_on = first_review_due_on(input.issued_on, input.valid_until)
            self._s.reminders_sent = [d for d in input.timing.reminder_days if self._reminder_on(d) < self._issued()]
        await self._project()
        await self._tell_regulator()
        while self._s.ended is None:
            if self._year_over():
                await workflow.wait_condition(workflow.all_handlers_finished)
                workflow.continue_as_new(dataclasses.replace(input, carried=self._s))
            await self._wait_for_next()
        while self._s.regulator_pending:  # ended: the regulator must still hear of it, later if need be
            await workflow.sleep(timedelta(seconds=input.timing.regulator_retry_s), summary="retry the regulator")
            await self._tell_regulator()
        return self._s.ended.value

    # ------------------------------------------------------------------ handlers

    @workflow.query
    def view(self) -> dict[str, Any]:
        return self._row()

    @workflow.update
    async def record_review(self, record: ReviewRecord) -> dict[str, Any]:
        """A clerk marks this year's annual review passed."""
        self._reviewed = record
        await workflow.wait_condition(lambda: self._reviewed is None)
        return self._row()

    @record_review.validator
    def _review_due(self, record: ReviewRecord) -> None:
        if self._s.ended is not None or self._s.state != PermitState.REVIEW_DUE or self._reviewed is not None:
            raise ApplicationError(f"the permit is {self._s.state.value}: no review is due", type=NOT_REVIEW_DUE)

    @workflow.signal
    def report_mileage(self, report: MileageReport) -> None:
        """The inspection station's odometer reading; at 600,000 km the vehicle is scrapped."""
        if report.km > self._s.mileage_km:
            self._mileage = report

    @workflow.signal
    def cancel(self, cancellation: Cancellation) -> None:
        """注销 for the exit: the permit ends as cancelled."""
        self._cancellation = self._cancellation or cancellation

    # ------------------------------------------------------------------ the year

    async def _wait_for_next(self) -> None:
        """Until the next day something falls due, or someone reports; then act on what is due."""
        delay = max(self._next_wake() - workflow.now(), timedelta(0))
        with contextlib.suppress(TimeoutError):
            await workflow.wait_condition(self._told, timeout=delay, timeout_summary="the permit's next date")
        await self._act()

    def _told(self) -> bool:
        return self._mileage is not None or self._cancellation is not None or self._reviewed is not None

    async def _act(self) -> None:
        s, today = self._s, self._today()
        if self._cancellation is not None:
            return await self._end(PermitEnd.CANCELLED)
        if self._mileage is not None:
            s.mileage_km, self._mileage = self._mileage.km, None
            if s.mileage_km >= MILEAGE_LIMIT_KM:
                return await self._end(PermitEnd.SCRAPPED)
        if self._reviewed is not None:
            s.reviews_passed.append(self._reviewed.reviewed_on)
            self._next_review()
            s.state, self._reviewed = PermitState.VALID, None
            await self._project()
        if today >= self._valid_until():
            return await self._end(PermitEnd.EXPIRED)
        due = date.fromisoformat(s.next_review_due_on) if s.next_review_due_on else None
        if due is not None and today >= due:
            return await self._end(PermitEnd.REVIEW_MISSED)
        if due is not None and s.state == PermitState.VALID and today >= self._review_from(due):
            s.state = PermitState.REVIEW_DUE
            await self._sms(f"review-{due}", texts.permit_review_due(self._input_().number, due.isoformat()))
            await self._project()
        await self._remind(today)
        if s.regulator_pending:
            await self._tell_regulator()

    async def _remind(self, today: date) -> None:
        """The reminders before the validity ends: each once; of several due at once, the nearest only."""
        s, days = self._s, self._input_().timing.reminder_days
        due = [d for d in days if d not in s.reminders_sent and today >= self._reminder_on(d)]
        if not due:
            return
        s.reminders_sent.extend(due)
        nearest = min(due)
        valid_until = self._input_().valid_until
        await self._sms(f"expiry-{nearest}", texts.permit_expiry_reminder(self._input_().number, valid_until, nearest))

    def _year_over(self) -> bool:
        """A review passed this run: the year's run hands over (once its SMS and projection are done)."""
        return len(self._s.reviews_passed) >= self._s.run

    def _next_review(self) -> None:
        s, input = self._s, self._input_()
        assert s.next_review_due_on is not None
        due = add_years(date.fromisoformat(s.next_review_due_on), 1)
        s.next_review_due_on = due.isoformat() if due < date.fromisoformat(input.valid_until) else None

    def _next_wake(self) -> datetime:
        s, input = self._s, self._input_()
        days = [self._valid_until()]
        days += [self._reminder_on(d) for d in input.timing.reminder_days if d not in s.reminders_sent]
        if s.next_review_due_on is not None:
            due = date.fromisoformat(s.next_review_due_on)
            days += [due] if s.state == PermitState.REVIEW_DUE else [self._review_from(due)]
        wake = datetime.combine(min(days), time(), LOCAL)
        if s.regulator_pending:
            retry = workflow.now() + timedelta(seconds=input.timing.regulator_retry_s)
            wake = min(wake, retry)
        return wake

    async def _end(self, end: PermitEnd) -> None:
        self._s.ended, self._s.state = end, ENDED_STATE[end]
        workflow.logger.info("permit %s ended: %s", self._input_().number, end.value)
        await self._project()
        await self._tell_regulator()

    # ------------------------------------------------------------------ the outside world

    async def _tell_regulator(self) -> None:
        """The regulator's record of the permit: valid while it lives, invalid once it ended. Retried for a
        while; after that marked pending (in the register) and tried again later, never blocking."""
        s, input = self._s, self._input_()
        wanted = "valid" if s.ended is None else "invalid"
        if s.regulator_told == wanted:
            return
        timeout = timedelta(seconds=input.timing.regulator_give_up_s)
        try:
            if wanted == "valid":
                await workflow.execute_activity_method(
                    RegulatorActivities.report_vehicle,
                    input.record,
                    start_to_close_timeout=CALL_TIMEOUT,
                    schedule_to_close_timeout=timeout,
                    retry_policy=RETRY,
                    summary="National regulator: the vehicle's record",
                )
            else:
                assert s.ended is not None
                await workflow.execute_activity_method(
                    RegulatorActivities.report_state,
                    RegulatorStateChange(input.number, "invalid", END_REASONS[s.ended]),
                    start_to_close_timeout=CALL_TIMEOUT,
                    schedule_to_close_timeout=timeout,
                    retry_policy=RETRY,
                    summary="National regulator: the permit invalid",
                )
        except ActivityError as err:
            workflow.logger.warning("regulator not told %s: %s", wanted, type(err.cause).__name__)
            if not s.regulator_pending:
                s.regulator_pending = True
                await self._project()
            return
        s.regulator_told, s.regulator_pending = wanted, False
        await self._project()

    async def _sms(self, step: str, text: str) -> None:
        input = self._input_()
        request = SmsRequest(input.holder_phone, text, f"{workflow_id(input.number)}:sms:{step}")
        try:
            await workflow.execute_activity_method(
                PermitActivities.send_sms,
                request,
                start_to_close_timeout=CALL_TIMEOUT,
                schedule_to_close_timeout=timedelta(seconds=input.timing.regulator_give_up_s),
                retry_policy=RETRY,
                summary=f"SMS to the holder: {step}",
            )
        except ActivityError as err:  # a reminder missed is not worth stopping the permit for
            workflow.logger.warning("SMS %s not sent: %s", step, type(err.cause).__name__)

    async def _project(self) -> None:
        self._s.version += 1
        request = PermitProjection(self._s.version, self._row())
        try:
            await workflow.execute_local_activity_method(
                PermitLifecycleActivities.project_permit,
                request,
                start_to_close_timeout=timedelta(seconds=5),
                schedule_to_close_timeout=timedelta(minutes=1),
                retry_policy=RETRY,
            )
        except ActivityError as err:  # the register lags until the next projection
            workflow.logger.error("permit projection %d failed: %s", self._s.version, type(err.cause).__name__)

    # ------------------------------------------------------------------ dates and the view

    def _row(self) -> dict[str, Any]:
        s, input = self._s, self._input_()
        return {
            "number": input.number,
            "application_id": input.application_id,
            "holder_subject": input.holder_subject,
            "plate": mask_plate(input.record.plate),
            "district": input.district,
            "state": s.state.value,
            "ended": s.ended.value if s.ended else None,
            "issued_on": input.issued_on,
            "valid_until": input.valid_until,
            "next_review_due_on": s.next_review_due_on if s.ended is None else None,
            "mileage_km": s.mileage_km,
            "regulator_pending": s.regulator_pending,
            "run": s.run,
        }

    def _input_(self) -> PermitLifecycleInput:
        assert self._input is not None, "set on run"
        return self._input

    def _today(self) -> date:
        return workflow.now().astimezone(LOCAL).date()

    def _issued(self) -> date:
        return date.fromisoformat(self._input_().issued_on)

    def _valid_until(self) -> date:
        return date.fromisoformat(self._input_().valid_until)

    def _reminder_on(self, days: int) -> date:
        return self._valid_until() - timedelta(days=days)

    def _review_from(self, due: date) -> date:
        return due - timedelta(days=self._input_().timing.review_notice_days)
