"""The retention policy as Temporal runs it: the activity, the workflow on a time-skipping server with
the worker's registration, and the daily schedule every worker start ensures exactly once."""

from __future__ import annotations

import asyncio
import contextlib
import uuid
from collections.abc import AsyncIterator
from datetime import timedelta

import pytest
from temporalio.client import Client, ScheduleActionStartWorkflow
from temporalio.service import RPCError
from temporalio.testing import ActivityEnvironment, WorkflowEnvironment

from activities.permit import PermitActivities
from activities.retention import RetentionActivities
from store import Store
from store.materials import ScanPurged
from store.retention import Purged, RetentionPolicy
from tests.store.own_database import own_store
from tests.support_settings import settings_for_tests
from tests.support_temporal import BIN
from workers.main import build_worker
from workers.temporal import data_converter
from workflows import retention
from workflows.retention import RetentionWorkflow

pytestmark = pytest.mark.timeout(120)

POLICY = RetentionPolicy.of(retention_days=30, callback_tolerance_s=300)
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64


@pytest.fixture
async def store(database_url: str) -> AsyncIterator[Store]:
    async with own_store(database_url) as store:
        yield store


async def old_scan(store: Store) -> str:
    """A scan uploaded 31 days ago that no application lists: past its retention."""
    material = await store.materials.save("eid-old", "driving_license", "image/png", PNG)
    await store.pool.execute(
        "UPDATE materials SET created_at = now() - interval '31 days' WHERE material_id = $1",
        uuid.UUID(material.material_id),
    )
    return material.material_id


async def test_the_activity_applies_the_policy_it_was_given(store: Store) -> None:
    scan = await old_scan(store)
    await store.pool.execute(
        "INSERT INTO rate_limits (key, window_start, hits) VALUES ('upload:eid-old', now() - interval '2 days', 1)"
    )
    kept = RetentionActivities(store.retention, RetentionPolicy.of(retention_days=60, callback_tolerance_s=300))
    assert await ActivityEnvironment().run(kept.purge_expired) == Purged(rate_limits=1)  # 31 days < 60
    assert await store.materials.content(scan) == ("image/png", PNG)

    activities = RetentionActivities(store.retention, POLICY)
    assert await ActivityEnvironment().run(activities.purge_expired) == Purged(scans=1)
    with pytest.raises(ScanPurged):
        await store.materials.content(scan)


async def test_the_workflow_runs_the_purge_on_the_worker_the_service_builds(store: Store) -> None:
    scan = await old_scan(store)
    env = await WorkflowEnvironment.start_time_skipping(
        data_converter=data_converter(settings_for_tests()),
        test_server_existing_path=str(BIN / "temporal-test-server"),
    )
    try:
        task_queue = f"retention-{uuid.uuid4()}"
        permit = PermitActivities(None, store, store.calendar.load)  # type: ignore[arg-type]  # not run here
        worker = build_worker(
            env.client, task_queue, permit, retention_activities=RetentionActivities(store.retention, POLICY)
        )
        async with worker:
            result = await env.client.execute_workflow(
                RetentionWorkflow.run, id=f"retention-{uuid.uuid4()}", task_queue=task_queue
            )
    finally:
        await env.shutdown()
    assert result == Purged(scans=1)
    material = await store.materials.get(scan)
    assert material is not None and material.purged


async def delete_schedule(client: Client) -> None:
    with contextlib.suppress(RPCError):  # there was none
        await client.get_schedule_handle(retention.SCHEDULE_ID).delete()


async def test_the_daily_schedule_is_created_once_however_many_workers_start(
    dev_server_env: WorkflowEnvironment,
) -> None:
    client = dev_server_env.client
    await delete_schedule(client)  # another test's worker process may have created it
    try:
        created = await asyncio.gather(*(retention.ensure_schedule(client, "permit-q") for _ in range(3)))
        assert sorted(created) == [False, False, True]
        assert not await retention.ensure_schedule(client, "permit-q")  # a restart later

        described = await client.get_schedule_handle(retention.SCHEDULE_ID).describe()
        action = described.schedule.action
        assert isinstance(action, ScheduleActionStartWorkflow)
        assert (action.workflow, action.task_queue) == ("RetentionWorkflow", "permit-q")
        assert [spec.every for spec in described.schedule.spec.intervals] == [timedelta(days=1)]
    finally:
        await delete_schedule(client)
