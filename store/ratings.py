"""Service ratings (好差评): one per application, its follow-up rating (追评), voiding on appeal, and the
figures of a month per district.

A rating keeps no identity: its rater is the application's applicant, known to the application
only. The unique constraint on `application_id` keeps "once per case" when two requests race.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import asyncpg

from domain.rating import BAD_LEVELS

COLUMNS = (
    "rating_id, application_id, district, channel, level, indicators, indicator_version, reasons, text, rated_at,"
    " addendum_level, addendum_text, addendum_at, voided_at, void_reason"
)
BAD = f"level IN ({', '.join(map(str, sorted(BAD_LEVELS)))})"


def _local_date(column: str) -> str:
    """The day in Wenzhou of a timestamp column (due days are days of the working-day calendar)."""
    return f"({column} AT TIME ZONE 'Asia/Shanghai')::date"


class AlreadyRated(Exception):
    """The application has a rating already."""


@dataclass(frozen=True)
class Rating:
    rating_id: str
    application_id: str
    district: str
    channel: str
    level: int
    indicators: dict[str, int]
    indicator_version: str
    reasons: list[str]
    text: str
    rated_at: datetime
    addendum_level: int | None
    addendum_text: str | None
    addendum_at: datetime | None
    voided_at: datetime | None
    void_reason: str | None


def _rating(record: asyncpg.Record) -> Rating:
    return Rating(
        **{**dict(record), "rating_id": str(record["rating_id"]), "application_id": str(record["application_id"])}
    )


@dataclass
class MonthFigures:
    """A district's month: its ratings (not voided) by level, and how its bad ratings and ended cases fared."""

    levels: dict[int, int] = field(default_factory=dict)
    voided: int = 0
    bad: int = 0
    answered: int = 0  # bad ratings whose answer is given (差评回复)
    rectified_on_time: int = 0  # called back and answered each by its due day (回访整改)
    addenda_satisfied: int = 0  # answered bad ratings whose 追评 is 4 or 5 (整改满意)
    ended: int = 0  # applications that ended in the month
    unrated: int = 0  # of those, not rated (yet)

    def add(self, other: MonthFigures) -> None:
        for level, count in other.levels.items():
            self.levels[level] = self.levels.get(level, 0) + count
        for name in ("voided", "bad", "answered", "rectified_on_time", "addenda_satisfied", "ended", "unrated"):
            setattr(self, name, getattr(self, name) + getattr(other, name))


class Ratings:
    def __init__(self, pool: asyncpg.Pool) -> None:
        self._pool = pool

    async def add(
        self,
        *,
        application_id: str,
        district: str,
        channel: str,
        level: int,
        indicators: dict[str, int],
        indicator_version: str,
        reasons: list[str],
        text: str,
    ) -> Rating:
        """The application's rating, stored; AlreadyRated if it has one (whoever stored it first)."""
        try:
            record = await self._pool.fetchrow(
                f"""INSERT INTO ratings (rating_id, application_id, district, channel, level, indicators,
                       indicator_version, reasons, text)
                    VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) RETURNING {COLUMNS}""",
                uuid.uuid4(),
                uuid.UUID(application_id),
                district,
                channel,
                level,
                indicators,
                indicator_version,
                reasons,
                text,
            )
        except asyncpg.UniqueViolationError as err:
            raise AlreadyRated(application_id) from err
        assert record is not None
        return _rating(record)

    async def for_application(self, application_id: str) -> Rating | None:
        record = await self._pool.fetchrow(
            f"SELECT {COLUMNS} FROM ratings WHERE application_id = $1", uuid.UUID(application_id)
        )
        return _rating(record) if record else None

    async def get(self, rating_id: str) -> Rating | None:
        record = await self._pool.fetchrow(f"SELECT {COLUMNS} FROM ratings WHERE rating_id = $1", uuid.UUID(rating_id))
        return _rating(record) if record else None

    async def add_addendum(self, rating_id: str, level: int, text: str) -> Rating | None:
        """The follow-up rating (追评) kept; None if the rating has one already (it is given once)."""
        record = await self._pool.fetchrow(
            f"""UPDATE ratings SET addendum_level = $2, addendum_text = $3, addendum_at = now()
                WHERE rating_id = $1 AND addendum_at IS NULL RETURNING {COLUMNS}""",
            uuid.UUID(rating_id),
            level,
            text,
        )
        return _rating(record) if record else None

    async def void(self, rating_id: str, by: str, reason: str) -> bool:
        """Void the rating on appeal (it leaves the figures, the row stays); False if it was voided already
        or does not exist. Called by the follow-up's activity, which audits the decision."""
        status = await self._pool.execute(
            """UPDATE ratings SET voided_at = now(), voided_by = $2, void_reason = $3
               WHERE rating_id = $1 AND voided_at IS NULL""",
            uuid.UUID(rating_id),
            by,
            reason,
        )
        return status == "UPDATE 1"

    async def month_figures(self, districts: list[str], start: datetime, end: datetime) -> dict[str, MonthFigures]:
        """The figures of each of `districts` for ratings given, and applications ended, in [start, end).

        The follow-up's progress is read from its projection (`rating_follow_ups`); a bad rating whose
        follow-up is not projected yet counts as neither answered nor rectified."""
        figures = {district: MonthFigures() for district in districts}
        async with self._pool.acquire() as conn:
            for record in await conn.fetch(
                """SELECT district, level, count(*) AS n FROM ratings
                   WHERE district = ANY($1) AND rated_at >= $2 AND rated_at < $3 AND voided_at IS NULL
                   GROUP BY district, level""",
                districts,
                start,
                end,
            ):
                figures[record["district"]].levels[record["level"]] = record["n"]
            for record in await conn.fetch(_BAD_AND_VOIDED, districts, start, end):
                _set(figures[record["district"]], record)
            for record in await conn.fetch(_ENDED, districts, start, end):
                _set(figures[record["district"]], record)
        return figures


def _set(figures: MonthFigures, record: asyncpg.Record) -> None:
    values: dict[str, Any] = dict(record)
    values.pop("district")
    for name, value in values.items():
        setattr(figures, name, value)


_BAD_AND_VOIDED = f"""
SELECT r.district,
       count(*) FILTER (WHERE r.voided_at IS NOT NULL) AS voided,
       count(*) FILTER (WHERE r.voided_at IS NULL AND r.{BAD}) AS bad,
       count(*) FILTER (WHERE r.voided_at IS NULL AND r.{BAD} AND f.answered_at IS NOT NULL) AS answered,
       count(*) FILTER (
           WHERE r.voided_at IS NULL AND r.{BAD}
             AND {_local_date("f.callback_at")} <= f.callback_due_on
             AND {_local_date("f.answered_at")} <= f.rectification_due_on
       ) AS rectified_on_time,
       count(*) FILTER (
           WHERE r.voided_at IS NULL AND r.{BAD} AND f.answered_at IS NOT NULL AND r.addendum_level >= 4
       ) AS addenda_satisfied
FROM ratings r LEFT JOIN rating_follow_ups f ON f.rating_id = r.rating_id::text
WHERE r.district = ANY($1) AND r.rated_at >= $2 AND r.rated_at < $3
GROUP BY r.district
"""

_ENDED = """
SELECT a.district, count(*) AS ended,
       count(*) FILTER (WHERE NOT EXISTS (SELECT FROM ratings r WHERE r.application_id = a.application_id))
           AS unrated
FROM applications a
WHERE a.district = ANY($1) AND a.closed_at >= $2 AND a.closed_at < $3
GROUP BY a.district
"""
