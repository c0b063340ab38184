"""Working-day calendar years: the State Council's holiday schedules, loaded year by year."""

from __future__ import annotations

import asyncpg

from domain.calendar import WorkingDayCalendar, YearSchedule


class CalendarYears:
    def __init__(self, pool: asyncpg.Pool) -> None:
        self._pool = pool

    async def load(self) -> WorkingDayCalendar:
        """The calendar of every loaded year."""
        rows = await self._pool.fetch("SELECT year, holidays, makeup_workdays FROM calendar_years")
        return WorkingDayCalendar(
            YearSchedule(r["year"], frozenset(r["holidays"]), frozenset(r["makeup_workdays"])) for r in rows
        )

    async def save_year(self, schedule: YearSchedule, *, loaded_by: str, source: str) -> bool:
        """Load (or replace) an announced year; True when it was not loaded before."""
        previous = await self._pool.fetchval(
            """INSERT INTO calendar_years AS c (year, holidays, makeup_workdays, source, loaded_by)
               VALUES ($1, $2, $3, $4, $5)
               ON CONFLICT (year) DO UPDATE SET holidays = $2, makeup_workdays = $3, source = $4,
                   loaded_by = $5, loaded_at = now()
               RETURNING (xmax <> 0)""",
            schedule.year,
            sorted(schedule.holidays),
            sorted(schedule.makeup_workdays),
            source,
            loaded_by,
        )
        return not previous
