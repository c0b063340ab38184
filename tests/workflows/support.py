"""Driving one application on a time-skipping Temporal server, for workflow tests."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from datetime import timedelta

from temporalio.client import WorkflowExecutionStatus, WorkflowHandle, WorkflowUpdateFailedError
from temporalio.exceptions import ApplicationError
from temporalio.testing import WorkflowEnvironment
from temporalio.worker import Worker

from domain import errors
from domain.statuses import TERMINAL
from tests.support_settings import settings_for_tests
from tests.support_temporal import BIN, register_search_attributes
from tests.workflows.fakes import FakeWorld, application_input
from workers.temporal import data_converter
from workflows.permit_application import PermitApplicationWorkflow
from workflows.permit_lifecycle import PermitLifecycleWorkflow
from workflows.types import (
    Decision,
    IncidentResolution,
    OriginalsShipment,
    PermitApplicationInput,
    Timing,
    UsageChangeReport,
)

# Workers running in the background, kept so that none is collected while it runs.
_RUNNING: set[asyncio.Future[None]] = set()


async def until(condition: Callable[[], bool], what: str, timeout: float = 15) -> None:
    """Poll `condition` (the fakes record into plain lists); fail naming `what` after `timeout` seconds."""
    loop = asyncio.get_running_loop()
    end = loop.time() + timeout
    while True:
        if condition():
            return
        if loop.time() > end:
            raise AssertionError(f"never saw {what}")
        await asyncio.sleep(0.05)


class Run:
    """One application under test: its world, handle, and the statuses it passed through."""

    def __init__(self, env: WorkflowEnvironment, world: FakeWorld, handle: WorkflowHandle) -> None:
        self.env, self.world, self.handle = env, world, handle
        self.seen: list[str] = []
        self.task_queue = ""
        self.workers: list[Worker] = []
        self.timing = Timing()

    async def view(self) -> dict:
        return await self.handle.query(PermitApplicationWorkflow.view)

    async def reach(self, status: str, *, step: str | None = None, timeout: float = 15) -> dict:
        """Poll the query until the workflow is at `status` (and waiting for `step`)."""
        loop = asyncio.get_running_loop()
        end = loop.time() + timeout
        while True:
            view = await self.view()
            if not self.seen or self.seen[-1] != view["status"]:
                self.seen.append(view["status"])
            if view["status"] == status and (step is None or view["step"] == step):
                return view
            if loop.time() > end:
                raise AssertionError(f"never reached {status}/{step}; at {view['status']}/{view['step']}")
            await asyncio.sleep(0.05)

    async def decide(
        self, step: str, outcome: str = "approve", reason: str = "", items: list[str] | None = None
    ) -> dict:
        await self.reach(step.replace("originals_received", "awaiting_originals"), step=step)
        return await self.handle.execute_update(
            PermitApplicationWorkflow.decide, Decision(step, outcome, "transport_clerk", reason, items or [])
        )

    async def complete_usage_change(self) -> None:
        await self.reach("vehicle_nature_change")
        await until(lambda: bool(self.world.jobs), "a usage-change request")
        self.world.complete_jobs()
        for job_id, job in self.world.jobs.items():
            if job.target_nature != "非营运":
                await self.handle.signal(
                    PermitApplicationWorkflow.report_usage_change, UsageChangeReport(job_id, "completed", "DL-NEW-1")
                )

    async def through_acceptance(self, *, until: str = "awaiting_insurance", step: str | None = None) -> None:
        await self.decide("preliminary_review")
        if (await self.view())["channel"] == "online":
            await self.reach("awaiting_originals")
            await self.handle.execute_update(
                PermitApplicationWorkflow.report_originals_shipment, OriginalsShipment("SF1234567")
            )
            await self.decide("originals_received")
        await self.complete_usage_change()
        await self.reach(until, step=step)

    async def incident(self, timeout: float = 15) -> dict:
        """Poll the query until an incident is open; its view."""
        loop = asyncio.get_running_loop()
        end = loop.time() + timeout
        while True:
            view = await self.view()
            if view["incident"] is not None:
                return view
            if loop.time() > end:
                raise AssertionError(f"no incident opened; at {view['status']}/{view['step']}")
            await asyncio.sleep(0.05)

    async def resolve(self, incident_id: str, action: str, reason: str = "") -> dict:
        resolution = IncidentResolution(incident_id, action, "supervisor", reason)
        return await self.handle.execute_update(PermitApplicationWorkflow.resolve_incident, resolution)

    async def steer(self, *, stop_at_incident: bool = True, timeout: float = 60) -> dict:
        """Take each step the applicant, a clerk and the departments would take, until the application is
        closed or (with `stop_at_incident`) an incident opens: its view then. Departments answer by polling."""
        loop = asyncio.get_running_loop()
        end = loop.time() + timeout
        while True:
            view = await self.view()
            if view["status"] in TERMINAL_VALUES or (view["incident"] and stop_at_incident):
                return view
            if loop.time() > end:
                raise AssertionError(f"never closed; at {view['status']}/{view['step']}, incident {view['incident']}")
            action = view["pending"][0]["action"] if view["pending"] else None
            try:
                await self._take(action, view["step"])
            except WorkflowUpdateFailedError as err:  # the application moved on since the view was read
                if not (isinstance(err.cause, ApplicationError) and err.cause.type == errors.NOT_AWAITING_THIS_STEP):
                    raise

    async def _take(self, action: str | None, step: str | None) -> None:
        """What the one the application waits for does about `action`; time passes for the departments."""
        timing = self.timing
        if action in STEPS and step == action:
            decision = Decision(action, "approve", "transport_clerk")
            await self.handle.execute_update(PermitApplicationWorkflow.decide, decision)
        elif action == "ship_originals":
            shipment = OriginalsShipment("SF1234567")
            await self.handle.execute_update(PermitApplicationWorkflow.report_originals_shipment, shipment)
        elif action == "change_usage_nature":
            await self.env.sleep(timedelta(seconds=timing.usage_change_poll_s + 1))
        elif action == "buy_carrier_liability_insurance":
            if self.world.policy is None:
                self.world.buy_policy(await self.env.get_current_time())
            await self.handle.execute_update(PermitApplicationWorkflow.check_insurance)
        elif action == "deliver_documents":
            await self.env.sleep(timedelta(seconds=timing.delivery_poll_s + 1))
        else:
            await asyncio.sleep(0.05)


STEPS = {"preliminary_review", "originals_received", "final_review"}
TERMINAL_VALUES = {status.value for status in TERMINAL}


def new_worker(env: WorkflowEnvironment, world: FakeWorld, task_queue: str, *, cached: bool = True) -> Worker:
    """A worker for one test; `cached=False` replays the whole history at every task, as after a restart."""
    worker = Worker(
        env.client,
        task_queue=task_queue,
        workflows=[PermitApplicationWorkflow, PermitLifecycleWorkflow],
        activities=world.activities(),
        max_cached_workflows=100 if cached else 0,
    )
    running = asyncio.ensure_future(worker.run())
    _RUNNING.add(running)
    running.add_done_callback(_RUNNING.discard)
    return worker


Starter = Callable[..., Awaitable[Run]]


@asynccontextmanager
async def time_skipping_server() -> AsyncIterator[WorkflowEnvironment]:
    """A time-skipping test server of one test's own: one test's leftovers never stall another's clock."""
    env = await WorkflowEnvironment.start_time_skipping(
        data_converter=data_converter(settings_for_tests()),
        test_server_existing_path=str(BIN / "temporal-test-server"),
    )
    await register_search_attributes(env)
    try:
        yield env
    finally:
        await env.shutdown()


@asynccontextmanager
async def starting(env: WorkflowEnvironment) -> AsyncIterator[Starter]:
    """A function that starts an application with its own worker; the workers stop at the end."""
    runs: list[Run] = []

    async def start(world: FakeWorld, wf_input: PermitApplicationInput | None = None, *, cached: bool = True) -> Run:
        task_queue = f"test-{uuid.uuid4()}"
        worker = new_worker(env, world, task_queue, cached=cached)
        wf_input = wf_input or application_input()
        handle = await env.client.start_workflow(
            PermitApplicationWorkflow.run, wf_input, id=f"permit-{wf_input.application_id}", task_queue=task_queue
        )
        run = Run(env, world, handle)
        run.task_queue, run.workers, run.timing = task_queue, [worker], wf_input.timing
        runs.append(run)
        return run

    yield start
    for run in runs:
        await _terminate_when_idle(run.handle)
        for worker in run.workers:
            if worker.is_running:
                await worker.shutdown()


async def _terminate_when_idle(handle: WorkflowHandle, timeout: float = 10) -> None:
    """Terminate a workflow left running, once no task is in flight: a task cut short stalls time skipping."""
    loop = asyncio.get_running_loop()
    end = loop.time() + timeout
    while loop.time() < end:
        described = await handle.describe()
        if described.status != WorkflowExecutionStatus.RUNNING:
            return
        raw = described.raw_description
        if not raw.HasField("pending_workflow_task") and not raw.pending_activities:
            await handle.terminate("test finished")
            return
        await asyncio.sleep(0.05)
    await handle.terminate("test finished")
