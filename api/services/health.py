"""Readiness: whether the API's dependencies answer."""

from __future__ import annotations

import asyncio

from api.resources import Resources

CHECK_TIMEOUT_S = 2


async def readiness(resources: Resources) -> dict[str, str]:
    """ "ok", or the error's name, for PostgreSQL and for Temporal."""
    checks: dict[str, str] = {}
    try:
        await asyncio.wait_for(resources.store.ping(), timeout=CHECK_TIMEOUT_S)
        checks["postgresql"] = "ok"
    except Exception as err:  # noqa: BLE001 - any failure means not ready
        checks["postgresql"] = type(err).__name__
    try:
        await asyncio.wait_for(resources.client.service_client.check_health(), timeout=CHECK_TIMEOUT_S)
        checks["temporal"] = "ok"
    except Exception as err:  # noqa: BLE001
        checks["temporal"] = type(err).__name__
    return checks
