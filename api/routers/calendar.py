from __future__ import annotations

import asyncio
from datetime import date
from typing import Annotated, Any

import structlog
from fastapi import APIRouter, Path, Query, Request
from pydantic import Field
from temporalio.service import RPCError

from api.auth import Principal, Role
from api.deps import ResourcesDep, require
from api.errors import documented, field_error
from api.schemas import DeadlineOut, IsoDate, Strict
from domain.calendar import MAX_WORKING_DAYS, YearSchedule
from workflows.permit_application import PermitApplicationWorkflow
from workflows.types import CalendarChanged

router = APIRouter(prefix="/v1/calendar", tags=["calendar"], responses=documented(401, 403, 413, 422, 503))
log = structlog.get_logger(__name__)

SIGNAL_CONCURRENCY = 20


class CalendarYearIn(Strict):
    holidays: list[Annotated[str, Field(max_length=10)]] = Field(max_length=60)
    makeup_workdays: list[Annotated[str, Field(max_length=10)]] = Field(max_length=30)
    source: Annotated[str, Field(max_length=200)] = "State Council notice"


@router.get("/deadline", response_model=DeadlineOut)
async def read_deadline(
    resources: ResourcesDep, start: IsoDate, working_days: Annotated[int, Query(ge=1, le=MAX_WORKING_DAYS)]
) -> DeadlineOut:
    """The last working day of a period that starts the day after `start`; provisional past the loaded years."""
    calendar = await resources.store.load_calendar()
    try:
        deadline = calendar.add_working_days(start, working_days)
    except OverflowError:
        raise field_error(["query", "start"], "the deadline would fall after the year 9999") from None
    return DeadlineOut(start=start, working_days=working_days, due_on=deadline.due_on, provisional=deadline.provisional)


@router.put("/years/{year}")
async def load_calendar_year(
    body: CalendarYearIn,
    resources: ResourcesDep,
    request: Request,
    year: Annotated[int, Path(ge=2004, le=2200)],
    principal: Principal = require(Role.SUPERVISOR),
) -> dict[str, Any]:
    """Load a newly announced year; running applications with provisional deadlines are recomputed."""
    schedule = _schedule(year, body)
    created = await resources.store.save_calendar_year(schedule, loaded_by=principal.sub, source=body.source)
    affected = await resources.store.open_with_provisional_deadlines()
    limit = asyncio.Semaphore(SIGNAL_CONCURRENCY)

    async def notify(workflow_id: str) -> bool:
        async with limit:
            try:
                handle = resources.client.get_workflow_handle(workflow_id)
                await handle.signal(PermitApplicationWorkflow.recompute_deadlines, CalendarChanged(year))
                return True
            except RPCError as err:
                log.warning("calendar.recompute_signal_failed", workflow_id=workflow_id, code=str(err.status))
                return False

    signalled = sum(await asyncio.gather(*(notify(row.workflow_id) for row in affected)))
    await resources.store.audit(
        actor=principal.sub,
        role=principal.role.value,
        district=principal.district,
        action="calendar.load_year",
        target=str(year),
        outcome="created" if created else "replaced",
        source_ip=request.client.host if request.client else None,
        detail={
            "holidays": len(schedule.holidays),
            "makeup_workdays": len(schedule.makeup_workdays),
            "recomputed": signalled,
        },
    )
    return {
        "year": year,
        "holidays": sorted(d.isoformat() for d in schedule.holidays),
        "makeup_workdays": sorted(d.isoformat() for d in schedule.makeup_workdays),
        "created": created,
        "recomputed_applications": signalled,
    }


def _schedule(year: int, body: CalendarYearIn) -> YearSchedule:
    """Every date real, inside the year, off or working but not both; make-up days on weekends."""
    parsed: dict[str, set[date]] = {"holidays": set(), "makeup_workdays": set()}
    for name in parsed:
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
            parsed[name].add(day)
    both = parsed["holidays"] & parsed["makeup_workdays"]
    if both:
        raise field_error(["body", "makeup_workdays"], f"{min(both).isoformat()} is both a holiday and a working day")
    return YearSchedule(
        year, frozenset(d for d in parsed["holidays"] if d.weekday() < 5), frozenset(parsed["makeup_workdays"])
    )
