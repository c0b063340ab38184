"""Wenzhou's county-level administrative divisions (GB/T 2260)."""

from __future__ import annotations

from typing import Final

CITY_CODE: Final = "330300"
CITY_NAME: Final = "温州市"

DISTRICTS: Final[dict[str, str]] = {
    "330302": "鹿城区",
    "330303": "龙湾区",
    "330304": "瓯海区",
    "330305": "洞头区",
    "330324": "永嘉县",
    "330326": "平阳县",
    "330327": "苍南县",
    "330328": "文成县",
    "330329": "泰顺县",
    "330381": "瑞安市",
    "330382": "乐清市",
    "330383": "龙港市",
}


def covers(principal_district: str, district: str) -> bool:
    """Whether a principal scoped to `principal_district` may act on `district`.

    The city code covers all twelve county-level codes; a county-level code covers
    itself; anything else covers nothing.
    """
    if district not in DISTRICTS:
        return False
    return principal_district in (CITY_CODE, district)
