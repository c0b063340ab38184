"""The register of permits over HTTP, on the real store: who may list and read, the filters, the masking."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from types import SimpleNamespace
from typing import Any

import httpx
import pytest

from api.app import create_app
from api.auth import Principal, Role, issue_token
from store import Store
from store.db import create_pool, migrate
from tests.support_settings import settings_for_tests

SETTINGS = settings_for_tests()
HOLDER = "eid-holder-1"


def bearer(role: Role, district: str | None = "330382", sub: str = "staff-1") -> dict[str, str]:
    return {"Authorization": f"Bearer {issue_token(SETTINGS, Principal(sub, role, district))}"}


def number() -> str:
    return f"3303002026{uuid.uuid4().int % 10**6:06d}"


def row(district: str, state: str, valid_until: str, holder: str = HOLDER) -> dict[str, Any]:
    return {
        "number": number(),
        "application_id": str(uuid.uuid4()),
        "holder_subject": holder,
        "plate": "浙C1***5",
        "district": district,
        "state": state,
        "issued_on": "2026-01-10",
        "valid_until": valid_until,
        "next_review_due_on": "2027-01-10",
    }


@pytest.fixture(scope="module")
async def world(database_url: str) -> AsyncIterator[SimpleNamespace]:
    pool = await create_pool(database_url)
    await migrate(pool)
    store = Store(pool)
    district = "330382"
    await pool.execute("DELETE FROM permit_register WHERE district = ANY($1)", [district, "330381"])
    rows = [
        row(district, "valid", "2031-06-01"),
        row(district, "review_due", "2027-03-01", holder="eid-someone-else"),
        row(district, "lapsed", "2030-01-01"),
        row("330381", "valid", "2027-01-01"),
    ]
    for r in rows:
        await store.permit_register.project(1, r)
    yield SimpleNamespace(store=store, rows=rows)
    await pool.close()


@pytest.fixture
async def api(world: SimpleNamespace) -> AsyncIterator[httpx.AsyncClient]:
    app = create_app(SETTINGS)
    app.state.resources = SimpleNamespace(settings=SETTINGS, store=world.store, client=None)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app), base_url="http://api") as http:
        yield http


async def test_a_clerk_lists_the_permits_of_their_district_validity_ending_soonest_first(
    api: httpx.AsyncClient, world: SimpleNamespace
) -> None:
    response = await api.get("/v1/permits", headers=bearer(Role.TRANSPORT_CLERK))
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["total"] == 3
    assert [p["number"] for p in body["items"]] == [world.rows[i]["number"] for i in (1, 2, 0)]
    first = body["items"][0]
    assert first == {
        "number": world.rows[1]["number"],
        "plate": "浙C1***5",
        "district": "330382",
        "state": "review_due",
        "issued_on": "2026-01-10",
        "valid_until": "2027-03-01",
        "next_review_due_on": "2027-01-10",
        "regulator_pending": False,
        "exit": None,
    }
    # another district is not theirs, whatever they ask
    assert (await api.get("/v1/permits", headers=bearer(Role.TRANSPORT_CLERK), params={"district": "330381"})).json()[
        "total"
    ] == 0


async def test_the_filters_state_expiring_before_and_paging(api: httpx.AsyncClient, world: SimpleNamespace) -> None:
    city = bearer(Role.SUPERVISOR, "330300")
    params: dict[str, Any] = {"state": "valid", "district": "330382"}
    body = (await api.get("/v1/permits", headers=city, params=params)).json()
    assert [p["number"] for p in body["items"]] == [world.rows[0]["number"]]
    params = {"expiring_before": "2028-01-01", "page_size": 1, "page": 2}
    body = (await api.get("/v1/permits", headers=city, params=params)).json()
    assert body["total"] >= 2 and len(body["items"]) == 1
    assert all(p["valid_until"] < "2028-01-01" for p in body["items"])


@pytest.mark.parametrize(
    ("params", "field"),
    [({"state": "scrapped"}, "state"), ({"expiring_before": "2027-13-01"}, "expiring_before"), ({"page": 0}, "page")],
)
async def test_a_bad_filter_is_a_422_naming_it(api: httpx.AsyncClient, params: dict[str, Any], field: str) -> None:
    response = await api.get("/v1/permits", headers=bearer(Role.TRANSPORT_CLERK), params=params)
    assert response.status_code == 422
    assert field in response.text


async def test_applicants_and_operators_may_not_list_the_register(api: httpx.AsyncClient) -> None:
    assert (await api.get("/v1/permits", headers=bearer(Role.APPLICANT, None, HOLDER))).status_code == 403
    assert (await api.get("/v1/permits", headers=bearer(Role.OPERATOR))).status_code == 403
    assert (await api.get("/v1/permits")).status_code == 401


async def test_a_permit_is_read_by_its_holder_and_the_staff_of_its_district_only(
    api: httpx.AsyncClient, world: SimpleNamespace
) -> None:
    mine, theirs = world.rows[0]["number"], world.rows[1]["number"]
    holder = bearer(Role.APPLICANT, None, HOLDER)
    response = await api.get(f"/v1/permits/{mine}", headers=holder)
    assert response.status_code == 200 and response.json()["state"] == "valid"
    assert "holder_subject" not in response.json()
    assert (await api.get(f"/v1/permits/{theirs}", headers=holder)).status_code == 404
    assert (await api.get(f"/v1/permits/{theirs}", headers=bearer(Role.TRANSPORT_CLERK))).status_code == 200
    other_district = bearer(Role.TRANSPORT_CLERK, "330381")
    assert (await api.get(f"/v1/permits/{theirs}", headers=other_district)).status_code == 404
    assert (await api.get("/v1/permits/3303002026999999", headers=holder)).status_code == 404
    assert (await api.get("/v1/permits/not-a-number", headers=holder)).status_code == 422
    assert (await api.get(f"/v1/permits/{mine}", headers=bearer(Role.OPERATOR))).status_code == 403
