"""A long application continues as new: each run's history stays under the threshold, and the next run
carries on at the same step with everything the last one did: its undos, its job in flight, its clocks."""

from __future__ import annotations

import asyncio
from collections import Counter
from collections.abc import AsyncIterator
from datetime import timedelta

import pytest
from temporalio.api.enums.v1 import EventType
from temporalio.client import WorkflowExecutionStatus, WorkflowHandle, WorkflowHistory
from temporalio.testing import WorkflowEnvironment

from tests.workflows.fakes import FakeWorld, application_input
from tests.workflows.histories import replay_history
from tests.workflows.support import Run, Starter, starting, time_skipping_server, until
from workflows import texts
from workflows.permit_application import PermitApplicationWorkflow
from workflows.types import OriginalsShipment, Withdrawal

THRESHOLD = 400  # events: small, so that a test sees many runs


@pytest.fixture
async def start() -> AsyncIterator[Starter]:
    async with time_skipping_server() as env, starting(env) as start:
        yield start


async def runs(env: WorkflowEnvironment, first: WorkflowHandle) -> list[WorkflowHistory]:
    """The history of every run of an application, the first first, following continue-as-new."""
    histories, run_id = [], first.first_execution_run_id or first.run_id
    while run_id:
        history = await env.client.get_workflow_handle(first.id, run_id=run_id).fetch_history()
        histories.append(history)
        last = history.events[-1]
        continued = last.event_type == EventType.EVENT_TYPE_WORKFLOW_EXECUTION_CONTINUED_AS_NEW
        run_id = last.workflow_execution_continued_as_new_event_attributes.new_execution_run_id if continued else None
    return histories


async def closed(run: Run) -> None:
    """Let time pass for the departments until the application's last run has completed."""
    for _ in range(100):
        if (await run.handle.describe()).status == WorkflowExecutionStatus.COMPLETED:
            return
        await run.env.sleep(timedelta(minutes=10))
    raise AssertionError(f"still running at {(await run.view())['status']}")


async def idle(run: Run, timeout: float = 15) -> None:
    """Wait until the application's latest run has no workflow task or activity in flight."""
    loop = asyncio.get_running_loop()
    end = loop.time() + timeout
    while loop.time() < end:
        raw = (await run.handle.describe()).raw_description
        if not raw.HasField("pending_workflow_task") and not raw.pending_activities:
            return
        await asyncio.sleep(0.05)
    raise AssertionError("the application never fell idle")


def updates(history: WorkflowHistory) -> int:
    return sum(e.event_type == EventType.EVENT_TYPE_WORKFLOW_EXECUTION_UPDATE_ACCEPTED for e in history.events)


async def following(start: Starter, world: FakeWorld, **timing: float) -> tuple[Run, WorkflowHandle]:
    """An application whose handle follows its runs (a handle with a run id stops at the first), and
    the handle of its first run."""
    timing.setdefault("continue_as_new_after_events", THRESHOLD)
    run = await start(world, application_input(**timing))
    first, run.handle = run.handle, run.env.client.get_workflow_handle(run.handle.id)
    return run, first


async def originals_received(run: Run) -> None:
    await run.decide("preliminary_review")
    await run.reach("awaiting_originals")
    await run.handle.execute_update(PermitApplicationWorkflow.report_originals_shipment, OriginalsShipment("SF1"))
    await run.decide("originals_received")
    await run.reach("vehicle_nature_change")
    await until(lambda: "request_usage_change" in run.world.names(), "the usage-change request")


async def test_a_job_pending_30_days_and_3000_checks_complete_with_every_run_under_the_threshold(
    start: Starter,
) -> None:
    world = FakeWorld(usage_change_pending=True, deadline_days=60)
    run, first = await following(start, world)
    await originals_received(run)
    await run.env.sleep(timedelta(days=30))
    await run.complete_usage_change()
    await run.reach("awaiting_insurance")
    for _batch in range(30):  # 3,000 checks, a platform query for each hundred (a window of 5 minutes)
        for _check in range(100):
            answer = await run.handle.execute_update(PermitApplicationWorkflow.check_insurance)
            assert answer["status"] == "awaiting_insurance"
        await run.env.sleep(timedelta(minutes=6))
    world.buy_policy(await run.env.get_current_time() - timedelta(minutes=1))
    await run.handle.execute_update(PermitApplicationWorkflow.check_insurance)
    await run.decide("final_review")
    await closed(run)  # the courier is polled
    view = await run.view()
    assert view["status"] == "completed" and view["permit"]

    histories = await runs(run.env, first)
    lengths = [len(h.events) for h in histories]
    assert len(histories) >= 40, lengths  # about 8,000 events of polls and 15,000 of checks
    assert max(lengths) < THRESHOLD, lengths
    assert sum(updates(h) for h in histories) == 4 + 3001  # the decisions and the shipment, the checks
    # What was done once stays done once: one request, one contact form, one notice; the projections go on.
    names = Counter(world.names())
    assert names["request_usage_change"] == 1
    assert 715 <= names["get_usage_change"] <= 735  # 30 days of polls an hour apart: the back-off is carried
    assert 30 <= names["find_policy"] <= 32
    assert Counter(d.kind for d in world.documents.values())["vehicle_change_contact_form"] == 1
    assert sum("one-time-notice" in sms.idempotency_key for sms in world.sms) == 1
    versions = [p.version for p in world.projections]
    assert versions == sorted(versions) and len(set(versions)) == len(versions)
    events = [entry["event"] for entry in view["timeline"]]
    assert events.count("accepted") == 1 and events.count("usage_nature_changed") == 1
    assert events[-1] == "completed"


async def test_a_continued_run_still_undoes_what_the_runs_before_it_did(start: Starter) -> None:
    """Continued during the usage-nature change, then withdrawn: the reversal and the originals' return,
    registered in the first run, are done by the last."""
    world = FakeWorld(usage_change_pending=True, deadline_days=60)
    run, first = await following(start, world)
    await originals_received(run)
    while len(await runs(run.env, first)) < 2:
        await run.env.sleep(timedelta(days=1))
    withdrawn = await run.handle.execute_update(PermitApplicationWorkflow.withdraw, Withdrawal("不办了"))
    assert withdrawn["status"] == "withdrawn"
    await closed(run)

    events = [entry["event"] for entry in (await run.view())["timeline"]]
    assert "usage_nature_reverted" in events and "originals_returned" in events
    reversal = [job for job in world.jobs.values() if job.target_nature == "非营运"]
    assert len(reversal) == 1 and reversal[0].status == "completed"
    assert [s.contents for s in world.shipments.values()] == [texts.CONTENTS_ORIGINALS_RETURNED]
    histories = await runs(run.env, first)
    assert all(len(h.events) < THRESHOLD for h in histories)
    await replay_history(histories[0], "rollover_handed_over")
    await replay_history(histories[-1], "rollover_resumed_withdrawn")


async def test_a_run_hands_over_before_temporal_s_limit_of_updates(start: Starter) -> None:
    """Checks answered within the window add no query, only updates (Temporal takes 2,000 a run): a run
    hands over after a number of them, whatever its length."""
    world = FakeWorld(deadline_days=60)
    run, first = await following(start, world, continue_as_new_after_events=100_000, continue_as_new_after_checks=50)
    await run.through_acceptance()  # three updates: two decisions and the shipment of the originals
    for _ in range(120):
        await run.handle.execute_update(PermitApplicationWorkflow.check_insurance)
    histories = await runs(run.env, first)
    assert [updates(h) for h in histories] == [3 + 50, 50, 20]
    assert (await run.view())["status"] == "awaiting_insurance"


async def test_the_clocks_go_on_across_runs_each_reminder_once_until_the_deadline_expires_it(start: Starter) -> None:
    """Runs handed over every few hundred events, on the official calendar: the two reminders are sent
    once each, and the insurance deadline, carried from run to run, expires the application."""
    world = FakeWorld()
    run, first = await following(start, world, channel="window")
    await run.through_acceptance()
    due_on = (await run.view())["deadlines"]["insurance"]["due_on"]
    while (await run.view())["status"] == "awaiting_insurance":
        for _check in range(40):
            await run.handle.execute_update(PermitApplicationWorkflow.check_insurance)
        await idle(run)  # a hand-over under way finishes before time skips (the test server strands it else)
        await run.env.sleep(timedelta(hours=12))
    await closed(run)

    view = await run.view()
    assert view["status"] == "expired" and view["deadlines"]["insurance"]["due_on"] == due_on
    reminders = [sms.idempotency_key.rpartition(":")[2] for sms in world.sms if ":sms:reminder-" in sms.idempotency_key]
    assert reminders == ["reminder-5", "reminder-1"]
    histories = await runs(run.env, first)
    assert len(histories) >= 5 and all(len(h.events) < THRESHOLD for h in histories)
