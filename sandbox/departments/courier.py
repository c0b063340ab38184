"""Courier: shipments that are delivered by themselves after ``courier_delay_s``."""

import secrets

from fastapi.responses import JSONResponse

from domain.statuses import ShipmentState
from sandbox.clock import now_iso
from sandbox.common import LongText, StrictModel, Text
from sandbox.errors import DepartmentError
from sandbox.routing import IdempotencyKey, RuntimeDep, department_router
from sandbox.runtime import Deferred, Runtime
from sandbox.state import JSON, SandboxState

router = department_router("courier")

CALLBACK_FIELDS = ("tracking_number", "reference", "status", "delivered_at")


class ShipmentIn(StrictModel):
    reference: Text
    recipient: Text
    phone: Text
    address: Text
    contents: LongText
    """What the parcel holds, e.g. "网约车运输证、机动车行驶证、机动车登记证书"."""


@router.post("/shipments", status_code=201)
async def create_shipment(
    shipment: ShipmentIn, runtime: RuntimeDep, idempotency_key: IdempotencyKey = None
) -> JSONResponse:
    """Pick up a parcel; it is delivered later and reported by callback."""
    return runtime.idempotent("courier", idempotency_key, 201, lambda: _pick_up(runtime, shipment))


@router.get("/shipments/{tracking_number}")
async def get_shipment(tracking_number: str, runtime: RuntimeDep) -> JSON:
    """The tracking state of a shipment."""
    entry = runtime.state.shipments.get(tracking_number)
    if entry is None:
        raise DepartmentError(404, "shipment_unknown", "No shipment with this tracking number.")
    view: JSON = entry["view"]
    return view


def _pick_up(runtime: Runtime, shipment: ShipmentIn) -> JSON:
    view: JSON = {
        "tracking_number": f"SF{secrets.randbelow(10**12):012d}",
        "reference": shipment.reference,
        "status": ShipmentState.IN_TRANSIT,
        "created_at": now_iso(),
        "delivered_at": None,
    }
    parcel = shipment.model_dump(exclude={"reference"})
    runtime.defer(DELIVERIES, view["tracking_number"], view, runtime.settings.courier_delay_s, parcel=parcel)
    return view


def _deliver(_state: SandboxState, entry: JSON) -> JSON:
    view = entry["view"]
    if view["status"] == ShipmentState.IN_TRANSIT:
        view.update(status=ShipmentState.DELIVERED, delivered_at=now_iso())
    return {field: view[field] for field in CALLBACK_FIELDS}


DELIVERIES = Deferred(source="courier", entries=lambda state: state.shipments, finish=_deliver)
