"""The statutory clocks of an accepted application, running alongside the main path.

From acceptance until the licensing decision: the insurance reminders, the decision's warning,
and the deadlines computed again when a calendar year is loaded. The arithmetic is in clocks.py;
this part issues the workflow's timers, SMS and projections.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
from datetime import datetime

from temporalio import workflow
from temporalio.exceptions import ActivityError

from activities.permit import PermitActivities
from domain.statuses import TERMINAL, Actor
from workflows import calls, clocks, incidents, texts
from workflows.state import note
from workflows.types import ApplicationState, Deadlines, VehicleQuery


class StatutoryClocks:
    def __init__(self, state: ApplicationState, project: calls.Projector, reminders_handled: list[str]) -> None:
        self._state, self._project = state, project
        self.changes = 0  # how often the deadlines were set: a wait on the insurance deadline starts anew
        self._recompute_requests = 0
        self.reminders_handled = set(reminders_handled)
        self._task: asyncio.Task[None] | None = None
        self._waiting_since: int | None = None  # the recompute requests seen when the task last began to wait

    async def start(self) -> Deadlines:
        """At acceptance: compute the deadlines, then keep time in a task of their own."""
        assert self._state.accepted_on is not None
        self._apply(await calls.compute_deadlines(self._state.accepted_on, self._state.input.timing))
        self.resume()
        return self.deadlines()

    def resume(self) -> None:
        """Keep time from the deadlines in the state (at acceptance, or in a run continued as new)."""
        if self._state.deadlines is not None and not self._stopped():
            self._task = asyncio.create_task(self._run())

    def idle(self) -> bool:
        """Nothing in hand: no SMS, projection or recompute under way or asked for (a run may hand over)."""
        return self._task is None or self._task.done() or self._waiting_since == self._recompute_requests

    async def stopped(self) -> None:
        if self._task is not None:
            await self._task

    def recompute(self) -> None:
        """A calendar year was loaded: provisional deadlines are computed again."""
        if self._state.deadlines is not None and self._state.status not in TERMINAL:
            self._recompute_requests += 1

    def deadlines(self) -> Deadlines:
        assert self._state.deadlines is not None, "the deadlines are computed at acceptance"
        return self._state.deadlines

    def insurance_deadline(self) -> datetime:
        assert self._state.accepted_at is not None
        return clocks.insurance_deadline(self.deadlines(), self._state.input.timing, self._state.accepted_at)

    def insurance_due(self) -> datetime | None:
        """The insurance deadline while it holds: from acceptance until the policy is found (or the
        licensing decided, or the application closed); None otherwise."""
        state = self._state
        if state.deadlines is None or state.policy is not None or self._stopped():
            return None
        return self.insurance_deadline()

    async def expired_without_policy(self) -> bool:
        """At the insurance deadline outside the insurance step: a last policy query; True when none was
        bought before the deadline. An insurer that cannot answer by then confirms no policy (as the
        one-time notice promises: not insured by the due date, the application ends)."""
        deadline, input = self.insurance_due(), self._state.input
        if deadline is None or workflow.now() < deadline:
            return False  # the policy was found, or the deadline moved
        query = VehicleQuery(vin=input.vehicle.vin, plate=input.vehicle.plate)
        try:
            policy = await calls.department(PermitActivities.find_policy, query, input.timing)
        except ActivityError:
            return True
        if policy is None or clocks.department_instant(policy.bought_at) >= deadline:
            return True
        self._state.policy = policy
        return False

    def refresh_warning(self) -> bool:
        """Set the decision's warning for now; True when it changed."""
        state = self._state
        level = clocks.warning_level(state.deadlines, workflow.now(), decided=state.licensing_decided)
        changed, state.warning = level != state.warning, level
        return changed

    def _apply(self, deadlines: Deadlines) -> None:
        self._state.deadlines = deadlines
        self.changes += 1
        self.refresh_warning()

    def _reminder_instants(self) -> dict[str, datetime]:
        timing, deadline = self._state.input.timing, self.insurance_deadline()
        return clocks.reminder_instants(self.deadlines(), timing, deadline, self.reminders_handled)

    def _stopped(self) -> bool:
        return self._state.licensing_decided or self._state.status in TERMINAL

    def _news(self, requested: int) -> bool:
        return self._recompute_requests > requested or self._stopped()

    async def _run(self) -> None:
        state = self._state
        while not self._stopped():
            if self.refresh_warning():
                note(state, workflow.now(), f"decision_warning_{state.warning.value}", Actor.SYSTEM)
                await self._project()
            await self._send_due_reminders()
            now = workflow.now()
            reminders = self._reminder_instants().values() if state.policy is None else ()
            next_at = clocks.next_wake_up(now, state.deadlines, state.warning, reminders)
            requested = self._waiting_since = self._recompute_requests
            with contextlib.suppress(TimeoutError):
                await workflow.wait_condition(
                    functools.partial(self._news, requested),
                    timeout=(next_at - now) if next_at else None,
                    timeout_summary=f"statutory clock: next reminder or warning at {next_at.isoformat()}"
                    if next_at
                    else None,
                )
            self._waiting_since = None
            if self._recompute_requests > requested and not self._stopped():
                await self._recompute()

    async def _send_due_reminders(self) -> None:
        """At most one SMS per reminder; when several are due at once only the nearest is sent."""
        state = self._state
        if state.policy is not None or state.status in TERMINAL:
            return
        due = clocks.due_reminders(self._reminder_instants(), workflow.now())
        if not due:
            return
        self.reminders_handled.update(str(n) for n in due)
        text = texts.insurance_reminder(self.deadlines().insurance.due_on, due[0])
        if await self._sms(f"reminder-{due[0]}", text):
            note(state, workflow.now(), "insurance_reminder_sent", Actor.SYSTEM, working_days_left=due[0])

    async def _sms(self, step: str, text: str) -> bool:
        """A clock's SMS: a failure is recorded, never an incident (incidents.py) nor the clock's end."""
        try:
            await calls.send_sms(self._state.input, step, text)
        except ActivityError as err:
            note(self._state, workflow.now(), "sms_refused", Actor.SYSTEM, answer=incidents.answer(err))
            return False
        return True

    async def _recompute(self) -> None:
        state = self._state
        assert state.accepted_on is not None
        before = self.deadlines().insurance
        try:
            self._apply(await calls.compute_deadlines(state.accepted_on, state.input.timing))
        except ActivityError as err:  # the deadlines stay as they were, provisional, until the next load
            workflow.logger.error("deadlines not recomputed: %s", incidents.answer(err))
            return
        after = self.deadlines().insurance
        if (after.due_on, after.provisional) != (before.due_on, before.provisional) and state.policy is None:
            text = texts.sms(texts.Sms.DEADLINE_UPDATE, due_on=after.due_on)
            await self._sms(f"deadline-update-{after.due_on}", text)
        details = {"insurance_due_on": after.due_on, "provisional": after.provisional}
        note(state, workflow.now(), "deadlines_recomputed", Actor.SYSTEM, **details)
        await self._project()
