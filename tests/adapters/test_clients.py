"""Each department client against the real sandbox over HTTP: the happy paths."""

import asyncio
from collections.abc import AsyncIterator
from datetime import timedelta
from typing import Any

import pytest

from adapters import Departments
from adapters.models import Identity
from sandbox.clock import today
from tests.support_sandbox import OWNER, VEHICLE, SandboxUnderTest
from workflows.types import InspectionReport, NevRange, UsageChangeJob, VehicleRecord

VIN = VEHICLE["vin"]
PLATE = VEHICLE["plate"]


@pytest.fixture
async def departments(sandbox: SandboxUnderTest) -> AsyncIterator[Departments]:
    async with Departments.http(sandbox.base_url) as departments:
        yield departments


async def request_change(departments: Departments, key: str = "change-1") -> UsageChangeJob:
    return await departments.vehicle_admin.request_usage_change(
        vin=VIN,
        plate=PLATE,
        owner_id_number=OWNER["id_number"],
        target_nature="预约出租客运",
        reference="APP-1",
        idempotency_key=key,
    )


async def test_eid_verify(sandbox: SandboxUnderTest, departments: Departments) -> None:
    token = await sandbox.control.issue_qr()

    assert await departments.eid.verify(token) == Identity(**OWNER)


async def test_get_vehicle(sandbox: SandboxUnderTest, departments: Departments) -> None:
    await sandbox.control.add_vehicle(flags=["new_energy"])

    record = await departments.vehicle_admin.get_vehicle(VIN)

    assert record == VehicleRecord(**{**VEHICLE, "flags": ["new_energy"]})


async def test_usage_change_runs_to_completion(sandbox: SandboxUnderTest, departments: Departments) -> None:
    await sandbox.control.add_vehicle()

    job = await request_change(departments)
    again = await request_change(departments)
    async with asyncio.timeout(3):
        done = await departments.vehicle_admin.get_usage_change(job.job_id)
        while done.status != "completed":
            await asyncio.sleep(0.05)
            done = await departments.vehicle_admin.get_usage_change(job.job_id)

    assert again == job
    assert (job.status, job.completed_at, job.driving_license_no) == ("pending", None, None)
    assert (job.vin, job.target_nature, job.reference) == (VIN, "预约出租客运", "APP-1")
    assert done.completed_at and done.driving_license_no
    assert (await departments.vehicle_admin.get_vehicle(VIN)).usage_nature == "预约出租客运"


async def test_tax_records(sandbox: SandboxUnderTest, departments: Departments) -> None:
    await sandbox.control.add_vehicle()

    invoice = await departments.tax.get_invoice(VIN)
    tax = await departments.tax.get_purchase_tax(VIN)

    assert invoice.vin == tax.vin == VIN
    assert isinstance(invoice.amount_yuan, float) and invoice.amount_yuan > 0
    assert invoice.issued_on < tax.paid_on < VEHICLE["registered_on"]


async def test_inspection_report(sandbox: SandboxUnderTest, departments: Departments) -> None:
    await sandbox.control.add_vehicle(inspection={"passed": True, "valid_until": "2027-06-30"})

    report = await departments.inspection.get_report(VIN)

    assert report == InspectionReport(report_no=report.report_no, vin=VIN, passed=True, valid_until="2027-06-30")


async def test_no_policy_yet(departments: Departments) -> None:
    assert await departments.insurance.find_policy(vin=VIN, plate=PLATE) is None


async def test_policy_found_is_the_latest_valid_one(sandbox: SandboxUnderTest, departments: Departments) -> None:
    day = timedelta(days=1)
    await sandbox.control.buy_policy()
    latest = await sandbox.control.buy_policy()
    await sandbox.control.buy_policy(valid_from=(today() + day).isoformat())
    await sandbox.control.buy_policy(
        valid_from=(today() - 400 * day).isoformat(), valid_until=(today() - day).isoformat()
    )
    await sandbox.control.buy_policy(vin="LSVAU2180N2183295")

    policy = await departments.insurance.find_policy(vin=VIN, plate=PLATE)

    assert policy is not None
    assert policy.policy_no == latest["policy_no"]
    assert policy.kind == "carrier_liability"


async def test_expired_policy_is_not_found(sandbox: SandboxUnderTest, departments: Departments) -> None:
    yesterday = (today() - timedelta(days=1)).isoformat()
    await sandbox.control.buy_policy(valid_from="2025-01-01", valid_until=yesterday)

    assert await departments.insurance.find_policy(vin=VIN, plate=PLATE) is None


async def test_nev_range(departments: Departments) -> None:
    assert await departments.miit.get_nev_range("比亚迪秦PLUS DM-i") == NevRange(
        model="比亚迪秦PLUS DM-i", range_km=120
    )


async def test_shipment_is_created_once_and_delivered(departments: Departments) -> None:
    parcel: dict[str, Any] = {
        "reference": "APP-1",
        "recipient": OWNER["name"],
        "phone": OWNER["phone"],
        "address": "浙江省温州市鹿城区某路1号",
        "contents": "网约车运输证、机动车行驶证、机动车登记证书",
        "idempotency_key": "ship-1",
    }

    shipment = await departments.courier.create_shipment(**parcel)
    again = await departments.courier.create_shipment(**parcel)
    await asyncio.sleep(0.3)
    delivered = await departments.courier.get_shipment(shipment.tracking_number)

    assert again == shipment
    assert (shipment.status, shipment.delivered_at) == ("in_transit", None)
    assert shipment.created_at
    assert delivered.status == "delivered" and delivered.delivered_at


async def test_sms_is_sent_once_per_key(sandbox: SandboxUnderTest, departments: Departments) -> None:
    first = await departments.sms.send(phone=OWNER["phone"], text="已受理", idempotency_key="s-1")
    again = await departments.sms.send(phone=OWNER["phone"], text="已受理", idempotency_key="s-1")

    messages = await sandbox.control.sms(OWNER["phone"])

    assert first == again
    assert [(message["message_id"], message["text"]) for message in messages] == [(first, "已受理")]


async def test_departments_close_their_shared_client(sandbox: SandboxUnderTest) -> None:
    departments = Departments.http(sandbox.base_url)

    await departments.aclose()

    with pytest.raises(RuntimeError):
        await departments.miit.get_nev_range("奇瑞小蚂蚁")
