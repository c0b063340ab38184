"""Compensation as data: undos run latest first, a failing one is recorded and the rest still run."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from domain.statuses import Actor
from workflows.calls import UsageChangeFailed
from workflows.saga import Saga


async def test_undos_run_latest_first_and_a_failure_does_not_stop_the_rest() -> None:
    ran: list[str] = []
    failed: list[tuple[str, Actor]] = []
    projected: list[int] = []

    async def return_originals() -> None:
        ran.append("originals_return")

    async def revert_usage_nature() -> None:
        ran.append("usage_nature_reversal")
        raise UsageChangeFailed("非营运")

    async def project() -> None:
        projected.append(len(ran))

    saga = Saga(failed=lambda step, actor, err: failed.append((step, actor)))
    saga.add("originals_return", Actor.SYSTEM, return_originals)
    saga.add("usage_nature_reversal", Actor.VEHICLE_ADMIN, revert_usage_nature)
    await saga.compensate(after_each=project)

    assert ran == ["usage_nature_reversal", "originals_return"]
    assert failed == [("usage_nature_reversal", Actor.VEHICLE_ADMIN)]
    assert projected == [1, 2]  # the view is written after each undo
    await saga.compensate(after_each=project)
    assert ran == ["usage_nature_reversal", "originals_return"]  # each undo runs once


async def test_a_discarded_undo_does_not_run() -> None:
    ran: list[str] = []

    async def revert() -> None:
        ran.append("reverted")

    async def nothing() -> None:
        return None

    saga = Saga(failed=lambda step, actor, err: None)
    saga.add("originals_return", Actor.SYSTEM, nothing)
    saga.add("usage_nature_reversal", Actor.VEHICLE_ADMIN, revert)
    saga.discard("usage_nature_reversal")
    assert saga.steps() == ["originals_return"]
    await saga.compensate(after_each=nothing)
    assert ran == []


async def test_each_undo_runs_through_the_guard_the_latest_first() -> None:
    guarded: list[str] = []

    def undo(step: str) -> Callable[[], Awaitable[None]]:
        async def action() -> None:
            guarded.append(f"ran {step}")

        return action

    async def guard(action: Callable[[], Awaitable[None]]) -> None:
        guarded.append("guard")
        await action()

    async def nothing() -> None:
        return None

    saga = Saga(failed=lambda step, actor, err: None)
    saga.add("originals_return", Actor.SYSTEM, undo("originals_return"))
    saga.add("usage_nature_reversal", Actor.VEHICLE_ADMIN, undo("usage_nature_reversal"))
    await saga.compensate(after_each=nothing, guard=guard)
    assert guarded == ["guard", "ran usage_nature_reversal", "guard", "ran originals_return"]
