"""The working-day calendar: deadlines, and announced years that move the deadlines they touch."""

from __future__ import annotations

import asyncio
from datetime import date
from typing import Any

import structlog
from temporalio.service import RPCError

from api.auth import Principal
from api.errors import ApiError
from api.resources import Resources
from api.services import audit
from domain.calendar import Deadline, YearSchedule
from store.calendar import YearAlreadyLoaded, YearSaved
from workflows.permit_application import PermitApplicationWorkflow
from workflows.types import CalendarChanged

log = structlog.get_logger(__name__)

SIGNAL_CONCURRENCY = 20
ACTION = "calendar.load_year"
YEAR_LOADED = "calendar_year_loaded"


async def deadline(resources: Resources, start: date, working_days: int) -> Deadline:
    """The last working day of a period that starts the day after `start`; OverflowError past 9999."""
    calendar = await resources.store.calendar.load()
    return calendar.add_working_days(start, working_days)


async def working_days_left(resources: Resources, today: date, due_on: date) -> int:
    """The working days from `today` (not counted) to `due_on` (counted); negative once past it."""
    calendar = await resources.store.calendar.load()
    return calendar.working_days_between(today, due_on)


async def load_year(
    resources: Resources,
    principal: Principal,
    schedule: YearSchedule,
    *,
    source: str,
    replace: bool,
    source_ip: str | None,
) -> tuple[YearSaved, int]:
    """Load a year, audited (the router admits only a city-level supervisor). A loaded year is
    replaced only with `replace` (409 otherwise), the old and the new schedule in the audit trail.
    A new or replaced year has every open application whose deadlines reach into it recompute them;
    the same schedule again recomputes nothing.

    Returns what the store did, and how many applications were told to recompute.
    """
    target = str(schedule.year)
    try:
        saved = await resources.store.calendar.save_year(
            schedule, loaded_by=principal.sub, source=source, replace=replace
        )
    except YearAlreadyLoaded as loaded:
        await audit.record(
            resources,
            principal,
            ACTION,
            target,
            f"refused:{YEAR_LOADED}",
            source_ip=source_ip,
            loaded=_listed(loaded.loaded),
            proposed=_listed(schedule),
        )
        raise ApiError(
            409,
            YEAR_LOADED,
            f'{schedule.year} is already loaded with another schedule; send "replace": true to replace it',
        ) from None
    signalled = 0 if saved.outcome == "unchanged" else await _recompute(resources, schedule.year)
    previous = {"previous": _listed(saved.previous)} if saved.previous is not None else {}
    await audit.record(
        resources,
        principal,
        ACTION,
        target,
        saved.outcome,
        source_ip=source_ip,
        source=source,
        schedule=_listed(schedule),
        recomputed=signalled,
        **previous,
    )
    return saved, signalled


async def _recompute(resources: Resources, year: int) -> int:
    """Signal every open application the year touches to recompute its deadlines; how many were told."""
    workflow_ids = await resources.store.calendar.workflows_touched_by(year)
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

    return sum(await asyncio.gather(*(notify(workflow_id) for workflow_id in workflow_ids)))


def _listed(schedule: YearSchedule) -> dict[str, Any]:
    """A schedule as the audit trail keeps it: its days, in order."""
    return {
        "holidays": [d.isoformat() for d in sorted(schedule.holidays)],
        "makeup_workdays": [d.isoformat() for d in sorted(schedule.makeup_workdays)],
    }
