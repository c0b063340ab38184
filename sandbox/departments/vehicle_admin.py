"""The vehicle administration (车管所, at the PSB): vehicle records and changes of usage nature."""

import secrets
from datetime import date, timedelta
from typing import Literal

from fastapi.responses import JSONResponse
from pydantic import Field

from domain.statuses import USAGE_PRIVATE, USAGE_RIDE_HAILING, UsageChangeState
from sandbox.clock import now_iso, today
from sandbox.common import StrictModel, Text, UsageNature, Vin
from sandbox.errors import DepartmentError
from sandbox.routing import IdempotencyKey, RuntimeDep, department_router, helper_router
from sandbox.runtime import Deferred, Runtime
from sandbox.state import JSON, SandboxState

router = department_router("vehicle-admin")
helpers = helper_router()

BLOCKING_FLAGS = frozenset({"mortgaged", "unpaid_violations", "scrapped", "seized"})
RECORD_FIELDS = (
    "plate",
    "vin",
    "owner_name",
    "owner_id_number",
    "usage_nature",
    "seats",
    "fuel",
    "model",
    "registered_on",
    "flags",
)
CALLBACK_FIELDS = (
    "job_id",
    "reference",
    "vin",
    "status",
    "target_nature",
    "completed_at",
    "driving_license_no",
)


class InspectionIn(StrictModel):
    passed: bool = True
    valid_until: date


def _default_inspection() -> InspectionIn:
    return InspectionIn(valid_until=today() + timedelta(days=365))


class VehicleIn(StrictModel):
    """A vehicle as the sandbox knows it; ``inspection: null`` means no inspection report."""

    plate: Text
    vin: Vin
    owner_name: Text
    owner_id_number: Text
    usage_nature: UsageNature = USAGE_PRIVATE
    seats: int = Field(ge=1, le=99)
    fuel: Literal["petrol", "hybrid", "phev", "bev"]
    model: Text
    registered_on: date
    flags: list[Text] = Field(default_factory=list)
    inspection: InspectionIn | None = Field(default_factory=_default_inspection)
    tax_records: bool = True


class UsageChangeIn(StrictModel):
    vin: Vin
    plate: Text
    owner_id_number: Text
    target_nature: UsageNature
    reference: Text


def _vehicle_unknown() -> DepartmentError:
    return DepartmentError(404, "vehicle_unknown", "No vehicle with this VIN is registered.")


@helpers.post("/vehicles", status_code=201)
async def upsert_vehicle(vehicle: VehicleIn, runtime: RuntimeDep) -> JSON:
    """Register a vehicle, replacing any record with the same VIN."""
    record = vehicle.model_dump(mode="json")
    runtime.state.vehicles[vehicle.vin] = record
    runtime.save()
    return record


@router.get("/vehicles/{vin}")
async def get_vehicle(vin: str, runtime: RuntimeDep) -> JSON:
    """The vehicle administration's record of a vehicle."""
    vehicle = runtime.state.vehicles.get(vin)
    if vehicle is None:
        raise _vehicle_unknown()
    return {field: vehicle[field] for field in RECORD_FIELDS}


@router.post("/usage-changes", status_code=202)
async def request_usage_change(
    change: UsageChangeIn, runtime: RuntimeDep, idempotency_key: IdempotencyKey = None
) -> JSONResponse:
    """Accept a change of usage nature; it completes after ``vehicle_admin_delay_s`` and calls back."""
    return runtime.idempotent("vehicle-admin", idempotency_key, 202, lambda: _start(runtime, change))


@router.get("/usage-changes/{job_id}")
async def get_usage_change(job_id: str, runtime: RuntimeDep) -> JSON:
    """The state of a change of usage nature."""
    entry = runtime.state.usage_changes.get(job_id)
    if entry is None:
        raise DepartmentError(404, "usage_change_unknown", "No such usage-change job.")
    view: JSON = entry["view"]
    return view


def _start(runtime: Runtime, change: UsageChangeIn) -> JSON:
    vehicle = runtime.state.vehicles.get(change.vin)
    if vehicle is None:
        raise _vehicle_unknown()
    if vehicle["plate"] != change.plate:
        raise DepartmentError(409, "plate_mismatch", "The plate does not belong to this vehicle.")
    if vehicle["owner_id_number"] != change.owner_id_number:
        raise DepartmentError(409, "owner_mismatch", "The applicant is not the registered owner.")
    blocking = sorted(BLOCKING_FLAGS.intersection(vehicle["flags"]))
    if change.target_nature == USAGE_RIDE_HAILING and blocking:
        raise DepartmentError(409, "blocking_flag", "The vehicle's record blocks the change.", flags=blocking)
    job: JSON = {
        "job_id": f"UC{secrets.token_hex(8).upper()}",
        "vin": change.vin,
        "target_nature": change.target_nature,
        "reference": change.reference,
        "status": UsageChangeState.PENDING,
        "requested_at": now_iso(),
        "completed_at": None,
        "driving_license_no": None,
    }
    runtime.defer(USAGE_CHANGES, job["job_id"], job, runtime.settings.vehicle_admin_delay_s)
    return job


def _complete(state: SandboxState, entry: JSON) -> JSON:
    job = entry["view"]
    if job["status"] == UsageChangeState.PENDING:
        job.update(
            status=UsageChangeState.COMPLETED,
            completed_at=now_iso(),
            driving_license_no=f"3303{secrets.randbelow(10**8):08d}",
        )
        vehicle = state.vehicles.get(job["vin"])
        if vehicle is not None:
            vehicle["usage_nature"] = job["target_nature"]
    return {field: job[field] for field in CALLBACK_FIELDS}


USAGE_CHANGES = Deferred(source="vehicle-admin", entries=lambda state: state.usage_changes, finish=_complete)
