"""Domain and transport errors mapped to the API's error body in one place."""

from __future__ import annotations

from typing import Any

import asyncpg
import structlog
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel
from starlette.exceptions import HTTPException as StarletteHTTPException

log = structlog.get_logger(__name__)


class ApiError(Exception):
    def __init__(
        self, status: int, error: str, detail: str, *, headers: dict[str, str] | None = None, **extra: Any
    ) -> None:
        super().__init__(detail)
        self.status, self.error, self.detail, self.headers, self.extra = status, error, detail, headers, extra


def field_error(loc: list[str | int], msg: str) -> ApiError:
    return ApiError(
        422, "validation_failed", f"{'.'.join(map(str, loc[1:]))}: {msg}", fields=[{"loc": loc, "msg": msg}]
    )


def not_found(what: str = "application") -> ApiError:
    return ApiError(404, "not_found", f"no such {what}")


def _body(error: str, detail: str, **extra: Any) -> dict[str, Any]:
    return {"error": error, "detail": detail, **extra}


def _clean(msg: str) -> str:
    return msg.removeprefix("Value error, ")


def install_error_handlers(app: FastAPI) -> None:
    @app.exception_handler(ApiError)
    async def _api_error(request: Request, exc: ApiError) -> JSONResponse:
        if exc.status >= 500:  # a dependency (Temporal, the workflow) did not answer: worth an operator's eye
            log.warning("api.unavailable", path=request.url.path, error=exc.error)
        return JSONResponse(_body(exc.error, exc.detail, **exc.extra), status_code=exc.status, headers=exc.headers)

    @app.exception_handler(RequestValidationError)
    async def _validation(_: Request, exc: RequestValidationError) -> JSONResponse:
        fields = [{"loc": list(e.get("loc", ())), "msg": _clean(str(e.get("msg", "")))} for e in exc.errors()]
        named = ", ".join(".".join(map(str, f["loc"][1:])) or str(f["loc"][0]) for f in fields)
        return JSONResponse(_body("validation_failed", f"invalid fields: {named}", fields=fields), status_code=422)

    @app.exception_handler(StarletteHTTPException)
    async def _http(_: Request, exc: StarletteHTTPException) -> JSONResponse:
        if exc.status_code == 400:  # the body is not parseable JSON (or form data)
            fields = [{"loc": ["body"], "msg": str(exc.detail)}]
            return JSONResponse(_body("validation_failed", "body: not well-formed", fields=fields), status_code=422)
        codes = {404: "not_found", 405: "method_not_allowed", 401: "unauthorized", 403: "forbidden", 413: "too_large"}
        return JSONResponse(
            _body(codes.get(exc.status_code, "http_error"), str(exc.detail)),
            status_code=exc.status_code,
            headers=getattr(exc, "headers", None),
        )

    @app.exception_handler(asyncpg.PostgresConnectionError)
    @app.exception_handler(asyncpg.exceptions.OperatorInterventionError)
    @app.exception_handler(asyncpg.InterfaceError)
    @app.exception_handler(OSError)
    @app.exception_handler(TimeoutError)
    async def _database_unavailable(request: Request, exc: Exception) -> JSONResponse:
        """PostgreSQL restarting or out of reach: nothing was changed, so the client may try again."""
        log.warning("api.database_unavailable", path=request.url.path, error=type(exc).__name__)
        return JSONResponse(
            _body("database_unavailable", "the database is unavailable; try again shortly"),
            status_code=503,
            headers={"Retry-After": "2"},
        )

    @app.exception_handler(Exception)
    async def _unexpected(request: Request, exc: Exception) -> JSONResponse:
        log.exception("api.unexpected_error", path=request.url.path)
        return JSONResponse(_body("internal_error", "an unexpected error occurred"), status_code=500)


class FieldProblem(BaseModel):
    loc: list[str | int]
    msg: str


class ErrorBody(BaseModel):
    """Every error: a machine code, a sentence for people, and for 422 the fields at fault."""

    error: str
    detail: str
    fields: list[FieldProblem] | None = None


_MEANINGS = {
    401: "no token, or an invalid one",
    403: "authenticated but not allowed",
    404: "unknown, or not yours",
    409: "the application's state does not allow this",
    413: "too large",
    415: "unsupported file type",
    422: "invalid input; `fields` names each bad field",
    429: "throttled; see Retry-After",
    503: "a dependency is unavailable; try again",
}


def documented(*codes: int) -> dict[int | str, dict[str, Any]]:
    """OpenAPI `responses` for these error codes, all with the ErrorBody shape."""
    return {code: {"model": ErrorBody, "description": _MEANINGS[code]} for code in codes}
