"""容缺受理: the insurance step waits for the carrier liability policy until the insurance deadline,
querying the platform on the applicant's checks, the insurer's callbacks and a bounded poll.

Checks are coalesced: one platform query answers every check requested before it, and a check
within the window after a query (`Timing.insurance_check_window_s`) is answered with the view at
once, so an applicant's clicks do not grow the history without bound.
"""

from __future__ import annotations

import functools
from collections.abc import Awaitable, Callable
from datetime import datetime, timedelta

from temporalio import workflow

from activities.permit import PermitActivities
from domain.statuses import Actor, Status
from workflows import calls, texts
from workflows.clocks import department_instant
from workflows.incidents import Incidents
from workflows.rollover import Rollover
from workflows.saga import Closed
from workflows.statutory_clocks import StatutoryClocks
from workflows.types import ApplicationState, VehicleQuery


class InsuranceChecks:
    def __init__(
        self,
        state: ApplicationState,
        clocks: StatutoryClocks,
        incidents: Incidents,
        wait: Callable[..., Awaitable[bool]],
        queried_at: datetime | None,
    ) -> None:
        self._state, self._clocks, self._incidents, self._wait = state, clocks, incidents, wait
        self._requested = 0
        self._done = 0
        self.queried_at = queried_at  # the last platform query (a continued run keeps its window)
        self.answered = 0  # the applicant's checks this run (each an update in its history)
        self.rollover: Rollover | None = None  # the run may continue as new between two queries

    async def until_found(self) -> None:
        """Query until the policy is found; raises Closed (expired) when the deadline passes without it."""
        input = self._state.input
        query = VehicleQuery(vin=input.vehicle.vin, plate=input.vehicle.plate)
        while self._state.policy is None:
            if self.rollover is not None:
                await self.rollover.at_quiet_point()
            deadline = self._clocks.insurance_deadline()
            remaining = deadline - workflow.now()
            if remaining <= timedelta(0):
                await self._query(query, before=deadline)
                if self._state.policy is None and deadline == self._clocks.insurance_deadline():
                    raise Closed(Status.EXPIRED, texts.REASON_NO_POLICY, Actor.SYSTEM)
                continue
            requested = self._done  # requests not yet answered count, whenever they came
            checked = await self._wait(
                functools.partial(self._news, requested, self._clocks.changes),
                timeout=min(remaining, timedelta(seconds=input.timing.insurance_poll_s)),
                summary=f"insurance deadline {deadline.isoformat()} or the next policy query",
                expires=False,
            )
            if workflow.now() >= self._clocks.insurance_deadline():
                continue  # the last check, at the deadline, is made above
            if checked and self._requested == requested:
                continue  # the deadline moved: the timer is set anew
            await self._query(query, before=self._clocks.insurance_deadline())

    def request(self) -> int:
        """A check asked for (the applicant's, or the insurer's callback); its ticket."""
        self._requested += 1
        return self._requested

    async def check(self) -> None:
        """The applicant's check: answered by the next query, or at once within the window after one."""
        self.answered += 1
        window = timedelta(seconds=self._state.input.timing.insurance_check_window_s)
        if self.queried_at is not None and workflow.now() - self.queried_at < window:
            return
        ticket = self.request()
        await workflow.wait_condition(
            lambda: (
                self._done >= ticket
                or self._state.status != Status.AWAITING_INSURANCE
                or self._state.incident is not None
            )
        )

    def pending(self) -> bool:
        """Checks asked for and not yet answered by a query."""
        return self._requested > self._done

    def _news(self, requested: int, deadline_changes: int) -> bool:
        due = self.rollover is not None and self.rollover.due()
        return self._requested > requested or self._clocks.changes > deadline_changes or due

    async def _query(self, query: VehicleQuery, before: datetime) -> None:
        """One platform query answers every check requested so far (coalesced)."""
        requested = self._requested
        self.queried_at = workflow.now()
        timing = self._state.input.timing
        policy = await self._incidents.guard(lambda: calls.department(PermitActivities.find_policy, query, timing))
        if policy is not None and department_instant(policy.bought_at) < before:
            self._state.policy = policy
        self._done = requested
