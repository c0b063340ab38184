"""The applicant's app: server-rendered pages over the same service layer and rules as the API.

One router of the app's pages, by page: sign-in, apply, progress (home, application, documents),
the applicant's acts, and the rating of an ended application. Not in the OpenAPI document (that is
the JSON contract of API.md).
"""

from __future__ import annotations

from fastapi import APIRouter

from api.applicant import actions, apply, progress, rating, sign_in

router = APIRouter()
for page in (sign_in, apply, progress, actions, rating):
    router.routes.extend(page.router.routes)
