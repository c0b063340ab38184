"""Insurance platform: the vehicle's carrier liability policy (参保查询)."""

from datetime import date, datetime, timedelta, timezone
from typing import Protocol

from adapters.base import HttpDepartment
from workflows.types import Policy

CARRIER_LIABILITY = "carrier_liability"
CHINA_TZ = timezone(timedelta(hours=8))


class InsuranceClient(Protocol):
    async def find_policy(self, *, vin: str, plate: str) -> Policy | None:
        """The most recently bought carrier liability policy valid today, if any."""
        ...


class HttpInsuranceClient(HttpDepartment):
    department = "insurance platform"

    async def find_policy(self, *, vin: str, plate: str) -> Policy | None:
        action = "the policy query"
        data = await self._request("GET", "/insurance/v1/policies", action=action, params={"vin": vin, "plate": plate})
        items = data.get("policies") if isinstance(data, dict) else None
        if not isinstance(items, list):
            raise self._malformed(action)
        policies = [self._parse(Policy, item, action) for item in items]
        today = datetime.now(CHINA_TZ).date()
        try:
            valid = [policy for policy in policies if _covers(policy, today)]
            return max(valid, key=lambda policy: datetime.fromisoformat(policy.bought_at), default=None)
        except ValueError:
            raise self._malformed(action) from None


def _covers(policy: Policy, day: date) -> bool:
    return policy.kind == CARRIER_LIABILITY and date.fromisoformat(policy.valid_from) <= day <= date.fromisoformat(
        policy.valid_until
    )
