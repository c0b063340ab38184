"""What every console page goes through: its headers, the session as the principal, CSRF, and
refusals turned into pages in Chinese (a missing session into the sign-in page)."""

from __future__ import annotations

import re
from collections.abc import Callable, Coroutine
from typing import Annotated, Any
from urllib.parse import urlencode

from fastapi import APIRouter, Depends, Form, Request, Response
from fastapi.exceptions import RequestValidationError
from fastapi.responses import RedirectResponse
from fastapi.routing import APIRoute

from api.auth import Principal, Role
from api.console import labels, session
from api.console.rendering import invalid_fields, message_page, refusal
from api.deps import require
from api.errors import ApiError
from config import Settings

PREFIX = "/console"

HTML_HEADERS = {
    "Content-Security-Policy": (
        "default-src 'self'; img-src 'self'; style-src 'self'; script-src 'self'; object-src 'none'; "
        "frame-ancestors 'none'; base-uri 'none'; form-action 'self'"
    ),
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "same-origin",
}
PRIVATE_HEADERS = {"Cache-Control": "no-store", "X-Content-Type-Options": "nosniff"}


class ConsoleRoute(APIRoute):
    """Every refusal becomes a page in Chinese; a missing session, the sign-in page."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handler = super().get_route_handler()
        forbidden = labels.FORBIDDEN.get(self.name, labels.REFUSALS["forbidden"])

        async def handle(request: Request) -> Response:
            try:
                response = await handler(request)
            except session.SignInRequired:
                response = RedirectResponse(
                    f"{PREFIX}/sign-in?" + urlencode({"next": request.url.path}), status_code=303
                )
            except session.CsrfRefused:
                response = message_page(request, "表单已失效或来源不明（CSRF 校验未通过）。请刷新页面后重试。", 403)
            except ApiError as err:
                message = forbidden if err.error == "forbidden" else refusal(err)
                response = message_page(request, message, err.status, getattr(request.state, "principal", None))
            except RequestValidationError as err:
                response = message_page(request, invalid_fields(list(err.errors())), 422)
            headers = {**PRIVATE_HEADERS, **(HTML_HEADERS if response.media_type in (None, "text/html") else {})}
            for key, value in headers.items():
                response.headers.setdefault(key, value)
            return response

        return handle


def console_router() -> APIRouter:
    """A router of console pages: under /console, outside the OpenAPI document, refusals as pages."""
    return APIRouter(prefix=PREFIX, include_in_schema=False, route_class=ConsoleRoute)


def _settings(request: Request) -> Settings:
    settings: Settings = request.app.state.settings
    return settings


SettingsDep = Annotated[Settings, Depends(_settings)]


def session_principal(request: Request, settings: SettingsDep) -> Principal:
    """The staff member of this browser's session: the principal `require` checks, from the session
    cookie instead of a bearer token. Sync: FastAPI runs it off the loop (the token may need the JWKS)."""
    principal = session.principal_of(settings, request)
    request.state.principal = principal  # for the refusal pages, which show who is signed in
    return principal


def staff(*roles: Role) -> Any:
    """The API's role dependency over the console's session."""
    return require(*roles, principal_from=session_principal)


def _csrf(request: Request, settings: SettingsDep, csrf_token: Annotated[str, Form()] = "") -> None:
    session.check_csrf(settings, request, csrf_token)


CsrfChecked = Depends(_csrf)


def safe_next(target: str) -> str:
    """Only a console path of this site (no scheme, host or query): never an open redirect."""
    return target if re.fullmatch(r"/console(/[A-Za-z0-9_\-/]*)?", target or "") else f"{PREFIX}/inbox"
