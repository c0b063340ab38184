"""The supervisor's page lists the open follow-ups of bad ratings of the supervisor's districts (差评整改),
red and yellow badges on those due or overdue, over a fake store."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, date, datetime
from types import SimpleNamespace
from typing import Any

import httpx
import pytest

from api.app import create_app
from api.auth import Principal, Role, issue_token
from api.console.session import SESSION_COOKIE
from store.follow_ups import FollowUpRow
from tests.support_settings import settings_for_tests

SETTINGS = settings_for_tests()


def row(rating_id: str, warning: str, status: str = "awaiting_callback") -> FollowUpRow:
    view = {"callback": None if status == "awaiting_callback" else {"note": "已回访"}}
    return FollowUpRow(
        rating_id, f"app-{rating_id}", "330302", status, warning, None, datetime(2026, 9, 30, 2, tzinfo=UTC),
        date(2026, 10, 9), date(2026, 10, 28), view,
    )  # fmt: skip


ROWS = [row("red00001", "red"), row("yel00002", "yellow", "awaiting_rectification"), row("non00003", "none")]


class FakeStore:
    def __init__(self) -> None:
        self.asked: list[list[str] | None] = []
        self.applications = SimpleNamespace(list=self._empty)
        self.incidents = SimpleNamespace(list=self._empty)
        self.follow_ups = SimpleNamespace(list_open=self._list_open)

    async def _empty(self, query: Any) -> tuple[list[Any], int]:
        return [], 0

    async def _list_open(self, districts: list[str] | None, *, limit: int) -> tuple[list[FollowUpRow], int]:
        self.asked.append(districts)
        return ROWS, len(ROWS)


@pytest.fixture
def store() -> FakeStore:
    return FakeStore()


@pytest.fixture
async def console(store: FakeStore) -> AsyncIterator[httpx.AsyncClient]:
    app = create_app(SETTINGS)
    app.state.resources = SimpleNamespace(settings=SETTINGS, store=store)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app), base_url="http://api") as http:
        yield http


def signed_in(role: Role, district: str) -> dict[str, str]:
    return {"Cookie": f"{SESSION_COOKIE}={issue_token(SETTINGS, Principal(f'{role}-1', role, district))}"}


async def test_the_section_lists_the_districts_open_follow_ups_with_their_badges(
    console: httpx.AsyncClient, store: FakeStore
) -> None:
    page = await console.get("/console/supervision", headers=signed_in(Role.SUPERVISOR, "330302"))
    assert page.status_code == 200
    assert store.asked == [["330302"]]
    section = page.text.split('id="h-follow-ups"')[1].split('id="h-overdue"')[0]
    assert "（3 件）" in section
    rows = section.split('class="follow-up"')[1:]
    assert [r.split('data-rating="')[1][:8] for r in rows] == ["red00001", "yel00002", "non00003"]
    assert "badge-red" in rows[0] and "待回访" in rows[0]
    assert "badge-yellow" in rows[1] and "待整改答复" in rows[1] and "（已回访）" in rows[1]
    assert "badge" not in rows[2]


async def test_a_city_supervisor_reads_every_district_and_a_clerk_not_at_all(
    console: httpx.AsyncClient, store: FakeStore
) -> None:
    assert (await console.get("/console/supervision", headers=signed_in(Role.SUPERVISOR, "330300"))).status_code == 200
    assert store.asked[0] is not None and len(store.asked[0]) == 12
    clerk = await console.get("/console/supervision", headers=signed_in(Role.TRANSPORT_CLERK, "330302"))
    assert clerk.status_code == 403
    assert len(store.asked) == 1
