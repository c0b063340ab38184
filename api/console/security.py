"""What every console page goes through: its headers, the session as the principal, CSRF, and
refusals turned into pages in Chinese (a missing session into the sign-in page)."""

from __future__ import annotations

import re
from typing import Any

from fastapi import APIRouter, Request, Response
from fastapi.exceptions import RequestValidationError

from api.auth import Principal, Role
from api.console import labels, session
from api.console.rendering import invalid_fields, message_page, refusal
from api.deps import require
from api.errors import ApiError
from api.web.pages import PageRoute, Refusal, SettingsDep, csrf_checked, sign_in_redirect

PREFIX = "/console"


class ConsoleRoute(PageRoute):
    """Every refusal becomes a page in Chinese; a missing session, the sign-in page."""

    def refusal_page(self, request: Request, refused: Refusal) -> Response:
        if isinstance(refused, session.SignInRequired):
            return sign_in_redirect(f"{PREFIX}/sign-in", request)
        if isinstance(refused, session.CsrfRefused):
            return message_page(request, "表单已失效或来源不明（CSRF 校验未通过）。请刷新页面后重试。", 403)
        if isinstance(refused, ApiError):
            forbidden = labels.FORBIDDEN.get(self.name, labels.REFUSALS["forbidden"])
            message = forbidden if refused.error == "forbidden" else refusal(refused)
            return message_page(request, message, refused.status, getattr(request.state, "principal", None))
        assert isinstance(refused, RequestValidationError)
        return message_page(request, invalid_fields(list(refused.errors())), 422)


def console_router() -> APIRouter:
    """A router of console pages: under /console, outside the OpenAPI document, refusals as pages."""
    return APIRouter(prefix=PREFIX, include_in_schema=False, route_class=ConsoleRoute)


def session_principal(request: Request, settings: SettingsDep) -> Principal:
    """The staff member of this browser's session: the principal `require` checks, from the session
    cookie instead of a bearer token. Sync: FastAPI runs it off the loop (the token may need the JWKS)."""
    principal = session.principal_of(settings, request)
    request.state.principal = principal  # for the refusal pages, which show who is signed in
    return principal


def staff(*roles: Role) -> Any:
    """The API's role dependency over the console's session."""
    return require(*roles, principal_from=session_principal)


CsrfChecked = csrf_checked(session.CONSOLE)


def safe_next(target: str) -> str:
    """Only a console path of this site (no scheme, host or query): never an open redirect."""
    return target if re.fullmatch(r"/console(/[A-Za-z0-9_\-/]*)?", target or "") else f"{PREFIX}/inbox"
