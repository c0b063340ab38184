"""The console's pages: its templates, each with this browser's CSRF token, and refusals in Chinese."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from fastapi import Request, Response

from api.auth import Principal
from api.console import labels, session
from api.errors import ApiError
from api.web.pages import Pages
from domain.districts import CITY_CODE, CITY_NAME, DISTRICTS
from workflows.incidents import NOTIFICATIONS

PAGES = Pages(Path(__file__).parent / "templates", session.CONSOLE)
templates = PAGES.templates
templates.env.globals.update(
    labels=labels,
    districts=DISTRICTS,
    city_code=CITY_CODE,
    city_name=CITY_NAME,
    skippable_steps=NOTIFICATIONS,  # an incident's `skip` is offered for these steps only
)
csrf_for = PAGES.csrf_for
page = PAGES.page


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
