"""Compensation as data (the saga of Temporal's samples): each step that succeeds adds its undo,
and an application that ends without a permit runs them, the latest first.

The workflow runs each undo through its incidents (`Incidents.undo`): one a department refuses for
good opens an incident on the closed application, and the next undos wait for its retry."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from temporalio.exceptions import ActivityError

from domain.statuses import Actor, Status
from workflows.calls import UsageChangeFailed


class Closed(Exception):
    """Raised inside the main path when the application ends without a permit: the saga compensates."""

    def __init__(self, status: Status, reason: str, actor: str) -> None:
        super().__init__(reason)
        self.status, self.reason, self.actor = status, reason, actor


Guard = Callable[[Callable[[], Awaitable[None]]], Awaitable[None]]


async def run(action: Callable[[], Awaitable[None]]) -> None:
    await action()


@dataclass(eq=False)
class Undo:
    """What closing undoes of a step that succeeded; `actor` answers for it if it fails."""

    step: str
    actor: Actor
    action: Callable[[], Awaitable[None]]


class Saga:
    def __init__(self, failed: Callable[[str, Actor, Exception], None]) -> None:
        self._undos: list[Undo] = []
        self._failed = failed  # records a closing step that failed, for an operator to follow up

    def add(self, step: str, actor: Actor, action: Callable[[], Awaitable[None]]) -> Undo:
        undo = Undo(step, actor, action)
        self._undos.append(undo)
        return undo

    def discard(self, step: str) -> None:
        self._undos = [undo for undo in self._undos if undo.step != step]

    def steps(self) -> list[str]:
        """The steps whose undos are registered, the earliest first: a continued run registers them again."""
        return [undo.step for undo in self._undos]

    async def compensate(self, after_each: Callable[[], Awaitable[None]], guard: Guard = run) -> None:
        """Run the undos, the latest first, each through `guard`; one that fails all the same (a job the
        department could not carry out) is recorded and the next one still runs."""
        while self._undos:
            undo = self._undos.pop()
            await self.attempt(undo.step, undo.actor, guard(undo.action))
            await after_each()

    async def attempt(self, step: str, actor: Actor, action: Awaitable[None]) -> None:
        """One step of closing down: a department's failure is recorded, not fatal."""
        try:
            await action
        except (ActivityError, UsageChangeFailed) as err:
            self._failed(step, actor, err)
