"""The FastAPI application: routers, error handlers, middleware, and the lifespan resources."""

from __future__ import annotations

import re
import time
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import structlog
from fastapi import FastAPI, Request, Response
from prometheus_client import Counter, Histogram
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.middleware.base import BaseHTTPMiddleware, RequestResponseEndpoint
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from adapters.departments import Departments
from api import applicant, console
from api.errors import install_error_handlers
from api.resources import Resources
from api.routers import (
    applications,
    auth,
    calendar,
    callbacks,
    codec,
    documents,
    incidents,
    materials,
    ops,
    permits,
    ratings,
)
from config import Settings, get_settings
from store import Store
from store.db import create_pool, migrate_as_owner
from workers.temporal import connect
from workflows.types import Timing

log = structlog.get_logger(__name__)

REQUESTS = Counter("permit_api_requests_total", "HTTP requests", ["method", "route", "status"])
LATENCY = Histogram("permit_api_request_seconds", "HTTP request latency", ["method", "route"])
BODY_SLACK = 64 * 1024


class BodyLimit:
    """413 for a body over the limit (a path's own, else `max_body`), whether it declares its length
    or arrives in chunks."""

    def __init__(self, app: ASGIApp, max_body: int, path_limits: dict[str, int] | None = None) -> None:
        self.app, self.max_body, self.path_limits = app, max_body, path_limits or {}

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        max_body = self.path_limits.get(scope["path"], self.max_body)
        length = dict(scope["headers"]).get(b"content-length", b"")
        if length.isdigit() and int(length) > max_body:
            return await self._refuse(send)
        seen = 0

        async def counting_receive() -> Message:
            nonlocal seen
            message = await receive()
            if message["type"] == "http.request":
                seen += len(message.get("body", b""))
                if seen > max_body:
                    raise StarletteHTTPException(413, "the request body is too large")  # answered by the error handlers
            return message

        await self.app(scope, counting_receive, send)

    @staticmethod
    async def _refuse(send: Send) -> None:
        body = b'{"error":"too_large","detail":"the request body is too large"}'
        await send({"type": "http.response.start", "status": 413, "headers": [(b"content-type", b"application/json")]})
        await send({"type": "http.response.body", "body": body})


class RequestContext(BaseHTTPMiddleware):
    """Request id into logs and responses, and per-route metrics."""

    async def dispatch(self, request: Request, call_next: RequestResponseEndpoint) -> Response:
        request_id = request.headers.get("x-request-id") or uuid.uuid4().hex
        structlog.contextvars.clear_contextvars()
        structlog.contextvars.bind_contextvars(request_id=request_id[:64])
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
        for pages in (console.routes.router, applicant.routes.router):
            table += [(route.path_regex, route.methods) for route in pages.routes]  # type: ignore[attr-defined]
        app.state.method_table = table
    return sorted(set().union(*(methods for pattern, methods in table if pattern.match(path))))


def timing_from(settings: Settings) -> Timing:
    """The timing new workflows are started with: the polling fall-backs and any drill deadline."""
    return Timing(
        usage_change_poll_s=settings.poll_usage_change_s,
        insurance_poll_s=settings.poll_insurance_s,
        delivery_poll_s=settings.poll_delivery_s,
        insurance_deadline_s=settings.drill_insurance_deadline_s,
        continue_as_new_after_events=settings.continue_as_new_after_events,
    )


def create_app(settings: Settings | None = None, *, workflow_timing: Timing | None = None) -> FastAPI:
    settings = settings or get_settings()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        if not settings.database_url:
            raise RuntimeError("DATABASE_URL is required")
        await migrate_as_owner(settings)  # up to date: nothing, so the application's role may run it
        pool = await create_pool(settings.database_url)
        departments = Departments.http(settings.departments_url)
        client = await connect(settings)
        store = Store.for_settings(pool, settings)
        for table, sealable in (
            ("applicants", store.applicants),
            ("materials", store.materials),
            ("start_inputs", store.applications),
        ):  # rows from before sealing, or sealed with a key since rotated
            sealed, unreadable = await sealable.seal_all()
            if sealed:
                log.info(f"store.{table}_sealed", count=sealed)
            if unreadable:
                log.warning(
                    f"store.{table}_unreadable",
                    count=unreadable,
                    hint="a DATA_KEYS key is missing or a row was altered",
                )
        app.state.resources = Resources(settings=settings, store=store, client=client, departments=departments)
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
    app.state.settings = settings
    app.state.workflow_timing = workflow_timing or timing_from(settings)
    install_error_handlers(app)
    # The first added is the innermost: the body limit raises where the error handlers see it.
    app.add_middleware(
        BodyLimit,
        max_body=settings.max_upload_bytes + BODY_SLACK,
        path_limits={"/app/apply": 2 * settings.max_upload_bytes + BODY_SLACK},  # the form carries both scans
    )
    app.add_middleware(codec.CodecCors, origins=settings.temporal_ui_origins)  # the Web UI, on /codec only
    app.add_middleware(RequestContext)
    for router in (
        auth.router,
        materials.router,
        applications.router,
        incidents.router,
        documents.router,
        callbacks.router,
        calendar.router,
        ratings.router,
        permits.router,
        codec.router,
        ops.router,
    ):
        app.include_router(router)
    if settings.is_development:
        app.include_router(auth.dev_router)
    console.install(app)
    applicant.install(app)
    return app
