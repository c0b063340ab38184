"""The working-day calendar: deadlines, and newly announced years that move provisional deadlines."""

from __future__ import annotations

import asyncio
from datetime import date

import structlog
from temporalio.service import RPCError

from api.auth import Principal
from api.resources import Resources
from api.services import audit
from domain.calendar import Deadline, YearSchedule
from workflows.permit_application import PermitApplicationWorkflow
from workflows.types import CalendarChanged

log = structlog.get_logger(__name__)

SIGNAL_CONCURRENCY = 20


async def deadline(resources: Resources, start: date, working_days: int) -> Deadline:
    """The last working day of a period that starts the day after `start`; OverflowError past 9999."""
    calendar = await resources.store.calendar.load()
    return calendar.add_working_days(start, working_days)


async def load_year(
    resources: Resources, principal: Principal, schedule: YearSchedule, *, source: str, source_ip: str | None
) -> tuple[bool, int]:
    """Load (or replace) a year, audited; open applications with provisional deadlines recompute them.

    Returns whether the year is new, and how many applications were told to recompute.
    """
    created = await resources.store.calendar.save_year(schedule, loaded_by=principal.sub, source=source)
    affected = await resources.store.applications.open_with_provisional_deadlines()
    limit = asyncio.Semaphore(SIGNAL_CONCURRENCY)

    async def notify(workflow_id: str) -> bool:
        async with limit:
            try:
                handle = resources.client.get_workflow_handle(workflow_id)
                await handle.signal(PermitApplicationWorkflow.recompute_deadlines, CalendarChanged(schedule.year))
                return True
            except RPCError as err:
                log.warning("calendar.recompute_signal_failed", workflow_id=workflow_id, code=str(err.status))
                return False

    signalled = sum(await asyncio.gather(*(notify(row.workflow_id) for row in affected)))
    await audit.record(
        resources,
        principal,
        "calendar.load_year",
        str(schedule.year),
        "created" if created else "replaced",
        source_ip=source_ip,
        holidays=len(schedule.holidays),
        makeup_workdays=len(schedule.makeup_workdays),
        recomputed=signalled,
    )
    return created, signalled
