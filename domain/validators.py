"""Validators for citizen-supplied identifiers, to the national standards.

Each `validate_*` function returns the normalized value or raises
`ValidationFailure`. Messages never echo the submitted value, so they are safe
to log and to show to the citizen.
"""

from __future__ import annotations

import re
import unicodedata
from datetime import date
from typing import Final

from domain.districts import DISTRICTS

__all__ = [
    "PROVINCE_ABBREVIATIONS",
    "WENZHOU_PLATE_PATTERN",
    "ValidationFailure",
    "id_check_character",
    "is_local_plate",
    "is_new_energy_plate",
    "validate_district",
    "validate_id_number",
    "validate_mobile",
    "validate_person_name",
    "validate_plate",
    "validate_vin",
    "vin_check_digit",
]


class ValidationFailure(ValueError):
    """A value broke a named validation rule."""

    def __init__(self, rule: str, message: str) -> None:
        super().__init__(message)
        self.rule = rule
        self.message = message

    def __str__(self) -> str:
        return self.message

    def __reduce__(self) -> tuple[type[ValidationFailure], tuple[str, str]]:
        return type(self), (self.rule, self.message)


# --- Resident ID number (GB 11643-1999) -------------------------------------

_ID_WEIGHTS: Final = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
_ID_CHECK_MAP: Final = "10X98765432"
_ID_SHAPE: Final = re.compile(r"[0-9]{17}[0-9X]")
_ID_DIGITS17: Final = re.compile(r"[0-9]{17}")


def id_check_character(first17: str) -> str:
    """The ISO 7064 MOD 11-2 check character for the first 17 digits of an ID number."""
    if not _ID_DIGITS17.fullmatch(first17):
        raise ValidationFailure("id_number.format", "ID number must start with 17 digits (GB 11643-1999)")
    total = sum(int(digit) * weight for digit, weight in zip(first17, _ID_WEIGHTS, strict=True))
    return _ID_CHECK_MAP[total % 11]


def validate_id_number(value: str, *, today: date | None = None) -> str:
    """Validate an 18-character resident ID number; returns it with an uppercase X."""
    number = value.strip().upper()
    if len(number) != 18:
        raise ValidationFailure(
            "id_number.length",
            f"ID number must have 18 characters, not {len(number)} (GB 11643-1999)",
        )
    if not _ID_SHAPE.fullmatch(number):
        raise ValidationFailure(
            "id_number.format",
            "ID number must be 17 digits followed by a digit or X (GB 11643-1999)",
        )
    try:
        born = date(int(number[6:10]), int(number[10:12]), int(number[12:14]))
    except ValueError:
        raise ValidationFailure(
            "id_number.birth_date",
            "ID number birth date (characters 7-14) is not a real calendar date (GB 11643-1999)",
        ) from None
    if born.year < 1900:
        raise ValidationFailure(
            "id_number.birth_date",
            "ID number birth date (characters 7-14) is before 1900 (GB 11643-1999)",
        )
    if born > (today or date.today()):
        raise ValidationFailure(
            "id_number.birth_date",
            "ID number birth date (characters 7-14) is in the future (GB 11643-1999)",
        )
    if id_check_character(number[:17]) != number[17]:
        raise ValidationFailure(
            "id_number.check_character",
            "ID number check character does not match (GB 11643-1999); please check the number for a typo",
        )
    return number


# --- Vehicle identification number (GB 16735 / ISO 3779) ---------------------

_VIN_VALUES: Final = {
    **{str(digit): digit for digit in range(10)},
    **dict(zip("ABCDEFGH", range(1, 9), strict=True)),
    **dict(zip("JKLMN", range(1, 6), strict=True)),
    "P": 7,
    "R": 9,
    **dict(zip("STUVWXYZ", range(2, 10), strict=True)),
}
_VIN_WEIGHTS: Final = (8, 7, 6, 5, 4, 3, 2, 10, 0, 9, 8, 7, 6, 5, 4, 3, 2)
_VIN_SHAPE: Final = re.compile(r"[A-HJ-NPR-Z0-9]{17}")
_WHITESPACE: Final = re.compile(r"\s+")


def _normalize_vin(value: str) -> str:
    vin = _WHITESPACE.sub("", value).upper()
    if len(vin) != 17:
        raise ValidationFailure("vin.length", f"VIN must have 17 characters, not {len(vin)} (GB 16735)")
    if not _VIN_SHAPE.fullmatch(vin):
        raise ValidationFailure(
            "vin.characters",
            "VIN may contain only digits and the letters A-Z except I, O and Q (GB 16735)",
        )
    return vin


def vin_check_digit(vin17: str) -> str:
    """The check digit (0-9 or X) due at position 9 of a 17-character VIN."""
    vin = _normalize_vin(vin17)
    remainder = sum(_VIN_VALUES[char] * weight for char, weight in zip(vin, _VIN_WEIGHTS, strict=True)) % 11
    return "X" if remainder == 10 else str(remainder)


def validate_vin(value: str) -> str:
    """Validate a VIN, including its check digit; returns it uppercase without spaces."""
    vin = _normalize_vin(value)
    if vin[8] != vin_check_digit(vin):
        raise ValidationFailure(
            "vin.check_digit",
            "VIN check digit (9th character) does not match (GB 16735); please check the VIN for a typo",
        )
    return vin


# --- Plate number (GA 36-2018) -----------------------------------------------

PROVINCE_ABBREVIATIONS: Final = "京津沪渝冀豫云辽黑湘皖鲁新苏浙赣鄂桂甘晋蒙陕吉闽贵粤青藏川宁琼"
WENZHOU_PLATE_PREFIX: Final = "浙C"

_PLATE_BODY: Final = (
    r"(?:[A-HJ-NP-Z0-9]{5}"  # ordinary
    r"|[DF][A-HJ-NP-Z0-9][0-9]{4}"  # small new-energy
    r"|[0-9]{5}[DF])"  # large new-energy
)
_PLATE: Final = re.compile(rf"[{PROVINCE_ABBREVIATIONS}][A-Z]{_PLATE_BODY}")
# A normalized Wenzhou plate, whole: the `pattern` of a plate filter (query parameters).
WENZHOU_PLATE_PATTERN: Final = rf"^{WENZHOU_PLATE_PREFIX}{_PLATE_BODY}$"
_PLATE_SEPARATORS: Final = re.compile(r"[\s·•]+")


def _normalize_plate(value: str) -> str:
    return _PLATE_SEPARATORS.sub("", value).upper()


def _well_formed_plate(value: object) -> str | None:
    if not isinstance(value, str):
        return None
    plate = _normalize_plate(value)
    return plate if _PLATE.fullmatch(plate) else None


def is_new_energy_plate(plate: str) -> bool:
    """Whether `plate` is a well-formed 8-character new-energy plate."""
    normalized = _well_formed_plate(plate)
    return normalized is not None and len(normalized) == 8


def is_local_plate(plate: str, prefix: str = WENZHOU_PLATE_PREFIX) -> bool:
    """Whether `plate` is a well-formed plate issued under `prefix` (浙C by default)."""
    normalized = _well_formed_plate(plate)
    return normalized is not None and normalized.startswith(prefix.upper())


def validate_plate(value: str) -> str:
    """Validate a Wenzhou (浙C) plate, ordinary or new-energy; returns it normalized."""
    plate = _well_formed_plate(value)
    if plate is not None and plate.startswith(WENZHOU_PLATE_PREFIX):
        return plate
    if plate is not None:
        raise ValidationFailure(
            "plate.not_local",
            "Plate must be registered in Wenzhou (浙C); plates from other cities are not eligible",
        )
    raise ValidationFailure(
        "plate.format",
        "Plate must be 浙C followed by 5 letters or digits, or by 6 for a new-energy "
        "plate (GA 36-2018); the letters I and O are not used",
    )


# --- Mobile number -------------------------------------------------------------

_MOBILE: Final = re.compile(r"(?:\+?86)?(1[3-9][0-9]{9})")
_MOBILE_SEPARATORS: Final = re.compile(r"[\s\-]+")


def validate_mobile(value: str) -> str:
    """Validate a mainland China mobile number; returns its 11 digits."""
    match = _MOBILE.fullmatch(_MOBILE_SEPARATORS.sub("", value))
    if match is None:
        raise ValidationFailure(
            "mobile.format",
            "Mobile number must be an 11-digit mainland China number starting with 13 to 19",
        )
    return match.group(1)


# --- District (GB/T 2260) --------------------------------------------------------


def validate_district(value: str) -> str:
    """Validate one of Wenzhou's twelve county-level division codes."""
    code = value.strip()
    if code not in DISTRICTS:
        raise ValidationFailure(
            "district.unknown",
            "District must be one of Wenzhou's twelve county-level codes (GB/T 2260), e.g. 330302 for 鹿城区",
        )
    return code


# --- Person name -----------------------------------------------------------------

_NAME_MAX_LENGTH: Final = 50
_FORBIDDEN_NAME_CATEGORIES: Final = frozenset({"Cc", "Cf", "Cs", "Zl", "Zp"})


def validate_person_name(value: str) -> str:
    """Validate a person's name: 1 to 50 characters, no control characters; returns it stripped."""
    name = value.strip()
    if not 1 <= len(name) <= _NAME_MAX_LENGTH:
        raise ValidationFailure("name.format", f"Name must be 1 to {_NAME_MAX_LENGTH} characters long")
    if any(unicodedata.category(char) in _FORBIDDEN_NAME_CATEGORIES for char in name):
        raise ValidationFailure("name.format", "Name must not contain control or invisible formatting characters")
    return name
