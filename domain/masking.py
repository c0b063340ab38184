"""Masking of personal data for display and logs.

Every function is pure, accepts anything (None and empty give ""), and never raises.
"""

from __future__ import annotations

import re
from typing import Final

from domain.validators import PROVINCE_ABBREVIATIONS, vin_check_digit

__all__ = [
    "mask_address",
    "mask_id_number",
    "mask_name",
    "mask_phone",
    "mask_plate",
    "mask_text",
    "mask_vin",
]

_STAR: Final = "*"


def _coerce(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, str):
        return value
    try:
        return str(value)
    except Exception:  # noqa: BLE001 - an object's __str__ may raise anything, and a masker never raises
        return ""


def _keep_ends(text: str, head: int, tail: int) -> str:
    """Keep `head` leading and `tail` trailing characters; all stars if nothing would be hidden."""
    hidden = len(text) - head - tail
    if hidden <= 0:
        return _STAR * len(text)
    return text[:head] + _STAR * hidden + text[len(text) - tail :]


def mask_id_number(value: str | None) -> str:
    """'330302199001011234' -> '3303**********1234'."""
    return _keep_ends(_coerce(value).strip(), 4, 4)


_MOBILE_VALUE: Final = re.compile(r"((?:\+|00)?86[ -]?)?(1[3-9]\d(?:[ -]?\d{4}){2})")


def _mask_mobile_digits(number: str) -> str:
    """Star the 4th to 7th digits of an 11-digit number, keeping any separators."""
    masked: list[str] = []
    digits = 0
    for char in number:
        if char.isdigit():
            digits += 1
            masked.append(_STAR if 3 < digits <= 7 else char)
        else:
            masked.append(char)
    return "".join(masked)


def mask_phone(value: str | None) -> str:
    """'13800138000' -> '138****8000'; any +86 prefix and separators are kept."""
    text = _coerce(value).strip()
    match = _MOBILE_VALUE.fullmatch(text)
    if match is None:
        return _keep_ends(text, 3, 4)
    return (match.group(1) or "") + _mask_mobile_digits(match.group(2))


def mask_name(value: str | None) -> str:
    """'张三' -> '张*', '欧阳娜娜' -> '欧***', a one-character name -> '*'."""
    text = _coerce(value).strip()
    if len(text) <= 1:
        return _STAR * len(text)
    return text[0] + _STAR * (len(text) - 1)


def mask_plate(value: str | None) -> str:
    """'浙C12345' -> '浙C1***5'."""
    return _keep_ends(_coerce(value).strip(), 3, 1)


def mask_vin(value: str | None) -> str:
    """'LSVAU218XN2183294' -> 'LSVA*********3294'."""
    return _keep_ends(_coerce(value).strip(), 4, 4)


def mask_address(value: str | None) -> str:
    """Keep the first 6 characters and star the rest."""
    text = _coerce(value).strip()
    return text[:6] + _STAR * max(0, len(text) - 6)


_SENSITIVE: Final = re.compile(
    rf"""
    (?P<uuid>(?<![0-9A-Fa-f-])[0-9A-Fa-f]{{8}}(?:-[0-9A-Fa-f]{{4}}){{3}}-[0-9A-Fa-f]{{12}}(?![0-9A-Fa-f-]))
    | (?P<id>(?<!\d)\d{{17}}[\dXx](?!\d))
    | (?P<vin>(?<![A-Za-z0-9])[A-HJ-NPR-Za-hj-npr-z0-9]{{17}}(?![A-Za-z0-9]))
    | (?P<plate>[{PROVINCE_ABBREVIATIONS}][A-Za-z][·•\ ]?
        (?=[A-Za-z0-9]{{0,5}}[0-9])[A-Za-z0-9]{{5,6}}(?![A-Za-z0-9]))
    | (?<!\d)(?P<mobile_prefix>(?:\+|00)?86[\ -]?)?
        (?P<mobile>1[3-9]\d(?:[\ -]?\d{{4}}){{2}})(?!\d)
    """,
    re.VERBOSE,
)


def _looks_like_vin(candidate: str) -> bool:
    has_letter = any(char.isalpha() for char in candidate)
    has_digit = any(char.isdigit() for char in candidate)
    if has_letter and has_digit:
        return True
    vin = candidate.upper()
    return vin[8] == vin_check_digit(vin)


def _mask_match(match: re.Match[str]) -> str:
    kind = match.lastgroup
    found = match.group(0)
    if kind == "uuid":
        return found  # run and application ids: "…-f138-1234-8918-…" is not a mobile number
    if kind == "id":
        return mask_id_number(found)
    if kind == "vin":
        return mask_vin(found) if _looks_like_vin(found) else found
    if kind == "plate":
        return mask_plate(found)
    return (match.group("mobile_prefix") or "") + _mask_mobile_digits(match.group("mobile"))


def mask_text(value: str | None) -> str:
    """Mask ID numbers, mobile numbers, VINs and plates found anywhere in free text."""
    text = _coerce(value)
    if not text:
        return ""
    try:
        return _SENSITIVE.sub(_mask_match, text)
    except ValueError:  # a VIN check digit refused: hide everything rather than leak
        return _STAR * len(text)
