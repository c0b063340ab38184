"""Tax bureau: the purchase invoice and the purchase-tax certificate of a vehicle."""

from datetime import date, timedelta

from sandbox.common import derived_digits
from sandbox.errors import DepartmentError
from sandbox.routing import RuntimeDep, department_router
from sandbox.runtime import Runtime
from sandbox.state import JSON

router = department_router("tax")


def _taxed_vehicle(runtime: Runtime, vin: str) -> JSON:
    vehicle = runtime.state.vehicles.get(vin)
    if vehicle is None or not vehicle["tax_records"]:
        raise DepartmentError(404, "tax_record_not_found", "No tax record for this vehicle.")
    return vehicle


def _days_before_registration(vehicle: JSON, days: int) -> str:
    return (date.fromisoformat(vehicle["registered_on"]) - timedelta(days=days)).isoformat()


@router.get("/invoices")
async def get_invoice(vin: str, runtime: RuntimeDep) -> JSON:
    """The vehicle purchase invoice (机动车销售统一发票)."""
    vehicle = _taxed_vehicle(runtime, vin)
    return {
        "invoice_no": f"0330{derived_digits(vin, 'invoice', 16)}",
        "vin": vin,
        "amount_yuan": float(80_000 + 100 * (int(derived_digits(vin, "amount", 6)) % 2_200)),
        "issued_on": _days_before_registration(vehicle, 7),
    }


@router.get("/purchase-tax")
async def get_purchase_tax(vin: str, runtime: RuntimeDep) -> JSON:
    """The purchase-tax certificate (车辆购置税缴税凭证)."""
    vehicle = _taxed_vehicle(runtime, vin)
    return {
        "certificate_no": f"3303{derived_digits(vin, 'purchase-tax', 14)}",
        "vin": vin,
        "paid_on": _days_before_registration(vehicle, 3),
    }
