"""Guards shared by every API replica: per-key rate limits, and the signed callbacks already taken."""

from __future__ import annotations

import asyncpg


class RateLimits:
    def __init__(self, pool: asyncpg.Pool) -> None:
        self._pool = pool

    async def hit(self, key: str, window_s: int) -> tuple[int, int]:
        """Count a hit in the current window: (hits so far, seconds until the window ends)."""
        row = await self._pool.fetchrow(
            """WITH w AS (SELECT to_timestamp(floor(extract(epoch FROM now()) / $2) * $2) AS start)
               INSERT INTO rate_limits (key, window_start, hits) SELECT $1, w.start, 1 FROM w
               ON CONFLICT (key, window_start) DO UPDATE SET hits = rate_limits.hits + 1
               RETURNING hits, ceil(extract(epoch FROM window_start) + $2 - extract(epoch FROM now()))::int AS left""",
            key,
            window_s,
        )
        assert row is not None  # INSERT ... RETURNING
        return row["hits"], max(1, row["left"])


class CallbackReceipts:
    def __init__(self, pool: asyncpg.Pool) -> None:
        self._pool = pool

    async def remember(self, source: str, signature: str) -> bool:
        """False when this signed callback was taken before (a replay)."""
        result = await self._pool.execute(
            "INSERT INTO callback_receipts (signature, source) VALUES ($1, $2) ON CONFLICT DO NOTHING",
            signature,
            source,
        )
        return result.endswith(" 1")

    async def forget(self, signature: str) -> None:
        """A callback that was not forwarded: the department's retry must get through."""
        await self._pool.execute("DELETE FROM callback_receipts WHERE signature = $1", signature)
