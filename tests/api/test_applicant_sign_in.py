"""The applicant's app, signing in with the e-ID (温警在线) over HTTP: in development through the
sandbox's QR flow, elsewhere through the e-ID service's redirect bound to the browser by `state`;
either way through the identity service (throttled per address, audited), into an HttpOnly,
SameSite=Strict session cookie of /app (Secure outside development)."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from html import unescape
from urllib.parse import parse_qs, urlsplit

import pytest

from adapters.departments import Departments
from api.applicant.session import APPLICANT_SITE
from tests.support_applicant import FakeStore, client_for, csrf_of, field_errors
from tests.support_sandbox import running_sandbox
from tests.support_settings import production_settings

EID = "https://eid.example/authorize"


@pytest.fixture
def store() -> FakeStore:
    return FakeStore()


@pytest.fixture
async def sandbox_url() -> AsyncIterator[str]:
    async with running_sandbox() as url:
        yield url


async def test_in_development_the_sandboxs_qr_code_signs_in(store: FakeStore, sandbox_url: str) -> None:
    departments = Departments.http(sandbox_url)
    try:
        async with client_for(store, signed_in=False, departments=departments, departments_url=sandbox_url) as http:
            page = await http.get("/app/sign-in?next=/app/apply")
            assert "用温警在线扫码登录" in page.text and 'value="张三"' in page.text
            form = {"name": "张三", "id_number": "330302199001011235", "phone": "13800138000", "next": "/app/apply"}
            signed = await http.post("/app/sign-in", data={**form, "csrf_token": csrf_of(page.text)})
    finally:
        await departments.aclose()
    assert signed.status_code == 303 and signed.headers["location"] == "/app/apply"
    cookie = next(c for c in signed.headers.get_list("set-cookie") if c.startswith("permit_app="))
    assert "HttpOnly" in cookie and "SameSite=strict" in cookie and "Path=/app" in cookie
    assert "Secure" not in cookie  # development over plain HTTP
    assert [(e["action"], e["outcome"]) for e in store.audited] == [("auth.eid", "ok")]


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [("name", "", "姓名"), ("id_number", "330302199001011234", "身份证号码"), ("phone", "2800138000", "手机号码")],
)
async def test_a_bad_identity_is_told_next_to_its_field_and_nothing_is_asked(
    store: FakeStore, field: str, value: str, message: str
) -> None:
    async with client_for(store, signed_in=False, departments_url="http://127.0.0.1:9") as http:
        page = await http.get("/app/sign-in")
        form = {"name": "张三", "id_number": "330302199001011235", "phone": "13800138000", field: value}
        answer = await http.post("/app/sign-in", data={**form, "csrf_token": csrf_of(page.text)})
    assert answer.status_code == 422
    errors = field_errors(answer.text)
    assert list(errors) == [field] and message in errors[field]
    assert store.audited == [] and "permit_app=" not in answer.headers.get("set-cookie", "")


async def test_sign_ins_are_throttled_per_address(store: FakeStore) -> None:
    store.hits = 61  # past RATE_LIMIT_EID_SIGN_INS (60 an hour)
    async with client_for(store, signed_in=False) as http:
        page = await http.get("/app/sign-in")
        form = {"name": "张三", "id_number": "330302199001011235", "phone": "13800138000"}
        answer = await http.post("/app/sign-in", data={**form, "csrf_token": csrf_of(page.text)})
    assert answer.status_code == 429 and "操作过于频繁" in answer.text
    assert store.audited == []


async def test_outside_development_without_the_setting_there_is_a_clear_message(store: FakeStore) -> None:
    settings = production_settings()
    async with client_for(store, signed_in=False, settings=settings, base_url="https://permit.example") as http:
        page = await http.get("/app/sign-in")
        token = APPLICANT_SITE.csrf_token(settings, http.cookies["permit_app_csrf"], "")  # the page has no form
        development = await http.post("/app/sign-in", data={"csrf_token": token, "name": "张三"})
    assert "尚未配置温警在线登录" in page.text and 'name="id_number"' not in page.text
    assert development.status_code == 404


async def test_outside_development_the_e_id_service_signs_in_bound_to_this_browser(store: FakeStore) -> None:
    settings = production_settings().model_copy(update={"applicant_eid_authorize_url": EID})
    async with client_for(store, signed_in=False, settings=settings, base_url="https://permit.example") as http:
        page = await http.get("/app/sign-in?next=/app/apply")
        link = re.search(r'href="(https://eid\.example/authorize\?[^"]+)"', page.text)
        assert link, page.text
        query = {k: v[0] for k, v in parse_qs(urlsplit(unescape(link.group(1))).query).items()}
        back = urlsplit(query["redirect_uri"])
        assert (back.scheme, back.netloc, back.path) == ("https", "permit.example", "/app/sign-in/eid")
        returned = f"{back.path}?{back.query}&qr_token=qr-token-of-zhang-san"
        forged = await http.get(f"{returned}&state={'0' * 64}")
        wrong_token = await http.get(f"{back.path}?{back.query}&qr_token=someone-elses&state={query['state']}")
        signed = await http.get(f"{returned}&state={query['state']}")
    assert forged.status_code == 403 and store.audited[0]["outcome"] == "refused:eid_token_invalid"
    assert wrong_token.status_code == 401 and "二维码无效" in wrong_token.text
    assert signed.status_code == 303 and signed.headers["location"] == "/app/apply"
    cookie = next(c for c in signed.headers.get_list("set-cookie") if c.startswith("permit_app="))
    assert "Secure" in cookie and "HttpOnly" in cookie
    assert [e["outcome"] for e in store.audited] == ["refused:eid_token_invalid", "ok"]
