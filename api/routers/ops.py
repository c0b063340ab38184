from __future__ import annotations

from fastapi import APIRouter, Response
from fastapi.responses import JSONResponse, PlainTextResponse
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

from api.deps import ResourcesDep
from api.services import health, incidents

router = APIRouter(tags=["operations"])


@router.get("/healthz")
async def read_health() -> dict[str, str]:
    """The process is up."""
    return {"status": "ok"}


@router.get("/readyz", responses={503: {"description": "Temporal or PostgreSQL does not answer"}})
async def read_readiness(resources: ResourcesDep) -> JSONResponse:
    """Temporal and PostgreSQL answer."""
    checks = await health.readiness(resources)
    ready = all(v == "ok" for v in checks.values())
    return JSONResponse(
        {"status": "ready" if ready else "not_ready", "checks": checks}, status_code=200 if ready else 503
    )


@router.get("/metrics", response_class=PlainTextResponse, responses={200: {"content": {"text/plain": {}}}})
async def read_metrics(resources: ResourcesDep) -> Response:
    """Prometheus metrics, with the open incidents per department as the store counts them now."""
    await incidents.refresh_metrics(resources)
    return Response(generate_latest(), media_type=CONTENT_TYPE_LATEST)
