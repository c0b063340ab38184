"""Insurance platform: carrier liability policies (承运人责任险)."""

import secrets
from datetime import date, timedelta
from typing import Self

from pydantic import model_validator

from sandbox.clock import now_iso, today
from sandbox.common import StrictModel, Text, Vin
from sandbox.routing import RuntimeDep, department_router, helper_router
from sandbox.state import JSON

router = department_router("insurance")
helpers = helper_router()

CARRIER_LIABILITY = "carrier_liability"


class PurchaseIn(StrictModel):
    """A purchase; the cover runs one year from today unless given."""

    plate: Text
    vin: Vin
    valid_from: date | None = None
    valid_until: date | None = None

    @model_validator(mode="after")
    def _cover_not_reversed(self) -> Self:
        if self.valid_from and self.valid_until and self.valid_until < self.valid_from:
            raise ValueError("valid_until is before valid_from")
        return self


def _one_year_cover(valid_from: date) -> date:
    try:
        anniversary = valid_from.replace(year=valid_from.year + 1)
    except ValueError:
        anniversary = date(valid_from.year + 1, 3, 1)
    return anniversary - timedelta(days=1)


@helpers.post("/insurance/policies", status_code=201)
async def buy_policy(purchase: PurchaseIn, runtime: RuntimeDep) -> JSON:
    """The owner buys a policy; the platform then calls back with it."""
    valid_from = purchase.valid_from or today()
    policy = {
        "policy_no": f"PZAC{valid_from.year}3303{secrets.randbelow(10**10):010d}",
        "vin": purchase.vin,
        "plate": purchase.plate,
        "kind": CARRIER_LIABILITY,
        "valid_from": valid_from.isoformat(),
        "valid_until": (purchase.valid_until or _one_year_cover(valid_from)).isoformat(),
        "bought_at": now_iso(),
    }
    runtime.state.policies.append(policy)
    runtime.save()
    runtime.notify("insurance", policy)
    return policy


@router.get("/policies")
async def find_policies(vin: str, plate: str, runtime: RuntimeDep) -> JSON:
    """The carrier liability policies of a vehicle, valid or not."""
    return {
        "policies": [policy for policy in runtime.state.policies if policy["vin"] == vin and policy["plate"] == plate]
    }
