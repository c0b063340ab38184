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


def test_a_vehicle_with_less_than_the_minimum_service_life_left_is_refused() -> None:
    # Registered 2018-11-03: its 8 years end 2026-11-03, one day after the assessment.
    [finding] = assess(replace(ELIGIBLE, registered_on="2018-11-03"), load_policy(), ON)

    assert finding.rule == "vehicle.service_life"
    assert finding.message == "车辆注册登记日期为2018-11-03，将于2026-11-03使用满8年退出网约车经营，剩余使用年限不足1年"


def test_a_vehicle_registered_in_2017_gets_no_permit_void_on_issue() -> None:
    findings = assess(replace(ELIGIBLE, registered_on="2017-03-01"), load_policy(), ON)

    assert [finding.rule for finding in findings] == ["vehicle.service_life"]


def test_exactly_the_minimum_service_life_left_is_allowed() -> None:
    # 8 years end 2027-11-02: exactly one year after the assessment.
    assert assess(replace(ELIGIBLE, registered_on="2019-11-02"), load_policy(), ON) == []
    [finding] = assess(replace(ELIGIBLE, registered_on="2019-11-01"), load_policy(), ON)
    assert finding.rule == "vehicle.service_life"


def test_the_minimum_service_life_is_the_policy_files() -> None:
    two_years = replace(load_policy(), min_remaining_service_years=2)
    vehicle = replace(ELIGIBLE, registered_on="2020-06-01")  # 8 years end 2028-06-01

    assert assess(vehicle, load_policy(), ON) == []
    assert [finding.rule for finding in assess(vehicle, two_years, ON)] == ["vehicle.service_life"]
