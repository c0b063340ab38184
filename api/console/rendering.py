"""The console's pages: its templates, each with this browser's CSRF token, and refusals in Chinese."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import Any

from fastapi import Request, Response
from fastapi.templating import Jinja2Templates

from api.auth import Principal
from api.console import labels, session
from api.errors import ApiError
from domain.calendar import CST
from domain.districts import CITY_CODE, CITY_NAME, DISTRICTS
from workflows.incidents import NOTIFICATIONS

templates = Jinja2Templates(directory=Path(__file__).parent / "templates")


def _cst(value: datetime | str | None) -> str:
    """An instant (or its ISO text) as China Standard Time, to the minute."""
    if not value:
        return "—"
    try:
        instant = value if isinstance(value, datetime) else datetime.fromisoformat(value)
    except ValueError:
        return str(value)
    return instant.astimezone(CST).strftime("%Y-%m-%d %H:%M")


templates.env.filters["cst"] = _cst
templates.env.globals.update(
    labels=labels,
    districts=DISTRICTS,
    city_code=CITY_CODE,
    city_name=CITY_NAME,
    skippable_steps=NOTIFICATIONS,  # an incident's `skip` is offered for these steps only
)


def _seed(request: Request) -> str:
    """This browser's CSRF seed: its cookie, or a new one that `page` will set."""
    seed = request.cookies.get(session.SEED_COOKIE) or getattr(request.state, "new_csrf_seed", None)
    if seed is None:
        seed = request.state.new_csrf_seed = session.new_seed()
    return seed


def csrf_for(request: Request) -> str:
    """The CSRF token of this browser and its session, as every form of the page carries it."""
    return session.csrf_token(
        request.app.state.settings, _seed(request), request.cookies.get(session.SESSION_COOKIE, "")
    )


def page(request: Request, name: str, context: dict[str, Any], status: int = 200) -> Response:
    """A template with this browser's CSRF token; the CSRF seed cookie is set on first sight."""
    context = {"csrf_token": csrf_for(request), "principal": None, **context}
    response = templates.TemplateResponse(request, name, context, status_code=status)
    if getattr(request.state, "new_csrf_seed", None):
        session.set_seed(request.app.state.settings, response, request.state.new_csrf_seed)
    return response


def message_page(request: Request, message: str, status: int, principal: Principal | None = None) -> Response:
    """A page saying one thing: a refusal, or why something cannot be done here."""
    return page(request, "message.html", {"message": message, "principal": principal, "status": status}, status)


def refusal(err: ApiError) -> str:
    """A refusal of the service layer as a clerk reads it."""
    return labels.REFUSALS.get(err.error, f"操作未能完成（{err.detail}）")


def invalid_fields(errors: list[Any]) -> str:
    """Which fields of a request were invalid, by their Chinese names."""
    names = []
    for error in errors:
        loc = [str(part) for part in error.get("loc", ())]
        field = next((labels.FIELDS[part] for part in reversed(loc) if part in labels.FIELDS), loc[-1] if loc else "")
        if field not in names:
            names.append(field)
    return "以下内容无效，请检查：" + "、".join(names)
