"""The error handlers: a database out of reach is a 503 to try again, never a 500."""

import asyncpg
import httpx
import pytest
from fastapi import FastAPI
from structlog.testing import capture_logs

from api.errors import ApiError, install_error_handlers


def app_raising(exc: Exception) -> FastAPI:
    app = FastAPI()
    install_error_handlers(app)

    @app.get("/boom")
    async def boom() -> None:
        raise exc

    return app


@pytest.mark.parametrize(
    "exc",
    [
        asyncpg.exceptions.ConnectionDoesNotExistError("connection was closed in the middle of operation"),
        asyncpg.exceptions.CannotConnectNowError("the database system is shutting down"),
        asyncpg.exceptions.AdminShutdownError("terminating connection due to administrator command"),
        asyncpg.InterfaceError("connection is closed"),
        ConnectionRefusedError(111, "Connection refused"),
        TimeoutError(),
    ],
    ids=lambda exc: type(exc).__name__,
)
async def test_a_database_out_of_reach_is_503_with_retry_after(exc: Exception) -> None:
    transport = httpx.ASGITransport(app=app_raising(exc))
    async with httpx.AsyncClient(transport=transport, base_url="http://api") as client:
        response = await client.get("/boom")
    assert response.status_code == 503
    assert response.json()["error"] == "database_unavailable"
    assert response.headers["retry-after"] == "2"


async def test_a_bug_is_still_a_500() -> None:
    transport = httpx.ASGITransport(app=app_raising(KeyError("x")), raise_app_exceptions=False)
    async with httpx.AsyncClient(transport=transport, base_url="http://api") as client:
        response = await client.get("/boom")
    assert response.status_code == 500 and response.json()["error"] == "internal_error"


async def test_a_503_of_our_own_is_logged_with_its_code() -> None:
    """Operators see why the API answered 503 (here, an update the workflow did not answer in time)."""
    transport = httpx.ASGITransport(app=app_raising(ApiError(503, "still_processing", "read it again shortly")))
    async with httpx.AsyncClient(transport=transport, base_url="http://api") as client:
        with capture_logs() as logs:
            response = await client.get("/boom")
    assert response.status_code == 503 and response.json()["error"] == "still_processing"
    assert {"event": "api.unavailable", "path": "/boom", "error": "still_processing", "log_level": "warning"} in logs
