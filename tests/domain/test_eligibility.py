"""The local vehicle conditions, as the shipped policy file states them."""

from dataclasses import replace
from datetime import date
from typing import Any

import pytest

from domain.eligibility import VehicleFacts, assess, load_policy, permit_valid_until

ON = date(2026, 11, 2)
ELIGIBLE = VehicleFacts(
    plate="浙C12345",
    seats=5,
    fuel="bev",
    usage_nature="非营运",
    flags=[],
    inspection_passed=True,
    inspection_valid_until="2027-06-30",
    nev_range_km=420,
)


def test_an_eligible_vehicle_has_no_findings() -> None:
    assert assess(ELIGIBLE, load_policy(), ON) == []


@pytest.mark.parametrize(
    ("change", "rule"),
    [
        ({"seats": 8}, "vehicle.seats"),
        ({"plate": "浙A12345"}, "vehicle.local_plate"),
        ({"fuel": "diesel", "nev_range_km": None}, "vehicle.fuel"),
        ({"usage_nature": "预约出租客运"}, "vehicle.usage_nature"),
        ({"nev_range_km": 299}, "nev.min_range"),
        ({"nev_range_km": None}, "nev.min_range"),
        ({"fuel": "phev", "nev_range_km": 49}, "nev.min_range"),
        ({"inspection_passed": False}, "inspection.passed"),
        ({"inspection_valid_until": "2026-11-01"}, "inspection.validity"),
        ({"flags": ["new_energy", "mortgaged"]}, "vehicle_admin.blocking_flags"),
    ],
)
def test_each_condition_fails_on_its_own(change: dict[str, Any], rule: str) -> None:
    findings = assess(replace(ELIGIBLE, **change), load_policy(), ON)

    assert [finding.rule for finding in findings] == [rule]
    assert findings[0].message


def test_the_limits_themselves_are_allowed() -> None:
    at_the_limits = replace(ELIGIBLE, seats=7, nev_range_km=300, inspection_valid_until=ON.isoformat())

    assert assess(at_the_limits, load_policy(), ON) == []


def test_blocking_flags_are_named_to_the_applicant() -> None:
    [finding] = assess(replace(ELIGIBLE, flags=["seized", "mortgaged", "new_energy"]), load_policy(), ON)

    assert finding.message.endswith("：mortgaged、seized")


def test_the_permit_lapses_eight_years_after_registration() -> None:
    assert permit_valid_until(date(2025, 6, 1), load_policy()) == date(2033, 6, 1)
    assert permit_valid_until(date(2024, 2, 29), load_policy()) == date(2032, 2, 29)
    assert permit_valid_until(date(2092, 2, 29), load_policy()) == date(2100, 2, 28)
