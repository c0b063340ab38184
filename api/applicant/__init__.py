"""The applicant's app (Chinese, mobile-first, server-rendered) under /app: sign in with the
e-ID, apply, follow the application and act on it, over the same service layer as the API."""

from __future__ import annotations

from pathlib import Path

from fastapi import FastAPI
from fastapi.staticfiles import StaticFiles

from api.applicant.routes import router


def install(app: FastAPI) -> None:
    app.include_router(router)
    app.mount("/app/static", StaticFiles(directory=Path(__file__).parent / "static"), name="applicant-static")
