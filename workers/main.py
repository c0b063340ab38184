"""The worker: builds clients, adapters and store; runs the permit workflow and activities, the follow-ups
of bad ratings with theirs, and the retention workflow, whose daily schedule it creates once.

`python -m workers` runs until SIGINT/SIGTERM, then hands back its tasks within
the graceful-shutdown window.
"""

from __future__ import annotations

import asyncio
import compileall
import signal
from datetime import timedelta
from pathlib import Path

import structlog
from temporalio.client import Client
from temporalio.worker import Worker

import workflows
from activities.permit import PermitActivities
from activities.permit_lifecycle import PermitLifecycleActivities
from activities.rating import RatingActivities
from activities.regulator import RegulatorActivities
from activities.retention import RetentionActivities
from adapters.departments import Departments
from adapters.regulator import HttpRegulatorClient
from config import Settings, get_settings
from config.logging import configure_logging
from store import Store
from store.db import create_pool, migrate_as_owner
from store.retention import RetentionPolicy
from workers.temporal import connect
from workflows import retention
from workflows.permit_application import PermitApplicationWorkflow
from workflows.permit_lifecycle import PermitLifecycleWorkflow
from workflows.rating_follow_up import RatingFollowUpWorkflow

log = structlog.get_logger(__name__)

GRACEFUL_SHUTDOWN = timedelta(seconds=20)


def precompile_workflows() -> None:
    """Write bytecode for the workflow package where the directory allows it.

    The sandbox imports the workflow module afresh for each workflow instance it creates: after every
    cache eviction and, after a restart, for every running application. Without bytecode on disk
    (PYTHONDONTWRITEBYTECODE, set in our image and on many machines) each time compiles about a
    thousand lines of source, some 15 ms of CPU. The image compiles at build time; this covers the rest.
    """
    compileall.compile_dir(Path(workflows.__file__).parent, quiet=2)


def build_worker(
    client: Client,
    task_queue: str,
    activities: PermitActivities,
    *,
    max_cached_workflows: int = 1000,
    retention_activities: RetentionActivities | None = None,
    rating_activities: RatingActivities | None = None,
    regulator_activities: RegulatorActivities | None = None,
    lifecycle_activities: PermitLifecycleActivities | None = None,
) -> Worker:
    return Worker(
        client,
        task_queue=task_queue,
        workflows=[
            PermitApplicationWorkflow,
            PermitLifecycleWorkflow,
            RatingFollowUpWorkflow,
            retention.RetentionWorkflow,
        ],
        activities=activities.all()
        + (retention_activities.all() if retention_activities else [])
        + (rating_activities.all() if rating_activities else [])
        + (regulator_activities.all() if regulator_activities else [])
        + (lifecycle_activities.all() if lifecycle_activities else []),
        graceful_shutdown_timeout=GRACEFUL_SHUTDOWN,
        max_cached_workflows=max_cached_workflows,
    )


async def run(settings: Settings) -> None:
    if not settings.database_url:
        raise SystemExit("DATABASE_URL is required")
    precompile_workflows()
    await migrate_as_owner(settings)  # up to date: nothing, so the application's role may run it
    pool = await create_pool(settings.database_url)
    departments = Departments.http(settings.departments_url)
    regulator = HttpRegulatorClient.connect(settings.departments_url, settings.regulator_secret)
    client = await connect(settings, metrics_bind=settings.worker_metrics_bind)
    store = Store.for_settings(pool, settings)
    worker = build_worker(
        client,
        settings.task_queue,
        PermitActivities(departments, store, store.calendar.load),
        max_cached_workflows=settings.worker_max_cached_workflows,
        retention_activities=RetentionActivities(
            store.retention, RetentionPolicy.of(settings.retention_days, settings.callback_tolerance_s)
        ),
        rating_activities=RatingActivities(store, store.calendar.load, store.ratings.void),
        regulator_activities=RegulatorActivities(regulator),
        lifecycle_activities=PermitLifecycleActivities(store),
    )
    if await retention.ensure_schedule(client, settings.task_queue):
        log.info("worker.retention_scheduled", schedule=retention.SCHEDULE_ID, every=str(retention.EVERY))
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, lambda: asyncio.ensure_future(worker.shutdown()))
    log.info(
        "worker.started",
        task_queue=settings.task_queue,
        temporal=settings.temporal_address,
        metrics=f"http://{settings.worker_metrics_bind}/metrics" if settings.worker_metrics_bind else None,
    )
    try:
        await worker.run()
    finally:
        await departments.aclose()
        await regulator.aclose()
        await pool.close()
        log.info("worker.stopped")


def main() -> None:
    settings = get_settings()
    configure_logging(development=settings.is_development, level=settings.log_level)
    asyncio.run(run(settings))


if __name__ == "__main__":
    main()
