"""The clerks' decisions, one at a time: taken by the `decide` update, acted on by the step that
awaits it, and answered once settled (the step's paperwork done, an incident opened, or the
application closed), so that the clerk sees where the decision led."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from temporalio import workflow

from workflows.types import Decision


class Decisions:
    def __init__(self, taken: int) -> None:
        self.next: Decision | None = None  # taken, not yet acted on
        self.taken = taken  # how many were taken, this run and before it (it numbers the SMS keys)
        self._settled = taken

    async def take(self, decision: Decision, closed: Callable[[], bool]) -> None:
        """The update's part: hand the decision to the step, then wait until it is settled."""
        self.taken += 1
        ticket, self.next = self.taken, decision
        await workflow.wait_condition(lambda: self._settled >= ticket or closed())

    async def awaited(self, wait: Callable[[Callable[[], bool]], Awaitable[bool]]) -> Decision:
        """The step's part: the next decision, once taken (validated by the update's validator)."""
        await wait(lambda: self.next is not None)
        decision, self.next = self.next, None
        assert decision is not None
        workflow.logger.info(
            "decision %s at %s", decision.outcome, decision.step, extra={"request_id": decision.request_id}
        )
        return decision

    def settle(self) -> None:
        """Answer every decision taken so far."""
        self._settled = self.taken
