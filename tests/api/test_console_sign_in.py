"""The console's sign-in outside development: no development form, the identity provider's
ID token (RS256 through its JWKS) bound to the browser by `state` and `nonce`. And wherever
it runs, signing in returns only to a page of the console."""

from __future__ import annotations

import json
import re
import time
from collections.abc import AsyncIterator
from urllib.parse import parse_qs, urlsplit

import httpx
import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric import rsa
from starlette.applications import Starlette
from starlette.responses import JSONResponse
from starlette.routing import Route

from api.app import create_app
from api.auth import Principal, Role, issue_token, verify_token
from api.console.session import SESSION_COOKIE
from config import Settings
from tests.support_sandbox import serving
from tests.support_settings import production_settings, settings_for_tests

IDP = "https://idp.example/authorize"
KEY = rsa.generate_private_key(public_exponent=65537, key_size=2048)


@pytest.fixture(scope="module")
async def jwks_url() -> AsyncIterator[str]:
    public = json.loads(jwt.algorithms.RSAAlgorithm.to_jwk(KEY.public_key()))
    jwks = {"keys": [{**public, "kid": "idp-1", "use": "sig", "alg": "RS256"}]}
    async with serving(Starlette(routes=[Route("/jwks.json", lambda request: JSONResponse(jwks))])) as base:
        yield f"{base}/jwks.json"


def console(settings: Settings) -> httpx.AsyncClient:
    """The app without its lifespan: signing in needs no database and no Temporal."""
    return httpx.AsyncClient(transport=httpx.ASGITransport(create_app(settings)), base_url="https://permit.example")


def production(jwks_url: str, **overrides) -> Settings:
    return production_settings().model_copy(
        update={"auth_jwks_url": jwks_url, "console_idp_authorize_url": IDP, **overrides}
    )


def id_token(nonce: str, **overrides) -> str:
    claims = {
        "sub": "wz-clerk-88",
        "role": "transport_clerk",
        "district": "330382",
        "aud": "permit-console",
        "nonce": nonce,
        "exp": int(time.time()) + 300,
        **overrides,
    }
    return jwt.encode(claims, KEY, algorithm="RS256", headers={"kid": "idp-1"})


async def start(client: httpx.AsyncClient) -> dict[str, str]:
    """Open the sign-in page; the query of its link to the identity provider."""
    page = await client.get("/console/sign-in")
    assert page.status_code == 200
    link = re.search(r'href="(https://idp\.example/authorize\?[^"]+)"', page.text)
    assert link, page.text
    query = {k: v[0] for k, v in parse_qs(urlsplit(link.group(1).replace("&amp;", "&")).query).items()}
    assert query["redirect_uri"] == "https://permit.example/console/sign-in/idp"
    assert query["response_type"] == "id_token" and query["client_id"] == "permit-console"
    return query


async def test_outside_development_there_is_no_development_sign_in(jwks_url: str) -> None:
    async with console(production(jwks_url)) as client:
        page = await client.get("/console/sign-in")
        assert 'name="sub"' not in page.text and "通过统一身份认证登录" in page.text
        token = re.search(r'name="csrf_token" value="([0-9a-f]+)"', page.text)
        assert token is None  # no form posts from this page
        query = await start(client)
        refused = await client.post(
            "/console/sign-in",
            data={"csrf_token": query["state"], "role": "supervisor", "sub": "x", "district": "330300"},
        )
        assert refused.status_code == 404 and SESSION_COOKIE not in refused.headers.get("set-cookie", "")
    async with console(production(jwks_url, console_idp_authorize_url=None)) as client:
        page = await client.get("/console/sign-in")
        assert "尚未配置统一身份认证平台" in page.text


async def test_the_identity_providers_token_signs_in(jwks_url: str) -> None:
    settings = production(jwks_url)
    async with console(settings) as client:
        back = await client.get("/console/sign-in/idp")
        assert back.status_code == 200 and "/console/static/idp-return.js" in back.text
        query = await start(client)
        signed = await client.post(
            "/console/sign-in/idp", data={"id_token": id_token(query["nonce"]), "state": query["state"]}
        )
    assert signed.status_code == 303 and signed.headers["location"] == "/console/inbox"
    cookie = next(c for c in signed.headers.get_list("set-cookie") if c.startswith(f"{SESSION_COOKIE}="))
    assert "Secure" in cookie and "HttpOnly" in cookie and "SameSite=strict" in cookie
    session_token = cookie.split(";")[0].split("=", 1)[1]
    assert verify_token(settings, session_token) == Principal("wz-clerk-88", Role.TRANSPORT_CLERK, "330382")


@pytest.mark.parametrize(
    ("make", "status"),
    [
        pytest.param(lambda nonce, s: id_token("another-browsers-nonce"), 401, id="nonce-of-another-sign-in"),
        pytest.param(lambda nonce, s: id_token(nonce, aud="another-client"), 401, id="token-for-another-client"),
        pytest.param(lambda nonce, s: id_token(nonce, exp=int(time.time()) - 5), 401, id="expired"),
        pytest.param(
            lambda nonce, s: issue_token(s, Principal("c", Role.TRANSPORT_CLERK, "330382")), 401, id="not-from-the-idp"
        ),
        pytest.param(lambda nonce, s: "garbage", 401, id="garbage"),
        pytest.param(lambda nonce, s: id_token(nonce, role="applicant", district=None), 403, id="not-staff"),
    ],
)
async def test_other_tokens_are_refused(jwks_url: str, make, status: int) -> None:
    settings = production(jwks_url)
    async with console(settings) as client:
        query = await start(client)
        refused = await client.post(
            "/console/sign-in/idp", data={"id_token": make(query["nonce"], settings), "state": query["state"]}
        )
    assert refused.status_code == status
    assert SESSION_COOKIE not in refused.headers.get("set-cookie", "")


async def test_a_token_without_this_browsers_state_is_403(jwks_url: str) -> None:
    async with console(production(jwks_url)) as attacker:
        query = await start(attacker)
    async with console(production(jwks_url)) as victim:
        await victim.get("/console/sign-in")
        forced = await victim.post(
            "/console/sign-in/idp", data={"id_token": id_token(query["nonce"]), "state": query["state"]}
        )
    assert forced.status_code == 403


@pytest.mark.parametrize(
    ("target", "landing"),
    [
        (
            "/console/applications/4f1c2d3e-0000-4000-8000-000000000001",
            "/console/applications/4f1c2d3e-0000-4000-8000-000000000001",
        ),
        ("https://evil.example/console", "/console/inbox"),
        ("//evil.example/console", "/console/inbox"),
        ("/console/../v1/dev/token", "/console/inbox"),
        ("/console/inbox?next=https://evil.example", "/console/inbox"),
        ("/v1/applications", "/console/inbox"),
    ],
)
async def test_signing_in_returns_only_to_a_console_page(target: str, landing: str) -> None:
    async with console(settings_for_tests(app_env="development")) as client:  # the development sign-in form
        page = await client.get("/console/sign-in", params={"next": target})
        token = re.search(r'name="csrf_token" value="([0-9a-f]{64})"', page.text)
        assert token, page.text
        form = {"csrf_token": token.group(1), "role": "transport_clerk", "sub": "wz-clerk-1", "district": "330382"}
        signed = await client.post("/console/sign-in", data={**form, "next": target})
    assert signed.status_code == 303 and signed.headers["location"] == landing
