"""Incidents for supervisors: the list of their districts, and the open ones per department as a metric."""

from __future__ import annotations

import asyncpg
import structlog
from prometheus_client import Gauge

from api.auth import Principal
from api.resources import Resources
from api.services.inbox import visible_districts
from store.incidents import Incident, IncidentQuery
from workflows import incidents as workflow_incidents

log = structlog.get_logger(__name__)

OPEN_INCIDENTS = Gauge(
    "permit_incidents_open", "Incidents waiting for a supervisor, by the department that refused", ["department"]
)
# Every department is reported, 0 when it has no incident open, so an alert never sees a missing series.
DEPARTMENTS = frozenset({*workflow_incidents.DEPARTMENTS.values(), workflow_incidents.STORE})


async def list_incidents(
    resources: Resources, principal: Principal, *, district: str | None, open_only: bool, page: int, page_size: int
) -> tuple[list[Incident], int]:
    """The incidents of the districts `principal` covers (narrowed to `district`), open first."""
    query = IncidentQuery(
        districts=visible_districts(principal, district), open_only=open_only, page=page, page_size=page_size
    )
    return await resources.store.incidents.list(query)


async def refresh_metrics(resources: Resources) -> None:
    """The open incidents per department, read from the store as Prometheus scrapes (every API reports the same)."""
    try:
        counts = await resources.store.incidents.open_by_department()
    except (asyncpg.PostgresError, asyncpg.InterfaceError, OSError) as err:
        log.warning("incidents.metric_unavailable", error=type(err).__name__)
        return
    OPEN_INCIDENTS.clear()  # a department no longer counted is not left at its last value
    for department in {*DEPARTMENTS, *counts}:
        OPEN_INCIDENTS.labels(department).set(counts.get(department, 0))
