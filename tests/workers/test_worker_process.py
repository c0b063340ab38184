"""Workers on a real dev server: Prometheus metrics, load shared by two, and a graceful SIGTERM."""

from __future__ import annotations

import asyncio
import dataclasses
import os
import signal
import socket
import sys
import uuid

import httpx
import pytest
from temporalio.client import Client
from temporalio.testing import WorkflowEnvironment
from temporalio.worker import Worker

from activities.permit import PermitActivities
from tests.support_settings import environment_for_tests, settings_for_tests
from tests.workflows.fakes import FakeWorld, application_input
from workers.main import build_worker
from workers.temporal import data_converter, runtime
from workflows.permit_application import PermitApplicationWorkflow

pytestmark = pytest.mark.timeout(120)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def ineligible_world() -> FakeWorld:
    """A vehicle with nine seats: the application ends, rejected, after the shared-data activities."""
    world = FakeWorld()
    world.vehicle = dataclasses.replace(world.vehicle, seats=9)
    return world


async def test_the_worker_exposes_the_sdk_metrics(dev_server_env: WorkflowEnvironment) -> None:
    bind = f"127.0.0.1:{free_port()}"
    client = await Client.connect(
        dev_server_env.client.service_client.config.target_host,
        data_converter=data_converter(settings_for_tests()),
        runtime=runtime(bind),
    )
    task_queue = f"metrics-{uuid.uuid4()}"
    async with Worker(
        client, task_queue=task_queue, workflows=[PermitApplicationWorkflow], activities=ineligible_world().activities()
    ):
        wf = application_input()
        result = await client.execute_workflow(
            PermitApplicationWorkflow.run, wf, id=f"permit-{wf.application_id}", task_queue=task_queue
        )
        assert result.status == "rejected"
        async with httpx.AsyncClient() as http:
            metrics = (await http.get(f"http://{bind}/metrics")).text
    assert "temporal_workflow_completed" in metrics
    assert "temporal_activity_execution_latency" in metrics


async def test_two_workers_on_one_task_queue_share_the_load(dev_server_env: WorkflowEnvironment) -> None:
    """As two worker processes would: two connections, one task queue."""
    task_queue = f"shared-{uuid.uuid4()}"
    worlds = [ineligible_world(), ineligible_world()]
    clients = [
        await Client.connect(
            dev_server_env.client.service_client.config.target_host,
            data_converter=data_converter(settings_for_tests()),
            runtime=runtime(),
        )
        for _ in worlds
    ]
    workers = [
        Worker(
            client,
            task_queue=task_queue,
            workflows=[PermitApplicationWorkflow],
            activities=w.activities(),
            max_concurrent_activities=2,
        )
        for client, w in zip(clients, worlds, strict=True)
    ]
    async with workers[0], workers[1]:
        inputs = [application_input() for _ in range(12)]
        results = await asyncio.gather(
            *(
                dev_server_env.client.execute_workflow(
                    PermitApplicationWorkflow.run, wf, id=f"permit-{wf.application_id}", task_queue=task_queue
                )
                for wf in inputs
            )
        )
    assert {r.status for r in results} == {"rejected"}
    calls = [len(w.calls) for w in worlds]
    assert all(n > 0 for n in calls), calls
    assert sum(calls) == 12 * 8  # ownership, 3 shared data, MIIT, eligibility, termination notice, SMS: once each


async def test_sigterm_stops_the_worker_within_the_graceful_window(
    dev_server_env: WorkflowEnvironment, database_url: str
) -> None:
    env = {
        **os.environ,
        **environment_for_tests(),
        "DATABASE_URL": database_url,
        "TEMPORAL_ADDRESS": dev_server_env.client.service_client.config.target_host,
        "TASK_QUEUE": f"sigterm-{uuid.uuid4()}",
        "WORKER_METRICS_BIND": f"127.0.0.1:{free_port()}",
    }
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "workers", env=env, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT
    )
    output = b""
    assert process.stdout is not None
    while b"worker.started" not in output:
        output += await asyncio.wait_for(process.stdout.readline(), timeout=30)
    process.send_signal(signal.SIGTERM)
    rest, _ = await asyncio.wait_for(process.communicate(), timeout=25)
    assert process.returncode == 0, (output + rest).decode()
    assert b"worker.stopped" in rest


async def test_the_worker_caches_as_many_workflows_as_told(dev_server_env: WorkflowEnvironment) -> None:
    activities = PermitActivities(None, None, None)  # type: ignore[arg-type]  # nothing runs
    worker = build_worker(dev_server_env.client, "cache-size", activities, max_cached_workflows=250)
    assert worker.config()["max_cached_workflows"] == 250
