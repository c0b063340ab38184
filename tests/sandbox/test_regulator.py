"""The sandbox's national ride-hailing regulatory platform: its signed API, idempotent PUTs, its faults."""

import json
import time
from typing import Any

import httpx

from domain.signing import sign
from tests.support_sandbox import VEHICLE, SandboxUnderTest

PERMIT = "浙C网约2026000001"
RECORD: dict[str, Any] = {
    "administrative_area": "330302",
    "plate": VEHICLE["plate"],
    "plate_colour": "渐变绿色",
    "seats": 5,
    "brand": "比亚迪",
    "model": "比亚迪海豚",
    "vehicle_type": "小型轿车",
    "owner": VEHICLE["owner_name"],
    "vin": VEHICLE["vin"],
    "registered_on": "2025-06-01",
    "fuel": "bev",
    "permit_number": PERMIT,
    "issuing_authority": "温州市道路运输管理局",
    "operating_area": "温州市",
    "valid_from": "2026-11-28",
    "valid_until": "2033-06-01",
    "annual_review": "qualified",
    "state": "valid",
}
VEHICLE_PATH = f"/regulator/v1/vehicles/{PERMIT}"


async def signed_put(
    sandbox: SandboxUnderTest, path: str, body: dict[str, Any], *, secret: str | None = None, at: int | None = None
) -> httpx.Response:
    content = json.dumps(body, ensure_ascii=False).encode()
    signature = sign(secret or sandbox.settings.regulator_secret, content, at or int(time.time()))
    headers = {"Content-Type": "application/json", "X-Signature": signature}
    return await sandbox.client.put(path, content=content, headers=headers)


async def held(sandbox: SandboxUnderTest) -> list[dict[str, Any]]:
    response = await sandbox.client.get("/sandbox/regulator/records")
    response.raise_for_status()
    records: list[dict[str, Any]] = response.json()["records"]
    return records


async def test_a_record_is_created_then_the_same_body_again_changes_nothing(sandbox: SandboxUnderTest) -> None:
    first = await signed_put(sandbox, VEHICLE_PATH, RECORD)
    [kept] = await held(sandbox)
    again = await signed_put(sandbox, VEHICLE_PATH, RECORD)

    assert (first.status_code, first.json()) == (201, {"permit_number": PERMIT, "state": "valid", "version": 1})
    assert (again.status_code, again.json()) == (200, first.json())
    assert await held(sandbox) == [kept]
    assert {key: kept[key] for key in RECORD} == RECORD


async def test_a_changed_record_replaces_the_kept_one(sandbox: SandboxUnderTest) -> None:
    await signed_put(sandbox, VEHICLE_PATH, RECORD)

    changed = await signed_put(sandbox, VEHICLE_PATH, {**RECORD, "annual_review": "due"})

    assert (changed.status_code, changed.json()["version"]) == (200, 2)
    [kept] = await held(sandbox)
    assert kept["annual_review"] == "due"


async def test_bad_signatures_are_refused_and_change_nothing(sandbox: SandboxUnderTest) -> None:
    content = json.dumps(RECORD).encode()
    good = sign(sandbox.settings.regulator_secret, content, int(time.time()))
    unsigned = await sandbox.client.put(VEHICLE_PATH, content=content)
    other_secret = await signed_put(sandbox, VEHICLE_PATH, RECORD, secret="not-the-shared-secret")
    stale = await signed_put(sandbox, VEHICLE_PATH, RECORD, at=int(time.time()) - 3600)
    tampered = await sandbox.client.put(
        VEHICLE_PATH, content=json.dumps({**RECORD, "owner": "李四"}).encode(), headers={"X-Signature": good}
    )

    for refused in (unsigned, other_secret, stale, tampered):
        assert (refused.status_code, refused.json()["error"]) == (401, "invalid_signature")
    assert await held(sandbox) == []


async def test_a_bad_record_is_refused_naming_its_fields(sandbox: SandboxUnderTest) -> None:
    bad = await signed_put(sandbox, VEHICLE_PATH, {**RECORD, "state": "maybe", "administrative_area": "温州"})
    elsewhere = await signed_put(sandbox, "/regulator/v1/vehicles/浙C网约2026000002", RECORD)

    assert (bad.status_code, bad.json()["error"]) == (422, "invalid_body")
    assert bad.json()["fields"] == ["administrative_area", "state"]
    assert (elsewhere.status_code, elsewhere.json()["error"]) == (422, "permit_number_mismatch")
    assert await held(sandbox) == []


async def test_the_state_turns_invalid_once_and_names_its_reason(sandbox: SandboxUnderTest) -> None:
    await signed_put(sandbox, VEHICLE_PATH, RECORD)
    change = {"state": "invalid", "reason": "运输证注销"}

    first = await signed_put(sandbox, f"{VEHICLE_PATH}/state", change)
    again = await signed_put(sandbox, f"{VEHICLE_PATH}/state", change)

    assert (first.status_code, first.json()) == (200, {"permit_number": PERMIT, "state": "invalid", "version": 2})
    assert (again.status_code, again.json()) == (200, first.json())
    [kept] = await held(sandbox)
    assert (kept["state"], kept["reason"], kept["version"]) == ("invalid", "运输证注销", 2)


async def test_the_state_of_an_unreported_vehicle_is_refused(sandbox: SandboxUnderTest) -> None:
    answer = await signed_put(sandbox, f"{VEHICLE_PATH}/state", {"state": "invalid", "reason": "逾期未年审"})
    unsigned = await sandbox.client.put(f"{VEHICLE_PATH}/state", json={"state": "invalid", "reason": "x"})

    assert (answer.status_code, answer.json()["error"]) == (404, "record_unknown")
    assert unsigned.status_code == 401


async def test_faults_apply_to_the_platform_and_never_to_its_read_back(sandbox: SandboxUnderTest) -> None:
    await sandbox.control.set_fault("regulator", error_rate=1)

    failed = await signed_put(sandbox, VEHICLE_PATH, RECORD)
    read_back = await sandbox.client.get("/sandbox/regulator/records")

    assert (failed.status_code, failed.json()["error"]) == (503, "injected_fault")
    assert (read_back.status_code, read_back.json()) == (200, {"records": []})
