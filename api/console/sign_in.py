"""Signing in and out: a development form in development, the identity provider elsewhere."""

from __future__ import annotations

import asyncio
from typing import Annotated, Any
from urllib.parse import urlencode

import jwt
from fastapi import Form, Request, Response
from fastapi.responses import RedirectResponse
from pydantic import TypeAdapter, ValidationError

from api.auth import CLERK_ROLES, IDP_ALGORITHM, InvalidToken, Principal, Role, issue_token, verify_token
from api.console import session
from api.console.rendering import csrf_for, message_page, page
from api.console.security import CsrfChecked, console_router, safe_next
from api.schemas import DevStaffTokenIn
from api.web.pages import SettingsDep
from config import Settings

router = console_router()

PROBLEMS = {"sub": "请填写工号（1–64 个字符）", "district": "请选择区县"}


@router.get("")
async def read_console() -> RedirectResponse:
    """The console starts at the inbox."""
    return RedirectResponse("/console/inbox", status_code=303)


@router.get("/sign-in")
async def read_sign_in(request: Request, settings: SettingsDep, next: str = "") -> Response:
    """Development: a form for a development token. Elsewhere: the identity provider."""
    context: dict[str, Any] = {"next": safe_next(next), "development": settings.is_development, "idp_url": None}
    if not settings.is_development and settings.console_idp_authorize_url:
        context["idp_url"] = _idp_url(request, settings)
    return page(request, "sign_in.html", context)


def _idp_url(request: Request, settings: Settings) -> str:
    """The identity provider's authorization URL; its `state` is this browser's CSRF token."""
    state = csrf_for(request)
    query = {
        "response_type": "id_token",
        "client_id": settings.console_idp_client_id,
        "redirect_uri": str(request.url_for("read_idp_return")),
        "scope": "openid",
        "state": state,
        "nonce": session.nonce_for(state),
    }
    return f"{settings.console_idp_authorize_url}?{urlencode(query)}"


@router.post("/sign-in", dependencies=[CsrfChecked])
async def sign_in(
    request: Request,
    settings: SettingsDep,
    role: Annotated[str, Form()] = "",
    sub: Annotated[str, Form()] = "",
    district: Annotated[str, Form()] = "",
    next: Annotated[str, Form()] = "",
) -> Response:
    """Development only: sign in with a development token, as `POST /v1/dev/token` issues it."""
    if not settings.is_development:
        return message_page(request, "开发登录仅在开发环境可用，请通过统一身份认证平台登录。", 404)
    form = {"role": role, "sub": sub.strip(), "district": district}
    problems: dict[str, str] = {}
    if role not in CLERK_ROLES:
        problems["role"] = "请选择审批员或科室负责人"
    try:
        body = TypeAdapter(DevStaffTokenIn).validate_python(form)
    except ValidationError as err:
        for error in err.errors():
            field = str(error["loc"][0])
            problems.setdefault(field, PROBLEMS.get(field, "无效"))
    if problems:
        context = {"next": safe_next(next), "development": True, "idp_url": None, "form": form, "problems": problems}
        return page(request, "sign_in.html", context, 422)
    return _signed_in(settings, Principal(body.sub, Role(body.role), body.district), next)


@router.get("/sign-in/idp")
async def read_idp_return(request: Request, settings: SettingsDep) -> Response:
    """Where the identity provider sends the browser back, the ID token in the URL fragment."""
    if not settings.console_idp_authorize_url:
        return message_page(request, "未配置统一身份认证平台。", 404)
    return page(request, "idp_return.html", {})


@router.post("/sign-in/idp")
async def sign_in_with_idp(
    request: Request,
    settings: SettingsDep,
    id_token: Annotated[str, Form(max_length=8192)] = "",
    state: Annotated[str, Form(max_length=128)] = "",
) -> Response:
    """The identity provider's ID token (RS256, keys from its JWKS), bound to this browser by `state` and `nonce`."""
    session.check_csrf(settings, request, state)
    try:
        if jwt.get_unverified_header(id_token).get("alg") != IDP_ALGORITHM:
            raise InvalidToken("not a token of the identity provider")
        principal = await asyncio.to_thread(verify_token, settings, id_token, audience=settings.console_idp_client_id)
        nonce = jwt.decode(id_token, options={"verify_signature": False}).get("nonce")
    except (InvalidToken, jwt.PyJWTError):
        return message_page(request, "身份令牌无效或已过期，请重新登录。", 401)
    if nonce != session.nonce_for(state):
        return message_page(request, "身份令牌不是为本次登录签发的，请重新登录。", 401)
    if principal.role not in CLERK_ROLES:
        return message_page(request, "控制台仅供审批员和科室负责人使用。", 403)
    return _signed_in(settings, principal, "/console/inbox")


def _signed_in(settings: Settings, principal: Principal, target: str) -> Response:
    """The session holds a staff token of ours for the principal, as the API would accept it."""
    response = RedirectResponse(safe_next(target), status_code=303)
    session.start_session(settings, response, issue_token(settings, principal))
    return response


@router.post("/sign-out", dependencies=[CsrfChecked])
async def sign_out(settings: SettingsDep) -> Response:
    """End the session."""
    response = RedirectResponse("/console/sign-in", status_code=303)
    session.end_session(settings, response)
    return response
