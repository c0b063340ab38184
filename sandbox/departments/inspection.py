"""Inspection station: the comprehensive performance inspection report (综合性能检测报告)."""

from sandbox.common import derived_digits
from sandbox.errors import DepartmentError
from sandbox.routing import RuntimeDep, department_router
from sandbox.state import JSON

router = department_router("inspection")


@router.get("/reports")
async def get_report(vin: str, runtime: RuntimeDep) -> JSON:
    """The vehicle's latest inspection report."""
    vehicle = runtime.state.vehicles.get(vin)
    if vehicle is None or vehicle["inspection"] is None:
        raise DepartmentError(404, "inspection_report_not_found", "No inspection report for this vehicle.")
    return {
        "report_no": f"JC3303{derived_digits(vin, 'inspection', 10)}",
        "vin": vin,
        "passed": vehicle["inspection"]["passed"],
        "valid_until": vehicle["inspection"]["valid_until"],
    }
