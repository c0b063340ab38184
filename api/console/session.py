"""The console's session cookie (the staff token itself) and its CSRF tokens.

The session cookie holds the signed staff token; it is HttpOnly, SameSite=Strict, and
Secure outside development. Every form carries a CSRF token: an HMAC, with a key
derived from the app's secret, of a random per-browser seed (its own cookie, renewed
at each sign-in) and of the session token, so a token is good for one browser and one
session only.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets

from fastapi import Request, Response

from api.auth import CLERK_ROLES, InvalidToken, Principal, verify_token
from config import Settings

SESSION_COOKIE = "permit_console"
SEED_COOKIE = "permit_console_csrf"
PATH = "/console"


class SignInRequired(Exception):
    """No session, or one whose token has expired or is invalid."""


class CsrfRefused(Exception):
    """A form without the CSRF token of this browser's session."""


def principal_of(settings: Settings, request: Request) -> Principal:
    """The staff member of this browser's session (blocking: the token may need the JWKS)."""
    token = request.cookies.get(SESSION_COOKIE)
    if not token:
        raise SignInRequired
    try:
        principal = verify_token(settings, token)
    except InvalidToken:
        raise SignInRequired from None
    if principal.role not in CLERK_ROLES:
        raise SignInRequired
    return principal


def _key(settings: Settings) -> bytes:
    return hmac.new(settings.auth_jwt_secret.encode(), b"permit-console-csrf", hashlib.sha256).digest()


def csrf_token(settings: Settings, seed: str, session: str) -> str:
    session_digest = hashlib.sha256(session.encode()).hexdigest()
    return hmac.new(_key(settings), f"{seed}|{session_digest}".encode(), hashlib.sha256).hexdigest()


def check_csrf(settings: Settings, request: Request, submitted: str) -> None:
    seed = request.cookies.get(SEED_COOKIE)
    expected = csrf_token(settings, seed, request.cookies.get(SESSION_COOKIE, "")) if seed else None
    if not expected or not hmac.compare_digest(expected, submitted):
        raise CsrfRefused


def nonce_for(state: str) -> str:
    """The OpenID `nonce` sent with a `state`: the ID token must carry it back."""
    return hashlib.sha256(f"permit-console-nonce|{state}".encode()).hexdigest()[:32]


def new_seed() -> str:
    return secrets.token_urlsafe(32)


def _set(settings: Settings, response: Response, name: str, value: str) -> None:
    response.set_cookie(name, value, path=PATH, httponly=True, samesite="strict", secure=not settings.is_development)


def set_seed(settings: Settings, response: Response, seed: str) -> None:
    _set(settings, response, SEED_COOKIE, seed)


def start_session(settings: Settings, response: Response, token: str) -> None:
    """Sign in: the token becomes the session, with a new CSRF seed (no token from before carries over)."""
    _set(settings, response, SESSION_COOKIE, token)
    set_seed(settings, response, new_seed())


def end_session(settings: Settings, response: Response) -> None:
    for name in (SESSION_COOKIE, SEED_COOKIE):
        response.delete_cookie(name, path=PATH, httponly=True, samesite="strict", secure=not settings.is_development)
