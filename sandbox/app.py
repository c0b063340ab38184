"""The department sandbox: one app that plays every department the orchestrator calls.

Faults set through ``/sandbox/faults`` make a department slow, drop connections, fail, refuse
or answer garbage (see sandbox.faults); the ``/sandbox/*`` helpers always answer.
"""

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import httpx
from fastapi import FastAPI

from sandbox import control
from sandbox.departments import courier, eid, inspection, insurance, miit, regulator, sms, tax, vehicle_admin
from sandbox.errors import DepartmentError, department_error_handler
from sandbox.routing import DepartmentFaults
from sandbox.runtime import Runtime
from sandbox.settings import SandboxSettings
from sandbox.state import StateStore

CALLBACK_TIMEOUT = httpx.Timeout(5.0, connect=3.0)


def create_app(settings: SandboxSettings | None = None) -> FastAPI:
    """Build the sandbox app; ``settings`` default to the ``SANDBOX_*`` environment."""
    settings = settings or SandboxSettings()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        async with httpx.AsyncClient(timeout=CALLBACK_TIMEOUT) as http:
            runtime = Runtime(
                settings,
                StateStore(settings.state_file),
                http,
                deferred=(vehicle_admin.USAGE_CHANGES, courier.DELIVERIES),
            )
            app.state.runtime = runtime
            runtime.resume()
            try:
                yield
            finally:
                await runtime.aclose()

    app = FastAPI(
        title="Department sandbox",
        description=(
            "Plays e-ID, the vehicle administration, tax, inspection, insurance, MIIT, courier, SMS"
            " and the national ride-hailing regulatory platform."
        ),
        lifespan=lifespan,
    )
    app.add_exception_handler(DepartmentError, department_error_handler)
    app.add_middleware(DepartmentFaults)
    for router in (
        eid.helpers,
        vehicle_admin.helpers,
        insurance.helpers,
        sms.helpers,
        regulator.helpers,
        control.router,
        eid.router,
        vehicle_admin.router,
        tax.router,
        inspection.router,
        insurance.router,
        miit.router,
        courier.router,
        sms.router,
        regulator.router,
    ):
        app.include_router(router)
    return app
