"""The national ride-hailing regulatory platform (网约车监管信息交互平台): the record of each licensed vehicle.

Every request is signed with the shared secret (``X-Signature``, domain.signing); both calls are PUTs
of the whole record or state, so a retry after a lost answer changes nothing. Failures are mapped
as every department's (adapters.base): 5xx, 408, 429 and transport errors are retryable.
"""

import time
from collections.abc import Generator
from dataclasses import asdict
from typing import Protocol

import httpx

from adapters.base import DEFAULT_TIMEOUT, HttpDepartment, segment
from domain.signing import sign
from workflows.permit_types import RegulatorStateChange, RegulatorVehicleRecord

SIGNATURE_HEADER = "X-Signature"


class RegulatorClient(Protocol):
    async def put_vehicle(self, record: RegulatorVehicleRecord) -> None:
        """Create or replace the vehicle's record under its permit number."""
        ...

    async def put_state(self, change: RegulatorStateChange) -> None:
        """Turn the record valid or invalid; DEPARTMENT_REJECTED_REQUEST when it was never reported."""
        ...


class RegulatorSignature(httpx.Auth):
    """Signs each request's body with the shared secret at the moment it is sent."""

    requires_request_body = True

    def __init__(self, secret: str) -> None:
        self._secret = secret

    def auth_flow(self, request: httpx.Request) -> Generator[httpx.Request, httpx.Response, None]:
        request.headers[SIGNATURE_HEADER] = sign(self._secret, request.content, int(time.time()))
        yield request


class HttpRegulatorClient(HttpDepartment):
    department = "the regulatory platform"

    @classmethod
    def connect(cls, base_url: str, secret: str, *, timeout: httpx.Timeout | None = None) -> "HttpRegulatorClient":
        """A client with its own connection pool, signing with ``secret``; close it with ``aclose``."""
        client = httpx.AsyncClient(
            base_url=base_url, timeout=timeout or DEFAULT_TIMEOUT, auth=RegulatorSignature(secret)
        )
        return cls(client)

    async def aclose(self) -> None:
        await self._client.aclose()

    async def put_vehicle(self, record: RegulatorVehicleRecord) -> None:
        await self._request(
            "PUT",
            f"/regulator/v1/vehicles/{segment(record.permit_number)}",
            action="the vehicle record",
            json=asdict(record),
        )

    async def put_state(self, change: RegulatorStateChange) -> None:
        await self._request(
            "PUT",
            f"/regulator/v1/vehicles/{segment(change.permit_number)}/state",
            action="the vehicle record's state",
            json={"state": change.state, "reason": change.reason},
        )
