from __future__ import annotations

from datetime import date
from typing import Annotated

from fastapi import APIRouter, Depends, Path, Query
from pydantic import Field

from api.auth import Principal, Role, is_city_supervisor
from api.deps import ResourcesDep, SourceIpDep, require
from api.errors import ApiError, ErrorBody, documented, field_error
from api.schemas import CalendarYearOut, DeadlineOut, IsoDate, Strict
from api.services import calendar
from domain.calendar import MAX_WORKING_DAYS, YearSchedule
from domain.districts import CITY_CODE

router = APIRouter(prefix="/v1/calendar", tags=["calendar"], responses=documented(401, 403, 413, 422, 503))


class CalendarYearIn(Strict):
    holidays: list[Annotated[str, Field(max_length=10)]] = Field(max_length=60)
    makeup_workdays: list[Annotated[str, Field(max_length=10)]] = Field(max_length=30)
    source: Annotated[str, Field(max_length=200)] = "State Council notice"
    replace: bool = Field(
        default=False,
        strict=True,
        description="replace a year already loaded (exact) with another schedule, as when the State Council "
        "revises one; without it that is 409 `calendar_year_loaded`. The same schedule again needs no flag.",
    )


def city_supervisor(principal: Principal = require(Role.SUPERVISOR)) -> Principal:
    """The city's calendar is loaded by a supervisor of the city (330300), not of one district."""
    if not is_city_supervisor(principal):
        raise ApiError(403, "forbidden", f"the working-day calendar is loaded by a city-level supervisor ({CITY_CODE})")
    return principal


@router.get("/deadline", response_model=DeadlineOut)
async def read_deadline(
    resources: ResourcesDep, start: IsoDate, working_days: Annotated[int, Query(ge=1, le=MAX_WORKING_DAYS)]
) -> DeadlineOut:
    """The last working day of a period that starts the day after `start`; provisional past the loaded years."""
    try:
        deadline = await calendar.deadline(resources, start, working_days)
    except OverflowError:
        raise field_error(["query", "start"], "the deadline would fall after the year 9999") from None
    return DeadlineOut(start=start, working_days=working_days, due_on=deadline.due_on, provisional=deadline.provisional)


@router.put(
    "/years/{year}",
    response_model=CalendarYearOut,
    responses={409: {"model": ErrorBody, "description": "the year is loaded with another schedule; `replace` not set"}},
)
async def load_calendar_year(
    body: CalendarYearIn,
    resources: ResourcesDep,
    source_ip: SourceIpDep,
    year: Annotated[int, Path(ge=2004, le=2200)],
    principal: Principal = Depends(city_supervisor),
) -> CalendarYearOut:
    """Load an announced year (a city-level supervisor, 330300); a loaded year is replaced only with
    `replace`. Open applications whose deadlines reach into a new or changed year recompute them."""
    schedule = _schedule(year, body)
    saved, signalled = await calendar.load_year(
        resources, principal, schedule, source=body.source, replace=body.replace, source_ip=source_ip
    )
    return CalendarYearOut(
        year=year,
        holidays=sorted(schedule.holidays),
        makeup_workdays=sorted(schedule.makeup_workdays),
        created=saved.outcome == "created",
        outcome=saved.outcome,
        recomputed_applications=signalled,
    )


def _schedule(year: int, body: CalendarYearIn) -> YearSchedule:
    """Every date real, inside the year, off or working but not both; make-up days on weekends."""
    parsed: dict[str, set[date]] = {"holidays": set(), "makeup_workdays": set()}
    for name, days in parsed.items():
        for index, raw in enumerate(getattr(body, name)):
            loc: list[str | int] = ["body", name, index]
            try:
                day = date.fromisoformat(raw)
            except ValueError:
                raise field_error(loc, f"{raw!r} is not a real date (YYYY-MM-DD)") from None
            if day.year != year:
                raise field_error(loc, f"{raw} is not in {year}")
            if name == "makeup_workdays" and day.weekday() < 5:
                raise field_error(loc, f"{raw} is a weekday; make-up working days fall on weekends")
            days.add(day)
    both = parsed["holidays"] & parsed["makeup_workdays"]
    if both:
        raise field_error(["body", "makeup_workdays"], f"{min(both).isoformat()} is both a holiday and a working day")
    return YearSchedule(
        year, frozenset(d for d in parsed["holidays"] if d.weekday() < 5), frozenset(parsed["makeup_workdays"])
    )
