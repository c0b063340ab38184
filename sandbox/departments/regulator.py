"""The national ride-hailing regulatory platform (网约车监管信息交互平台): one record per licensed vehicle.

Its API is signed: each request carries ``X-Signature`` (domain.signing: HMAC-SHA256 of the body
with the shared secret ``REGULATOR_SECRET``); a missing, stale or wrong signature is refused with
401 before the body is read. Both PUTs are idempotent: the same body again answers 200 and changes
nothing (the record's ``version`` counts real changes only).
"""

import time
from datetime import date
from typing import Annotated, Literal, TypeVar

from fastapi import Header, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field, StringConstraints, ValidationError

from domain.signing import SignatureError, verify
from sandbox.clock import now_iso
from sandbox.common import StrictModel, Text, Vin
from sandbox.errors import DepartmentError
from sandbox.routing import RuntimeDep, department_router, helper_router
from sandbox.state import JSON

router = department_router("regulator")
helpers = helper_router()

SIGNATURE_TOLERANCE_S = 300
RecordState = Literal["valid", "invalid"]
AreaCode = Annotated[str, StringConstraints(pattern=r"^\d{6}$")]
M = TypeVar("M", bound=BaseModel)


class VehicleRecordIn(StrictModel):
    """The vehicle base-information record (车辆基本信息), as the platform receives it."""

    administrative_area: AreaCode
    plate: Text
    plate_colour: Text
    seats: int = Field(ge=1, le=99)
    brand: Text
    model: Text
    vehicle_type: Text
    owner: Text
    vin: Vin
    registered_on: date
    fuel: Text
    permit_number: Text
    issuing_authority: Text
    operating_area: Text
    valid_from: date
    valid_until: date
    annual_review: Literal["qualified", "due", "lapsed"]
    state: RecordState


class StateChangeIn(StrictModel):
    state: RecordState
    reason: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=500)]


async def _signed_body(request: Request, signature: str | None) -> bytes:
    """The request's body once its signature is verified; 401 ``invalid_signature`` otherwise."""
    body = await request.body()
    secret = request.app.state.runtime.settings.regulator_secret
    try:
        verify(secret, body, signature or "", now=int(time.time()), tolerance_s=SIGNATURE_TOLERANCE_S)
    except SignatureError as err:
        raise DepartmentError(401, "invalid_signature", f"Signature refused: {err.reason}.") from None
    return body


def _parsed(model: type[M], body: bytes) -> M:
    try:
        return model.model_validate_json(body)
    except ValidationError as err:
        fields = sorted({".".join(str(part) for part in error["loc"]) for error in err.errors()})
        raise DepartmentError(422, "invalid_body", "The body is not a valid record.", fields=fields) from None


@router.put("/vehicles/{permit_number}")
async def put_vehicle(
    permit_number: str,
    request: Request,
    runtime: RuntimeDep,
    signature: Annotated[str | None, Header(alias="X-Signature")] = None,
) -> JSONResponse:
    """Create or replace a licensed vehicle's record: 201 when new, 200 otherwise."""
    record = _parsed(VehicleRecordIn, await _signed_body(request, signature))
    if record.permit_number != permit_number:
        raise DepartmentError(422, "permit_number_mismatch", "The record's permit number is not the path's.")
    data = record.model_dump(mode="json")
    kept = runtime.state.regulator_records.get(permit_number)
    if kept is None:
        kept = runtime.state.regulator_records[permit_number] = {"record": data, "version": 1, "updated_at": now_iso()}
        runtime.save()
        return JSONResponse(_view(kept), status_code=201)
    if kept["record"] != data:
        kept.update(record=data, version=kept["version"] + 1, updated_at=now_iso())
        runtime.save()
    return JSONResponse(_view(kept))


@router.put("/vehicles/{permit_number}/state")
async def put_state(
    permit_number: str,
    request: Request,
    runtime: RuntimeDep,
    signature: Annotated[str | None, Header(alias="X-Signature")] = None,
) -> JSON:
    """Turn a record valid or invalid (注销, lapse); 404 ``record_unknown`` when it was never reported."""
    change = _parsed(StateChangeIn, await _signed_body(request, signature))
    kept = runtime.state.regulator_records.get(permit_number)
    if kept is None:
        raise DepartmentError(404, "record_unknown", "No vehicle record with this permit number.")
    if (kept["record"]["state"], kept.get("reason")) != (change.state, change.reason):
        kept["record"]["state"] = change.state
        kept.update(reason=change.reason, version=kept["version"] + 1, updated_at=now_iso())
        runtime.save()
    return _view(kept)


def _view(kept: JSON) -> JSON:
    record = kept["record"]
    return {"permit_number": record["permit_number"], "state": record["state"], "version": kept["version"]}


@helpers.get("/regulator/records")
async def records(runtime: RuntimeDep) -> JSON:
    """Every record the platform holds, with its state's reason and how often it changed (for tests)."""
    return {
        "records": [
            {
                **kept["record"],
                "reason": kept.get("reason"),
                "version": kept["version"],
                "updated_at": kept["updated_at"],
            }
            for kept in runtime.state.regulator_records.values()
        ]
    }
