"""The clerks' console: server-rendered pages over the same service layer and rules as the API.

One router of the console's pages, by page: sign-in, inbox, application (decisions,
materials, documents), supervision, ratings and the register of permits; what they all go
through (headers, session, CSRF, refusals as pages) is in `security`. Not in the OpenAPI
document (that is the JSON contract of API.md); its own authorization tests are in
tests/integration/test_console.py.
"""

from __future__ import annotations

from fastapi import APIRouter

from api.console import application, inbox, permits, ratings, sign_in, supervision

router = APIRouter()
for page in (sign_in, inbox, application, supervision, ratings, permits):
    # The pages' own routes, not `include_router` (which nests them lazily): the app and the
    # console's authorization test read this list of routes.
    router.routes.extend(page.router.routes)
