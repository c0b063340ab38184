"""The whole system over real HTTP: dev server, PostgreSQL, sandbox, one worker, the API."""

from __future__ import annotations

import random
import uuid
from collections.abc import AsyncIterator

import asyncpg
import httpx
import pytest
from temporalio.testing import WorkflowEnvironment

from activities.permit import PermitActivities
from activities.permit_lifecycle import PermitLifecycleActivities
from activities.rating import RatingActivities
from activities.regulator import RegulatorActivities
from adapters.departments import Departments
from adapters.regulator import HttpRegulatorClient
from api.app import create_app
from sandbox.app import create_app as create_sandbox_app
from sandbox.settings import SandboxSettings
from store import Store
from store.db import create_pool, migrate
from tests.support_sandbox import SandboxControl, bound_socket, serving
from tests.support_settings import TEST_SECRETS, settings_for_tests
from tests.support_stack import Stack
from workers.main import build_worker
from workflows.types import Timing


@pytest.fixture(scope="module")
def stack_timing() -> Timing:
    """The workflows' timing in this module's stack (a module may override this fixture)."""
    return Timing(usage_change_poll_s=5, insurance_poll_s=5, delivery_poll_s=5)


@pytest.fixture(scope="module")
async def module_database_url(database_url: str) -> AsyncIterator[str]:
    """A database of this module's own, beside the session's: what one module leaves, another never lists."""
    name = f"permit_it_{uuid.uuid4().hex[:10]}"
    admin = await asyncpg.connect(database_url)
    try:
        await admin.execute(f'CREATE DATABASE "{name}"')
        head, sep, query = database_url.partition("?")
        yield f"{head.rsplit('/', 1)[0]}/{name}{sep}{query}"
        await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    finally:
        await admin.close()


@pytest.fixture(scope="module")
async def stack(
    dev_server_env: WorkflowEnvironment, module_database_url: str, stack_timing: Timing
) -> AsyncIterator[Stack]:
    database_url = module_database_url
    api_socket = bound_socket()
    api_port = api_socket.getsockname()[1]
    sandbox_settings = SandboxSettings(
        state_file=None,
        callback_base_url=f"http://127.0.0.1:{api_port}",
        vehicle_admin_delay_s=0.3,
        courier_delay_s=0.3,
        callback_backoff_s=0.1,
        **{name: secret for name, secret in TEST_SECRETS.items() if name.startswith("callback_secret_")},
        regulator_secret=TEST_SECRETS["regulator_secret"],
    )
    task_queue = f"it-{uuid.uuid4()}"
    async with serving(create_sandbox_app(sandbox_settings)) as sandbox_url:
        settings = settings_for_tests(
            app_env="development",  # the stack signs in with /v1/dev/token
            database_url=database_url,
            temporal_address=dev_server_env.client.service_client.config.target_host,
            departments_url=sandbox_url,
            task_queue=task_queue,
        )
        pool = await create_pool(database_url)
        await migrate(pool)
        # Every module's stack shares the session's Temporal server: its permit numbers (and so the ids of
        # their lifecycles) start elsewhere than another module's.
        await pool.execute("UPDATE permit_counters SET last_seq = $1", random.randrange(100_000, 900_000))
        departments = Departments.http(sandbox_url)
        regulator = HttpRegulatorClient.connect(sandbox_url, settings.regulator_secret)
        store = Store.for_settings(pool, settings)
        activities = PermitActivities(departments, store, store.calendar.load)
        try:
            ratings = RatingActivities(store, store.calendar.load, store.ratings.void)
            async with build_worker(
                dev_server_env.client,
                task_queue,
                activities,
                rating_activities=ratings,
                regulator_activities=RegulatorActivities(regulator),
                lifecycle_activities=PermitLifecycleActivities(store),
            ):
                app = create_app(settings, workflow_timing=stack_timing)
                async with (
                    serving(app, sock=api_socket) as api_url,
                    httpx.AsyncClient(base_url=api_url, timeout=40) as api,
                    httpx.AsyncClient(base_url=sandbox_url) as sandbox_client,
                ):
                    yield Stack(
                        api=api,
                        sandbox=SandboxControl(sandbox_client),
                        store=store,
                        temporal=dev_server_env.client,
                    )
        finally:
            await departments.aclose()
            await regulator.aclose()
            await pool.close()
