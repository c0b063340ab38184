"""The follow-ups of bad ratings (差评), as their workflows project them, for the API and supervisors."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

import asyncpg

from domain.districts import DISTRICTS

ALL_DISTRICTS = frozenset(DISTRICTS)
OPEN_STATUSES = ("awaiting_callback", "awaiting_rectification")
WARNING_ORDER = "CASE warning_level WHEN 'red' THEN 0 WHEN 'yellow' THEN 1 ELSE 2 END"


@dataclass(frozen=True)
class FollowUpRow:
    rating_id: str
    application_id: str
    district: str
    status: str
    warning_level: str
    appeal: str | None
    rated_at: datetime
    callback_due_on: date | None
    rectification_due_on: date | None
    view: dict[str, Any]


COLUMNS = (
    "rating_id, application_id, district, status, warning_level, appeal, rated_at, callback_due_on,"
    " rectification_due_on, view"
)


def _row(record: asyncpg.Record) -> FollowUpRow:
    return FollowUpRow(**dict(record))


def _date(text: str | None) -> date | None:
    return date.fromisoformat(text) if text else None


def _instant(step: dict[str, Any] | None) -> datetime | None:
    return datetime.fromisoformat(step["at"]) if step else None


class FollowUps:
    def __init__(self, pool: asyncpg.Pool) -> None:
        self._pool = pool

    async def project(self, version: int, view: dict[str, Any]) -> bool:
        """Write the workflow's view; an older version never overwrites a newer one. True when written."""
        written = await self._pool.fetchval(
            """INSERT INTO rating_follow_ups AS f (rating_id, application_id, district, status, warning_level,
                   appeal, rated_at, callback_due_on, rectification_due_on, callback_at, answered_at, view, version)
               VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13)
               ON CONFLICT (rating_id) DO UPDATE SET status = $4, warning_level = $5, appeal = $6,
                   callback_due_on = $8, rectification_due_on = $9, callback_at = $10, answered_at = $11,
                   view = $12, version = $13, updated_at = now()
               WHERE f.version < $13
               RETURNING rating_id""",
            view["rating_id"],
            view["application_id"],
            view["district"],
            view["status"],
            view["warning"],
            view.get("appeal"),
            datetime.fromisoformat(view["rated_at"]),
            _date(view.get("callback_due_on")),
            _date(view.get("rectification_due_on")),
            _instant(view.get("callback")),
            _instant(view.get("rectification")),
            view,
            version,
        )
        return written is not None

    async def get(self, rating_id: str) -> FollowUpRow | None:
        record = await self._pool.fetchrow(f"SELECT {COLUMNS} FROM rating_follow_ups WHERE rating_id = $1", rating_id)
        return _row(record) if record else None

    async def list_open(self, districts: list[str] | None, *, limit: int = 100) -> tuple[list[FollowUpRow], int]:
        """Open follow-ups of `districts` (None: any), red first, then yellow, each the soonest due first;
        with their total."""
        where, args = ["status = ANY($1)"], [list(OPEN_STATUSES)]
        if districts is not None and set(districts) != ALL_DISTRICTS:
            args.append(districts)
            where.append(f"district = ANY(${len(args)})")
        clause = " AND ".join(where)
        async with self._pool.acquire() as conn:
            total = await conn.fetchval(f"SELECT count(*) FROM rating_follow_ups WHERE {clause}", *args)
            records = await conn.fetch(
                f"""SELECT {COLUMNS} FROM rating_follow_ups WHERE {clause}
                    ORDER BY {WARNING_ORDER}, callback_at IS NOT NULL, rectification_due_on, rating_id
                    LIMIT ${len(args) + 1}""",
                *args,
                limit,
            )
        return [_row(r) for r in records], total
