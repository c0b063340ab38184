"""Injected faults, as a real HTTP client sees them: latency, dropped connections, 503s,
refusals and malformed answers, on every department API and never on the helpers."""

import json
import time
from dataclasses import dataclass, field
from typing import Any

import httpx
import pytest

from sandbox.runtime import SERVICES
from tests.support_sandbox import (
    OWNER,
    SHIPMENT,
    USAGE_CHANGE,
    VEHICLE,
    SandboxUnderTest,
    settle_every_department,
)

VIN = VEHICLE["vin"]


@dataclass(frozen=True)
class Call:
    """One request to a department API that succeeds, and gives the same answer when repeated."""

    service: str
    method: str
    path: str
    params: dict[str, str] = field(default_factory=dict)
    body: dict[str, Any] | None = None
    idempotency_key: str | None = None

    async def send(self, client: httpx.AsyncClient) -> httpx.Response:
        headers = {"Idempotency-Key": self.idempotency_key} if self.idempotency_key else {}
        return await client.request(self.method, self.path, params=self.params, json=self.body, headers=headers)


async def every_department_call(sandbox: SandboxUnderTest) -> dict[str, Call]:
    """A succeeding call for every department endpoint, each answered once already (POSTs replay)."""
    settled = await settle_every_department(sandbox)
    calls = {
        "eid verify": Call("eid", "POST", "/eid/v1/verify", body={"qr_token": await sandbox.control.issue_qr()}),
        "vehicle record": Call("vehicle-admin", "GET", f"/vehicle-admin/v1/vehicles/{VIN}"),
        "usage change": Call("vehicle-admin", "POST", "/vehicle-admin/v1/usage-changes", body=USAGE_CHANGE),
        "usage change state": Call("vehicle-admin", "GET", f"/vehicle-admin/v1/usage-changes/{settled.job_id}"),
        "invoice": Call("tax", "GET", "/tax/v1/invoices", params={"vin": VIN}),
        "purchase tax": Call("tax", "GET", "/tax/v1/purchase-tax", params={"vin": VIN}),
        "inspection report": Call("inspection", "GET", "/inspection/v1/reports", params={"vin": VIN}),
        "policies": Call("insurance", "GET", "/insurance/v1/policies", params={"vin": VIN, "plate": VEHICLE["plate"]}),
        "nev range": Call("miit", "GET", "/miit/v1/nev-range", params={"model": "奇瑞小蚂蚁"}),
        "shipment": Call("courier", "POST", "/courier/v1/shipments", body=SHIPMENT),
        "shipment state": Call("courier", "GET", f"/courier/v1/shipments/{settled.tracking_number}"),
        "sms": Call("sms", "POST", "/sms/v1/messages", body={"phone": OWNER["phone"], "text": "已受理"}),
    }
    calls = {name: _keyed(name, call) for name, call in calls.items()}
    # The regulator's API is signed and its first PUT creates (201): tests/sandbox/test_regulator.py has its faults.
    assert {call.service for call in calls.values()} == set(SERVICES) - {"regulator"}
    return calls


def _keyed(name: str, call: Call) -> Call:
    if call.method != "POST":
        return call
    return Call(call.service, call.method, call.path, call.params, call.body, f"key-{name}")


async def honest_answers(sandbox: SandboxUnderTest, calls: dict[str, Call]) -> dict[str, httpx.Response]:
    answers = {name: await call.send(sandbox.client) for name, call in calls.items()}
    assert all(answer.is_success for answer in answers.values()), {n: a.status_code for n, a in answers.items()}
    return answers


async def set_fault_everywhere(sandbox: SandboxUnderTest, **fault: float) -> None:
    for service in SERVICES:
        await sandbox.control.set_fault(service, **fault)


async def test_zero_rates_change_nothing(sandbox: SandboxUnderTest) -> None:
    calls = await every_department_call(sandbox)
    honest = await honest_answers(sandbox, calls)
    await set_fault_everywhere(
        sandbox, error_rate=0, refusal_rate=0, refusal_status=400, malformed_rate=0, drop_rate=0, latency_ms=0
    )

    for name, call in calls.items():
        answer = await call.send(sandbox.client)
        assert (answer.status_code, answer.json()) == (honest[name].status_code, honest[name].json()), name


async def test_full_refusal_rate_refuses_every_department(sandbox: SandboxUnderTest) -> None:
    calls = await every_department_call(sandbox)
    await set_fault_everywhere(sandbox, refusal_rate=1, refusal_status=409)
    sms_before = (await sandbox.control.records())["sms"]

    for name, call in calls.items():
        answer = await call.send(sandbox.client)
        assert answer.status_code == 409, name
        body = answer.json()
        assert body["error"] == "injected_refusal" and call.service in body["detail"], name
    fresh_text = await sandbox.client.post("/sms/v1/messages", json={"phone": OWNER["phone"], "text": "新"})

    assert fresh_text.status_code == 409
    assert (await sandbox.control.records())["sms"] == sms_before  # a refusal did nothing


async def test_refusal_status_defaults_to_422(sandbox: SandboxUnderTest) -> None:
    stored = await sandbox.control.set_fault("miit", refusal_rate=1)

    answer = await sandbox.client.get("/miit/v1/nev-range", params={"model": "奇瑞小蚂蚁"})

    assert stored["refusal_status"] == 422
    assert (answer.status_code, answer.json()["error"]) == (422, "injected_refusal")


def kind_of(answer: httpx.Response, honest: httpx.Response) -> str:
    """``not_json`` or ``wrong_fields`` for a malformed answer; fails for anything else."""
    assert answer.status_code == honest.status_code
    try:
        body = json.loads(answer.content)
    except ValueError:
        return "not_json"
    expected = honest.json()
    assert isinstance(body, dict) and body
    assert body.keys().isdisjoint(expected), "the department's own fields are still there"
    return "wrong_fields"


async def test_full_malformed_rate_garbles_every_department(sandbox: SandboxUnderTest) -> None:
    calls = await every_department_call(sandbox)
    honest = await honest_answers(sandbox, calls)
    await set_fault_everywhere(sandbox, malformed_rate=1)

    for name, call in calls.items():
        kinds = {kind_of(await call.send(sandbox.client), honest[name]) for _ in range(2)}
        assert kinds == {"not_json", "wrong_fields"}, name


async def test_malformed_lists_have_wrong_fields_inside_too(sandbox: SandboxUnderTest) -> None:
    await settle_every_department(sandbox)
    await sandbox.control.set_fault("insurance", malformed_rate=1)
    query = {"vin": VIN, "plate": VEHICLE["plate"]}

    answers = [await sandbox.client.get("/insurance/v1/policies", params=query) for _ in range(2)]

    renamed = next(answer.json() for answer in answers if answer.headers["content-type"] == "application/json")
    assert list(renamed) == ["Policies"]
    assert "policy_no" not in renamed["Policies"][0] and "PolicyNo" in renamed["Policies"][0]


async def test_malformed_leaves_the_departments_own_refusals(sandbox: SandboxUnderTest) -> None:
    await sandbox.control.set_fault("vehicle-admin", malformed_rate=1)

    answer = await sandbox.client.get(f"/vehicle-admin/v1/vehicles/{VIN}")

    assert (answer.status_code, answer.json()["error"]) == (404, "vehicle_unknown")


async def test_full_drop_rate_drops_every_department(sandbox: SandboxUnderTest) -> None:
    calls = await every_department_call(sandbox)
    await set_fault_everywhere(sandbox, drop_rate=1)

    for call in calls.values():
        with pytest.raises(httpx.TransportError):
            await call.send(sandbox.client)
    await sandbox.client.delete("/sandbox/faults")
    after = await calls["nev range"].send(sandbox.client)

    assert after.status_code == 200


async def test_drops_lose_the_request_or_the_answer_in_turn(sandbox: SandboxUnderTest) -> None:
    await sandbox.control.set_fault("sms", drop_rate=1)

    for key in ("first", "second"):
        with pytest.raises(httpx.RemoteProtocolError):
            await sandbox.client.post(
                "/sms/v1/messages", json={"phone": OWNER["phone"], "text": key}, headers={"Idempotency-Key": key}
            )

    # one text never reached the gateway, the other was sent and only its answer was lost
    assert len(await sandbox.control.sms(OWNER["phone"])) == 1


@pytest.mark.parametrize(
    ("fault", "expected"),
    [
        ({"drop_rate": 1, "error_rate": 1, "refusal_rate": 1, "malformed_rate": 1}, "dropped"),
        ({"error_rate": 1, "refusal_rate": 1, "malformed_rate": 1}, 503),
        ({"refusal_rate": 1, "malformed_rate": 1}, 422),
    ],
)
async def test_faults_apply_in_order(sandbox: SandboxUnderTest, fault: dict[str, float], expected: object) -> None:
    await sandbox.control.set_fault("miit", **fault)

    try:
        answer: object = (await sandbox.client.get("/miit/v1/nev-range", params={"model": "奇瑞小蚂蚁"})).status_code
    except httpx.TransportError:
        answer = "dropped"

    assert answer == expected


async def test_latency_comes_before_a_drop(sandbox: SandboxUnderTest) -> None:
    await sandbox.control.set_fault("tax", latency_ms=200, drop_rate=1)

    started = time.monotonic()
    with pytest.raises(httpx.TransportError):
        await sandbox.client.get("/tax/v1/invoices", params={"vin": VIN})

    assert time.monotonic() - started >= 0.2


async def test_full_error_rate_fails_only_that_department(sandbox: SandboxUnderTest) -> None:
    await sandbox.control.add_vehicle()
    await sandbox.control.set_fault("vehicle-admin", error_rate=1.0)

    failed = await sandbox.client.get(f"/vehicle-admin/v1/vehicles/{VIN}")
    failed_post = await sandbox.client.post("/vehicle-admin/v1/usage-changes", json=USAGE_CHANGE)
    helper = await sandbox.client.post("/sandbox/vehicles", json=VEHICLE)
    other = await sandbox.client.get("/tax/v1/invoices", params={"vin": VIN})

    assert (failed.status_code, failed.json()["error"]) == (503, "injected_fault")
    assert failed_post.status_code == 503
    assert helper.status_code == 201
    assert other.status_code == 200


async def test_helpers_are_never_faulty(sandbox: SandboxUnderTest) -> None:
    await set_fault_everywhere(sandbox, drop_rate=1)

    token = await sandbox.client.post("/sandbox/eid/qr", json=OWNER)
    outbox = await sandbox.client.get("/sandbox/sms")

    assert token.status_code == 201 and outbox.status_code == 200


async def test_latency_delays_the_department(sandbox: SandboxUnderTest) -> None:
    await sandbox.control.set_fault("miit", latency_ms=200)

    started = time.monotonic()
    response = await sandbox.client.get("/miit/v1/nev-range", params={"model": "奇瑞小蚂蚁"})

    assert response.status_code == 200
    assert time.monotonic() - started >= 0.2


async def test_faults_are_listed_and_cleared(sandbox: SandboxUnderTest) -> None:
    await sandbox.control.set_fault("sms", error_rate=0.3, latency_ms=10, refusal_rate=0.2, drop_rate=0.1)

    listed = (await sandbox.client.get("/sandbox/faults")).json()
    cleared = await sandbox.client.delete("/sandbox/faults")
    after = await sandbox.client.post("/sms/v1/messages", json={"phone": "1", "text": "x"})

    assert listed == {
        "faults": {
            "sms": {
                "error_rate": 0.3,
                "latency_ms": 10,
                "refusal_rate": 0.2,
                "refusal_status": 422,
                "malformed_rate": 0.0,
                "drop_rate": 0.1,
            }
        }
    }
    assert (await sandbox.client.get("/sandbox/faults")).json() == {"faults": {}}
    assert cleared.status_code == 200
    assert after.status_code == 201


async def test_unknown_service_is_refused(sandbox: SandboxUnderTest) -> None:
    unknown = await sandbox.client.put("/sandbox/faults/weather", json={"error_rate": 1})

    assert (unknown.status_code, unknown.json()["error"]) == (404, "unknown_service")


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("error_rate", 1.5),
        ("refusal_rate", -0.1),
        ("malformed_rate", 2),
        ("drop_rate", "often"),
        ("refusal_status", 500),
        ("refusal_status", 399),
        ("latency_ms", -1),
        ("timeout_rate", 0.5),
    ],
)
async def test_bad_fault_values_are_refused_naming_the_field(
    sandbox: SandboxUnderTest, name: str, value: object
) -> None:
    response = await sandbox.client.put("/sandbox/faults/vehicle-admin", json={"error_rate": 0.5, name: value})

    assert response.status_code == 422
    assert [error["loc"] for error in response.json()["detail"]] == [["body", name]]
    assert (await sandbox.client.get("/sandbox/faults")).json() == {"faults": {}}
