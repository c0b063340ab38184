"""The clerks' console: server-rendered pages over the same service layer and rules as the API.

Not in the OpenAPI document (that is the JSON contract of API.md); its own authorization
tests are in tests/integration/test_console.py.
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import Callable, Coroutine
from datetime import datetime, timedelta
from pathlib import Path
from typing import Annotated, Any, Literal
from urllib.parse import urlencode

import jwt
from fastapi import APIRouter, Depends, Form, Query, Request, Response
from fastapi.exceptions import RequestValidationError
from fastapi.responses import RedirectResponse
from fastapi.routing import APIRoute
from fastapi.templating import Jinja2Templates
from pydantic import BeforeValidator, TypeAdapter, ValidationError

from api import service
from api.auth import CLERK_ROLES, IDP_ALGORITHM, InvalidToken, Principal, Role, issue_token, verify_token
from api.console import labels, session
from api.deps import ResourcesDep, application_for
from api.errors import ApiError
from api.routers.applications import PLATE_PATTERN
from api.routers.applications import Step as PendingAction
from api.routers.documents import verify_url
from api.schemas import DecisionIn, DevStaffTokenIn
from config import Settings
from domain.calendar import CST
from domain.districts import CITY_CODE, CITY_NAME, DISTRICTS, covers
from domain.documents import render_pdf
from domain.statuses import STEP_OUTCOMES, Channel, Outcome, Status, Step
from store.repository import InboxQuery

HERE = Path(__file__).parent
templates = Jinja2Templates(directory=HERE / "templates")

HTML_HEADERS = {
    "Content-Security-Policy": (
        "default-src 'self'; img-src 'self'; style-src 'self'; script-src 'self'; object-src 'none'; "
        "frame-ancestors 'none'; base-uri 'none'; form-action 'self'"
    ),
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "same-origin",
}
PRIVATE_HEADERS = {"Cache-Control": "no-store", "X-Content-Type-Options": "nosniff"}

OUTCOME_ORDER = (Outcome.APPROVE, Outcome.REQUEST_SUPPLEMENT, Outcome.REJECT)
SUPERVISION_LIMIT = 100
INSURANCE_SOON_DAYS = 7


def _cst(value: str | None) -> str:
    """An ISO instant as China Standard Time, to the minute."""
    if not value:
        return "—"
    try:
        return datetime.fromisoformat(value).astimezone(CST).strftime("%Y-%m-%d %H:%M")
    except ValueError:
        return value


templates.env.filters["cst"] = _cst
templates.env.globals.update(
    labels=labels, districts=DISTRICTS, city_code=CITY_CODE, city_name=CITY_NAME, Step=Step, Outcome=Outcome
)


def _seed(request: Request) -> str:
    """This browser's CSRF seed: its cookie, or a new one that `page` will set."""
    seed = request.cookies.get(session.SEED_COOKIE) or getattr(request.state, "new_csrf_seed", None)
    if seed is None:
        seed = request.state.new_csrf_seed = session.new_seed()
    return seed


def _csrf_for(request: Request) -> str:
    return session.csrf_token(
        request.app.state.settings, _seed(request), request.cookies.get(session.SESSION_COOKIE, "")
    )


def page(request: Request, name: str, context: dict[str, Any], status: int = 200) -> Response:
    """A template with this browser's CSRF token; the CSRF seed cookie is set on first sight."""
    context = {"csrf_token": _csrf_for(request), "principal": None, **context}
    response = templates.TemplateResponse(request, name, context, status_code=status)
    if getattr(request.state, "new_csrf_seed", None):
        session.set_seed(request.app.state.settings, response, request.state.new_csrf_seed)
    return response


def message_page(request: Request, message: str, status: int, principal: Principal | None = None) -> Response:
    return page(request, "message.html", {"message": message, "principal": principal, "status": status}, status)


def _refusal(err: ApiError) -> str:
    return labels.REFUSALS.get(err.error, f"操作未能完成（{err.detail}）")


def _invalid_fields(errors: list[Any]) -> str:
    names = []
    for error in errors:
        loc = [str(part) for part in error.get("loc", ())]
        field = next((labels.FIELDS[part] for part in reversed(loc) if part in labels.FIELDS), loc[-1] if loc else "")
        if field not in names:
            names.append(field)
    return "以下内容无效，请检查：" + "、".join(names)


class ConsoleRoute(APIRoute):
    """Every refusal becomes a page in Chinese; a missing session, the sign-in page."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handler = super().get_route_handler()

        async def handle(request: Request) -> Response:
            try:
                response = await handler(request)
            except session.SignInRequired:
                response = RedirectResponse(
                    "/console/sign-in?" + urlencode({"next": request.url.path}), status_code=303
                )
            except session.CsrfRefused:
                response = message_page(request, "表单已失效或来源不明（CSRF 校验未通过）。请刷新页面后重试。", 403)
            except ApiError as err:
                response = message_page(request, _refusal(err), err.status)
            except RequestValidationError as err:
                response = message_page(request, _invalid_fields(list(err.errors())), 422)
            headers = {**PRIVATE_HEADERS, **(HTML_HEADERS if response.media_type in (None, "text/html") else {})}
            for key, value in headers.items():
                response.headers.setdefault(key, value)
            return response

        return handle


router = APIRouter(prefix="/console", include_in_schema=False, route_class=ConsoleRoute)


def _settings(request: Request) -> Settings:
    return request.app.state.settings


SettingsDep = Annotated[Settings, Depends(_settings)]


def _staff(request: Request, settings: SettingsDep) -> Principal:
    return session.principal_of(settings, request)  # sync: FastAPI runs it off the loop (JWKS)


StaffDep = Annotated[Principal, Depends(_staff)]


def _csrf(request: Request, settings: SettingsDep, csrf_token: Annotated[str, Form()] = "") -> None:
    session.check_csrf(settings, request, csrf_token)


CsrfChecked = Depends(_csrf)


def _safe_next(target: str) -> str:
    """Only a console path of this site (no scheme, host or query): never an open redirect."""
    return target if re.fullmatch(r"/console(/[A-Za-z0-9_\-/]*)?", target or "") else "/console/inbox"


def _blank_is_none(value: object) -> object:
    return None if value == "" else value


BlankIsNone = BeforeValidator(_blank_is_none)

# --------------------------------------------------------------------------- sign-in


@router.get("")
async def read_console() -> RedirectResponse:
    """The console starts at the inbox."""
    return RedirectResponse("/console/inbox", status_code=303)


@router.get("/sign-in")
async def read_sign_in(request: Request, settings: SettingsDep, next: str = "") -> Response:
    """Development: a form for a development token. Elsewhere: the identity provider."""
    context: dict[str, Any] = {"next": _safe_next(next), "development": settings.is_development, "idp_url": None}
    if not settings.is_development and settings.console_idp_authorize_url:
        context["idp_url"] = _idp_url(request, settings)
    return page(request, "sign_in.html", context)


def _idp_url(request: Request, settings: Settings) -> str:
    """The identity provider's authorization URL; its `state` is this browser's CSRF token."""
    state = _csrf_for(request)
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
            problems.setdefault(
                field, {"sub": "请填写工号（1–64 个字符）", "district": "请选择区县"}.get(field, "无效")
            )
    if problems:
        context = {"next": _safe_next(next), "development": True, "idp_url": None, "form": form, "problems": problems}
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
    response = RedirectResponse(_safe_next(target), status_code=303)
    session.start_session(settings, response, issue_token(settings, principal))
    return response


@router.post("/sign-out", dependencies=[CsrfChecked])
async def sign_out(settings: SettingsDep) -> Response:
    """End the session."""
    response = RedirectResponse("/console/sign-in", status_code=303)
    session.end_session(settings, response)
    return response


# ----------------------------------------------------------------------------- inbox


@router.get("/inbox")
async def read_inbox(
    request: Request,
    principal: StaffDep,
    resources: ResourcesDep,
    status: Annotated[Status | None, BlankIsNone] = None,
    step: Annotated[PendingAction | None, BlankIsNone] = None,
    channel: Annotated[Channel | None, BlankIsNone] = None,
    warning: Annotated[Literal["none", "yellow", "red"] | None, BlankIsNone] = None,
    district: Annotated[str | None, BlankIsNone, Query(pattern=r"^\d{6}$")] = None,
    plate: Annotated[str | None, BlankIsNone, Query(pattern=PLATE_PATTERN)] = None,
    sort: Literal["submitted", "decision_due", "insurance_due"] = "submitted",
    page_number: Annotated[int, Query(alias="page", ge=1, le=10_000)] = 1,
) -> Response:
    """The district's applications, with filters, warning badges and due dates."""
    page_size = 20
    query = InboxQuery(
        **service.inbox_scope(principal, district),
        status=status,
        step=step,
        channel=channel,
        warning_level=warning,
        plate=plate,
        sort=sort,
        page=page_number,
        page_size=page_size,
    )
    items, total = await resources.store.list_applications(query)
    filters = {
        "status": status,
        "step": step,
        "channel": channel,
        "warning": warning,
        "district": district,
        "plate": plate,
        "sort": sort,
    }
    context = {
        "principal": principal,
        "items": items,
        "total": total,
        "page": page_number,
        "pages": max(1, -(-total // page_size)),
        "filters": filters,
        "query_for": lambda n: urlencode({**{k: v for k, v in filters.items() if v}, "page": n}),
        "visible_districts": {code: name for code, name in DISTRICTS.items() if covers(principal.district or "", code)},
    }
    return page(request, "inbox.html", context)


@router.get("/supervision")
async def read_supervision(request: Request, principal: StaffDep, resources: ResourcesDep) -> Response:
    """The supervisor's page: decisions overdue or soon due, and insurance soon due."""
    if principal.role != Role.SUPERVISOR:
        return message_page(request, "此页面仅供科室负责人查看。", 403, principal)
    scope = service.inbox_scope(principal, None)
    today = datetime.now(CST).date()
    queries = {
        "overdue": InboxQuery(**scope, warning_level="red", sort="decision_due", page_size=SUPERVISION_LIMIT),
        "soon": InboxQuery(**scope, warning_level="yellow", sort="decision_due", page_size=SUPERVISION_LIMIT),
        "insurance": InboxQuery(
            **scope,
            status=Status.AWAITING_INSURANCE,
            due="insurance",
            due_to=today + timedelta(days=INSURANCE_SOON_DAYS),
            sort="insurance_due",
            page_size=SUPERVISION_LIMIT,
        ),
    }
    sections = {name: await resources.store.list_applications(query) for name, query in queries.items()}
    context = {"principal": principal, "sections": sections, "today": today, "insurance_days": INSURANCE_SOON_DAYS}
    return page(request, "supervision.html", context)


# ------------------------------------------------------------------------ application


async def _application_page(
    request: Request,
    resources: ResourcesDep,
    principal: Principal,
    application_id: str,
    status: int = 200,
    **extra: Any,
) -> Response:
    row = await application_for(resources, principal, application_id)
    view = await service.current_view(resources, row)
    materials = []
    for item in view.get("materials", []):
        material = await resources.store.get_material(item["material_id"])
        materials.append(
            {
                **item,
                "content_type": material.content_type if material else None,
                "size": material.size if material else None,
            }
        )
    step = view.get("step")
    outcomes = [o for o in OUTCOME_ORDER if step in STEP_OUTCOMES and o in STEP_OUTCOMES[Step(step)]]
    context = {
        "principal": principal,
        "view": view,
        "materials": materials,
        "outcomes": outcomes if principal.role == Role.TRANSPORT_CLERK else [],
        "notice": None,
        "error": None,
        "problems": {},
        "form": {},
        **extra,
    }
    return page(request, "application.html", context, status)


@router.get("/applications/{application_id}")
async def read_application(
    application_id: str, request: Request, principal: StaffDep, resources: ResourcesDep, done: str = ""
) -> Response:
    """The application: what it waits for, deadlines, materials, documents, timeline, decision forms."""
    step, _, outcome = done.partition(".")
    notice = labels.OUTCOMES.get((step, outcome))
    if notice is not None:
        await _projection_past(resources, principal, application_id, step)
    return await _application_page(request, resources, principal, application_id, notice=notice)


async def _projection_past(
    resources: ResourcesDep, principal: Principal, application_id: str, step: str, wait_s: float = 3.0
) -> None:
    """Just after a decision: give the projection a moment to show what the decision led to.

    The workflow answers the clerk as soon as it has moved on and projects the new state
    after the paperwork of the step (documents, SMS), usually within a fraction of a second.
    """
    for _ in range(int(wait_s / 0.1)):
        row = await application_for(resources, principal, application_id)
        if row.view.get("step") != step:
            return
        await asyncio.sleep(0.1)


@router.post("/applications/{application_id}/decisions")
async def take_decision(
    application_id: str,
    request: Request,
    principal: StaffDep,
    _: Annotated[None, CsrfChecked],
    resources: ResourcesDep,
    step: Annotated[str, Form()] = "",
    outcome: Annotated[str, Form()] = "",
    reason: Annotated[str, Form()] = "",
    items: Annotated[str, Form()] = "",
) -> Response:
    """A decision at the step the application waits for: the API's schema, service and rules."""
    if principal.role != Role.TRANSPORT_CLERK:
        return message_page(request, "只有审批员可以作出审批决定。", 403, principal)
    row = await application_for(resources, principal, application_id)
    form = {"step": step, "outcome": outcome, "reason": reason.strip()}
    if outcome == Outcome.REQUEST_SUPPLEMENT:
        form["items"] = [line.strip() for line in items.splitlines() if line.strip()]
    try:
        body = TypeAdapter(DecisionIn).validate_python(form)
    except ValidationError as err:
        problems = _decision_problems(err)
        entered = {**form, "items": items}
        return await _application_page(
            request,
            resources,
            principal,
            application_id,
            status=422,
            problems=problems,
            form=entered,
            error="未能提交：" + "；".join(problems.values()),
        )
    try:
        await service.decide(resources, principal, row, body, request.client.host if request.client else None)
    except ApiError as err:
        return await _application_page(
            request,
            resources,
            principal,
            application_id,
            status=err.status,
            error=_refusal(err),
            form={**form, "items": items},
        )
    return RedirectResponse(f"/console/applications/{row.application_id}?done={step}.{outcome}", status_code=303)


def _decision_problems(err: ValidationError) -> dict[str, str]:
    """The first problem of each field, in Chinese, keyed by the field's name."""
    problems: dict[str, str] = {}
    for error in err.errors():
        loc = [str(part) for part in error["loc"]]
        field = next((part for part in reversed(loc) if part in labels.FIELDS), "outcome")
        kind = error["type"]
        if field == "reason":
            text = "理由最多 500 字" if kind == "string_too_long" else "驳回或要求补正时必须填写理由"
        elif field == "items":
            text = "请逐行列出需要补正的材料（1–20 项，每项不超过 100 字）"
        else:
            text = "请选择当前环节可作出的决定"
        problems.setdefault(field, text)
    return problems


@router.get("/applications/{application_id}/materials/{material_id}")
async def read_material(
    application_id: str, material_id: str, principal: StaffDep, resources: ResourcesDep
) -> Response:
    """A scan the application was submitted with, for preview."""
    row = await application_for(resources, principal, application_id)
    view = await service.current_view(resources, row)
    content_type, content = await service.material_of(resources, view, material_id)
    return Response(content, media_type=content_type, headers={"Content-Disposition": "inline"})


@router.get("/documents/{document_id}")
async def read_document(document_id: str, request: Request, principal: StaffDep, resources: ResourcesDep) -> Response:
    """A document of an application as PDF."""
    document = await service.document_for(resources, principal, document_id)
    pdf = await asyncio.to_thread(render_pdf, document, verify_url(request, resources, document_id))
    return Response(
        pdf, media_type="application/pdf", headers={"Content-Disposition": f'inline; filename="{document_id}.pdf"'}
    )
