"""A small chaos run in `make test`: the worker is killed (SIGKILL) mid-run and restarted.

Checked from the sandbox's and the store's own records, not from the workflow's word:
every application completes, with exactly one permit number, one usage-nature change
at PSB, one one-time notice SMS and one courier delivery.
"""

from __future__ import annotations

import asyncio
import os
import signal
import sys
import uuid
from collections.abc import AsyncIterator

import httpx
import pytest
from temporalio.testing import WorkflowEnvironment

from api.app import create_app
from sandbox.app import create_app as create_sandbox_app
from sandbox.settings import SandboxSettings
from store.db import create_pool, migrate
from store.repository import Store
from tests.conftest import settings_for_tests
from tests.integration.conftest import Stack
from tests.integration.test_http_api import submitted
from tests.support_sandbox import SandboxControl, bound_socket, serving
from tests.workers.test_worker_process import free_port
from workflows.types import Timing

pytestmark = pytest.mark.timeout(240)

APPLICATIONS = 4


class WorkerProcess:
    """`python -m workers` as a separate process that can be killed without warning."""

    def __init__(self, env: dict[str, str]) -> None:
        self.env = env
        self.process: asyncio.subprocess.Process | None = None

    async def start(self) -> None:
        self.process = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "workers", env=self.env,
            stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT,
        )
        assert self.process.stdout is not None
        line = b""
        while b"worker.started" not in line:
            line = await asyncio.wait_for(self.process.stdout.readline(), timeout=30)
            assert line, "the worker exited during start-up"
        asyncio.ensure_future(self._drain())

    async def _drain(self) -> None:
        assert self.process is not None and self.process.stdout is not None
        while await self.process.stdout.readline():
            pass

    async def kill(self) -> None:
        assert self.process is not None
        self.process.send_signal(signal.SIGKILL)
        await self.process.wait()

    async def stop(self) -> None:
        if self.process is not None and self.process.returncode is None:
            self.process.send_signal(signal.SIGTERM)
            await asyncio.wait_for(self.process.wait(), timeout=30)


async def walk(stack: Stack, clerk: dict[str, str], worker_killed: asyncio.Event) -> tuple[str, dict, dict]:
    """One online application, from the citizen's sign-in to `completed`."""
    app = await submitted(stack)
    owner, vehicle, applicant, app_id = app.owner, app.vehicle, app.applicant, app.application_id
    await worker_killed.wait()

    async def decide(step: str) -> None:
        for _ in range(20):  # a 503 while the worker is away is answered by trying again
            response = await stack.api.post(
                f"/v1/applications/{app_id}/decisions", headers=clerk, json={"step": step, "outcome": "approve"}
            )
            if response.status_code == 200:
                return
            assert response.status_code in (409, 503), response.text
            await asyncio.sleep(0.5)
        raise AssertionError(f"{step} was never taken")

    await stack.wait_for(app_id, clerk, "preliminary_review", timeout=60)
    await decide("preliminary_review")
    shipped = await stack.api.post(f"/v1/applications/{app_id}/originals-shipment", headers=applicant, json={"tracking_number": "SF20261127"})
    assert shipped.status_code == 200, shipped.text
    await stack.wait_for(app_id, clerk, "awaiting_originals", timeout=60)
    await decide("originals_received")
    await stack.wait_for(app_id, applicant, "awaiting_insurance", timeout=60)
    await stack.sandbox.buy_policy(plate=vehicle["plate"], vin=vehicle["vin"])
    await stack.wait_for(app_id, clerk, "final_review", timeout=60)
    await decide("final_review")
    await stack.wait_for(app_id, applicant, "completed", timeout=60)
    return app_id, owner, vehicle


@pytest.fixture
async def chaos(dev_server_env: WorkflowEnvironment, database_url: str) -> AsyncIterator[tuple[Stack, WorkerProcess, object]]:
    api_socket = bound_socket()
    sandbox_settings = SandboxSettings(
        state_file=None, callback_base_url=f"http://127.0.0.1:{api_socket.getsockname()[1]}",
        psb_delay_s=0.3, courier_delay_s=0.3, callback_backoff_s=0.1,
    )
    task_queue = f"chaos-{uuid.uuid4()}"
    sandbox_app = create_sandbox_app(sandbox_settings)
    async with serving(sandbox_app) as sandbox_url:
        settings = settings_for_tests(
            database_url=database_url,
            temporal_address=dev_server_env.client.service_client.config.target_host,
            departments_url=sandbox_url,
            task_queue=task_queue,
        )
        worker = WorkerProcess({
            **os.environ, "APP_ENV": "test", "DATABASE_URL": database_url, "TEMPORAL_ADDRESS": settings.temporal_address,
            "DEPARTMENTS_URL": sandbox_url, "TASK_QUEUE": task_queue, "WORKER_METRICS_BIND": f"127.0.0.1:{free_port()}",
        })
        pool = await create_pool(database_url)
        await migrate(pool)
        await worker.start()
        app = create_app(settings, workflow_timing=Timing(usage_change_poll_s=3, insurance_poll_s=3, delivery_poll_s=3))
        try:
            async with (
                serving(app, sock=api_socket) as api_url,
                httpx.AsyncClient(base_url=api_url, timeout=40) as api,
                httpx.AsyncClient(base_url=sandbox_url) as sandbox_client,
            ):
                yield Stack(api=api, sandbox=SandboxControl(sandbox_client), store=Store(pool)), worker, sandbox_app
        finally:
            await worker.stop()
            await pool.close()


async def test_a_killed_worker_loses_nothing_and_doubles_nothing(chaos) -> None:
    stack, worker, sandbox_app = chaos
    clerk = await stack.clerk()
    killed = asyncio.Event()
    walks = [asyncio.ensure_future(walk(stack, clerk, killed)) for _ in range(APPLICATIONS)]
    await asyncio.sleep(0.5)  # the applications are being collected when the worker dies
    await worker.kill()
    killed.set()
    await asyncio.sleep(1)
    await worker.start()
    results = await asyncio.gather(*walks)

    ids = [uuid.UUID(app_id) for app_id, _, _ in results]
    permits = await stack.store.pool.fetch("SELECT application_id, number FROM permits WHERE application_id = ANY($1)", ids)
    assert sorted(p["application_id"] for p in permits) == sorted(ids)  # one each, none doubled
    assert len({p["number"] for p in permits}) == APPLICATIONS
    state = sandbox_app.state.runtime.state
    for app_id, owner, vehicle in results:
        changes = [e["view"] for e in state.jobs.values() if e["view"]["vin"] == vehicle["vin"]]
        assert [j["target_nature"] for j in changes] == ["预约出租客运"]
        assert state.vehicles[vehicle["vin"]]["usage_nature"] == "预约出租客运"
        notices = [m for m in await stack.sandbox.sms(owner["phone"]) if "已受理" in m["text"]]
        assert len(notices) == 1
        deliveries = [
            e for e in state.shipments.values()
            if e["view"]["reference"] == app_id and e["parcel"]["contents"].startswith("网约车运输证")
        ]
        assert len(deliveries) == 1
    audit = await stack.store.pool.fetchval(
        "SELECT count(*) FROM audit_log WHERE target = ANY($1) AND action LIKE 'decision.%' AND outcome = 'ok'",
        [str(i) for i in ids],
    )
    assert audit == APPLICATIONS * 3
