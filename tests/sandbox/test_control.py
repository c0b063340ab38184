"""Reset, records and persistence of the sandbox."""

import asyncio
import json
from pathlib import Path

import httpx

from sandbox.settings import SandboxSettings
from tests.support_sandbox import (
    OWNER,
    SHIPMENT,
    USAGE_CHANGE,
    VEHICLE,
    SandboxControl,
    SandboxUnderTest,
    running_sandbox,
    running_sandbox_with_inbox,
)

VIN = VEHICLE["vin"]


async def test_reset_forgets_everything(sandbox: SandboxUnderTest) -> None:
    await sandbox.control.add_vehicle()
    await sandbox.control.set_fault("tax", error_rate=1.0)
    await sandbox.client.post("/sms/v1/messages", json={"phone": OWNER["phone"], "text": "x"})

    reset = await sandbox.client.post("/sandbox/reset")

    assert reset.status_code == 204
    assert (await sandbox.client.get(f"/vehicle-admin/v1/vehicles/{VIN}")).status_code == 404
    assert (await sandbox.client.get("/sandbox/faults")).json() == {"faults": {}}
    assert await sandbox.control.sms(OWNER["phone"]) == []


async def test_reset_cancels_pending_work() -> None:
    # The shipment after the reset is due 0.2 s after the usage change before it: had the
    # reset not cancelled the change, its callback would arrive first.
    async with running_sandbox_with_inbox(vehicle_admin_delay_s=0.2, courier_delay_s=0.4) as sandbox:
        await sandbox.control.add_vehicle()
        cancelled = await sandbox.client.post("/vehicle-admin/v1/usage-changes", json=USAGE_CHANGE)

        await sandbox.control.reset()
        shipped = await sandbox.client.post("/courier/v1/shipments", json=SHIPMENT)
        callback = await sandbox.inbox.next()
        records = await sandbox.control.records()

    assert cancelled.status_code == 202 and shipped.status_code == 201
    assert callback.source == "courier"
    assert json.loads(callback.body)["tracking_number"] == shipped.json()["tracking_number"]
    assert sandbox.inbox.empty()
    assert records["usage_changes"] == []


async def test_state_survives_a_restart(tmp_path: Path) -> None:
    settings = SandboxSettings(state_file=tmp_path / "sandbox.json", courier_delay_s=0)
    async with (
        running_sandbox(settings) as base_url,
        httpx.AsyncClient(base_url=base_url) as client,
    ):
        control = SandboxControl(client)
        await control.add_vehicle()
        policy = await control.buy_policy()
        await client.post("/sms/v1/messages", json={"phone": OWNER["phone"], "text": "x"})
        await control.set_fault("miit", latency_ms=1)

    async with (
        running_sandbox(settings) as base_url,
        httpx.AsyncClient(base_url=base_url) as client,
    ):
        vehicle = await client.get(f"/vehicle-admin/v1/vehicles/{VIN}")
        policies = await client.get("/insurance/v1/policies", params={"vin": VIN, "plate": policy["plate"]})
        messages = await SandboxControl(client).sms(OWNER["phone"])
        faults = (await client.get("/sandbox/faults")).json()

    assert vehicle.status_code == 200
    assert policies.json() == {"policies": [policy]}
    assert len(messages) == 1
    assert faults["faults"]["miit"]["latency_ms"] == 1


async def test_pending_work_completes_after_a_restart(tmp_path: Path) -> None:
    state_file = tmp_path / "sandbox.json"
    headers = {"Idempotency-Key": "ship-1"}
    delays = {"vehicle_admin_delay_s": 0.3, "courier_delay_s": 0.3}
    async with running_sandbox_with_inbox(state_file=state_file, **delays) as sandbox:
        await sandbox.control.add_vehicle()
        job = (await sandbox.client.post("/vehicle-admin/v1/usage-changes", json=USAGE_CHANGE)).json()
        created = await sandbox.client.post("/courier/v1/shipments", json=SHIPMENT, headers=headers)
    await asyncio.sleep(0.3)

    async with running_sandbox_with_inbox(state_file=state_file) as sandbox:
        sources = {(await sandbox.inbox.next()).source for _ in range(2)}
        done = (await sandbox.client.get(f"/vehicle-admin/v1/usage-changes/{job['job_id']}")).json()
        replayed = await sandbox.client.post("/courier/v1/shipments", json=SHIPMENT, headers=headers)

    assert sources == {"vehicle-admin", "courier"}
    assert done["status"] == "completed"
    assert replayed.json() == created.json()


async def test_records_show_what_the_departments_did(sandbox: SandboxUnderTest) -> None:
    await sandbox.client.post(
        "/sms/v1/messages", json={"phone": "13800138000", "text": "已受理"}, headers={"Idempotency-Key": "k1"}
    )
    await sandbox.client.post(
        "/sms/v1/messages", json={"phone": "13800138000", "text": "已受理"}, headers={"Idempotency-Key": "k1"}
    )

    records = (await sandbox.client.get("/sandbox/records")).json()

    assert [m["text"] for m in records["sms"]] == ["已受理"]  # the replayed send is not a second message
    assert records["usage_changes"] == [] and records["shipments"] == []
