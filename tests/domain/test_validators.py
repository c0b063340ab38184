"""Validators: known-good and known-bad examples, and check-character properties.

All identifiers here are generated; none belongs to a real person or vehicle.
"""

from __future__ import annotations

import pickle
from datetime import date

import pytest
from hypothesis import given
from hypothesis import strategies as st

from domain.districts import CITY_CODE, DISTRICTS, covers
from domain.validators import (
    ValidationFailure,
    id_check_character,
    is_local_plate,
    is_new_energy_plate,
    validate_district,
    validate_id_number,
    validate_mobile,
    validate_person_name,
    validate_plate,
    validate_vin,
    vin_check_digit,
)

TODAY = date(2025, 6, 1)
DIGITS = "0123456789"
VIN_ALPHABET = "0123456789ABCDEFGHJKLMNPRSTUVWXYZ"
VIN_WEIGHTS = (8, 7, 6, 5, 4, 3, 2, 10, 0, 9, 8, 7, 6, 5, 4, 3, 2)


def reference_id_check(first17: str) -> str:
    """GB 11643-1999 check character, derived independently: weights are 2^(17-i) mod 11."""
    total = sum(int(d) * pow(2, 17 - i, 11) for i, d in enumerate(first17))
    value = (12 - total % 11) % 11
    return "X" if value == 10 else str(value)


def reference_vin_check(vin: str) -> str:
    """ISO 3779 check digit, with the transliteration read off a positional table."""
    table = "0123456789.ABCDEFGH..JKLMN.P.R..STUVWXYZ"
    total = sum(table.index(c) % 10 * w for c, w in zip(vin, VIN_WEIGHTS, strict=True))
    return "X" if total % 11 == 10 else str(total % 11)


def rule_of(func, *args, **kwargs) -> str:
    with pytest.raises(ValidationFailure) as caught:
        func(*args, **kwargs)
    return caught.value.rule


def test_validation_failure_carries_rule_and_message() -> None:
    failure = ValidationFailure("vin.length", "VIN must have 17 characters")
    assert isinstance(failure, ValueError)
    assert failure.rule == "vin.length"
    assert failure.message == str(failure) == "VIN must have 17 characters"
    restored = pickle.loads(pickle.dumps(failure))
    assert (restored.rule, restored.message) == (failure.rule, failure.message)


# --- ID number ---------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("330302198502141236", "330302198502141236"),
        ("330382200002290077", "330382200002290077"),
        ("33030219850214009X", "33030219850214009X"),
        ("33030219850214009x", "33030219850214009X"),
        (" 330302198502141236\n", "330302198502141236"),
    ],
)
def test_id_number_accepts(raw: str, expected: str) -> None:
    assert validate_id_number(raw, today=TODAY) == expected
    assert reference_id_check(expected[:17]) == expected[17]


@pytest.mark.parametrize(
    ("raw", "rule"),
    [
        ("", "id_number.length"),
        ("33030219850214123", "id_number.length"),
        ("3303021985021412360", "id_number.length"),
        ("33030219850214123A", "id_number.format"),
        ("3303021985021412X6", "id_number.format"),
        ("33030219850214123６", "id_number.format"),
        ("330302198502301234", "id_number.birth_date"),
        ("330302199902290000", "id_number.birth_date"),
        ("330302198513011234", "id_number.birth_date"),
        ("330302189912311234", "id_number.birth_date"),
        ("330302203001011234", "id_number.birth_date"),
        ("330302198502141237", "id_number.check_character"),
        ("330302198502140090", "id_number.check_character"),
    ],
)
def test_id_number_rejects(raw: str, rule: str) -> None:
    assert rule_of(validate_id_number, raw, today=TODAY) == rule


def test_id_number_message_names_the_standard() -> None:
    with pytest.raises(ValidationFailure) as caught:
        validate_id_number("330302198502141237", today=TODAY)
    assert str(caught.value).startswith("ID number check character does not match (GB 11643-1999)")
    assert "330302198502141237" not in str(caught.value)


def test_id_number_birth_date_today_is_allowed_tomorrow_is_not() -> None:
    first17 = "33030220250601001"
    number = first17 + reference_id_check(first17)
    assert validate_id_number(number, today=TODAY) == number
    assert rule_of(validate_id_number, number, today=date(2025, 5, 31)) == "id_number.birth_date"


def test_id_number_today_defaults_to_the_current_date() -> None:
    first17 = f"330302{date.today():%Y%m%d}001"
    assert validate_id_number(first17 + reference_id_check(first17)).startswith(first17)


id_first17 = st.builds(
    lambda area, born, seq: f"{area}{born:%Y%m%d}{seq}",
    st.text(DIGITS, min_size=6, max_size=6),
    st.dates(min_value=date(1900, 1, 1), max_value=TODAY),
    st.text(DIGITS, min_size=3, max_size=3),
)


@given(id_first17)
def test_id_number_with_computed_check_character_is_valid(first17: str) -> None:
    check = reference_id_check(first17)
    assert id_check_character(first17) == check
    assert validate_id_number(first17 + check, today=TODAY) == first17 + check
    assert validate_id_number(first17 + check.lower(), today=TODAY) == first17 + check


@given(id_first17, st.sampled_from(DIGITS + "X"))
def test_id_number_with_any_other_check_character_is_invalid(first17: str, check: str) -> None:
    if check == reference_id_check(first17):
        check = "X" if check == "0" else "0"
    assert rule_of(validate_id_number, first17 + check, today=TODAY) == "id_number.check_character"


# --- VIN -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("LSVAU218XN2183294", "LSVAU218XN2183294"),
        ("lsvau218xn2183294", "LSVAU218XN2183294"),
        (" LSVAU 218X N218 3294 ", "LSVAU218XN2183294"),
        ("LFV3A23C3K3000001", "LFV3A23C3K3000001"),
        ("12345678712345678", "12345678712345678"),
    ],
)
def test_vin_accepts(raw: str, expected: str) -> None:
    assert validate_vin(raw) == expected


@pytest.mark.parametrize(
    ("raw", "rule"),
    [
        ("", "vin.length"),
        ("LSVAU218XN218329", "vin.length"),
        ("LSVAU218XN21832945", "vin.length"),
        ("LSVAU218XN218329I", "vin.characters"),
        ("LSVAU218XN218329O", "vin.characters"),
        ("LSVAQ218XN2183294", "vin.characters"),
        ("LSVAU218X-2183294", "vin.characters"),
        ("LSVAU2180N2183294", "vin.check_digit"),
        ("LFV3A23C0K3000001", "vin.check_digit"),
    ],
)
def test_vin_rejects(raw: str, rule: str) -> None:
    assert rule_of(validate_vin, raw) == rule


def test_api_docs_example_vin_has_check_digit_x() -> None:
    assert vin_check_digit("LSVAU2180N2183294") == "X"
    assert reference_vin_check("LSVAU2180N2183294") == "X"


def test_vin_check_digit_rejects_malformed_input() -> None:
    assert rule_of(vin_check_digit, "LSVAU") == "vin.length"
    assert rule_of(vin_check_digit, "LSVAU218XN218329O") == "vin.characters"


vin_bodies = st.text(VIN_ALPHABET, min_size=16, max_size=16)


def with_check(body: str, check: str) -> str:
    return body[:8] + check + body[8:]


@given(vin_bodies)
def test_vin_with_computed_check_digit_is_valid(body: str) -> None:
    check = reference_vin_check(with_check(body, "0"))
    vin = with_check(body, check)
    assert vin_check_digit(vin) == check
    assert validate_vin(vin) == vin
    assert validate_vin(vin.lower()) == vin


@given(vin_bodies, st.sampled_from(VIN_ALPHABET))
def test_vin_with_any_other_check_digit_is_invalid(body: str, check: str) -> None:
    if check == reference_vin_check(with_check(body, "0")):
        check = "X" if check == "0" else "0"
    assert rule_of(validate_vin, with_check(body, check)) == "vin.check_digit"


# --- Plate -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("浙C12345", "浙C12345"),
        ("浙CA1B2C", "浙CA1B2C"),
        ("浙c8h9k2", "浙C8H9K2"),
        (" 浙C 12345 ", "浙C12345"),
        ("浙C·12345", "浙C12345"),
        ("浙CD12345", "浙CD12345"),
        ("浙CFA1234", "浙CFA1234"),
        ("浙C12345D", "浙C12345D"),
        ("浙cd12345", "浙CD12345"),
    ],
)
def test_plate_accepts(raw: str, expected: str) -> None:
    assert validate_plate(raw) == expected


@pytest.mark.parametrize(
    ("raw", "rule"),
    [
        ("", "plate.format"),
        ("C12345", "plate.format"),
        ("浙C1234", "plate.format"),
        ("浙C1234567", "plate.format"),
        ("浙CI2345", "plate.format"),
        ("浙C1234O", "plate.format"),
        ("浙C123456", "plate.format"),
        ("浙CD1234A", "plate.format"),
        ("浙C12345A", "plate.format"),
        ("浙C1234-5", "plate.format"),
        ("台A12345", "plate.format"),
        ("京A123456", "plate.format"),
        ("浙A12345", "plate.not_local"),
        ("浙B1C2D3", "plate.not_local"),
        ("京A12345", "plate.not_local"),
        ("粤BD12345", "plate.not_local"),
        ("沪A12345F", "plate.not_local"),
    ],
)
def test_plate_rejects(raw: str, rule: str) -> None:
    assert rule_of(validate_plate, raw) == rule


@pytest.mark.parametrize(
    ("plate", "expected"),
    [
        ("浙CD12345", True),
        ("浙C12345F", True),
        ("京AF12345", True),
        ("浙c d12345", True),
        ("浙C12345", False),
        ("浙C123456", False),
        ("", False),
    ],
)
def test_is_new_energy_plate(plate: str, expected: bool) -> None:
    assert is_new_energy_plate(plate) is expected


def test_is_local_plate() -> None:
    assert is_local_plate("浙C12345")
    assert is_local_plate("浙cD12345")
    assert not is_local_plate("浙A12345")
    assert is_local_plate("浙A12345", prefix="浙A")
    assert not is_local_plate("浙C1")
    assert not is_local_plate("")


# --- Mobile ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("13800138000", "13800138000"),
        ("19912345678", "19912345678"),
        ("+8613800138000", "13800138000"),
        ("+86 138 0013 8000", "13800138000"),
        ("86-138-0013-8000", "13800138000"),
        (" 138-0013-8000 ", "13800138000"),
    ],
)
def test_mobile_accepts(raw: str, expected: str) -> None:
    assert validate_mobile(raw) == expected


@pytest.mark.parametrize(
    "raw",
    [
        "",
        "12800138000",
        "10800138000",
        "1380013800",
        "138001380001",
        "+85213800138000",
        "+8713800138000",
        "0577-88888888",
        "1380013800O",
        "１３８００１３８０００",
    ],
)
def test_mobile_rejects(raw: str) -> None:
    assert rule_of(validate_mobile, raw) == "mobile.format"


# --- District --------------------------------------------------------------------


def test_districts_are_the_twelve_wenzhou_divisions() -> None:
    assert len(DISTRICTS) == 12
    assert all(code.startswith("3303") and code != CITY_CODE for code in DISTRICTS)
    assert DISTRICTS["330302"] == "鹿城区"
    assert DISTRICTS["330383"] == "龙港市"


@pytest.mark.parametrize("code", sorted(DISTRICTS))
def test_district_accepts_each_county_level_code(code: str) -> None:
    assert validate_district(code) == code
    assert validate_district(f" {code} ") == code


@pytest.mark.parametrize("raw", ["", CITY_CODE, "330301", "330325", "330100", "110101", "鹿城区", "3303021"])
def test_district_rejects(raw: str) -> None:
    with pytest.raises(ValidationFailure) as caught:
        validate_district(raw)
    assert caught.value.rule == "district.unknown"
    assert "twelve county-level codes" in caught.value.message


def test_city_covers_all_twelve_and_nothing_else() -> None:
    assert all(covers(CITY_CODE, code) for code in DISTRICTS)
    assert not covers(CITY_CODE, "330100")
    assert not covers(CITY_CODE, "")


def test_county_covers_only_itself() -> None:
    assert covers("330302", "330302")
    assert not covers("330302", "330303")
    assert not covers("330302", CITY_CODE)


def test_unknown_principal_covers_nothing() -> None:
    assert not any(covers(principal, code) for principal in ("", "330100", "330301") for code in DISTRICTS)


# --- Person name -----------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("张三", "张三"),
        ("欧阳娜娜", "欧阳娜娜"),
        ("  李  ", "李"),
        ("阿依古丽·买买提", "阿依古丽·买买提"),
        ("Anna Schmidt", "Anna Schmidt"),
        ("测" * 50, "测" * 50),
    ],
)
def test_person_name_accepts(raw: str, expected: str) -> None:
    assert validate_person_name(raw) == expected


@pytest.mark.parametrize("raw", ["", "   ", "测" * 51, "张\n三", "张\x00三", "张\u200b三", "张\x7f三"])
def test_person_name_rejects(raw: str) -> None:
    assert rule_of(validate_person_name, raw) == "name.format"
