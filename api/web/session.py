"""A site's session cookie (the signed token itself) and its CSRF tokens.

The session cookie holds the signed token; it is HttpOnly, SameSite=Strict, and Secure
outside development, and sent only under the site's path. Every form carries a CSRF token:
an HMAC, with a key derived from the app's secret and the site's name, of a random
per-browser seed (its own cookie, renewed at each sign-in) and of the session token, so a
token is good for one site, one browser and one session only.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from collections.abc import Collection
from dataclasses import dataclass

from fastapi import Request, Response

from api.auth import InvalidToken, Principal, Role, verify_token
from config import Settings


class SignInRequired(Exception):
    """No session, or one whose token has expired, is invalid, or is not for this site's roles."""


class CsrfRefused(Exception):
    """A form without the CSRF token of this browser's session."""


def new_seed() -> str:
    return secrets.token_urlsafe(32)


@dataclass(frozen=True)
class SiteSession:
    """The cookies of one site: `path` scopes them, `roles` are who may hold its session."""

    name: str
    path: str
    session_cookie: str
    seed_cookie: str
    roles: Collection[Role]

    def principal_of(self, settings: Settings, request: Request) -> Principal:
        """The principal of this browser's session (blocking: the token may need the JWKS)."""
        token = request.cookies.get(self.session_cookie)
        if not token:
            raise SignInRequired
        try:
            principal = verify_token(settings, token)
        except InvalidToken:
            raise SignInRequired from None
        if principal.role not in self.roles:
            raise SignInRequired
        return principal

    def _key(self, settings: Settings) -> bytes:
        return hmac.new(settings.auth_jwt_secret.encode(), f"{self.name}-csrf".encode(), hashlib.sha256).digest()

    def csrf_token(self, settings: Settings, seed: str, session: str) -> str:
        session_digest = hashlib.sha256(session.encode()).hexdigest()
        return hmac.new(self._key(settings), f"{seed}|{session_digest}".encode(), hashlib.sha256).hexdigest()

    def check_csrf(self, settings: Settings, request: Request, submitted: str) -> None:
        seed = request.cookies.get(self.seed_cookie)
        expected = self.csrf_token(settings, seed, request.cookies.get(self.session_cookie, "")) if seed else None
        if not expected or not hmac.compare_digest(expected, submitted):
            raise CsrfRefused

    def _set(self, settings: Settings, response: Response, name: str, value: str) -> None:
        secure = not settings.is_development
        response.set_cookie(name, value, path=self.path, httponly=True, samesite="strict", secure=secure)

    def set_seed(self, settings: Settings, response: Response, seed: str) -> None:
        self._set(settings, response, self.seed_cookie, seed)

    def start_session(self, settings: Settings, response: Response, token: str) -> None:
        """Sign in: the token becomes the session, with a new CSRF seed (no token from before carries over)."""
        self._set(settings, response, self.session_cookie, token)
        self.set_seed(settings, response, new_seed())

    def end_session(self, settings: Settings, response: Response) -> None:
        secure = not settings.is_development
        for name in (self.session_cookie, self.seed_cookie):
            response.delete_cookie(name, path=self.path, httponly=True, samesite="strict", secure=secure)
