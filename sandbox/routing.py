"""FastAPI plumbing shared by the department routers."""

from typing import Annotated

from fastapi import APIRouter, Depends, Header, Request

from sandbox.runtime import Runtime, Service


def get_runtime(request: Request) -> Runtime:
    """The runtime of the app serving ``request``."""
    runtime: Runtime = request.app.state.runtime
    return runtime


RuntimeDep = Annotated[Runtime, Depends(get_runtime)]
IdempotencyKey = Annotated[str | None, Header(alias="Idempotency-Key")]


def department_router(service: Service, prefix: str) -> APIRouter:
    """A router for one department's API, subject to the faults injected for ``service``."""

    async def inject_fault(runtime: RuntimeDep) -> None:
        await runtime.inject_fault(service)

    return APIRouter(prefix=prefix, tags=[service], dependencies=[Depends(inject_fault)])


def helper_router() -> APIRouter:
    """A router for the /sandbox/* helpers, which faults never touch."""
    return APIRouter(prefix="/sandbox", tags=["sandbox"])
