"""`RetentionWorkflow`: the daily run of the retention policy (store/retention.py), started by a
Temporal Schedule the worker creates once (`ensure_schedule`)."""

from __future__ import annotations

from datetime import timedelta

from temporalio import workflow
from temporalio.client import (
    Client,
    Schedule,
    ScheduleActionStartWorkflow,
    ScheduleAlreadyRunningError,
    ScheduleIntervalSpec,
    SchedulePolicy,
    ScheduleSpec,
)
from temporalio.common import RetryPolicy

with workflow.unsafe.imports_passed_through():
    from activities.retention import RetentionActivities
    from store.retention import Purged

SCHEDULE_ID = "retention-daily"
EVERY = timedelta(days=1)
PURGE_TIMEOUT = timedelta(hours=1)
PURGE_RETRY = RetryPolicy(initial_interval=timedelta(seconds=10), maximum_interval=timedelta(minutes=10))


@workflow.defn
class RetentionWorkflow:
    @workflow.run
    async def run(self) -> Purged:
        return await workflow.execute_activity_method(
            RetentionActivities.purge_expired,
            start_to_close_timeout=PURGE_TIMEOUT,
            retry_policy=PURGE_RETRY,
        )


async def ensure_schedule(client: Client, task_queue: str) -> bool:
    """Create the daily schedule unless it exists (every worker calls this at start); True when created.

    A run that is still going when the next is due is not doubled: the next is skipped.
    """
    schedule = Schedule(
        action=ScheduleActionStartWorkflow(
            RetentionWorkflow.run,
            id=SCHEDULE_ID,
            task_queue=task_queue,
            execution_timeout=EVERY,
        ),
        spec=ScheduleSpec(intervals=[ScheduleIntervalSpec(every=EVERY)]),
        policy=SchedulePolicy(),  # overlap: skip
    )
    try:
        await client.create_schedule(SCHEDULE_ID, schedule)
    except ScheduleAlreadyRunningError:
        return False
    return True
