"""Synthetic citizens and vehicles that pass the national checks, and their scans, for tests, bench and drills."""

from __future__ import annotations

import itertools
import random
from typing import Any

from domain.validators import id_check_character, vin_check_digit

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64  # a scan the API accepts as an image
PLATE_ALPHABET = "0123456789ABCDEFGHJKLMNPQRSTUVWXYZ"  # no I or O on plates
_serial = itertools.count(random.randrange(34**4))
_vin_serial = itertools.count(random.randrange(10**6))


def new_citizen(district: str = "330382") -> dict[str, str]:
    born = f"{random.randint(1960, 2000)}0{random.randint(1, 9)}1{random.randint(0, 9)}"
    first17 = f"{district}{born}{random.randint(100, 999)}"
    return {
        "name": "李四",
        "id_number": first17 + id_check_character(first17),
        "phone": f"139{random.randint(10**7, 10**8 - 1)}",
    }


def unique_plate() -> str:
    """A plate no other call in this process returns (five characters after 浙C)."""
    n, chars = next(_serial) % 34**5, []
    for _ in range(5):
        n, digit = divmod(n, 34)
        chars.append(PLATE_ALPHABET[digit])
    return "浙C" + "".join(reversed(chars))


def new_vehicle(owner: dict[str, str], **overrides: Any) -> dict[str, Any]:
    body = "LGXCE4CB" + "_" + f"P{next(_vin_serial) % 10**7:07d}"  # unique in this process, as the plate
    vin = body.replace("_", vin_check_digit(body.replace("_", "0")))
    return {
        "plate": unique_plate(),
        "vin": vin,
        "owner_name": owner["name"],
        "owner_id_number": owner["id_number"],
        "usage_nature": "非营运",
        "seats": 5,
        "fuel": "bev",
        "model": "BYD Qin PLUS EV",
        "registered_on": "2025-06-01",
        "flags": [],
        **overrides,
    }
