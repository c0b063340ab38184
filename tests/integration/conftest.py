"""The whole system over real HTTP: dev server, PostgreSQL, sandbox, one worker, the API."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

import httpx
import pytest
from temporalio.testing import WorkflowEnvironment

from activities.permit import PermitActivities
from adapters.departments import Departments
from api.app import create_app
from sandbox.app import create_app as create_sandbox_app
from sandbox.settings import SandboxSettings
from store import Store
from store.db import create_pool, migrate
from tests.support_sandbox import SandboxControl, bound_socket, serving
from tests.support_settings import settings_for_tests
from workers.main import build_worker
from workflows.types import Timing

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64
PDF = b"%PDF-1.4\n% scan\n"


@dataclass
class Stack:
    api: httpx.AsyncClient
    sandbox: SandboxControl
    store: Store

    async def clerk(self, district: str = "330382", role: str = "transport_clerk") -> dict[str, str]:
        response = await self.api.post(
            "/v1/dev/token", json={"role": role, "sub": f"clerk-{district}", "district": district}
        )
        response.raise_for_status()
        return {"Authorization": f"Bearer {response.json()['access_token']}"}

    async def applicant(self, name: str, id_number: str, phone: str) -> dict[str, str]:
        """Sign in as the e-ID service's citizen: scan a QR token, exchange it for a token."""
        qr = await self.sandbox.issue_qr(name=name, id_number=id_number, phone=phone)
        response = await self.api.post("/v1/auth/eid", json={"qr_token": qr})
        response.raise_for_status()
        return {"Authorization": f"Bearer {response.json()['access_token']}"}

    async def upload(self, headers: dict[str, str], kind: str, content: bytes = PNG) -> str:
        response = await self.api.post(
            "/v1/materials", headers=headers, data={"kind": kind}, files={"file": ("scan.png", content, "image/png")}
        )
        assert response.status_code == 201, response.text
        return response.json()["material_id"]

    async def wait_for(
        self,
        application_id: str,
        headers: dict[str, str],
        status: str,
        timeout: float = 30,
        *,
        with_documents: bool = False,
    ) -> dict[str, Any]:
        """The view once it shows `status` (and, if asked, the documents of the step that led there)."""
        loop = asyncio.get_running_loop()
        end = loop.time() + timeout
        while True:
            view = (await self.api.get(f"/v1/applications/{application_id}", headers=headers)).json()
            if view.get("status") == status and (view.get("documents") or not with_documents):
                return view
            if loop.time() > end:
                raise AssertionError(f"application never reached {status}: {view.get('status')}")
            await asyncio.sleep(0.1)


@pytest.fixture(scope="module")
def stack_timing() -> Timing:
    """The workflows' timing in this module's stack (a module may override this fixture)."""
    return Timing(usage_change_poll_s=5, insurance_poll_s=5, delivery_poll_s=5)


@pytest.fixture(scope="module")
async def stack(dev_server_env: WorkflowEnvironment, database_url: str, stack_timing: Timing) -> AsyncIterator[Stack]:
    api_socket = bound_socket()
    api_port = api_socket.getsockname()[1]
    sandbox_settings = SandboxSettings(
        state_file=None,
        callback_base_url=f"http://127.0.0.1:{api_port}",
        vehicle_admin_delay_s=0.3,
        courier_delay_s=0.3,
        callback_backoff_s=0.1,
    )
    task_queue = f"it-{uuid.uuid4()}"
    async with serving(create_sandbox_app(sandbox_settings)) as sandbox_url:
        settings = settings_for_tests(
            database_url=database_url,
            temporal_address=dev_server_env.client.service_client.config.target_host,
            departments_url=sandbox_url,
            task_queue=task_queue,
        )
        pool = await create_pool(database_url)
        await migrate(pool)
        departments = Departments.http(sandbox_url)
        store = Store(pool)
        activities = PermitActivities(departments, store, store.calendar.load)
        try:
            async with build_worker(dev_server_env.client, task_queue, activities):
                app = create_app(settings, workflow_timing=stack_timing)
                async with (
                    serving(app, sock=api_socket) as api_url,
                    httpx.AsyncClient(base_url=api_url, timeout=40) as api,
                    httpx.AsyncClient(base_url=sandbox_url) as sandbox_client,
                ):
                    yield Stack(api=api, sandbox=SandboxControl(sandbox_client), store=Store(pool))
        finally:
            await departments.aclose()
            await pool.close()
