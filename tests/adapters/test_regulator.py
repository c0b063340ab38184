"""The regulatory platform's client against the sandbox over real HTTP: signed, idempotent, failures mapped."""

from collections.abc import AsyncIterator
from dataclasses import asdict, replace
from typing import Any

import pytest
from temporalio.exceptions import ApplicationError

from adapters import Departments
from adapters.regulator import HttpRegulatorClient
from domain import errors
from tests.support_sandbox import VEHICLE, SandboxUnderTest
from workflows.permit_lifecycle_types import regulator_record
from workflows.permit_types import RegulatorStateChange, RegulatorVehicleRecord

RECORD = RegulatorVehicleRecord(
    permit_number="浙C网约2026000001",
    administrative_area="330302",
    plate=VEHICLE["plate"],
    plate_colour="渐变绿色",
    seats=5,
    brand="比亚迪",
    model="比亚迪海豚",
    vehicle_type="小型轿车",
    owner=VEHICLE["owner_name"],
    vin=VEHICLE["vin"],
    registered_on="2025-06-01",
    fuel="bev",
    issuing_authority="温州市道路运输管理局",
    operating_area="温州市",
    valid_from="2026-11-28",
    valid_until="2033-06-01",
    annual_review="qualified",
    state="valid",
)
CANCELLED = RegulatorStateChange(permit_number=RECORD.permit_number, state="invalid", reason="运输证注销")


@pytest.fixture
async def regulator(sandbox: SandboxUnderTest) -> AsyncIterator[HttpRegulatorClient]:
    client = HttpRegulatorClient.connect(sandbox.base_url, sandbox.settings.regulator_secret)
    yield client
    await client.aclose()


async def held(sandbox: SandboxUnderTest) -> list[dict[str, Any]]:
    records: list[dict[str, Any]] = (await sandbox.client.get("/sandbox/regulator/records")).json()["records"]
    return records


async def test_the_record_arrives_whole_and_once(sandbox: SandboxUnderTest, regulator: HttpRegulatorClient) -> None:
    await regulator.put_vehicle(RECORD)
    await regulator.put_vehicle(RECORD)  # a retry after a lost answer

    [kept] = await held(sandbox)
    assert {key: kept[key] for key in asdict(RECORD)} == asdict(RECORD)
    assert kept["version"] == 1


async def test_the_state_change_arrives_once(sandbox: SandboxUnderTest, regulator: HttpRegulatorClient) -> None:
    await regulator.put_vehicle(RECORD)

    await regulator.put_state(CANCELLED)
    await regulator.put_state(CANCELLED)

    [kept] = await held(sandbox)
    assert (kept["state"], kept["reason"], kept["version"]) == ("invalid", "运输证注销", 2)


async def test_a_changed_record_is_sent_again(sandbox: SandboxUnderTest, regulator: HttpRegulatorClient) -> None:
    await regulator.put_vehicle(RECORD)

    await regulator.put_vehicle(replace(RECORD, annual_review="due"))

    [kept] = await held(sandbox)
    assert (kept["annual_review"], kept["version"]) == ("due", 2)


async def test_another_secret_is_a_permanent_refusal(sandbox: SandboxUnderTest) -> None:
    client = HttpRegulatorClient.connect(sandbox.base_url, "not-the-shared-secret")
    try:
        with pytest.raises(ApplicationError) as refused:
            await client.put_vehicle(RECORD)
    finally:
        await client.aclose()

    assert (refused.value.type, refused.value.non_retryable) == (errors.DEPARTMENT_REJECTED_REQUEST, True)
    assert "invalid_signature" in str(refused.value)
    assert await held(sandbox) == []


async def test_the_state_of_an_unreported_record_is_a_permanent_refusal(regulator: HttpRegulatorClient) -> None:
    with pytest.raises(ApplicationError) as refused:
        await regulator.put_state(CANCELLED)

    assert (refused.value.type, refused.value.non_retryable) == (errors.DEPARTMENT_REJECTED_REQUEST, True)
    assert "record_unknown" in str(refused.value)


async def test_an_unavailable_platform_is_retryable_and_names_no_personal_data(
    sandbox: SandboxUnderTest, regulator: HttpRegulatorClient
) -> None:
    await sandbox.control.set_fault("regulator", error_rate=1)

    with pytest.raises(ApplicationError) as failed:
        await regulator.put_vehicle(RECORD)

    assert (failed.value.type, failed.value.non_retryable) == (errors.DEPARTMENT_UNAVAILABLE, False)
    for personal in (RECORD.owner, RECORD.plate, RECORD.vin):
        assert personal not in str(failed.value)


async def test_a_lost_answer_then_a_retry_keeps_one_record(
    sandbox: SandboxUnderTest, regulator: HttpRegulatorClient
) -> None:
    await sandbox.control.set_fault("regulator", drop_rate=1)
    for _ in range(2):  # drops alternate: a lost request, then a lost answer (the platform did its work)
        with pytest.raises(ApplicationError):
            await regulator.put_vehicle(RECORD)
    await sandbox.client.delete("/sandbox/faults")

    await regulator.put_vehicle(RECORD)

    [kept] = await held(sandbox)
    assert kept["version"] == 1


async def test_the_record_the_permit_workflow_builds_is_accepted(
    sandbox: SandboxUnderTest, regulator: HttpRegulatorClient
) -> None:
    await sandbox.control.add_vehicle()
    async with Departments.http(sandbox.base_url) as departments:
        vehicle = await departments.vehicle_admin.get_vehicle(VEHICLE["vin"])
    permit = {"number": RECORD.permit_number, "issued_on": "2026-11-28", "valid_until": "2033-06-01"}

    await regulator.put_vehicle(regulator_record(vehicle, permit))

    [kept] = await held(sandbox)
    assert (kept["permit_number"], kept["vin"], kept["state"]) == (RECORD.permit_number, VEHICLE["vin"], "valid")
