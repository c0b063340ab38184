"""What every page of the applicant's app goes through: its templates with this browser's CSRF
token, the session as the applicant, CSRF on every form, and refusals as pages in Chinese (a
missing session, the sign-in page)."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from fastapi import APIRouter, Request, Response
from fastapi.exceptions import RequestValidationError

from api.applicant import labels
from api.applicant.session import APPLICANT_SITE
from api.auth import Principal, Role
from api.deps import require
from api.errors import ApiError
from api.web.pages import PageRoute, Pages, Refusal, SettingsDep, csrf_checked, sign_in_redirect
from api.web.session import CsrfRefused, SignInRequired
from domain.districts import DISTRICTS

PREFIX = "/app"

PAGES = Pages(Path(__file__).parent / "templates", APPLICANT_SITE)
PAGES.templates.env.globals.update(labels=labels, districts=DISTRICTS)
page = PAGES.page
csrf_for = PAGES.csrf_for


def message_page(request: Request, message: str, status: int, **context: Any) -> Response:
    """A page saying one thing: a refusal, or why something cannot be done."""
    principal = getattr(request.state, "principal", None)
    return page(
        request, "message.html", {"message": message, "status": status, "principal": principal, **context}, status
    )


def refusal(err: ApiError) -> str:
    """A refusal of the service layer as the applicant reads it."""
    return labels.REFUSALS.get(err.error, f"操作未能完成（{err.detail}）")


class ApplicantRoute(PageRoute):
    """Every refusal becomes a page in Chinese; a missing session, the sign-in page."""

    def refusal_page(self, request: Request, refused: Refusal) -> Response:
        if isinstance(refused, SignInRequired):
            return sign_in_redirect(f"{PREFIX}/sign-in", request)
        if isinstance(refused, CsrfRefused):
            return message_page(request, "表单已失效（CSRF 校验未通过），请返回刷新页面后重试。", 403)
        if isinstance(refused, ApiError):
            return message_page(request, refusal(refused), refused.status)
        assert isinstance(refused, RequestValidationError)
        return message_page(request, "请求的内容无效，请返回检查后重试。", 422)


def applicant_router() -> APIRouter:
    """A router of the app's pages: under /app, outside the OpenAPI document, refusals as pages."""
    return APIRouter(prefix=PREFIX, include_in_schema=False, route_class=ApplicantRoute)


def session_principal(request: Request, settings: SettingsDep) -> Principal:
    """The applicant of this browser's session, as `require` checks a bearer token's."""
    principal = APPLICANT_SITE.principal_of(settings, request)
    request.state.principal = principal
    return principal


SIGNED_IN = require(Role.APPLICANT, principal_from=session_principal)
CsrfChecked = csrf_checked(APPLICANT_SITE)


def safe_next(target: str) -> str:
    """Only a path of the app (no scheme, host or query): never an open redirect."""
    return target if re.fullmatch(r"/app(/[A-Za-z0-9_\-/]*)?", target or "") else PREFIX
