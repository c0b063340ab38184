"""Where a department's report goes: to the application's workflow while it runs, closed or not
(a closed application's compensation waits for the vehicle administration and the courier);
and, over HTTP, which signatures are refused (401, never 422 or 500) and audited."""

from __future__ import annotations

import json
import time
import uuid
from types import SimpleNamespace
from typing import Any

import httpx
import pytest
from temporalio.service import RPCError, RPCStatusCode

from api.app import create_app
from api.errors import ApiError
from api.services import callbacks
from domain.signing import sign
from store.applications import ApplicationRow
from tests.support_settings import settings_for_tests
from tests.support_views import view_of

SETTINGS = settings_for_tests()


class Handle:
    def __init__(self, refusal: RPCStatusCode | None) -> None:
        self.refusal = refusal
        self.signals: list[tuple[Any, Any]] = []

    async def signal(self, signal: Any, arg: Any) -> None:
        if self.refusal is not None:
            raise RPCError("workflow execution already completed", self.refusal, b"")
        self.signals.append((signal, arg))


def resources(row: ApplicationRow | None, handle: Handle) -> tuple[Any, set[str]]:
    """Resources over `row` (the only application) and a workflow `handle`; and the receipts they keep.

    What they audit is in `resources.store.audited`.
    """
    receipts: set[str] = set()
    audited: list[dict[str, Any]] = []

    async def remember(source: str, receipt: str) -> bool:
        if receipt in receipts:
            return False
        receipts.add(receipt)
        return True

    async def record(**entry: Any) -> None:
        audited.append(entry)

    async def forget(receipt: str) -> None:
        receipts.discard(receipt)

    async def get(application_id: str) -> ApplicationRow | None:
        return row if row is not None and row.application_id == application_id else None

    store = SimpleNamespace(
        callback_receipts=SimpleNamespace(remember=remember, forget=forget),
        applications=SimpleNamespace(get=get),
        audit=SimpleNamespace(record=record),
        audited=audited,
    )
    client = SimpleNamespace(get_workflow_handle=lambda workflow_id: handle)
    return SimpleNamespace(settings=SETTINGS, store=store, client=client), receipts


def application(status: str) -> ApplicationRow:
    app_id = str(uuid.uuid4())
    return ApplicationRow(app_id, f"permit-{app_id}", "eid-1", "330382", status, view_of(app_id), None)


async def report(source: callbacks.Source, resources: Any, data: dict[str, Any]) -> bool:
    body = json.dumps(data).encode()
    signature = sign(SETTINGS.callback_secret(source) or "", body, int(time.time()))
    return await callbacks.receive(resources, source, body, signature, source_ip="10.0.0.7")


def usage_change_of(row: ApplicationRow) -> dict[str, Any]:
    return {"reference": row.application_id, "job_id": "VA-1", "status": "reverted"}


def delivery_of(row: ApplicationRow) -> dict[str, Any]:
    return {"reference": row.application_id, "tracking_number": "SF1", "status": "returned"}


@pytest.mark.parametrize(
    ("source", "data"), [("vehicle-admin", usage_change_of), ("courier", delivery_of)], ids=["vehicle-admin", "courier"]
)
@pytest.mark.parametrize("status", ["withdrawn", "rejected", "expired", "awaiting_insurance"])
async def test_a_report_reaches_a_running_workflow_closed_or_not(
    source: callbacks.Source, data: Any, status: str
) -> None:
    row, handle = application(status), Handle(None)
    given, _ = resources(row, handle)
    assert await report(source, given, data(row))
    ((_, arg),) = handle.signals
    assert arg.job_id == "VA-1" if source == "vehicle-admin" else arg.tracking_number == "SF1"


async def test_a_report_for_a_closed_application_whose_workflow_ended_is_taken_unforwarded() -> None:
    row = application("withdrawn")
    given, receipts = resources(row, Handle(RPCStatusCode.NOT_FOUND))
    assert not await report("vehicle-admin", given, usage_change_of(row))
    assert len(receipts) == 1  # taken: the same report again is a replay


async def test_an_open_application_whose_workflow_is_not_found_asks_the_department_to_retry() -> None:
    row = application("vehicle_nature_change")
    given, receipts = resources(row, Handle(RPCStatusCode.NOT_FOUND))
    with pytest.raises(ApiError) as refused:
        await report("vehicle-admin", given, usage_change_of(row))
    assert (refused.value.status, refused.value.error) == (503, "temporal_unavailable")
    assert receipts == set()  # forgotten, so the department's retry gets through


async def test_a_report_for_no_known_application_is_not_forwarded() -> None:
    handle = Handle(None)
    given, _ = resources(None, handle)
    assert not await report("courier", given, delivery_of(application("delivering")))
    assert handle.signals == []


@pytest.fixture
def row() -> ApplicationRow:
    return application("delivering")


@pytest.fixture
def given(row: ApplicationRow) -> Any:
    return resources(row, Handle(None))[0]


@pytest.fixture
async def api(given: Any) -> Any:
    """The app without its lifespan, over the fake resources."""
    app = create_app(SETTINGS)
    app.state.resources = given
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app), base_url="http://api") as http:
        yield http


def signed(body: bytes, at: int | None = None) -> dict[str, str]:
    """The courier's signature of `body`, made now or `at`."""
    at = int(time.time()) if at is None else at
    return {"X-Signature": sign(SETTINGS.callback_secret("courier") or "", body, at)}


@pytest.mark.parametrize(
    "headers",
    [
        pytest.param({}, id="missing"),
        pytest.param({"X-Signature": "garbage"}, id="malformed"),
        pytest.param({"X-Signature": f"t={'9' * 5000},v1={'0' * 64}"}, id="thousands-of-digits"),
        pytest.param({"X-Signature": f"t=1,v1={'0' * 64}," + "v1=0," * 400}, id="too-long"),
        pytest.param({"X-Signature": f"t=１２３,v1={'0' * 64}".encode()}, id="not-ascii-digits"),
    ],
)
async def test_a_missing_or_malformed_signature_is_refused_and_audited(
    api: httpx.AsyncClient, given: Any, row: ApplicationRow, headers: dict[str, Any]
) -> None:
    body = json.dumps(delivery_of(row)).encode()
    response = await api.post("/v1/callbacks/courier", content=body, headers=headers)
    assert response.status_code == 401, response.text
    assert response.json()["error"] == "invalid_signature"
    (entry,) = given.store.audited
    assert entry["actor"] == "courier" and entry["role"] == "department"
    assert (entry["action"], entry["outcome"]) == ("callback.receive", "refused:invalid_signature")
    assert entry["source_ip"] == "127.0.0.1"
    assert "SF1" not in json.dumps(entry, ensure_ascii=False)  # never the body


async def test_a_stale_signature_is_refused_and_audited_with_why(
    api: httpx.AsyncClient, given: Any, row: ApplicationRow
) -> None:
    body = json.dumps(delivery_of(row)).encode()
    response = await api.post("/v1/callbacks/courier", content=body, headers=signed(body, int(time.time()) - 3600))
    assert response.status_code == 401
    (entry,) = given.store.audited
    assert entry["outcome"] == "refused:invalid_signature" and "too old" in entry["detail"]["reason"]


async def test_a_replay_is_refused_and_audited(api: httpx.AsyncClient, given: Any, row: ApplicationRow) -> None:
    body = json.dumps(delivery_of(row)).encode()
    headers = signed(body)
    first = await api.post("/v1/callbacks/courier", content=body, headers=headers)
    assert first.status_code == 202 and first.json() == {"accepted": True, "forwarded": True}
    assert given.store.audited == []  # a taken report is the workflow's history, not the audit trail's
    again = await api.post("/v1/callbacks/courier", content=body, headers=headers)
    assert again.status_code == 401 and again.json()["error"] == "replayed"
    (entry,) = given.store.audited
    assert (entry["actor"], entry["outcome"]) == ("courier", "refused:replayed")
