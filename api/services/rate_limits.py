"""Throttles shared by every API replica: fixed windows counted in PostgreSQL."""

from __future__ import annotations

from api.errors import ApiError
from api.resources import Resources


async def count(resources: Resources, action: str, who: str, limit: int, window_s: int) -> None:
    """Count one call of `action` by `who`; 429 with Retry-After once past `limit` in the window."""
    hits, retry_after = await resources.store.rate_limits.hit(f"{action}:{who}", window_s)
    if hits > limit:
        raise ApiError(
            429,
            "rate_limited",
            f"too many {action} requests; try again in {retry_after} s",
            headers={"Retry-After": str(retry_after)},
        )
