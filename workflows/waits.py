"""The main path's waits: each ends early when the application is withdrawn meanwhile and, from
acceptance until the policy is found, when the insurance deadline passes without a policy."""

from __future__ import annotations

import functools
from collections.abc import Callable
from datetime import timedelta

from temporalio import workflow

from domain.statuses import Actor, Status
from workflows import texts
from workflows.saga import Closed
from workflows.statutory_clocks import StatutoryClocks


class Waits:
    def __init__(self, clocks: StatutoryClocks) -> None:
        self._clocks = clocks
        self.closing: Closed | None = None  # set by a withdrawal; raised at the next wait or step

    async def wait(
        self,
        condition: Callable[[], bool],
        timeout: timedelta | None = None,
        summary: str | None = None,
        *,
        expires: bool = True,
    ) -> bool:
        """Wait for `condition`; False on timeout; raises Closed when withdrawn meanwhile and, from acceptance
        until the policy is found (unless `expires` is False: the insurance step keeps its own deadline),
        when the insurance deadline passes without a policy."""
        while True:
            deadline, changes = self._clocks.insurance_due(), self._clocks.changes
            left = None if deadline is None else max(deadline - workflow.now(), timedelta(0))
            at_deadline = expires and left is not None and (timeout is None or left < timeout)
            try:
                await workflow.wait_condition(
                    functools.partial(self._woken, condition, changes),
                    timeout=left if at_deadline else timeout,
                    timeout_summary=f"insurance deadline {deadline.isoformat()}"
                    if at_deadline and deadline
                    else summary,
                )
            except TimeoutError:
                if not at_deadline:
                    return False
                await self._at_insurance_deadline()
                if timeout is not None:
                    return False  # a poll: made early
                continue
            finally:
                self.check_closing()
            if condition():
                return True

    def check_closing(self) -> None:
        """Raise the withdrawal taken meanwhile, once."""
        if self.closing is not None:
            closing, self.closing = self.closing, None
            raise closing

    def _woken(self, condition: Callable[[], bool], deadline_changes: int) -> bool:
        return condition() or self.closing is not None or self._clocks.changes != deadline_changes

    async def _at_insurance_deadline(self) -> None:
        if await self._clocks.expired_without_policy():
            raise Closed(Status.EXPIRED, texts.REASON_NO_POLICY, Actor.SYSTEM)
