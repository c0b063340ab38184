"""Token verification: the algorithm is pinned to its key source; `exp` is required."""

from __future__ import annotations

import asyncio
import base64
import hashlib
import hmac
import json
import time

import jwt
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from starlette.applications import Starlette
from starlette.responses import JSONResponse
from starlette.routing import Route

from api.auth import InvalidToken, Principal, Role, issue_token, verify_token
from tests.support_sandbox import serving
from tests.support_settings import settings_for_tests

SETTINGS = settings_for_tests()
CLAIMS = {"sub": "clerk-1", "role": "transport_clerk", "district": "330382"}


def claims(**extra) -> dict:
    return {**CLAIMS, "exp": int(time.time()) + 600, **extra}


def test_our_own_tokens_verify() -> None:
    token = issue_token(SETTINGS, Principal("a-1", Role.APPLICANT))
    assert verify_token(SETTINGS, token) == Principal("a-1", Role.APPLICANT)


def b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def unsigned(payload: dict) -> str:
    return f"{b64(json.dumps({'alg': 'none', 'typ': 'JWT'}).encode())}.{b64(json.dumps(payload).encode())}."


def hmac_signed(header: dict, payload: dict, secret: bytes) -> str:
    signing_input = f"{b64(json.dumps(header).encode())}.{b64(json.dumps(payload).encode())}"
    return f"{signing_input}.{b64(hmac.new(secret, signing_input.encode(), hashlib.sha256).digest())}"


@pytest.mark.parametrize(
    "token",
    [
        pytest.param(unsigned(claims()), id="alg-none"),
        pytest.param(
            hmac_signed({"alg": "HS384", "typ": "JWT"}, claims(), SETTINGS.auth_jwt_secret.encode()), id="other-hmac"
        ),
        pytest.param(jwt.encode(CLAIMS, SETTINGS.auth_jwt_secret, algorithm="HS256"), id="no-exp"),
        pytest.param(
            jwt.encode(claims(exp=int(time.time()) - 5), SETTINGS.auth_jwt_secret, algorithm="HS256"), id="expired"
        ),
        pytest.param(
            jwt.encode(claims(), "another-secret-of-sufficient-length-000", algorithm="HS256"), id="wrong-key"
        ),
        pytest.param(jwt.encode(claims(role="root"), SETTINGS.auth_jwt_secret, algorithm="HS256"), id="unknown-role"),
        pytest.param(
            jwt.encode({**claims(), "district": None}, SETTINGS.auth_jwt_secret, algorithm="HS256"),
            id="clerk-without-district",
        ),
        pytest.param("not.a.token", id="garbage"),
    ],
)
def test_bad_tokens_are_refused(token: str) -> None:
    with pytest.raises(InvalidToken):
        verify_token(SETTINGS, token)


async def test_rs256_tokens_verify_through_the_jwks_and_nothing_else() -> None:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    public_jwk = json.loads(jwt.algorithms.RSAAlgorithm.to_jwk(key.public_key()))
    jwks = {"keys": [{**public_jwk, "kid": "idp-1", "use": "sig", "alg": "RS256"}]}
    app = Starlette(routes=[Route("/jwks.json", lambda request: JSONResponse(jwks))])
    async with serving(app) as base_url:
        settings = settings_for_tests(auth_jwks_url=f"{base_url}/jwks.json")
        good = jwt.encode(claims(), key, algorithm="RS256", headers={"kid": "idp-1"})
        principal = await asyncio.to_thread(verify_token, settings, good)
        assert principal == Principal("clerk-1", Role.TRANSPORT_CLERK, "330382")

        other_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        unknown_kid = jwt.encode(claims(), other_key, algorithm="RS256", headers={"kid": "idp-2"})
        forged = jwt.encode(claims(), other_key, algorithm="RS256", headers={"kid": "idp-1"})
        pem = key.public_key().public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
        confused = hmac_signed(
            {"alg": "HS256", "typ": "JWT", "kid": "idp-1"}, claims(), pem
        )  # public key as HMAC secret
        for token in (unknown_kid, forged, confused):
            with pytest.raises(InvalidToken):
                await asyncio.to_thread(verify_token, settings, token)
    with pytest.raises(InvalidToken):
        verify_token(SETTINGS, good)  # RS256 without a configured JWKS
