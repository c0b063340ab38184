"""The clerks' console over HTTP: its authorization matrix, CSRF, district scoping, masking,
and refusals shown as pages in Chinese. The real browser drives it in test_console_browser.py.

Console routes are not in the OpenAPI document (the JSON contract), so the API's matrix in
test_authorization.py does not see them: `test_every_console_route_has_a_rule` does.
"""

from __future__ import annotations

import re
from collections.abc import AsyncIterator, Awaitable, Callable

import httpx
import pytest

from api.console import labels
from api.console.routes import router as console_router
from api.console.session import SESSION_COOKIE
from tests.support_console import (
    CLERK,
    SUPERVISOR,
    alert_of,
    csrf_of,
    overdue_projection,
    post_form,
    sign_in,
)
from tests.support_stack import Stack, submitted

pytestmark = pytest.mark.timeout(180)

# (method, path) -> staff roles that may use it; None: open (sign-in and sign-out; CSRF still applies).
CONSOLE_ACCESS: dict[tuple[str, str], frozenset[str] | None] = {
    ("GET", "/console"): None,
    ("GET", "/console/sign-in"): None,
    ("POST", "/console/sign-in"): None,
    ("GET", "/console/sign-in/idp"): None,
    ("POST", "/console/sign-in/idp"): None,
    ("POST", "/console/sign-out"): None,
    ("GET", "/console/inbox"): frozenset({CLERK, SUPERVISOR}),
    ("GET", "/console/supervision"): frozenset({SUPERVISOR}),
    ("GET", "/console/applications/{application_id}"): frozenset({CLERK, SUPERVISOR}),
    ("POST", "/console/applications/{application_id}/decisions"): frozenset({CLERK}),
    ("POST", "/console/applications/{application_id}/incidents/{incident_id}/resolution"): frozenset({SUPERVISOR}),
    ("GET", "/console/applications/{application_id}/materials/{material_id}"): frozenset({CLERK, SUPERVISOR}),
    ("GET", "/console/documents/{document_id}"): frozenset({CLERK, SUPERVISOR}),
    ("GET", "/console/ratings"): frozenset({SUPERVISOR}),
    ("GET", "/console/ratings/export.csv"): frozenset({SUPERVISOR}),
    ("GET", "/console/ratings/{rating_id}"): frozenset({SUPERVISOR}),
    ("POST", "/console/ratings/{rating_id}/follow-up"): frozenset({SUPERVISOR}),
    ("GET", "/console/permits"): frozenset({CLERK, SUPERVISOR}),
    ("GET", "/console/permits/{number}"): frozenset({CLERK, SUPERVISOR}),
    ("POST", "/console/permits/{number}/review"): frozenset({CLERK, SUPERVISOR}),
}
PROTECTED = sorted(key for key, roles in CONSOLE_ACCESS.items() if roles is not None)
OBJECT_ROUTES = {path for _, path in CONSOLE_ACCESS if "_id}" in path}
# Routes whose object the world below does not hold (a rating, a permit: its application is still
# open): 404 to whoever may use them.
UNKNOWN_OBJECT_ROUTES = {path for _, path in CONSOLE_ACCESS if "{rating_id}" in path or "{number}" in path}

Signer = Callable[..., Awaitable[httpx.AsyncClient]]


@pytest.fixture(scope="module")
async def signer(stack: Stack) -> AsyncIterator[Signer]:
    clients: list[httpx.AsyncClient] = []

    async def make(role: str = CLERK, district: str = "330382") -> httpx.AsyncClient:
        clients.append(await sign_in(stack, role, district))
        return clients[-1]

    yield make
    for client in clients:
        await client.aclose()


def test_every_console_route_has_a_rule() -> None:
    routes = {(method, route.path) for route in console_router.routes for method in route.methods}  # type: ignore[attr-defined]
    assert routes == set(CONSOLE_ACCESS)


def test_every_refusal_text_names_a_console_page() -> None:
    assert set(labels.FORBIDDEN) <= {route.name for route in console_router.routes}  # type: ignore[attr-defined]


@pytest.fixture(scope="module")
async def world(stack: Stack, signer: Signer) -> dict:
    """An accepted application of 乐清 (330382), and console sessions of each role, in and out of it."""
    clerk = await stack.clerk()
    application = await submitted(stack, until="preliminary_review", clerk=clerk)
    decided = await stack.api.post(
        f"/v1/applications/{application.application_id}/decisions",
        headers=clerk,
        json={"step": "preliminary_review", "outcome": "approve"},
    )
    assert decided.status_code == 200, decided.text
    view = await stack.wait_for(application.application_id, clerk, "awaiting_originals", with_documents=True)
    return {
        "application_id": application.application_id,
        "document_id": view["documents"][0]["document_id"],
        "material_id": view["materials"][0]["material_id"],
        "incident_id": "no-such-incident",
        "rating_id": "00000000-0000-0000-0000-000000000000",
        "number": "3303822026999999",
        "own": {CLERK: await signer(CLERK, "330382"), SUPERVISOR: await signer(SUPERVISOR, "330300")},
        "other": {CLERK: await signer(CLERK, "330302"), SUPERVISOR: await signer(SUPERVISOR, "330302")},
    }


def url_for(path: str, world: dict) -> str:
    for key in ("application_id", "document_id", "material_id", "incident_id", "rating_id", "number"):
        path = path.replace(f"{{{key}}}", world[key])
    return path


@pytest.mark.parametrize(("method", "path"), PROTECTED)
@pytest.mark.parametrize("relation", ["own", "other"])
@pytest.mark.parametrize("role", [CLERK, SUPERVISOR])
async def test_console_route_role_object(world: dict, method: str, path: str, relation: str, role: str) -> None:
    allowed = CONSOLE_ACCESS[(method, path)]
    assert allowed is not None
    client: httpx.AsyncClient = world[relation][role]
    url = url_for(path, world)
    if method == "POST":
        response = await post_form(client, url, {"step": "final_review", "outcome": "approve"})
    else:
        response = await client.get(url)
    if role not in allowed:
        assert response.status_code == 403, response.text
    elif path in UNKNOWN_OBJECT_ROUTES:
        assert response.status_code == 404, response.text
    elif relation == "other" and path in OBJECT_ROUTES:
        assert response.status_code == 404, response.text  # its existence is not revealed
        assert "没有找到该申请" in alert_of(response.text)
    else:
        assert response.status_code not in (303, 401, 403, 404), response.text


async def test_a_refused_role_reads_why_and_stays_signed_in(world: dict) -> None:
    clerk, supervisor = world["own"][CLERK], world["own"][SUPERVISOR]
    supervision = await clerk.get("/console/supervision")
    assert supervision.status_code == 403 and alert_of(supervision.text) == "此页面仅供科室负责人查看。"
    assert "退出登录" in supervision.text  # the page knows who is signed in
    url = f"/console/applications/{world['application_id']}/decisions"
    decided = await post_form(supervisor, url, {"step": "originals_received", "outcome": "approve"})
    assert decided.status_code == 403 and alert_of(decided.text) == "只有审批员可以作出审批决定。"


@pytest.mark.parametrize(("method", "path"), PROTECTED)
async def test_no_session_goes_to_the_sign_in_page(stack: Stack, world: dict, method: str, path: str) -> None:
    async with httpx.AsyncClient(base_url=str(stack.api.base_url)) as anonymous:
        response = await anonymous.request(method, url_for(path, world))
    assert response.status_code == 303
    assert response.headers["location"].startswith("/console/sign-in?next=")


@pytest.mark.parametrize("role", ["applicant", "operator"])
async def test_tokens_of_other_roles_are_no_session(stack: Stack, role: str) -> None:
    body = {"role": role, "sub": f"{role}-1", **({"district": "330382"} if role == "operator" else {})}
    token = (await stack.api.post("/v1/dev/token", json=body)).json()["access_token"]
    async with httpx.AsyncClient(base_url=str(stack.api.base_url), cookies={SESSION_COOKIE: token}) as client:
        response = await client.get("/console/inbox")
    assert response.status_code == 303 and response.headers["location"].startswith("/console/sign-in")


async def test_a_post_without_the_sessions_csrf_token_is_403(stack: Stack, world: dict, signer: Signer) -> None:
    clerk: httpx.AsyncClient = world["own"][CLERK]
    url = f"/console/applications/{world['application_id']}/decisions"
    body = {"step": "originals_received", "outcome": "approve"}
    missing = await clerk.post(url, data=body)
    assert missing.status_code == 403 and "CSRF" in alert_of(missing.text)
    someone_elses = csrf_of((await (await signer(CLERK, "330382")).get("/console/inbox")).text)
    foreign = await clerk.post(url, data={**body, "csrf_token": someone_elses})
    assert foreign.status_code == 403
    signing_out = await clerk.post("/console/sign-out", data={})
    assert signing_out.status_code == 403
    assert (await clerk.get("/console/inbox")).status_code == 200  # still signed in, nothing decided
    view = (await stack.api.get(f"/v1/applications/{world['application_id']}", headers=await stack.clerk())).json()
    assert view["status"] == "awaiting_originals"


async def test_session_cookie_is_httponly_and_strict(stack: Stack) -> None:
    async with httpx.AsyncClient(base_url=str(stack.api.base_url)) as client:
        form = await client.get("/console/sign-in")
        data = {"csrf_token": csrf_of(form.text), "role": CLERK, "sub": "c-1", "district": "330382"}
        signed = await client.post("/console/sign-in", data=data)
    session = next(c for c in signed.headers.get_list("set-cookie") if c.startswith(f"{SESSION_COOKIE}="))
    assert "HttpOnly" in session and "SameSite=strict" in session and "Path=/console" in session
    assert "Secure" not in session  # development and tests run on plain http; elsewhere it is Secure


async def test_sign_in_names_the_bad_field(stack: Stack) -> None:
    async with httpx.AsyncClient(base_url=str(stack.api.base_url)) as client:
        form = await client.get("/console/sign-in")
        data = {"csrf_token": csrf_of(form.text), "role": "operator", "sub": " ", "district": "110000"}
        refused = await client.post("/console/sign-in", data=data)
    assert refused.status_code == 422
    assert "请选择审批员或科室负责人" in refused.text and "请填写工号" in refused.text and "请选择区县" in refused.text
    assert SESSION_COOKIE not in refused.headers.get("set-cookie", "")


async def test_a_decision_at_the_wrong_step_is_a_readable_409(world: dict) -> None:
    clerk: httpx.AsyncClient = world["own"][CLERK]
    response = await post_form(
        clerk,
        f"/console/applications/{world['application_id']}/decisions",
        {"step": "final_review", "outcome": "approve"},
    )
    assert response.status_code == 409
    assert "该申请当前不在这一环节" in alert_of(response.text)
    assert "Traceback" not in response.text


async def test_reject_without_reason_and_supplement_without_items_are_422_naming_the_field(
    stack: Stack, signer: Signer
) -> None:
    clerk_headers = await stack.clerk()
    application = await submitted(stack, until="preliminary_review", clerk=clerk_headers)
    clerk = await signer()
    url = f"/console/applications/{application.application_id}/decisions"
    reject = await post_form(clerk, url, {"step": "preliminary_review", "outcome": "reject", "reason": "  "})
    assert reject.status_code == 422
    assert "理由" in alert_of(reject.text) and 'id="reason-reject-error"' in reject.text
    supplement = await post_form(
        clerk,
        url,
        {"step": "preliminary_review", "outcome": "request_supplement", "reason": "行驶证照片不清晰", "items": "\n \n"},
    )
    assert supplement.status_code == 422 and 'id="items-request_supplement-error"' in supplement.text
    assert "行驶证照片不清晰" in supplement.text  # what the clerk typed is kept
    nonsense = await post_form(clerk, url, {"step": "preliminary_review", "outcome": "grant"})
    assert nonsense.status_code == 422
    view = (await stack.api.get(f"/v1/applications/{application.application_id}", headers=clerk_headers)).json()
    assert view["status"] == "preliminary_review"

    asked = await post_form(
        clerk,
        url,
        {
            "step": "preliminary_review",
            "outcome": "request_supplement",
            "reason": "照片不清晰",
            "items": "机动车行驶证（清晰扫描件）\n\n机动车登记证书第二页\n",
        },
    )
    assert asked.status_code == 200
    assert "已完成：一次性告知补正" in asked.text
    # The page is the workflow's answer to the decision, not a projection read before it.
    assert re.search(r'id="status"><span class="status status-supplement_requested">', asked.text), asked.text
    assert "待补正材料：机动车行驶证（清晰扫描件）、机动车登记证书第二页" in asked.text
    view = (await stack.api.get(f"/v1/applications/{application.application_id}", headers=clerk_headers)).json()
    assert view["status"] == "supplement_requested"
    assert view["pending"][0]["items"] == ["机动车行驶证（清晰扫描件）", "机动车登记证书第二页"]
    audited = await stack.store.pool.fetchval(
        "SELECT count(*) FROM audit_log WHERE target = $1 AND action = $2",
        application.application_id,
        "decision.preliminary_review.request_supplement",
    )
    assert audited == 1


async def test_the_inbox_shows_the_district_only_and_masks_personal_data(stack: Stack, world: dict) -> None:
    clerk_headers = await stack.clerk()
    application = await submitted(stack, until="preliminary_review", clerk=clerk_headers)
    plate = application.vehicle["plate"]
    own = await world["own"][CLERK].get("/console/inbox", params={"plate": plate, "status": "", "warning": ""})
    assert own.status_code == 200
    assert application.application_id[:8] in own.text and "共 1 件" in own.text
    listed = own.text.split("<tbody>")[1]  # the filter form shows back the plate the clerk typed
    for secret in (plate, application.owner["id_number"], application.owner["phone"], application.vehicle["vin"]):
        assert secret not in listed
    assert plate[:3] + "***" + plate[-1] in listed
    other = await world["other"][CLERK].get("/console/inbox", params={"plate": plate})
    assert other.status_code == 200 and application.application_id[:8] not in other.text and "共 0 件" in other.text
    detail = await world["own"][CLERK].get(f"/console/applications/{application.application_id}")
    for secret in (plate, application.owner["id_number"], application.owner["phone"], application.vehicle["vin"]):
        assert secret not in detail.text


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"plate": "京A12345"}, "车牌号"),
        ({"page": "0"}, "页码"),
        ({"status": "lost"}, "状态"),
        ({"district": "33"}, "区县"),
    ],
)
async def test_a_bad_inbox_filter_is_422_naming_the_field(world: dict, params: dict, field: str) -> None:
    response = await world["own"][CLERK].get("/console/inbox", params=params)
    assert response.status_code == 422
    assert field in alert_of(response.text)


async def test_blank_inbox_filters_mean_no_filter(world: dict) -> None:
    """The form's 全部 sends every filter blank: the same page as no filter at all."""
    blank = {"status": "", "step": "", "channel": "", "warning": "", "district": "", "plate": ""}
    response = await world["own"][CLERK].get("/console/inbox", params=blank)
    assert response.status_code == 200, response.text
    assert world["application_id"][:8] in response.text


async def test_the_supervisors_page_lists_overdue_applications(stack: Stack, world: dict) -> None:
    overdue = await overdue_projection(stack)
    supervision = await world["own"][SUPERVISOR].get("/console/supervision")
    assert supervision.status_code == 200
    section = supervision.text.split('id="h-overdue"')[1].split('id="h-soon"')[0]
    assert overdue[:8] in section and "badge-red" in section
    elsewhere = await world["other"][SUPERVISOR].get("/console/supervision")
    assert overdue[:8] not in elsewhere.text
    page = await world["own"][CLERK].get(f"/console/applications/{overdue}")
    assert page.status_code == 200 and "已超期" in page.text
