"""The FastAPI application: routers, error handlers, middleware, and the lifespan resources."""

from __future__ import annotations

import re
import time
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import structlog
from fastapi import FastAPI, Request, Response
from fastapi.middleware.cors import CORSMiddleware
from fastapi.responses import JSONResponse
from prometheus_client import Counter, Histogram
from starlette.middleware.base import BaseHTTPMiddleware, RequestResponseEndpoint

from adapters.departments import Departments
from api.deps import Resources
from api.errors import install_error_handlers
from api.routers import applications, auth, calendar, callbacks, codec, documents, materials, ops
from config import Settings, get_settings
from store.db import create_pool, migrate
from store.repository import Store
from workers.temporal import connect
from workflows.types import Timing

log = structlog.get_logger(__name__)

REQUESTS = Counter("permit_api_requests_total", "HTTP requests", ["method", "route", "status"])
LATENCY = Histogram("permit_api_request_seconds", "HTTP request latency", ["method", "route"])
BODY_SLACK = 64 * 1024


class RequestContext(BaseHTTPMiddleware):
    """Request id into logs and responses, body size bound, and per-route metrics."""

    def __init__(self, app, max_body: int) -> None:
        super().__init__(app)
        self.max_body = max_body

    async def dispatch(self, request: Request, call_next: RequestResponseEndpoint) -> Response:
        request_id = request.headers.get("x-request-id") or uuid.uuid4().hex
        structlog.contextvars.clear_contextvars()
        structlog.contextvars.bind_contextvars(request_id=request_id[:64])
        length = request.headers.get("content-length")
        if length and length.isdigit() and int(length) > self.max_body:
            return JSONResponse({"error": "too_large", "detail": "the request body is too large"}, status_code=413)
        started = time.perf_counter()
        response = await call_next(request)
        if response.status_code == 405:
            response.headers["Allow"] = ", ".join(allowed_methods(request.app, request.url.path))
        route = request.scope.get("route")
        template = getattr(route, "path", "unmatched")
        LATENCY.labels(request.method, template).observe(time.perf_counter() - started)
        REQUESTS.labels(request.method, template, str(response.status_code)).inc()
        response.headers["X-Request-ID"] = request_id[:64]
        return response


def allowed_methods(app: FastAPI, path: str) -> list[str]:
    """Every method any route of this path accepts (Starlette names only the first route's)."""
    table = getattr(app.state, "method_table", None)
    if table is None:
        table = [
            (re.compile("^" + re.sub(r"\{[^/]+\}", "[^/]+", template) + "$"), {m.upper() for m in operations})
            for template, operations in app.openapi()["paths"].items()
        ]
        app.state.method_table = table
    return sorted(set().union(*(methods for pattern, methods in table if pattern.match(path))))


def create_app(settings: Settings | None = None, *, workflow_timing: Timing | None = None) -> FastAPI:
    settings = settings or get_settings()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        if not settings.database_url:
            raise RuntimeError("DATABASE_URL is required")
        pool = await create_pool(settings.database_url)
        await migrate(pool)
        departments = Departments.http(settings.departments_url)
        client = await connect(settings)
        app.state.resources = Resources(settings=settings, store=Store(pool), client=client, departments=departments)
        log.info("api.started", env=settings.app_env)
        try:
            yield
        finally:
            await departments.aclose()
            await pool.close()

    app = FastAPI(
        title="Wenzhou ride-hailing permit — joint handling (网约车营运“一件事”联办)",
        version="1.0.0",
        lifespan=lifespan,
    )
    app.state.workflow_timing = workflow_timing or Timing()
    install_error_handlers(app)
    app.add_middleware(
        CORSMiddleware,
        allow_origins=settings.temporal_ui_origins,
        allow_methods=["POST", "OPTIONS"],
        allow_headers=["Authorization", "Content-Type", "X-Namespace"],
        allow_credentials=True,
    )
    app.add_middleware(RequestContext, max_body=settings.max_upload_bytes + BODY_SLACK)
    for router in (auth.router, materials.router, applications.router, documents.router, callbacks.router, calendar.router, codec.router, ops.router):
        app.include_router(router)
    if settings.is_development:
        app.include_router(auth.dev_router)
    return app
