"""The sandbox's own controls: injected faults and a full reset."""

from fastapi import Response

from sandbox.errors import DepartmentError
from sandbox.faults import Fault
from sandbox.routing import RuntimeDep, helper_router
from sandbox.runtime import SERVICES
from sandbox.state import JSON

router = helper_router()


@router.put("/faults/{service}")
async def set_fault(service: str, fault: Fault, runtime: RuntimeDep) -> JSON:
    """Replace a department's fault: slow, dropping, failing, refusing or garbling at the rates given."""
    if service not in SERVICES:
        raise DepartmentError(404, "unknown_service", f"Services with faults: {', '.join(SERVICES)}.")
    runtime.state.faults[service] = fault.model_dump()
    runtime.save()
    return {"service": service, **runtime.state.faults[service]}


@router.get("/faults")
async def list_faults(runtime: RuntimeDep) -> JSON:
    """The faults in force, by service."""
    return {"faults": runtime.state.faults}


@router.delete("/faults")
async def clear_faults(runtime: RuntimeDep) -> JSON:
    """Make every department healthy again."""
    runtime.state.faults.clear()
    runtime.save()
    return {"faults": {}}


@router.get("/records")
async def records(runtime: RuntimeDep) -> JSON:
    """What the departments did, for drills to check against: usage changes, shipments, SMS."""
    state = runtime.state
    return {
        "usage_changes": [entry["view"] for entry in state.usage_changes.values()],
        "shipments": [entry["view"] for entry in state.shipments.values()],
        "sms": state.sms,
    }


@router.post("/reset", status_code=204)
async def reset(runtime: RuntimeDep) -> Response:
    """Forget everything and cancel pending work (for tests)."""
    await runtime.reset()
    return Response(status_code=204)
