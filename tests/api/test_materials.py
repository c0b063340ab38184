"""Scans over HTTP without a stack: a staff member's read of an application's scan is audited
(scans show the applicant's papers in full); a material the application does not list is not read."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from types import SimpleNamespace
from typing import Any

import httpx
import pytest

from api.app import create_app
from api.auth import Principal, Role, issue_token
from api.console.session import SESSION_COOKIE
from store.applications import ApplicationRow
from tests.support_settings import settings_for_tests
from tests.support_views import view_of

SETTINGS = settings_for_tests()
APP_ID = str(uuid.uuid4())
ROW = ApplicationRow(APP_ID, f"permit-{APP_ID}", "eid-1", "330382", "preliminary_review", view_of(APP_ID), None)
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 32


class FakeStore:
    def __init__(self) -> None:
        self.audited: list[dict[str, Any]] = []
        self.applications = SimpleNamespace(get=self._get_application)
        self.materials = SimpleNamespace(content=self._content)
        self.audit = SimpleNamespace(record=self._record)

    async def _get_application(self, application_id: str) -> ApplicationRow | None:
        return ROW if application_id == APP_ID else None

    async def _content(self, material_id: str) -> tuple[str, bytes] | None:
        return ("image/png", PNG) if material_id in ("m-1", "m-2", "m-other") else None

    async def _record(self, **entry: Any) -> None:
        self.audited.append(entry)


@pytest.fixture
def store() -> FakeStore:
    return FakeStore()


@pytest.fixture
async def console(store: FakeStore) -> AsyncIterator[httpx.AsyncClient]:
    """The app without its lifespan, over the fake store; signed in to the console as a clerk of 330382."""
    app = create_app(SETTINGS)
    app.state.resources = SimpleNamespace(settings=SETTINGS, store=store)
    session = issue_token(SETTINGS, Principal("clerk-7", Role.TRANSPORT_CLERK, "330382"))
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app), base_url="http://api", headers={"Cookie": f"{SESSION_COOKIE}={session}"}
    ) as http:
        yield http


async def test_a_clerks_read_of_a_scan_is_audited(console: httpx.AsyncClient, store: FakeStore) -> None:
    response = await console.get(f"/console/applications/{APP_ID}/materials/m-1")
    assert response.status_code == 200 and response.content == PNG
    (entry,) = store.audited
    assert (entry["actor"], entry["role"], entry["district"]) == ("clerk-7", "transport_clerk", "330382")
    assert (entry["action"], entry["target"], entry["outcome"]) == ("material.read", "m-1", "ok")
    assert entry["detail"] == {"application_id": APP_ID} and entry["source_ip"] == "127.0.0.1"


async def test_a_material_the_application_does_not_list_is_not_read(
    console: httpx.AsyncClient, store: FakeStore
) -> None:
    response = await console.get(f"/console/applications/{APP_ID}/materials/m-other")
    assert response.status_code == 404
    assert store.audited == []
