"""Where a department's report goes: to the application's workflow while it runs, closed or not
(a closed application's compensation waits for the vehicle administration and the courier)."""

from __future__ import annotations

import json
import time
import uuid
from types import SimpleNamespace
from typing import Any

import pytest
from temporalio.service import RPCError, RPCStatusCode

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
    """Resources over `row` (the only application) and a workflow `handle`; and the receipts they keep."""
    receipts: set[str] = set()

    async def remember(source: str, receipt: str) -> bool:
        receipts.add(receipt)
        return True

    async def forget(receipt: str) -> None:
        receipts.discard(receipt)

    async def get(application_id: str) -> ApplicationRow | None:
        return row if row is not None and row.application_id == application_id else None

    store = SimpleNamespace(
        callback_receipts=SimpleNamespace(remember=remember, forget=forget),
        applications=SimpleNamespace(get=get),
    )
    client = SimpleNamespace(get_workflow_handle=lambda workflow_id: handle)
    return SimpleNamespace(settings=SETTINGS, store=store, client=client), receipts


def application(status: str) -> ApplicationRow:
    app_id = str(uuid.uuid4())
    return ApplicationRow(app_id, f"permit-{app_id}", "eid-1", "330382", status, view_of(app_id), None)


async def report(source: callbacks.Source, resources: Any, data: dict[str, Any]) -> bool:
    body = json.dumps(data).encode()
    signature = sign(SETTINGS.callback_secret(source) or "", body, int(time.time()))
    return await callbacks.receive(resources, source, body, signature)


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
