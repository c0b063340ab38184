"""Rendering a site's pages (each with this browser's CSRF token) and the route every page goes
through: its headers, and refusals (no session, a failed CSRF check, the service layer's or the
request's) turned into pages by the site."""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable, Coroutine
from datetime import datetime
from pathlib import Path
from typing import Annotated, Any
from urllib.parse import urlencode

from fastapi import Depends, Form, Request, Response
from fastapi.exceptions import RequestValidationError
from fastapi.responses import RedirectResponse
from fastapi.routing import APIRoute
from fastapi.templating import Jinja2Templates

from api.errors import ApiError
from api.web.session import CsrfRefused, SignInRequired, SiteSession, new_seed
from config import Settings
from domain.calendar import CST

HTML_HEADERS = {
    "Content-Security-Policy": (
        "default-src 'self'; img-src 'self' blob:; style-src 'self'; script-src 'self'; object-src 'none'; "
        "frame-ancestors 'none'; base-uri 'none'; form-action 'self'"
    ),
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "same-origin",
}
PRIVATE_HEADERS = {"Cache-Control": "no-store", "X-Content-Type-Options": "nosniff"}

SHARED_TEMPLATES = Path(__file__).parent / "templates"  # macros of both sites (the timeline)

Refusal = SignInRequired | CsrfRefused | ApiError | RequestValidationError


def cst(value: datetime | str | None) -> str:
    """An instant (or its ISO text) as China Standard Time, to the minute."""
    if not value:
        return "—"
    try:
        instant = value if isinstance(value, datetime) else datetime.fromisoformat(value)
    except ValueError:
        return str(value)
    return instant.astimezone(CST).strftime("%Y-%m-%d %H:%M")


class Pages:
    """A site's templates, rendered with the CSRF token of the browser and its session."""

    def __init__(self, directory: Path, session: SiteSession) -> None:
        self.templates = Jinja2Templates(directory=[directory, SHARED_TEMPLATES])
        self.templates.env.filters["cst"] = cst
        self.session = session

    def _seed(self, request: Request) -> str:
        """This browser's CSRF seed: its cookie, or a new one that `page` will set."""
        seed = request.cookies.get(self.session.seed_cookie) or getattr(request.state, "new_csrf_seed", None)
        if seed is None:
            seed = request.state.new_csrf_seed = new_seed()
        return seed

    def csrf_for(self, request: Request) -> str:
        """The CSRF token of this browser and its session, as every form of the page carries it."""
        session = request.cookies.get(self.session.session_cookie, "")
        return self.session.csrf_token(request.app.state.settings, self._seed(request), session)

    def page(self, request: Request, name: str, context: dict[str, Any], status: int = 200) -> Response:
        """A template with this browser's CSRF token; the CSRF seed cookie is set on first sight."""
        context = {"csrf_token": self.csrf_for(request), "principal": None, **context}
        response = self.templates.TemplateResponse(request, name, context, status_code=status)
        if getattr(request.state, "new_csrf_seed", None):
            self.session.set_seed(request.app.state.settings, response, request.state.new_csrf_seed)
        return response


def sign_in_redirect(sign_in_path: str, request: Request) -> RedirectResponse:
    """To the site's sign-in page, which returns to this page."""
    return RedirectResponse(f"{sign_in_path}?" + urlencode({"next": request.url.path}), status_code=303)


class PageRoute(APIRoute, ABC):
    """A page: a refusal becomes the site's page for it (`refusal_page`, each site's own), and every
    answer gets the pages' headers (no caching; HTML with its content security policy)."""

    @abstractmethod
    def refusal_page(self, request: Request, refusal: Refusal) -> Response: ...

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handler = super().get_route_handler()

        async def handle(request: Request) -> Response:
            try:
                response = await handler(request)
            except (SignInRequired, CsrfRefused, ApiError, RequestValidationError) as refusal:
                response = self.refusal_page(request, refusal)
            headers = {**PRIVATE_HEADERS, **(HTML_HEADERS if response.media_type in (None, "text/html") else {})}
            for key, value in headers.items():
                response.headers.setdefault(key, value)
            return response

        return handle


def _settings(request: Request) -> Settings:
    settings: Settings = request.app.state.settings
    return settings


SettingsDep = Annotated[Settings, Depends(_settings)]


def csrf_checked(session: SiteSession) -> Any:
    """A dependency refusing a form without the CSRF token of this browser's session of the site."""

    def check(request: Request, settings: SettingsDep, csrf_token: Annotated[str, Form()] = "") -> None:
        session.check_csrf(settings, request, csrf_token)

    return Depends(check)
