"""Working-day calendar years: the State Council's holiday schedules, loaded year by year.

A loaded year is exact; a year not loaded is counted provisionally (domain/calendar.py).
Replacing a loaded year with another schedule (the State Council does revise one, as in
2020) must be asked for explicitly; loading the same schedule again changes nothing.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Literal

import asyncpg

from domain.calendar import WorkingDayCalendar, YearSchedule
from store.applications import NOT_TERMINAL

YearOutcome = Literal["created", "replaced", "unchanged"]


class YearAlreadyLoaded(Exception):
    """The year is loaded (exact) with another schedule, and replacing it was not asked for."""

    def __init__(self, loaded: YearSchedule) -> None:
        super().__init__(f"{loaded.year} is already loaded")
        self.loaded = loaded


@dataclass(frozen=True)
class YearSaved:
    outcome: YearOutcome
    previous: YearSchedule | None = None  # the schedule a replacement overwrote


def _schedule(record: asyncpg.Record) -> YearSchedule:
    return YearSchedule(record["year"], frozenset(record["holidays"]), frozenset(record["makeup_workdays"]))


class CalendarYears:
    def __init__(self, pool: asyncpg.Pool) -> None:
        self._pool = pool

    async def load(self) -> WorkingDayCalendar:
        """The calendar of every loaded year."""
        rows = await self._pool.fetch("SELECT year, holidays, makeup_workdays FROM calendar_years")
        return WorkingDayCalendar(_schedule(r) for r in rows)

    async def save_year(self, schedule: YearSchedule, *, loaded_by: str, source: str, replace: bool) -> YearSaved:
        """Load an announced year. A loaded year with another schedule is replaced only with `replace`
        (YearAlreadyLoaded otherwise); the same schedule again is `unchanged` and writes nothing."""
        holidays, makeup = sorted(schedule.holidays), sorted(schedule.makeup_workdays)
        async with self._pool.acquire() as conn, conn.transaction():
            inserted = await conn.fetchval(
                """INSERT INTO calendar_years (year, holidays, makeup_workdays, source, loaded_by)
                   VALUES ($1, $2, $3, $4, $5) ON CONFLICT (year) DO NOTHING RETURNING year""",
                schedule.year,
                holidays,
                makeup,
                source,
                loaded_by,
            )
            if inserted is not None:
                return YearSaved("created")
            row = await conn.fetchrow(
                "SELECT year, holidays, makeup_workdays FROM calendar_years WHERE year = $1 FOR UPDATE", schedule.year
            )
            assert row is not None, "the insert found the year loaded"
            loaded = _schedule(row)
            if loaded == schedule:
                return YearSaved("unchanged")
            if not replace:
                raise YearAlreadyLoaded(loaded)
            await conn.execute(
                """UPDATE calendar_years SET holidays = $2, makeup_workdays = $3, source = $4, loaded_by = $5,
                       loaded_at = now() WHERE year = $1""",
                schedule.year,
                holidays,
                makeup,
                source,
                loaded_by,
            )
            return YearSaved("replaced", loaded)

    async def workflows_touched_by(self, year: int) -> list[str]:
        """The workflows of open applications whose deadlines a change of `year` may move: those whose
        period (acceptance to the later due date) reaches into the year, and those whose deadlines are
        not projected yet (they may have been counted a moment before the change)."""
        return [
            r["workflow_id"]
            for r in await self._pool.fetch(
                f"""SELECT workflow_id FROM applications
                    WHERE {NOT_TERMINAL}
                    AND (insurance_due_on IS NULL
                         OR (accepted_on <= $2 AND GREATEST(insurance_due_on, decision_due_on) >= $1))
                    ORDER BY workflow_id""",
                date(year, 1, 1),
                date(year, 12, 31),
            )
        ]
