"""A closed application stays closed: its workflow id never starts again, and a department's late
report for it is taken (202) without being an error."""

from __future__ import annotations

import asyncio
import json
import time
import uuid

from temporalio.client import WorkflowExecutionStatus

from domain.signing import sign
from drills.people import new_citizen, new_vehicle
from tests.support_stack import Stack, submit


async def test_a_closed_applications_id_never_starts_again(stack: Stack) -> None:
    owner = new_citizen()
    vehicle = await stack.sandbox.add_vehicle(**new_vehicle(owner))
    applicant = await stack.applicant(**owner)
    created, body = await submit(stack, applicant, vehicle, key="closed-once")
    assert created.status_code == 201, created.text
    app_id = created.json()["application_id"]
    withdrawn = await stack.api.post(
        f"/v1/applications/{app_id}/withdraw", headers=applicant, json={"reason": "不办了"}
    )
    assert withdrawn.status_code == 200, withdrawn.text
    row = await stack.store.applications.get(app_id)
    assert row is not None
    handle = stack.temporal.get_workflow_handle(row.workflow_id)
    await asyncio.wait_for(handle.result(), 30)
    ended = await handle.describe()
    # As if the API had crashed between starting the workflow and noting it: the row still holds a start input.
    await stack.store.pool.execute(
        "UPDATE applications SET start_input = $1 WHERE application_id = $2",
        {"application_id": app_id},
        uuid.UUID(app_id),
    )

    again = await stack.api.post("/v1/applications", json=body, headers={**applicant, "Idempotency-Key": "closed-once"})

    assert again.status_code == 200, again.text
    assert again.json()["application_id"] == app_id
    now = await handle.describe()
    assert (now.run_id, now.status) == (ended.run_id, WorkflowExecutionStatus.COMPLETED)
    runs = [run async for run in stack.temporal.list_workflows(f"WorkflowId = '{row.workflow_id}'")]
    assert [run.run_id for run in runs] == [ended.run_id]
    after = await stack.store.applications.get(app_id)
    assert after is not None and after.start_input is None


async def test_a_report_for_an_ended_workflow_is_taken_and_not_forwarded(stack: Stack) -> None:
    owner = new_citizen()
    vehicle = await stack.sandbox.add_vehicle(**new_vehicle(owner))
    applicant = await stack.applicant(**owner)
    created, _ = await submit(stack, applicant, vehicle)
    app_id = created.json()["application_id"]
    await stack.api.post(f"/v1/applications/{app_id}/withdraw", headers=applicant, json={"reason": "不办了"})
    row = await stack.store.applications.get(app_id)
    assert row is not None
    await asyncio.wait_for(stack.temporal.get_workflow_handle(row.workflow_id).result(), 30)
    body = json.dumps({"reference": app_id, "job_id": "VA-LATE", "status": "reverted"}).encode()
    signature = sign("tests-only-callback-secret-vehicle-admin", body, int(time.time()))

    late = await stack.api.post("/v1/callbacks/vehicle-admin", content=body, headers={"X-Signature": signature})

    assert late.status_code == 202 and late.json() == {"accepted": True, "forwarded": False}
