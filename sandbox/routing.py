"""FastAPI plumbing shared by the department routers, and the middleware that injects their faults."""

from typing import Annotated

from fastapi import APIRouter, Depends, Header, Request
from starlette.types import ASGIApp, Receive, Scope, Send

from sandbox.runtime import SERVICES, Runtime, Service


def get_runtime(request: Request) -> Runtime:
    """The runtime of the app serving ``request``."""
    runtime: Runtime = request.app.state.runtime
    return runtime


RuntimeDep = Annotated[Runtime, Depends(get_runtime)]
IdempotencyKey = Annotated[str | None, Header(alias="Idempotency-Key")]


def department_router(service: Service) -> APIRouter:
    """A router for one department's API, under ``/{service}/v1``, subject to its faults."""
    return APIRouter(prefix=f"/{service}/v1", tags=[service])


def helper_router() -> APIRouter:
    """A router for the /sandbox/* helpers, which faults never touch."""
    return APIRouter(prefix="/sandbox", tags=["sandbox"])


def service_of(path: str) -> str | None:
    """The department whose API ``path`` belongs to, if any."""
    service, _, rest = path.lstrip("/").partition("/")
    return service if service in SERVICES and (rest == "v1" or rest.startswith("v1/")) else None


class DepartmentFaults:
    """ASGI middleware: each department's requests answered as its fault says (see sandbox.faults)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        service = service_of(scope["path"]) if scope["type"] == "http" else None
        if service is None:
            await self.app(scope, receive, send)
            return
        runtime: Runtime = scope["app"].state.runtime
        fault = runtime.fault(service)
        if fault is None:
            await self.app(scope, receive, send)
            return
        await runtime.injector.serve(service, fault, self.app, scope, receive, send)
