"""`RatingFollowUpWorkflow`: the follow-up of one bad rating (差评), to the working day.

Assigned to the supervisors of the case's district at once; 回访 (the callback) due `callback_working_days`
after the day of the rating, 整改 (rectification, and the answer to the applicant) due
`rectification_working_days` after it, both on the permit workflow's calendar. A step still open turns
its warning yellow from `warning_working_days` before its due day and red once the day has passed
(as the licensing decision's warning does, workflows/clocks.py); the warning is a search attribute
and in the view. The district may appeal the rating (申诉) once, while the follow-up is open, to a
city supervisor, who upholds it (the follow-up goes on: its clocks never stop) or voids it (the
rating leaves the statistics and the follow-up ends). Every step, and every warning raised, is audited;
the view is projected to `rating_follow_ups` each time it changes.
"""

from __future__ import annotations

import contextlib
from datetime import datetime, timedelta
from typing import Any

from temporalio import workflow
from temporalio.common import RetryPolicy
from temporalio.exceptions import ActivityError, ApplicationError
from temporalio.exceptions import TimeoutError as ActivityTimeout

with workflow.unsafe.imports_passed_through():
    from activities.rating import RatingActivities
    from domain.calendar import cst_date
    from domain.districts import CITY_CODE, covers
    from domain.statuses import WarningLevel
    from workflows import search_attributes as sa
    from workflows.clocks import end_of_day, start_of_day
    from workflows.rating_types import (
        APPEAL_DECISIONS,
        NOT_ITS_DISTRICT,
        NOTE_REQUIRED,
        OPEN,
        STEP_FORBIDDEN,
        WRONG_STEP,
        AppealState,
        FollowUpAudit,
        FollowUpDeadlines,
        FollowUpDeadlinesQuery,
        FollowUpInput,
        FollowUpProjection,
        FollowUpState,
        FollowUpStatus,
        FollowUpStep,
        StepRecord,
        VoidRequest,
    )

SUPERVISOR = "supervisor"
SYSTEM = "system"
STORE_RETRY = RetryPolicy(initial_interval=timedelta(seconds=1), maximum_interval=timedelta(minutes=1))
LOCAL_TIMEOUT = timedelta(seconds=5)


def step_warning(warning_from: str, due_on: str, now: datetime) -> WarningLevel:
    if now >= end_of_day(due_on):
        return WarningLevel.RED
    if now >= start_of_day(warning_from):
        return WarningLevel.YELLOW
    return WarningLevel.NONE


def warning_level(state: FollowUpState, now: datetime) -> WarningLevel:
    """The worst warning of the steps still to take: none once answered or voided."""
    d = state.deadlines
    if d is None or state.status not in OPEN:
        return WarningLevel.NONE
    levels = [WarningLevel.NONE]
    if state.callback is None:
        levels.append(step_warning(d.callback_warning_from, d.callback_due_on, now))
    levels.append(step_warning(d.rectification_warning_from, d.rectification_due_on, now))
    order = [WarningLevel.NONE, WarningLevel.YELLOW, WarningLevel.RED]
    return max(levels, key=order.index)


def next_wake_up(state: FollowUpState, now: datetime) -> datetime | None:
    """The next instant a warning of an open step changes."""
    d = state.deadlines
    if d is None or state.status not in OPEN:
        return None
    days = [(d.rectification_warning_from, d.rectification_due_on)]
    if state.callback is None:
        days.append((d.callback_warning_from, d.callback_due_on))
    instants = [at for warn, due in days for at in (start_of_day(warn), end_of_day(due))]
    return min((at for at in instants if at > now), default=None)


def refuse_step(state: FollowUpState, record: StepRecord, busy: bool) -> None:
    """Why `record` cannot be taken now, raised before it reaches the history."""
    if not covers(record.actor_district, state.input.district):
        raise ApplicationError("this follow-up is not of your district", type=NOT_ITS_DISTRICT)
    if record.role != SUPERVISOR:
        raise ApplicationError("only a supervisor takes the steps of a follow-up", type=STEP_FORBIDDEN)
    try:
        step = FollowUpStep(record.step)
    except ValueError:
        raise ApplicationError(f"no such step: {record.step}", type=WRONG_STEP) from None
    if step in APPEAL_DECISIONS and record.actor_district != CITY_CODE:
        raise ApplicationError("only a city supervisor decides an appeal", type=STEP_FORBIDDEN)
    if not record.note.strip():
        raise ApplicationError("a note is required", type=NOTE_REQUIRED)
    if state.status not in OPEN:
        raise ApplicationError(f"the follow-up is {state.status.value}", type=WRONG_STEP)
    if busy:
        raise ApplicationError("another step is being recorded", type=WRONG_STEP)
    expected = {
        FollowUpStep.CALLBACK: state.status == FollowUpStatus.AWAITING_CALLBACK,
        FollowUpStep.RECTIFICATION: state.status == FollowUpStatus.AWAITING_RECTIFICATION,
        FollowUpStep.APPEAL: state.appeal is None,
        FollowUpStep.APPEAL_UPHELD: state.appeal == AppealState.PENDING,
        FollowUpStep.APPEAL_VOIDED: state.appeal == AppealState.PENDING,
    }
    if not expected[step]:
        raise ApplicationError(f"the follow-up is not awaiting {step.value}", type=WRONG_STEP)


def view(state: FollowUpState) -> dict[str, Any]:
    d = state.deadlines
    return {
        "rating_id": state.input.rating_id,
        "application_id": state.input.application_id,
        "district": state.input.district,
        "rated_at": state.input.rated_at,
        "status": state.status.value,
        "callback_due_on": d.callback_due_on if d else None,
        "rectification_due_on": d.rectification_due_on if d else None,
        "provisional": d.provisional if d else False,
        "warning": state.warning.value,
        "callback": state.callback,
        "rectification": state.rectification,
        "answer": state.rectification["note"] if state.rectification else None,
        "appealed": state.appeal is not None,
        "appeal": state.appeal.value if state.appeal else None,
        "voided": state.status == FollowUpStatus.VOIDED,
        "timeline": list(state.timeline),
    }


@workflow.defn
class RatingFollowUpWorkflow:
    @workflow.init
    def __init__(self, input: FollowUpInput) -> None:
        self.state = FollowUpState(input)  # before any update is validated
        self._busy = False  # a step is being recorded: the next waits for it
        self._moved = False
        self._version = 0

    @workflow.run
    async def run(self, input: FollowUpInput) -> dict[str, Any]:
        state = self.state
        rated_on = cst_date(datetime.fromisoformat(input.rated_at))
        timing = input.timing
        query = FollowUpDeadlinesQuery(
            rated_on.isoformat(),
            timing.callback_working_days,
            timing.rectification_working_days,
            timing.warning_working_days,
        )
        state.deadlines = await self._local(RatingActivities.compute_follow_up_deadlines, query)
        self._note("assigned", SYSTEM, district=input.district)
        await self._audit(SYSTEM, SYSTEM, "rating_follow_up.assigned", **self._due_days(state.deadlines))
        while state.status in OPEN:
            self._moved = False
            await self._refresh_warning()
            await self._project()
            now = workflow.now()
            wake = next_wake_up(state, now)
            with contextlib.suppress(TimeoutError):  # a warning's instant came
                await workflow.wait_condition(
                    lambda: self._moved or state.status not in OPEN,
                    timeout=(wake - now) if wake else None,
                    timeout_summary="the next warning of an open step",
                )
        await workflow.wait_condition(workflow.all_handlers_finished)
        state.warning = WarningLevel.NONE
        await self._project()
        return view(state)

    @workflow.query
    def view(self) -> dict[str, Any]:
        return view(self.state)

    @workflow.update
    async def record_step(self, record: StepRecord) -> dict[str, Any]:
        """A supervisor's step: the view once it is recorded, audited and projected."""
        state, step = self.state, FollowUpStep(record.step)
        self._busy = True
        try:
            now = workflow.now()
            taken = {"note": record.note, "at": now.isoformat(), "by": record.actor}
            if step == FollowUpStep.CALLBACK:
                d = state.deadlines
                state.callback = {**taken, "late": bool(d and now >= end_of_day(d.callback_due_on))}
                state.status = FollowUpStatus.AWAITING_RECTIFICATION
            elif step == FollowUpStep.RECTIFICATION:
                d = state.deadlines
                state.rectification = {**taken, "late": bool(d and now >= end_of_day(d.rectification_due_on))}
                state.status = FollowUpStatus.ANSWERED
            elif step == FollowUpStep.APPEAL:
                state.appeal = AppealState.PENDING
            elif step == FollowUpStep.APPEAL_UPHELD:
                state.appeal = AppealState.UPHELD
            else:
                request = VoidRequest(state.input.rating_id, record.actor, record.note)
                await workflow.execute_activity_method(
                    RatingActivities.void_rating,
                    request,
                    start_to_close_timeout=timedelta(seconds=30),
                    schedule_to_close_timeout=timedelta(seconds=self._give_up_s),
                    retry_policy=STORE_RETRY,
                    summary="Rating store: void the rating",
                )
                state.appeal, state.status = AppealState.VOIDED, FollowUpStatus.VOIDED
            self._note(step.value, record.actor, note=record.note)
            await self._audit(record.actor, record.role, f"rating_follow_up.{step.value}", note=record.note)
            await self._refresh_warning()
            await self._project()
            return view(state)
        finally:
            self._busy = False
            self._moved = True

    @record_step.validator
    def _validate_step(self, record: StepRecord) -> None:
        refuse_step(self.state, record, self._busy)

    def _due_days(self, d: FollowUpDeadlines) -> dict[str, Any]:
        return {
            "callback_due_on": d.callback_due_on,
            "rectification_due_on": d.rectification_due_on,
            "provisional": d.provisional,
        }

    def _note(self, event: str, by: str, **details: Any) -> None:
        self.state.timeline.append({"event": event, "at": workflow.now().isoformat(), "by": by, **details})

    async def _refresh_warning(self) -> None:
        """The warning as of now; one raised is noted and audited, and set as a search attribute."""
        state = self.state
        level = warning_level(state, workflow.now())
        if level == state.warning:
            return
        state.warning = level
        if level != WarningLevel.NONE:
            self._note(f"warning_{level.value}", SYSTEM)
            await self._audit(SYSTEM, SYSTEM, f"rating_follow_up.warning_{level.value}", status=state.status.value)

    async def _project(self) -> None:
        state = self.state
        workflow.upsert_search_attributes(
            [
                sa.FOLLOW_UP_STATUS.value_set(state.status.value),
                sa.FOLLOW_UP_WARNING.value_set(state.warning.value),
                sa.DISTRICT.value_set(state.input.district),
            ]
        )
        self._version += 1
        projection = FollowUpProjection(self._version, view(state))
        try:
            await self._local(RatingActivities.project_follow_up, projection, timedelta(seconds=self._give_up_s))
        except (ActivityError, ApplicationError, ActivityTimeout) as err:  # a local activity's, unwrapped
            # The page lags until the next projection; the workflow holds the state.
            workflow.logger.error("follow-up projection %d failed: %s", self._version, type(err).__name__)

    async def _audit(self, actor: str, role: str, action: str, **detail: Any) -> None:
        entry = FollowUpAudit(actor, role, action, self.state.input.rating_id, self.state.input.district, "ok", detail)
        await self._local(RatingActivities.audit_follow_up, entry)

    @property
    def _give_up_s(self) -> int:
        return self.state.input.timing.give_up_after_s

    async def _local(self, activity: Any, arg: Any, give_up: timedelta | None = None) -> Any:
        """A store write or a calendar lookup, run by the worker itself; retried until the store answers
        (an audit record or the deadlines are never given up), or until `give_up`."""
        return await workflow.execute_local_activity_method(
            activity,
            arg,
            start_to_close_timeout=LOCAL_TIMEOUT,
            schedule_to_close_timeout=give_up,
            retry_policy=STORE_RETRY,
        )
