"""Every failure of the department clients maps to the right ApplicationError, without
personal data, whether it comes from the sandbox or from a misbehaving server."""

import socket
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import httpx
import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, Response
from starlette.routing import Route
from temporalio.api.failure.v1 import Failure
from temporalio.converter import DataConverter
from temporalio.exceptions import ApplicationError

from adapters import Departments
from domain import errors
from tests.support_sandbox import OWNER, VEHICLE, SandboxUnderTest, serving, settle_every_department

VIN = VEHICLE["vin"]
PLATE = VEHICLE["plate"]
PERSONAL_DATA = (VIN, PLATE, OWNER["id_number"], OWNER["name"], OWNER["phone"], "鹿城区")

Call = Callable[[Departments], Awaitable[object]]


def change_usage(**overrides: str) -> Call:
    arguments = {
        "vin": VIN,
        "plate": PLATE,
        "owner_id_number": OWNER["id_number"],
        "target_nature": "预约出租客运",
        "reference": "APP-1",
        "idempotency_key": "change-1",
        **overrides,
    }
    return lambda d: d.vehicle_admin.request_usage_change(**arguments)


def ship(**overrides: Any) -> Call:
    arguments = {
        "reference": "APP-1",
        "recipient": OWNER["name"],
        "phone": OWNER["phone"],
        "address": "温州市鹿城区",
        "contents": "网约车运输证",
        "idempotency_key": "ship-1",
        **overrides,
    }
    return lambda d: d.courier.create_shipment(**arguments)


CALLS: dict[str, tuple[str, Call]] = {
    "eid.verify": ("eid", lambda d: d.eid.verify("token")),
    "vehicle_admin.get_vehicle": ("vehicle-admin", lambda d: d.vehicle_admin.get_vehicle(VIN)),
    "vehicle_admin.request_usage_change": ("vehicle-admin", change_usage()),
    "vehicle_admin.get_usage_change": ("vehicle-admin", lambda d: d.vehicle_admin.get_usage_change("UC1")),
    "tax.get_invoice": ("tax", lambda d: d.tax.get_invoice(VIN)),
    "tax.get_purchase_tax": ("tax", lambda d: d.tax.get_purchase_tax(VIN)),
    "inspection.get_report": ("inspection", lambda d: d.inspection.get_report(VIN)),
    "insurance.find_policy": ("insurance", lambda d: d.insurance.find_policy(vin=VIN, plate=PLATE)),
    "miit.get_nev_range": ("miit", lambda d: d.miit.get_nev_range("奇瑞小蚂蚁")),
    "courier.create_shipment": ("courier", ship()),
    "courier.get_shipment": ("courier", lambda d: d.courier.get_shipment("SF1")),
    "sms.send": (
        "sms",
        lambda d: d.sms.send(phone=OWNER["phone"], text=OWNER["name"], idempotency_key="s"),
    ),
}


@pytest.fixture
async def departments(sandbox: SandboxUnderTest) -> AsyncIterator[Departments]:
    async with Departments.http(sandbox.base_url) as departments:
        yield departments


async def failure_of(call: Call, departments: Departments) -> ApplicationError:
    """The ApplicationError ``call`` raises, checked to carry no personal data into Temporal."""
    with pytest.raises(ApplicationError) as caught:
        await call(departments)
    error = caught.value
    failure = Failure()
    converter = DataConverter.default
    converter.failure_converter.to_failure(error, converter.payload_converter, failure)
    recorded = str(failure)
    for value in PERSONAL_DATA:
        assert value not in error.message and value not in recorded
        assert value.encode("unicode_escape").decode() not in recorded
    assert not failure.HasField("cause")
    return error


def assert_refusal(error: ApplicationError, error_type: str) -> None:
    assert (error.type, error.non_retryable) == (error_type, True)


def assert_unavailable(error: ApplicationError) -> None:
    assert (error.type, error.non_retryable) == (errors.DEPARTMENT_UNAVAILABLE, False)


async def test_invalid_eid_token(departments: Departments) -> None:
    error = await failure_of(CALLS["eid.verify"][1], departments)

    assert_refusal(error, errors.EID_TOKEN_INVALID)


@pytest.mark.parametrize("name", ["vehicle_admin.get_vehicle", "vehicle_admin.request_usage_change"])
async def test_unknown_vehicle(departments: Departments, name: str) -> None:
    error = await failure_of(CALLS[name][1], departments)

    assert_refusal(error, errors.VEHICLE_UNKNOWN)


async def test_owner_mismatch(sandbox: SandboxUnderTest, departments: Departments) -> None:
    await sandbox.control.add_vehicle(owner_id_number="330302198805055555")

    error = await failure_of(change_usage(), departments)

    assert_refusal(error, errors.OWNER_MISMATCH)


async def test_blocking_flags(sandbox: SandboxUnderTest, departments: Departments) -> None:
    await sandbox.control.add_vehicle(flags=["seized", "mortgaged", "new_energy"])

    error = await failure_of(change_usage(), departments)

    assert_refusal(error, errors.BLOCKING_FLAG)
    assert error.details == (["mortgaged", "seized"],)
    assert error.message == "PSB refused the usage-nature change: blocking flags mortgaged, seized"


@pytest.mark.parametrize("name", ["tax.get_invoice", "tax.get_purchase_tax"])
async def test_tax_record_not_found(sandbox: SandboxUnderTest, departments: Departments, name: str) -> None:
    await sandbox.control.add_vehicle(tax_records=False)

    error = await failure_of(CALLS[name][1], departments)

    assert_refusal(error, errors.TAX_RECORD_NOT_FOUND)


async def test_inspection_report_not_found(departments: Departments) -> None:
    error = await failure_of(CALLS["inspection.get_report"][1], departments)

    assert_refusal(error, errors.INSPECTION_REPORT_NOT_FOUND)


async def test_model_not_in_catalogue(departments: Departments) -> None:
    error = await failure_of(lambda d: d.miit.get_nev_range("Flying Car"), departments)

    assert_refusal(error, errors.MODEL_NOT_IN_CATALOGUE)


@pytest.mark.parametrize(
    ("call", "code"),
    [
        (change_usage(plate="浙C99999"), "plate_mismatch"),
        (CALLS["vehicle_admin.get_usage_change"][1], "usage_change_unknown"),
        (CALLS["courier.get_shipment"][1], "shipment_unknown"),
        (ship(contents=" "), None),
        (lambda d: d.sms.send(phone=OWNER["phone"], text="", idempotency_key="s"), None),
    ],
)
async def test_other_refusals_are_rejected_requests(
    sandbox: SandboxUnderTest, departments: Departments, call: Call, code: str | None
) -> None:
    await sandbox.control.add_vehicle()

    error = await failure_of(call, departments)

    assert_refusal(error, errors.DEPARTMENT_REJECTED_REQUEST)
    if code is not None:
        assert f"({code})" in error.message


@pytest.mark.parametrize("name", list(CALLS))
async def test_injected_5xx_is_retryable(sandbox: SandboxUnderTest, departments: Departments, name: str) -> None:
    service, call = CALLS[name]
    await sandbox.control.set_fault(service, error_rate=1.0)

    error = await failure_of(call, departments)

    assert_unavailable(error)
    assert "HTTP 503" in error.message


@pytest.mark.parametrize("name", list(CALLS))
async def test_injected_refusal_is_a_rejected_request(
    sandbox: SandboxUnderTest, departments: Departments, name: str
) -> None:
    service, call = CALLS[name]
    await sandbox.control.set_fault(service, refusal_rate=1.0)

    error = await failure_of(call, departments)

    assert_refusal(error, errors.DEPARTMENT_REJECTED_REQUEST)
    assert "HTTP 422 (injected_refusal)" in error.message


@pytest.mark.parametrize("name", list(CALLS))
async def test_dropped_connection_is_retryable(sandbox: SandboxUnderTest, departments: Departments, name: str) -> None:
    service, call = CALLS[name]
    await sandbox.control.set_fault(service, drop_rate=1.0)

    for _lost in ("request", "answer"):
        error = await failure_of(call, departments)

        assert_unavailable(error)
        assert "could not be reached" in error.message


async def succeeding_calls(sandbox: SandboxUnderTest) -> dict[str, tuple[str, Call]]:
    """A call per department method that the sandbox answers with success (one QR token per verify)."""
    settled = await settle_every_department(sandbox)

    async def verify_a_fresh_token(d: Departments) -> object:
        return await d.eid.verify(await sandbox.control.issue_qr())

    calls: dict[str, tuple[str, Call]] = {
        **CALLS,
        "eid.verify": ("eid", verify_a_fresh_token),
        "vehicle_admin.get_usage_change": (
            "vehicle-admin",
            lambda d: d.vehicle_admin.get_usage_change(settled.job_id),
        ),
        "courier.get_shipment": ("courier", lambda d: d.courier.get_shipment(settled.tracking_number)),
    }
    async with Departments.http(sandbox.base_url) as departments:
        for name, (_service, call) in calls.items():
            assert await call(departments) is not None, name
    return calls


async def test_malformed_answer_is_retryable(sandbox: SandboxUnderTest, departments: Departments) -> None:
    calls = await succeeding_calls(sandbox)
    for service in {service for service, _call in calls.values()}:
        await sandbox.control.set_fault(service, malformed_rate=1.0)

    for name, (_service, call) in calls.items():
        for _kind in ("not JSON", "wrong fields"):
            error = await failure_of(call, departments)

            assert_unavailable(error)
            assert "unreadable answer" in error.message, name


async def test_timeout_is_retryable(sandbox: SandboxUnderTest) -> None:
    await sandbox.control.set_fault("vehicle-admin", latency_ms=500)

    async with Departments.http(sandbox.base_url, timeout=httpx.Timeout(0.1)) as departments:
        error = await failure_of(CALLS["vehicle_admin.get_vehicle"][1], departments)

    assert_unavailable(error)
    assert "timed out" in error.message


async def test_unreachable_department_is_retryable() -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]

    async with Departments.http(f"http://127.0.0.1:{port}") as departments:
        error = await failure_of(CALLS["tax.get_invoice"][1], departments)

    assert_unavailable(error)
    assert "could not be reached" in error.message


class MisbehavingDepartment:
    """Answers every request the way ``case`` says, quoting personal data where it can."""

    def __init__(self) -> None:
        self.case = ""
        self.app = Starlette(routes=[Route("/{path:path}", self._answer, methods=["GET", "POST"])])

    async def _answer(self, _request: Request) -> Response:
        leak = {"vin": VIN, "detail": f"{OWNER['name']} {OWNER['id_number']} {PLATE}"}
        match self.case:
            case "throttled":
                return JSONResponse({"error": "throttled", **leak}, status_code=429)
            case "gateway":
                return PlainTextResponse(f"bad gateway for {VIN}", status_code=502)
            case "html-404":
                return PlainTextResponse(f"<h1>{VIN} not here</h1>", status_code=404)
            case "odd-code":
                return JSONResponse({"error": f"no {VIN}", **leak}, status_code=400)
            case "not-json":
                return PlainTextResponse(f"ok {VIN}")
            case "wrong-shape":
                return JSONResponse({"model": "奇瑞小蚂蚁", **leak})
            case _:
                return JSONResponse(["not", "an", "object", VIN])


@pytest.fixture(scope="module")
async def misbehaving_server() -> AsyncIterator[tuple[str, MisbehavingDepartment]]:
    department = MisbehavingDepartment()
    async with serving(department.app) as base_url:
        yield base_url, department


@pytest.mark.parametrize(
    ("case", "error_type"),
    [
        ("throttled", errors.DEPARTMENT_UNAVAILABLE),
        ("gateway", errors.DEPARTMENT_UNAVAILABLE),
        ("not-json", errors.DEPARTMENT_UNAVAILABLE),
        ("wrong-shape", errors.DEPARTMENT_UNAVAILABLE),
        ("list", errors.DEPARTMENT_UNAVAILABLE),
        ("html-404", errors.DEPARTMENT_REJECTED_REQUEST),
        ("odd-code", errors.DEPARTMENT_REJECTED_REQUEST),
    ],
)
@pytest.mark.parametrize("name", list(CALLS))
async def test_misbehaving_department(
    misbehaving_server: tuple[str, MisbehavingDepartment], name: str, case: str, error_type: str
) -> None:
    base_url, department = misbehaving_server
    department.case = case

    async with Departments.http(base_url) as departments:
        error = await failure_of(CALLS[name][1], departments)

    assert error.type == error_type
    assert error.non_retryable is (error_type != errors.DEPARTMENT_UNAVAILABLE)
