"""The one inbox query: whatever the caller asks, a principal lists only what they may see."""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

import pytest

from api.auth import Principal, Role
from api.services import inbox
from domain.districts import DISTRICTS
from domain.statuses import Status
from store.applications import InboxQuery


class RecordingApplications:
    def __init__(self) -> None:
        self.queries: list[InboxQuery] = []

    async def list(self, query: InboxQuery) -> tuple[list[dict[str, Any]], int]:
        self.queries.append(query)
        return [], 0


async def scoped(principal: Principal, query: InboxQuery, district: str | None = None) -> InboxQuery:
    """The query the store receives when `principal` lists with `query` (narrowed to `district`)."""
    applications = RecordingApplications()
    resources: Any = SimpleNamespace(store=SimpleNamespace(applications=applications))
    await inbox.list_applications(resources, principal, query, district=district)
    (sent,) = applications.queries
    return sent


APPLICANT = Principal("eid-me", Role.APPLICANT)
CLERK = Principal("clerk-1", Role.TRANSPORT_CLERK, "330382")
CITY = Principal("sup-1", Role.SUPERVISOR, "330300")


async def test_an_applicant_lists_only_their_own_whatever_the_query_says() -> None:
    sent = await scoped(APPLICANT, InboxQuery(applicant_sub="eid-someone-else", status=Status.SUBMITTED))
    assert (sent.applicant_sub, sent.districts, sent.status) == ("eid-me", None, Status.SUBMITTED)
    assert (await scoped(APPLICANT, InboxQuery(), "330381")).districts == ["330381"]


@pytest.mark.parametrize(
    ("district", "visible"),
    [(None, ["330382"]), ("330382", ["330382"]), ("330381", []), ("330300", ["330382"])],
)
async def test_a_clerk_lists_their_district_and_no_other(district: str | None, visible: list[str]) -> None:
    sent = await scoped(CLERK, InboxQuery(applicant_sub="eid-me", districts=list(DISTRICTS)), district)
    assert (sent.applicant_sub, sent.districts) == (None, visible)


@pytest.mark.parametrize(
    ("district", "visible"), [(None, list(DISTRICTS)), ("330300", list(DISTRICTS)), ("330302", ["330302"])]
)
async def test_the_city_lists_every_district_or_the_one_it_narrows_to(district: str | None, visible: list[str]) -> None:
    assert (await scoped(CITY, InboxQuery(), district)).districts == visible
