"""PSB vehicle administration (车管所): vehicle records and changes of usage nature."""

from typing import Protocol

from adapters.base import HttpDepartment, segment
from workflows.types import UsageChangeJob, VehicleRecord


class VehicleAdminClient(Protocol):
    async def get_vehicle(self, vin: str) -> VehicleRecord:
        """The registered vehicle (VEHICLE_UNKNOWN otherwise)."""
        ...

    async def request_usage_change(
        self,
        *,
        vin: str,
        plate: str,
        owner_id_number: str,
        target_nature: str,
        reference: str,
        idempotency_key: str,
    ) -> UsageChangeJob:
        """Ask PSB to change the usage nature; the job completes later and calls back.

        Refusals: VEHICLE_UNKNOWN, OWNER_MISMATCH, BLOCKING_FLAG (flags in ``details[0]``).
        """
        ...

    async def get_usage_change(self, job_id: str) -> UsageChangeJob:
        """The current state of a usage-change job."""
        ...


class HttpVehicleAdminClient(HttpDepartment):
    department = "PSB"

    async def get_vehicle(self, vin: str) -> VehicleRecord:
        return await self._fetch(
            VehicleRecord, "GET", f"/vehicle-admin/v1/vehicles/{segment(vin)}", action="the vehicle lookup"
        )

    async def request_usage_change(
        self,
        *,
        vin: str,
        plate: str,
        owner_id_number: str,
        target_nature: str,
        reference: str,
        idempotency_key: str,
    ) -> UsageChangeJob:
        return await self._fetch(
            UsageChangeJob,
            "POST",
            "/vehicle-admin/v1/usage-changes",
            action="the usage-nature change",
            json={
                "vin": vin,
                "plate": plate,
                "owner_id_number": owner_id_number,
                "target_nature": target_nature,
                "reference": reference,
            },
            idempotency_key=idempotency_key,
        )

    async def get_usage_change(self, job_id: str) -> UsageChangeJob:
        return await self._fetch(
            UsageChangeJob,
            "GET",
            f"/vehicle-admin/v1/usage-changes/{segment(job_id)}",
            action="the usage-change status query",
        )
