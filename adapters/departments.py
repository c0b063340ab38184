"""All department clients together, as activities receive them."""

from dataclasses import dataclass, field
from types import TracebackType
from typing import Self

import httpx

from adapters.base import DEFAULT_TIMEOUT
from adapters.courier import CourierClient, HttpCourierClient
from adapters.eid import EidClient, HttpEidClient
from adapters.inspection import HttpInspectionClient, InspectionClient
from adapters.insurance import HttpInsuranceClient, InsuranceClient
from adapters.miit import HttpMiitClient, MiitClient
from adapters.sms import HttpSmsClient, SmsClient
from adapters.tax import HttpTaxClient, TaxClient
from adapters.vehicle_admin import HttpVehicleAdminClient, VehicleAdminClient


@dataclass
class Departments:
    """One client per department; build fakes directly, or real ones with ``http``."""

    eid: EidClient
    vehicle_admin: VehicleAdminClient
    tax: TaxClient
    inspection: InspectionClient
    insurance: InsuranceClient
    miit: MiitClient
    courier: CourierClient
    sms: SmsClient
    _client: httpx.AsyncClient | None = field(default=None, init=False, repr=False, compare=False)

    @classmethod
    def http(cls, base_url: str, *, timeout: httpx.Timeout | None = None) -> "Departments":
        """HTTP clients of every department at ``base_url``, sharing one connection pool."""
        client = httpx.AsyncClient(base_url=base_url, timeout=timeout or DEFAULT_TIMEOUT)
        departments = cls(
            eid=HttpEidClient(client),
            vehicle_admin=HttpVehicleAdminClient(client),
            tax=HttpTaxClient(client),
            inspection=HttpInspectionClient(client),
            insurance=HttpInsuranceClient(client),
            miit=HttpMiitClient(client),
            courier=HttpCourierClient(client),
            sms=HttpSmsClient(client),
        )
        departments._client = client
        return departments

    async def aclose(self) -> None:
        """Close the shared HTTP client, if this instance owns one."""
        if self._client is not None:
            await self._client.aclose()

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        await self.aclose()
