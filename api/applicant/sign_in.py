"""Signing in with the e-ID (温警在线) and out.

In development the page stands in for the phone: it asks the sandbox's e-ID service for the QR
token that scanning would give, for the identity entered. Elsewhere the browser goes to the
e-ID service, which sends it back with the QR token and the `state` it was given. Either way the
token goes through the identity service as `POST /v1/auth/eid` (throttled per address, audited).
"""

from __future__ import annotations

from typing import Annotated, Any
from urllib.parse import urlencode

import httpx
from fastapi import Form, Query, Request, Response
from fastapi.responses import RedirectResponse
from pydantic import ValidationError

from api.applicant import labels
from api.applicant.pages import CsrfChecked, applicant_router, csrf_for, message_page, page, safe_next
from api.applicant.session import APPLICANT_SITE
from api.deps import ResourcesDep, SourceIpDep, rate_limited_by_address
from api.errors import ApiError
from api.schemas import DevIdentityIn
from api.services import identity
from api.web.pages import SettingsDep
from config import Settings

router = applicant_router()

THROTTLED = rate_limited_by_address("eid_sign_in", "rate_limit_eid_sign_ins")  # as POST /v1/auth/eid
SANDBOX_PERSON = {"name": "张三", "id_number": "330302199001011235", "phone": "13800138000"}  # the README's


@router.get("/sign-in")
async def read_sign_in(request: Request, settings: SettingsDep, next: str = "") -> Response:
    """Development: the sandbox's QR flow. Elsewhere: the e-ID service."""
    context: dict[str, Any] = {"next": safe_next(next), "development": settings.is_development, "eid_url": None}
    if settings.is_development:
        context.update(form=SANDBOX_PERSON, problems={})
    elif settings.applicant_eid_authorize_url:
        context["eid_url"] = _eid_url(request, settings, safe_next(next))
    return page(request, "sign_in.html", context)


def _eid_url(request: Request, settings: Settings, next: str) -> str:
    """The e-ID service's sign-in; its `state` is this browser's CSRF token."""
    redirect = f"{request.url_for('sign_in_with_eid')}?{urlencode({'next': next})}"
    query = {"client_id": "permit-applicant", "redirect_uri": redirect, "state": csrf_for(request)}
    return f"{settings.applicant_eid_authorize_url}?{urlencode(query)}"


@router.post("/sign-in", dependencies=[CsrfChecked, THROTTLED])
async def sign_in_in_development(
    request: Request,
    settings: SettingsDep,
    resources: ResourcesDep,
    source_ip: SourceIpDep,
    name: Annotated[str, Form()] = "",
    id_number: Annotated[str, Form()] = "",
    phone: Annotated[str, Form()] = "",
    next: Annotated[str, Form()] = "",
) -> Response:
    """Development only: "scan" with the sandbox's 温警在线 for the identity entered, and sign in."""
    if not settings.is_development:
        return message_page(request, "扫码模拟仅在开发环境可用，请通过温警在线登录。", 404)
    form = {"name": name.strip(), "id_number": id_number.strip().upper(), "phone": phone.strip()}
    try:
        DevIdentityIn.model_validate(form)
    except ValidationError as err:
        problems = {str(e["loc"][0]): labels.PROBLEMS[str(e["loc"][0])] for e in err.errors()}
        context = {"next": safe_next(next), "development": True, "eid_url": None, "form": form, "problems": problems}
        return page(request, "sign_in.html", context, 422)
    qr_token = await _sandbox_qr(settings, form)
    token = await identity.sign_in_with_eid(resources, qr_token, source_ip=source_ip)
    return _signed_in(settings, token, next)


async def _sandbox_qr(settings: Settings, person: dict[str, str]) -> str:
    """The QR token the sandbox's 温警在线 shows for `person` (what the phone would scan)."""
    try:
        async with httpx.AsyncClient(base_url=settings.departments_url, timeout=10) as sandbox:
            answer = await sandbox.post("/sandbox/eid/qr", json=person)
            answer.raise_for_status()
            token: str = answer.json()["qr_token"]
    except (httpx.HTTPError, KeyError, ValueError):
        raise ApiError(503, "eid_unavailable", "the sandbox's e-ID service is unavailable") from None
    return token


@router.get("/sign-in/eid", dependencies=[THROTTLED])
async def sign_in_with_eid(
    request: Request,
    settings: SettingsDep,
    resources: ResourcesDep,
    source_ip: SourceIpDep,
    qr_token: Annotated[str, Query(min_length=8, max_length=200)],
    state: Annotated[str, Query(max_length=128)] = "",
    next: str = "",
) -> Response:
    """Where the e-ID service sends the browser back: its QR token, bound to this browser by `state`."""
    if not settings.applicant_eid_authorize_url:
        return message_page(request, "未配置温警在线登录（APPLICANT_EID_AUTHORIZE_URL）。", 404)
    APPLICANT_SITE.check_csrf(settings, request, state)
    token = await identity.sign_in_with_eid(resources, qr_token, source_ip=source_ip)
    return _signed_in(settings, token, next)


def _signed_in(settings: Settings, token: str, target: str) -> Response:
    """The session holds the applicant token the e-ID sign-in issued, as the API would accept it."""
    response = RedirectResponse(safe_next(target), status_code=303)
    APPLICANT_SITE.start_session(settings, response, token)
    return response


@router.post("/sign-out", dependencies=[CsrfChecked])
async def sign_out(settings: SettingsDep) -> Response:
    """End the session."""
    response = RedirectResponse("/app/sign-in", status_code=303)
    APPLICANT_SITE.end_session(settings, response)
    return response
