"""Incidents over HTTP without a stack: who may list and resolve, what a bad request names, the
refusals of the update as 409s in the audit trail, and the metric of open incidents."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from types import SimpleNamespace
from typing import Any

import httpx
import pytest
from temporalio.client import WorkflowUpdateFailedError
from temporalio.exceptions import ApplicationError

from api.app import create_app
from api.auth import Principal, Role, issue_token
from domain import errors
from domain.districts import DISTRICTS
from store.applications import ApplicationRow
from store.incidents import Incident, IncidentQuery
from tests.support_settings import settings_for_tests
from tests.support_views import view_of

SETTINGS = settings_for_tests()
APP_ID = "5f0c7a36-54a4-4bb2-9d0e-0f4c1c9a2c11"
INCIDENT = Incident(
    application_id=APP_ID,
    incident_id="inc-1",
    district="330382",
    step="send_sms",
    department="sms",
    answer="rejected_request: 422 text too long",
    opened_at=datetime(2026, 9, 26, 2, tzinfo=UTC),
    resolved_at=None,
    resolution=None,
)


class FakeStore:
    def __init__(self) -> None:
        self.queries: list[IncidentQuery] = []
        self.audited: list[dict[str, Any]] = []
        self.open_counts: dict[str, int] = {"sms": 2}
        row = ApplicationRow(APP_ID, f"permit-{APP_ID}", "eid-1", "330382", "submitted", view_of(APP_ID), None)
        self.applications = SimpleNamespace(get=self._get(row))
        self.incidents = SimpleNamespace(list=self._list, open_by_department=self._open_by_department)
        self.audit = SimpleNamespace(record=self._record)

    @staticmethod
    def _get(row: ApplicationRow) -> Any:
        async def get(application_id: str) -> ApplicationRow | None:
            return row if application_id == row.application_id else None

        return get

    async def _list(self, query: IncidentQuery) -> tuple[list[Incident], int]:
        self.queries.append(query)
        return [INCIDENT], 1

    async def _open_by_department(self) -> dict[str, int]:
        return self.open_counts

    async def _record(self, **entry: Any) -> None:
        self.audited.append(entry)


class RefusingHandle:
    """A workflow whose update validator refuses with `error`."""

    def __init__(self, error: str) -> None:
        self.error = error
        self.updates: list[tuple[Any, tuple[Any, ...]]] = []

    async def execute_update(self, update: Any, *args: Any, rpc_timeout: Any = None) -> Any:
        self.updates.append((update, args))
        raise WorkflowUpdateFailedError(ApplicationError("refused", type=self.error, non_retryable=True))


@pytest.fixture
def store() -> FakeStore:
    return FakeStore()


@pytest.fixture
def handle() -> RefusingHandle:
    return RefusingHandle(errors.INCIDENT_NOT_OPEN)


@pytest.fixture
async def api(store: FakeStore, handle: RefusingHandle) -> AsyncIterator[httpx.AsyncClient]:
    """The app without its lifespan, over a fake store and a workflow client that refuses."""
    app = create_app(SETTINGS)
    client = SimpleNamespace(get_workflow_handle=lambda workflow_id: handle)
    app.state.resources = SimpleNamespace(settings=SETTINGS, store=store, client=client)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app), base_url="http://api") as http:
        yield http


def bearer(role: Role, district: str | None = "330382", sub: str = "staff-1") -> dict[str, str]:
    return {"Authorization": f"Bearer {issue_token(SETTINGS, Principal(sub, role, district))}"}


SUPERVISOR = bearer(Role.SUPERVISOR)
RESOLUTION = f"/v1/applications/{APP_ID}/incidents/inc-1/resolution"


async def test_a_supervisor_lists_the_incidents_of_their_district(api: httpx.AsyncClient, store: FakeStore) -> None:
    response = await api.get("/v1/incidents", headers=SUPERVISOR, params={"open": "false", "page_size": 5})
    assert response.status_code == 200, response.text
    assert response.json() == {
        "items": [
            {
                "application_id": APP_ID,
                "incident_id": "inc-1",
                "district": "330382",
                "step": "send_sms",
                "department": "sms",
                "answer": "rejected_request: 422 text too long",
                "opened_at": "2026-09-26T02:00:00Z",
                "resolved_at": None,
                "resolution": None,
            }
        ],
        "total": 1,
        "page": 1,
        "page_size": 5,
    }
    assert store.queries == [IncidentQuery(districts=["330382"], open_only=False, page=1, page_size=5)]


@pytest.mark.parametrize(
    ("principal", "district", "visible"),
    [
        (Principal("s", Role.SUPERVISOR, "330382"), "330381", []),
        (Principal("s", Role.SUPERVISOR, "330300"), None, list(DISTRICTS)),
        (Principal("s", Role.SUPERVISOR, "330300"), "330302", ["330302"]),
    ],
)
async def test_the_list_is_scoped_like_the_inbox(
    api: httpx.AsyncClient, store: FakeStore, principal: Principal, district: str | None, visible: list[str]
) -> None:
    headers = bearer(principal.role, principal.district)
    params = {"district": district} if district else {}
    assert (await api.get("/v1/incidents", headers=headers, params=params)).status_code == 200
    assert [q.districts for q in store.queries] == [visible] and store.queries[0].open_only


async def test_incidents_are_for_supervisors(api: httpx.AsyncClient, store: FakeStore) -> None:
    for role in (Role.TRANSPORT_CLERK, Role.OPERATOR):
        assert (await api.get("/v1/incidents", headers=bearer(role))).status_code == 403
        body = {"action": "retry", "reason": "部门已修复"}
        assert (await api.post(RESOLUTION, headers=bearer(role), json=body)).status_code == 403
    assert (await api.get("/v1/incidents", headers=bearer(Role.APPLICANT, None))).status_code == 403
    assert store.queries == [] and store.audited == []


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"action": "retry"}, "reason"),
        ({"action": "retry", "reason": "   "}, "reason"),
        ({"action": "ignore", "reason": "x"}, "action"),
        ({"action": "retry", "reason": "x", "extra": 1}, "extra"),
    ],
)
async def test_a_bad_resolution_names_its_field(api: httpx.AsyncClient, body: dict[str, Any], field: str) -> None:
    response = await api.post(RESOLUTION, headers=SUPERVISOR, json=body)
    assert response.status_code == 422
    assert [f["loc"] for f in response.json()["fields"]] == [["body", field]]


async def test_a_bad_incident_id_is_named(api: httpx.AsyncClient) -> None:
    path = f"/v1/applications/{APP_ID}/incidents/{'x' * 101}/resolution"
    response = await api.post(path, headers=SUPERVISOR, json={"action": "retry", "reason": "x"})
    assert response.status_code == 422 and response.json()["fields"][0]["loc"] == ["path", "incident_id"]


async def test_another_districts_application_is_not_found(api: httpx.AsyncClient, handle: RefusingHandle) -> None:
    elsewhere = bearer(Role.SUPERVISOR, "330381")
    response = await api.post(RESOLUTION, headers=elsewhere, json={"action": "close", "reason": "x"})
    assert response.status_code == 404 and handle.updates == []


@pytest.mark.parametrize("error", [errors.INCIDENT_NOT_OPEN, errors.RESOLUTION_NOT_POSSIBLE])
async def test_a_refused_resolution_is_a_409_in_the_audit_trail(
    api: httpx.AsyncClient, store: FakeStore, handle: RefusingHandle, error: str
) -> None:
    handle.error = error
    response = await api.post(RESOLUTION, headers=SUPERVISOR, json={"action": "skip", "reason": "短信网关拒收"})
    assert response.status_code == 409 and response.json()["error"] == error
    ((_, (resolution,)),) = handle.updates
    assert (resolution.incident_id, resolution.action, resolution.actor, resolution.reason) == (
        "inc-1",
        "skip",
        "supervisor",
        "短信网关拒收",
    )
    (entry,) = store.audited
    assert (entry["action"], entry["target"], entry["outcome"], entry["role"]) == (
        "incident.skip",
        APP_ID,
        f"refused:{error}",
        "supervisor",
    )
    assert entry["detail"] == {"incident_id": "inc-1", "reason": "短信网关拒收"}


def gauge(metrics: str, department: str) -> float:
    match = re.search(rf'^permit_incidents_open\{{department="{department}"\}} (\S+)$', metrics, re.MULTILINE)
    assert match, f"no series for {department}"
    return float(match.group(1))


async def test_metrics_count_open_incidents_per_department(api: httpx.AsyncClient, store: FakeStore) -> None:
    first = (await api.get("/metrics")).text
    assert (gauge(first, "sms"), gauge(first, "vehicle_admin")) == (2, 0)
    store.open_counts = {"vehicle_admin": 1}
    second = (await api.get("/metrics")).text
    assert (gauge(second, "sms"), gauge(second, "vehicle_admin")) == (0, 1)
