"""Eligibility of a vehicle under the local policy in `data/eligibility.toml`."""

from __future__ import annotations

import tomllib
from dataclasses import dataclass
from datetime import date, timedelta
from importlib import resources
from typing import Any

POLICY_FILE = "eligibility.toml"


@dataclass(frozen=True)
class Policy:
    max_seats: int
    local_plate_prefix: str
    allowed_fuels: frozenset[str]
    allowed_usage_natures: frozenset[str]
    permit_valid_years: int
    min_remaining_service_years: int
    min_range_km: dict[str, int]
    inspection_must_pass: bool
    inspection_min_days_valid: int
    blocking_flags: frozenset[str]

    @classmethod
    def from_mapping(cls, data: dict[str, Any]) -> Policy:
        vehicle, nev, inspection = data["vehicle"], data["nev"], data["inspection"]
        return cls(
            max_seats=int(vehicle["max_seats"]),
            local_plate_prefix=str(vehicle["local_plate_prefix"]),
            allowed_fuels=frozenset(vehicle["allowed_fuels"]),
            allowed_usage_natures=frozenset(vehicle["allowed_usage_natures"]),
            permit_valid_years=int(vehicle["permit_valid_years_from_registration"]),
            min_remaining_service_years=int(vehicle["min_remaining_service_years"]),
            min_range_km={k: int(v) for k, v in nev["min_range_km"].items()},
            inspection_must_pass=bool(inspection["must_pass"]),
            inspection_min_days_valid=int(inspection["min_days_valid"]),
            blocking_flags=frozenset(data["vehicle_admin"]["blocking_flags"]),
        )


def load_policy() -> Policy:
    text = resources.files("domain.data").joinpath(POLICY_FILE).read_text(encoding="utf-8")
    return Policy.from_mapping(tomllib.loads(text))


@dataclass(frozen=True)
class VehicleFacts:
    """What the departments told us about the vehicle, in plain types."""

    plate: str
    seats: int
    fuel: str
    usage_nature: str
    flags: list[str]
    inspection_passed: bool
    inspection_valid_until: str
    nev_range_km: int | None = None
    # ISO day of the vehicle's registration at PSB; None only in assessments started before the age rule.
    registered_on: str | None = None


@dataclass(frozen=True)
class Finding:
    rule: str
    message: str


FUEL_NAMES = {
    "bev": "纯电动",
    "phev": "插电式混合动力",
    "fcev": "燃料电池",
    "gasoline": "汽油",
    "diesel": "柴油",
    "hev": "油电混合动力",
}


def _fuel(code: str) -> str:
    return f"“{FUEL_NAMES.get(code, code)}”"


def assess(facts: VehicleFacts, policy: Policy, on: date) -> list[Finding]:
    """Every rule the vehicle fails, said as the applicant reads it; empty when it is eligible."""
    findings: list[Finding] = []

    def fail(rule: str, message: str) -> None:
        findings.append(Finding(rule, message))

    if facts.seats > policy.max_seats:
        fail("vehicle.seats", f"车辆核定载客{facts.seats}座，不得超过{policy.max_seats}座")
    if not facts.plate.startswith(policy.local_plate_prefix):
        fail("vehicle.local_plate", f"车辆须为本地号牌（{policy.local_plate_prefix}）")
    if facts.fuel not in policy.allowed_fuels:
        fail("vehicle.fuel", f"燃料类型{_fuel(facts.fuel)}不在准入范围内")
    if facts.usage_nature not in policy.allowed_usage_natures:
        fail("vehicle.usage_nature", f"车辆使用性质为“{facts.usage_nature}”，不能变更为预约出租客运")
    minimum = policy.min_range_km.get(facts.fuel)
    if minimum is not None and (facts.nev_range_km is None or facts.nev_range_km < minimum):
        found = "未知" if facts.nev_range_km is None else f"{facts.nev_range_km}公里"
        fail("nev.min_range", f"工信部目录续驶里程{found}，低于{_fuel(facts.fuel)}车辆{minimum}公里的要求")
    if policy.inspection_must_pass and not facts.inspection_passed:
        fail("inspection.passed", "车辆综合性能检测未通过")
    if date.fromisoformat(facts.inspection_valid_until) < on + timedelta(days=policy.inspection_min_days_valid):
        fail(
            "inspection.validity",
            f"综合性能检测报告有效期至{facts.inspection_valid_until}，剩余不足{policy.inspection_min_days_valid}天",
        )
    if facts.registered_on is not None:
        ends_on = permit_valid_until(date.fromisoformat(facts.registered_on), policy)
        if ends_on < _add_years(on, policy.min_remaining_service_years):
            fail(
                "vehicle.service_life",
                f"车辆注册登记日期为{facts.registered_on}，将于{ends_on.isoformat()}使用满{policy.permit_valid_years}年"
                f"退出网约车经营，剩余使用年限不足{policy.min_remaining_service_years}年",
            )
    blocking = sorted(policy.blocking_flags.intersection(facts.flags))
    if blocking:
        fail("vehicle_admin.blocking_flags", f"公安车管所登记的情形不允许变更使用性质：{'、'.join(blocking)}")
    return findings


def permit_valid_until(registered_on: date, policy: Policy) -> date:
    """The end of the vehicle's service life (8 years from registration): no permit is valid past it."""
    return _add_years(registered_on, policy.permit_valid_years)


def _add_years(day: date, years: int) -> date:
    """The same day ``years`` later; 29 February becomes the 28th in a common year."""
    try:
        return day.replace(year=day.year + years)
    except ValueError:
        return day.replace(year=day.year + years, day=28)
