"""The bench's baseline: a workflow with the permit workflow's shape that does nothing.

It runs as many activities (and local activities), takes as many updates and signals as one permit
application does, with empty bodies and Temporal's default data converter, so the
difference to the real thing is what our own code costs on top of Temporal.

`python -m drills.bare ADDRESS TASK_QUEUE` runs its worker until SIGTERM.
"""

from __future__ import annotations

import asyncio
import functools
import signal
import sys
from dataclasses import dataclass
from datetime import timedelta

from temporalio import activity, workflow
from temporalio.client import Client
from temporalio.worker import Worker


@dataclass
class BarePlan:
    activities: int
    updates: int
    signals: int
    local_activities: int = 0


def share(total: int, phase: int, phases: int) -> int:
    """This phase's part of `total`, spread evenly over the phases."""
    return total * (phase + 1) // phases - total * phase // phases


@activity.defn
async def nothing() -> None:
    return None


@workflow.defn
class BareWorkflow:
    def __init__(self) -> None:
        self.inputs = 0

    @workflow.run
    async def run(self, plan: BarePlan) -> int:
        phases = plan.updates + plan.signals + 1
        for phase in range(phases):
            # the activities spread over the phases, as the real one's steps spread between its inputs
            for _ in range(share(plan.activities, phase, phases)):
                await workflow.execute_activity(nothing, start_to_close_timeout=timedelta(seconds=30))
            for _ in range(share(plan.local_activities, phase, phases)):
                await workflow.execute_local_activity(nothing, start_to_close_timeout=timedelta(seconds=5))
            if phase < phases - 1:
                await workflow.wait_condition(functools.partial(self._inputs_beyond, phase))
        return self.inputs

    def _inputs_beyond(self, count: int) -> bool:
        return self.inputs > count

    @workflow.update
    async def step(self) -> int:
        self.inputs += 1
        return self.inputs

    @workflow.signal
    def poke(self) -> None:
        self.inputs += 1


async def run_worker(address: str, task_queue: str) -> None:
    client = await Client.connect(address)
    worker = Worker(client, task_queue=task_queue, workflows=[BareWorkflow], activities=[nothing])
    loop = asyncio.get_running_loop()
    loop.add_signal_handler(signal.SIGTERM, lambda: asyncio.ensure_future(worker.shutdown()))
    print("bare worker started", flush=True)
    await worker.run()


if __name__ == "__main__":
    asyncio.run(run_worker(sys.argv[1], sys.argv[2]))
