"""Run the department sandbox over real HTTP inside a test's event loop.

- ``running_sandbox(settings)``: async context manager yielding the sandbox's base URL.
- ``serving(app)``: the same for any ASGI app (a free 127.0.0.1 port, uvicorn).
- ``receiving_callbacks()``: a tiny app that records department callbacks.
- ``running_sandbox_with_inbox(**settings)``: both, the sandbox calling back the receiver.
- ``SandboxControl``: typed access to the ``/sandbox/*`` helpers.
- ``settle_every_department(sandbox)``: records that every department API answers with success.
- Fixtures for a conftest to import: ``sandbox_server`` (one per test module, fast delays)
  and ``sandbox`` (a ``SandboxUnderTest`` reset before each test).
"""

import asyncio
import socket
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any

import httpx
import pytest
import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route
from starlette.types import ASGIApp

from sandbox.app import create_app
from sandbox.settings import SandboxSettings

OWNER = {"name": "张三", "id_number": "330302199001011234", "phone": "13800138000"}
VEHICLE: dict[str, Any] = {
    "plate": "浙C12345",
    "vin": "LSVAU2180N2183294",
    "owner_name": OWNER["name"],
    "owner_id_number": OWNER["id_number"],
    "usage_nature": "非营运",
    "seats": 5,
    "fuel": "bev",
    "model": "比亚迪秦PLUS EV",
    "registered_on": "2025-06-01",
    "flags": [],
}

USAGE_CHANGE = {
    "vin": VEHICLE["vin"],
    "plate": VEHICLE["plate"],
    "owner_id_number": OWNER["id_number"],
    "target_nature": "预约出租客运",
    "reference": "APP-1",
}
SHIPMENT = {
    "reference": "APP-1",
    "recipient": OWNER["name"],
    "phone": OWNER["phone"],
    "address": "温州市鹿城区",
    "contents": "网约车运输证",
}


def bound_socket() -> socket.socket:
    """A socket bound to a free 127.0.0.1 port, to learn the port before serving on it.

    It names IPPROTO_TCP so that asyncio sets TCP_NODELAY on accepted connections;
    without it every request waits ~40 ms for a delayed ACK.
    """
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    sock.bind(("127.0.0.1", 0))
    return sock


@asynccontextmanager
async def serving(
    app: ASGIApp, *, sock: socket.socket | None = None, startup_timeout_s: float = 10.0
) -> AsyncIterator[str]:
    """Serve ``app`` with uvicorn on ``sock`` (default: a free 127.0.0.1 port); yield its base URL."""
    sock = sock or bound_socket()
    server = uvicorn.Server(uvicorn.Config(app, log_level="warning", lifespan="on", timeout_graceful_shutdown=2))
    task = asyncio.create_task(server.serve(sockets=[sock]))
    try:
        async with asyncio.timeout(startup_timeout_s):
            while not server.started:
                if task.done():
                    task.result()
                    raise RuntimeError("the server stopped during startup")
                await asyncio.sleep(0.01)
        host, port = sock.getsockname()[:2]
        yield f"http://{host}:{port}"
    finally:
        server.should_exit = True
        await task
        sock.close()


@asynccontextmanager
async def running_sandbox(settings: SandboxSettings | None = None) -> AsyncIterator[str]:
    """Run the sandbox and yield its base URL.

    Without ``settings``: the ``SANDBOX_*`` environment, but never a state file.
    """
    async with serving(create_app(settings or SandboxSettings(state_file=None))) as base_url:
        yield base_url


@dataclass(frozen=True)
class ReceivedCallback:
    source: str
    signature: str
    content_type: str
    body: bytes


class CallbackInbox:
    """Records ``POST /v1/callbacks/{source}``; answers 500 to the first ``fail_first``."""

    def __init__(self) -> None:
        self.fail_first = 0
        self._queue: asyncio.Queue[ReceivedCallback] = asyncio.Queue()
        self.app = Starlette(routes=[Route("/v1/callbacks/{source}", self._receive, methods=["POST"])])

    async def _receive(self, request: Request) -> JSONResponse:
        if self.fail_first > 0:
            self.fail_first -= 1
            return JSONResponse({"error": "test_failure"}, status_code=500)
        await self._queue.put(
            ReceivedCallback(
                source=request.path_params["source"],
                signature=request.headers.get("x-signature", ""),
                content_type=request.headers.get("content-type", ""),
                body=await request.body(),
            )
        )
        return JSONResponse({"status": "accepted"})

    async def next(self, timeout_s: float = 5.0) -> ReceivedCallback:
        """The next accepted callback, waiting at most ``timeout_s``."""
        return await asyncio.wait_for(self._queue.get(), timeout_s)

    def clear(self) -> None:
        """Forget received callbacks and stop failing."""
        self.fail_first = 0
        while not self._queue.empty():
            self._queue.get_nowait()

    def empty(self) -> bool:
        return self._queue.empty()


@asynccontextmanager
async def receiving_callbacks() -> AsyncIterator[tuple[str, CallbackInbox]]:
    """Run a callback receiver; yield its base URL (for ``callback_base_url``) and inbox."""
    inbox = CallbackInbox()
    async with serving(inbox.app) as base_url:
        yield base_url, inbox


class SandboxControl:
    """Typed access to the sandbox's ``/sandbox/*`` helpers."""

    def __init__(self, client: httpx.AsyncClient) -> None:
        self.client = client

    async def reset(self) -> None:
        (await self.client.post("/sandbox/reset")).raise_for_status()

    async def add_vehicle(self, **overrides: Any) -> dict[str, Any]:
        """Register ``VEHICLE`` with ``overrides``; returns the stored record."""
        response = await self.client.post("/sandbox/vehicles", json={**VEHICLE, **overrides})
        response.raise_for_status()
        record: dict[str, Any] = response.json()
        return record

    async def issue_qr(self, **overrides: str) -> str:
        """A QR token for ``OWNER`` with ``overrides``."""
        response = await self.client.post("/sandbox/eid/qr", json={**OWNER, **overrides})
        response.raise_for_status()
        token: str = response.json()["qr_token"]
        return token

    async def buy_policy(self, **body: Any) -> dict[str, Any]:
        """Buy a policy for ``VEHICLE`` (``body`` may change vin, plate and validity)."""
        vehicle = {"vin": VEHICLE["vin"], "plate": VEHICLE["plate"]}
        response = await self.client.post("/sandbox/insurance/policies", json={**vehicle, **body})
        response.raise_for_status()
        policy: dict[str, Any] = response.json()
        return policy

    async def set_fault(self, service: str, **fault: float) -> dict[str, Any]:
        """Replace ``service``'s fault with ``fault`` (``error_rate``, ``latency_ms``, ``refusal_rate``,
        ``refusal_status``, ``malformed_rate``, ``drop_rate``; the others 0, the status 422)."""
        response = await self.client.put(f"/sandbox/faults/{service}", json=fault)
        response.raise_for_status()
        stored: dict[str, Any] = response.json()
        return stored

    async def sms(self, phone: str) -> list[dict[str, Any]]:
        response = await self.client.get("/sandbox/sms", params={"phone": phone})
        response.raise_for_status()
        messages: list[dict[str, Any]] = response.json()["messages"]
        return messages

    async def records(self) -> dict[str, list[dict[str, Any]]]:
        """What the departments did: ``usage_changes``, ``shipments`` and ``sms``."""
        response = await self.client.get("/sandbox/records")
        response.raise_for_status()
        records: dict[str, list[dict[str, Any]]] = response.json()
        return records


@dataclass(frozen=True)
class SandboxUnderTest:
    base_url: str
    settings: SandboxSettings
    inbox: CallbackInbox
    control: SandboxControl
    client: httpx.AsyncClient
    """An HTTP client on ``base_url``."""


FAST = {"vehicle_admin_delay_s": 0.2, "courier_delay_s": 0.2, "callback_backoff_s": 0.05}


@asynccontextmanager
async def running_sandbox_with_inbox(**settings: Any) -> AsyncIterator[SandboxUnderTest]:
    """Run a callback receiver and a sandbox calling it back, with ``settings`` overrides.

    The state stays in memory unless ``state_file`` is among ``settings``.
    """
    async with receiving_callbacks() as (callback_url, inbox):
        sandbox_settings = SandboxSettings(**{"state_file": None, "callback_base_url": callback_url, **settings})
        async with (
            running_sandbox(sandbox_settings) as base_url,
            httpx.AsyncClient(base_url=base_url) as client,
        ):
            yield SandboxUnderTest(base_url, sandbox_settings, inbox, SandboxControl(client), client)


@pytest.fixture(scope="module")
async def sandbox_server() -> AsyncIterator[SandboxUnderTest]:
    """One sandbox per test module, with short delays."""
    async with running_sandbox_with_inbox(**FAST) as running:
        yield running


@pytest.fixture
async def sandbox(sandbox_server: SandboxUnderTest) -> SandboxUnderTest:
    """The module's sandbox, reset, with an empty inbox."""
    await sandbox_server.control.reset()
    sandbox_server.inbox.clear()
    return sandbox_server


@dataclass(frozen=True)
class Settled:
    """What ``settle_every_department`` left in the sandbox, by id."""

    job_id: str
    """A completed usage change of ``VEHICLE``."""
    tracking_number: str
    """A delivered shipment."""


async def settle_every_department(sandbox: SandboxUnderTest) -> Settled:
    """Give every department API something to answer with success, and wait until it stops changing.

    ``VEHICLE`` (with its tax and inspection records) and a policy for it, a usage change and a
    shipment, both finished and called back. QR tokens are single-use: issue them as needed.
    """
    await sandbox.control.add_vehicle()
    await sandbox.control.buy_policy()
    job = await sandbox.client.post("/vehicle-admin/v1/usage-changes", json=USAGE_CHANGE)
    shipment = await sandbox.client.post("/courier/v1/shipments", json=SHIPMENT)
    job.raise_for_status()
    shipment.raise_for_status()
    sources = sorted([(await sandbox.inbox.next()).source for _ in range(3)])
    assert sources == ["courier", "insurance", "vehicle-admin"]
    return Settled(job.json()["job_id"], shipment.json()["tracking_number"])
