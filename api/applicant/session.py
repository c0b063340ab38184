"""The applicant's session cookie (the applicant token the e-ID sign-in issues) and its CSRF tokens."""

from __future__ import annotations

from api.auth import Role
from api.web.session import SiteSession

APPLICANT_SITE = SiteSession(
    name="permit-applicant",
    path="/app",
    session_cookie="permit_app",
    seed_cookie="permit_app_csrf",
    roles=(Role.APPLICANT,),
)
SESSION_COOKIE = APPLICANT_SITE.session_cookie
