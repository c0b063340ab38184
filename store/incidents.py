"""Incidents: steps a department refused for good, recorded from the projection for supervisors."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import asyncpg
from asyncpg.pool import PoolConnectionProxy

from domain.districts import DISTRICTS

ALL_DISTRICTS = frozenset(DISTRICTS)


@dataclass(frozen=True)
class IncidentQuery:
    """Filters of the incident list; `districts` None means any, `open_only` False adds the resolved."""

    districts: list[str] | None = None
    open_only: bool = True
    page: int = 1
    page_size: int = 20


@dataclass(frozen=True)
class Incident:
    application_id: str
    incident_id: str
    district: str
    step: str
    department: str
    answer: str
    opened_at: datetime
    resolved_at: datetime | None
    resolution: str | None


def _incident(record: asyncpg.Record) -> Incident:
    return Incident(**{**dict(record), "application_id": str(record["application_id"])})


async def record_from_view(conn: PoolConnectionProxy[asyncpg.Record], district: str, view: dict[str, Any]) -> None:
    """The view's open incident kept; any other still open for the application marked resolved.

    Called with the projection write, only for a view newer than the one projected before, so
    an incident that a newer view no longer shows is resolved: by a supervisor (its
    `incident_resolved` event in the timeline says when and how) or by the application ending.
    """
    application_id = uuid.UUID(view["application_id"])
    incident = view.get("incident")
    resolutions = {
        event.get("incident_id"): (datetime.fromisoformat(event["at"]), event.get("action"))
        for event in view.get("timeline") or []
        if event.get("event") == "incident_resolved"
    }
    superseded = await conn.fetch(
        """SELECT incident_id FROM incidents
           WHERE application_id = $1 AND resolved_at IS NULL AND incident_id IS DISTINCT FROM $2""",
        application_id,
        incident["incident_id"] if incident else None,
    )
    for record in superseded:
        resolved_at, resolution = resolutions.get(record["incident_id"], (None, None))
        await conn.execute(
            """UPDATE incidents SET resolved_at = coalesce($3, now()), resolution = $4
               WHERE application_id = $1 AND incident_id = $2""",
            application_id,
            record["incident_id"],
            resolved_at,
            resolution,
        )
    if incident:
        await conn.execute(
            """INSERT INTO incidents (application_id, incident_id, district, step, department, answer, opened_at)
               VALUES ($1, $2, $3, $4, $5, $6, $7) ON CONFLICT (application_id, incident_id) DO NOTHING""",
            application_id,
            incident["incident_id"],
            district,
            incident["step"],
            incident["department"],
            incident["answer"],
            datetime.fromisoformat(incident["opened_at"]),
        )


class Incidents:
    def __init__(self, pool: asyncpg.Pool) -> None:
        self._pool = pool

    async def list(self, query: IncidentQuery) -> tuple[list[Incident], int]:
        """Open incidents first, each group the longest waiting first (ties by id), with the total."""
        where: list[str] = []
        args: list[Any] = []
        if query.districts is not None and set(query.districts) != ALL_DISTRICTS:
            args.append(query.districts)
            where.append(f"district = ANY(${len(args)})")
        if query.open_only:
            where.append("resolved_at IS NULL")
        clause = f"WHERE {' AND '.join(where)}" if where else ""
        limit, offset = len(args) + 1, len(args) + 2
        async with self._pool.acquire() as conn:
            total = await conn.fetchval(f"SELECT count(*) FROM incidents {clause}", *args)
            records = await conn.fetch(
                f"""SELECT application_id, incident_id, district, step, department, answer, opened_at,
                           resolved_at, resolution
                    FROM incidents {clause}
                    ORDER BY resolved_at IS NOT NULL, opened_at, application_id, incident_id
                    LIMIT ${limit} OFFSET ${offset}""",
                *args,
                query.page_size,
                (query.page - 1) * query.page_size,
            )
        return [_incident(r) for r in records], total

    async def open_by_department(self) -> dict[str, int]:
        """How many incidents are open, per department (for the metric operators alert on)."""
        records = await self._pool.fetch(
            "SELECT department, count(*) AS open FROM incidents WHERE resolved_at IS NULL GROUP BY department"
        )
        return {r["department"]: r["open"] for r in records}
