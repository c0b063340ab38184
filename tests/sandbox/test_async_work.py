"""Usage changes and courier shipments: delayed completion, signed callbacks, idempotency."""

import asyncio
import json
import time
from typing import Any

import httpx
import pytest

from domain.signing import verify
from sandbox.settings import CallbackSource, SandboxSettings
from tests.support_sandbox import (
    OWNER,
    SHIPMENT,
    USAGE_CHANGE,
    VEHICLE,
    ReceivedCallback,
    SandboxUnderTest,
    running_sandbox,
)


def verified_body(sandbox: SandboxUnderTest, callback: ReceivedCallback) -> Any:
    """The callback's JSON body, after checking its signature with the source's secret."""
    source: CallbackSource = callback.source  # type: ignore[assignment]
    secret = sandbox.settings.callback_secret(source)
    verify(secret, callback.body, callback.signature, now=int(time.time()))
    assert callback.content_type == "application/json"
    return json.loads(callback.body)


async def finished(client: httpx.AsyncClient, job_id: str) -> dict[str, Any]:
    """The usage change once the vehicle administration has finished it, asked every 20 ms for 5 s."""
    for _ in range(250):
        job: dict[str, Any] = (await client.get(f"/vehicle-admin/v1/usage-changes/{job_id}")).json()
        if job["status"] != "pending":
            return job
        await asyncio.sleep(0.02)
    raise AssertionError(f"usage change {job_id} still pending after 5 s")


async def test_usage_change_completes_and_calls_back_signed(sandbox: SandboxUnderTest) -> None:
    await sandbox.control.add_vehicle()

    accepted = await sandbox.client.post("/vehicle-admin/v1/usage-changes", json=USAGE_CHANGE)
    job = accepted.json()
    pending = (await sandbox.client.get(f"/vehicle-admin/v1/usage-changes/{job['job_id']}")).json()
    callback = await sandbox.inbox.next()

    assert accepted.status_code == 202
    assert job["status"] == pending["status"] == "pending"
    assert callback.source == "vehicle-admin"
    body = verified_body(sandbox, callback)
    assert body == {
        "job_id": job["job_id"],
        "reference": "APP-1",
        "vin": VEHICLE["vin"],
        "status": "completed",
        "target_nature": "预约出租客运",
        "completed_at": body["completed_at"],
        "driving_license_no": body["driving_license_no"],
    }
    assert body["completed_at"] and body["driving_license_no"]
    done = (await sandbox.client.get(f"/vehicle-admin/v1/usage-changes/{job['job_id']}")).json()
    assert done == {**job, **body}
    vehicle = (await sandbox.client.get(f"/vehicle-admin/v1/vehicles/{VEHICLE['vin']}")).json()
    assert vehicle["usage_nature"] == "预约出租客运"


async def test_usage_change_with_the_same_key_is_one_job(sandbox: SandboxUnderTest) -> None:
    await sandbox.control.add_vehicle()
    headers = {"Idempotency-Key": "change-1"}

    first = await sandbox.client.post("/vehicle-admin/v1/usage-changes", json=USAGE_CHANGE, headers=headers)
    second = await sandbox.client.post("/vehicle-admin/v1/usage-changes", json=USAGE_CHANGE, headers=headers)
    callback = await sandbox.inbox.next()

    assert second.status_code == first.status_code == 202
    assert second.json() == first.json()
    assert json.loads(callback.body)["job_id"] == first.json()["job_id"]
    jobs = (await sandbox.control.records())["usage_changes"]
    assert [job["job_id"] for job in jobs] == [first.json()["job_id"]]


async def test_usage_changes_without_a_key_are_distinct(sandbox: SandboxUnderTest) -> None:
    await sandbox.control.add_vehicle()

    first = await sandbox.client.post("/vehicle-admin/v1/usage-changes", json=USAGE_CHANGE)
    second = await sandbox.client.post("/vehicle-admin/v1/usage-changes", json=USAGE_CHANGE)

    assert first.json()["job_id"] != second.json()["job_id"]


@pytest.mark.parametrize(
    ("vehicle", "change", "status", "error"),
    [
        (None, {}, 404, "vehicle_unknown"),
        ({}, {"owner_id_number": "330302199202022222"}, 409, "owner_mismatch"),
        ({}, {"plate": "浙C99999"}, 409, "plate_mismatch"),
        ({"flags": ["mortgaged", "new_energy", "seized"]}, {}, 409, "blocking_flag"),
    ],
)
async def test_usage_change_refusals(
    sandbox: SandboxUnderTest,
    vehicle: dict[str, Any] | None,
    change: dict[str, Any],
    status: int,
    error: str,
) -> None:
    if vehicle is not None:
        await sandbox.control.add_vehicle(**vehicle)

    response = await sandbox.client.post("/vehicle-admin/v1/usage-changes", json={**USAGE_CHANGE, **change})

    assert response.status_code == status
    assert response.json()["error"] == error
    if error == "blocking_flag":
        assert response.json()["flags"] == ["mortgaged", "seized"]


async def test_reversal_to_private_use_is_never_blocked(sandbox: SandboxUnderTest) -> None:
    await sandbox.control.add_vehicle(usage_nature="预约出租客运", flags=["unpaid_violations"])

    response = await sandbox.client.post(
        "/vehicle-admin/v1/usage-changes", json={**USAGE_CHANGE, "target_nature": "非营运"}
    )

    assert response.status_code == 202


async def test_unknown_usage_change(sandbox: SandboxUnderTest) -> None:
    response = await sandbox.client.get("/vehicle-admin/v1/usage-changes/UC0")

    assert response.status_code == 404


async def test_shipment_is_delivered_and_calls_back(sandbox: SandboxUnderTest) -> None:
    created = await sandbox.client.post("/courier/v1/shipments", json=SHIPMENT)
    shipment = created.json()
    callback = await sandbox.inbox.next()

    assert created.status_code == 201
    assert shipment["status"] == "in_transit" and shipment["created_at"]
    assert callback.source == "courier"
    body = verified_body(sandbox, callback)
    assert body == {
        "tracking_number": shipment["tracking_number"],
        "reference": "APP-1",
        "status": "delivered",
        "delivered_at": body["delivered_at"],
    }
    tracked = await sandbox.client.get(f"/courier/v1/shipments/{shipment['tracking_number']}")
    assert tracked.json() == {**shipment, **body}


async def test_shipment_with_the_same_key_is_one_shipment(sandbox: SandboxUnderTest) -> None:
    headers = {"Idempotency-Key": "ship-1"}

    first = await sandbox.client.post("/courier/v1/shipments", json=SHIPMENT, headers=headers)
    second = await sandbox.client.post("/courier/v1/shipments", json=SHIPMENT, headers=headers)
    callback = await sandbox.inbox.next()

    assert second.status_code == 201
    assert second.json() == first.json()
    assert json.loads(callback.body)["tracking_number"] == first.json()["tracking_number"]
    shipments = (await sandbox.control.records())["shipments"]
    assert [shipment["tracking_number"] for shipment in shipments] == [first.json()["tracking_number"]]


async def test_sms_with_the_same_key_is_sent_once(sandbox: SandboxUnderTest) -> None:
    message = {"phone": OWNER["phone"], "text": "受理通知"}
    headers = {"Idempotency-Key": "sms-1"}

    first = await sandbox.client.post("/sms/v1/messages", json=message, headers=headers)
    second = await sandbox.client.post("/sms/v1/messages", json=message, headers=headers)

    assert second.json() == first.json()
    assert len(await sandbox.control.sms(OWNER["phone"])) == 1


async def test_idempotency_keys_are_per_service(sandbox: SandboxUnderTest) -> None:
    headers = {"Idempotency-Key": "shared"}

    sms = await sandbox.client.post("/sms/v1/messages", json={"phone": OWNER["phone"], "text": "x"}, headers=headers)
    shipment = await sandbox.client.post("/courier/v1/shipments", json=SHIPMENT, headers=headers)

    assert "message_id" in sms.json()
    assert "tracking_number" in shipment.json()


async def test_a_refused_request_is_not_replayed(sandbox: SandboxUnderTest) -> None:
    headers = {"Idempotency-Key": "retry-after-fix"}

    refused = await sandbox.client.post("/vehicle-admin/v1/usage-changes", json=USAGE_CHANGE, headers=headers)
    await sandbox.control.add_vehicle()
    accepted = await sandbox.client.post("/vehicle-admin/v1/usage-changes", json=USAGE_CHANGE, headers=headers)

    assert (refused.status_code, accepted.status_code) == (404, 202)


async def test_policy_purchase_calls_back_signed(sandbox: SandboxUnderTest) -> None:
    policy = await sandbox.control.buy_policy()

    callback = await sandbox.inbox.next()

    assert callback.source == "insurance"
    assert verified_body(sandbox, callback) == policy


async def test_failed_callbacks_are_retried(sandbox: SandboxUnderTest) -> None:
    sandbox.inbox.fail_first = 2

    policy = await sandbox.control.buy_policy()

    assert verified_body(sandbox, await sandbox.inbox.next()) == policy


async def test_unreachable_callback_receiver_does_not_break_the_sandbox() -> None:
    settings = SandboxSettings(
        state_file=None,
        callback_base_url="http://127.0.0.1:9",
        vehicle_admin_delay_s=0,
        callback_attempts=2,
        callback_backoff_s=0,
    )
    async with (
        running_sandbox(settings) as base_url,
        httpx.AsyncClient(base_url=base_url) as client,
    ):
        await client.post("/sandbox/vehicles", json=VEHICLE)
        job = (await client.post("/vehicle-admin/v1/usage-changes", json=USAGE_CHANGE)).json()
        done = await finished(client, job["job_id"])
        vehicle = await client.get(f"/vehicle-admin/v1/vehicles/{VEHICLE['vin']}")

    assert done["status"] == "completed"
    assert vehicle.json()["usage_nature"] == "预约出租客运"
