"""The console's session cookie (the staff token itself) and its CSRF tokens (api.web.session)."""

from __future__ import annotations

import hashlib

from api.auth import CLERK_ROLES
from api.web.session import CsrfRefused, SignInRequired, SiteSession, new_seed

__all__ = [
    "PATH",
    "SEED_COOKIE",
    "SESSION_COOKIE",
    "CsrfRefused",
    "SignInRequired",
    "check_csrf",
    "csrf_token",
    "end_session",
    "new_seed",
    "nonce_for",
    "principal_of",
    "set_seed",
    "start_session",
]

CONSOLE = SiteSession(
    name="permit-console",
    path="/console",
    session_cookie="permit_console",
    seed_cookie="permit_console_csrf",
    roles=CLERK_ROLES,
)
SESSION_COOKIE, SEED_COOKIE, PATH = CONSOLE.session_cookie, CONSOLE.seed_cookie, CONSOLE.path

principal_of = CONSOLE.principal_of
csrf_token = CONSOLE.csrf_token
check_csrf = CONSOLE.check_csrf
set_seed = CONSOLE.set_seed
start_session = CONSOLE.start_session
end_session = CONSOLE.end_session


def nonce_for(state: str) -> str:
    """The OpenID `nonce` sent with a `state`: the ID token must carry it back."""
    return hashlib.sha256(f"permit-console-nonce|{state}".encode()).hexdigest()[:32]
