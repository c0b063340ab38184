"""Refusals of the played departments, answered as ``{"error", "detail", ...}``."""

from typing import Any

from fastapi import Request
from fastapi.responses import JSONResponse


class DepartmentError(Exception):
    """A department's refusal: HTTP status, machine code, human sentence and extra fields."""

    def __init__(self, status_code: int, error: str, detail: str, **extra: Any) -> None:
        super().__init__(detail)
        self.status_code = status_code
        self.error = error
        self.detail = detail
        self.extra = extra


async def department_error_handler(_request: Request, exc: Exception) -> JSONResponse:
    """Render a DepartmentError as its JSON body."""
    assert isinstance(exc, DepartmentError)
    body = {"error": exc.error, "detail": exc.detail, **exc.extra}
    return JSONResponse(body, status_code=exc.status_code)
