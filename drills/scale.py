"""`make scale`: many applications parked in `awaiting_insurance` on one worker.

A fresh stack under `.data/scale/` with one worker. SCALE_N (default 20,000) window
applications are submitted over HTTP and accepted by a clerk bot; the vehicle
administration changes the usage nature at once, so each parks in `awaiting_insurance`
with its timers (insurance deadline, reminders, decision clock) running. Then it reports
the worker's RSS, the p99 of the application view, and, after a SIGKILL and a fresh
worker, how long it takes until every application has resumed: each gets the signal a
calendar load sends, and the new worker, with none of them in its cache, replays each
whole history and projects it again.
Results go to `.data/scale/results.json`.
"""

from __future__ import annotations

import asyncio
import json
import os
import random
import signal
import sys
import time
import uuid
from datetime import UTC, datetime
from typing import Any

import asyncpg
import httpx
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from temporalio.client import Client

from config import Settings
from devstack.processes import ROOT, LocalStack, client_limits, memory_mb
from domain.statuses import Outcome, Status, Step
from drills.measure import Latencies, checked
from drills.people import PNG, new_citizen, new_vehicle
from workers.temporal import data_converter, workflow_id
from workflows.permit_application import PermitApplicationWorkflow
from workflows.types import CalendarChanged

N = int(os.environ.get("SCALE_N", "20000"))
CONCURRENCY = int(os.environ.get("SCALE_CONCURRENCY", "100"))
VIEW_SAMPLES = 2000
OUT = ROOT / ".data" / "scale"
DISTRICT = "330382"

console = Console(stderr=True)


def save(results: dict[str, Any]) -> None:
    """Results so far (a long run reports each phase as it ends)."""
    (OUT / "results.json").write_text(json.dumps(results, indent=2))


async def wait_for(
    database_url: str, where: str, arg: Any, n: int, progress: Progress, label: str, timeout_s: float = 3600
) -> float:
    """Seconds until `n` projected applications match `where` (one SQL condition on $1)."""
    task = progress.add_task(label, total=n)
    started = time.perf_counter()
    connection = await asyncpg.connect(database_url)
    try:
        while (done := await connection.fetchval(f"SELECT count(*) FROM applications WHERE {where}", arg)) < n:
            progress.update(task, completed=done)
            if time.perf_counter() - started > timeout_s:
                raise SystemExit(f"only {done} of {n} applications: {label}, within {timeout_s:.0f} s")
            await asyncio.sleep(1)
    finally:
        await connection.close()
    progress.update(task, completed=n)
    return time.perf_counter() - started


async def approve(
    api: httpx.AsyncClient, clerk: dict[str, str], application_id: str, tries: int = 10, pause_s: float = 2
) -> None:
    """The clerk bot's acceptance. A 503 `still_processing` means taken (the count of parked
    applications checks it); another 503 is tried again, and then a 409 means an earlier try was taken."""
    path = f"/v1/applications/{application_id}/decisions"
    for attempt in range(tries):
        response = await api.post(
            path, headers=clerk, json={"step": Step.PRELIMINARY_REVIEW, "outcome": Outcome.APPROVE}
        )
        if response.status_code == 200 or (attempt > 0 and response.status_code == 409):
            return
        if response.status_code != 503:
            checked(response, 200)  # raises: neither taken nor worth another try
        if response.json().get("error") == "still_processing":
            return
        await asyncio.sleep(pause_s)
    raise RuntimeError(f"POST {path}: 503 {tries} times")


async def park(
    api: httpx.AsyncClient, sandbox: httpx.AsyncClient, progress: Progress
) -> tuple[list[dict[str, Any]], dict[str, str]]:
    """N window applications of one owner, each accepted by the clerk bot as soon as it is in review."""
    owner = new_citizen(DISTRICT)
    qr = checked(await sandbox.post("/sandbox/eid/qr", json=owner), 201).json()["qr_token"]
    token = checked(await api.post("/v1/auth/eid", json={"qr_token": qr}), 200).json()["access_token"]
    applicant = {"Authorization": f"Bearer {token}"}
    clerk_token = checked(
        await api.post("/v1/dev/token", json={"role": "transport_clerk", "sub": "scale-clerk", "district": DISTRICT}),
        200,
    )
    clerk = {"Authorization": f"Bearer {clerk_token.json()['access_token']}"}
    gate = asyncio.Semaphore(CONCURRENCY)
    task = progress.add_task("submitted and accepted", total=N)
    parked: list[dict[str, Any]] = []

    async def one() -> None:
        async with gate:
            vehicle = checked(await sandbox.post("/sandbox/vehicles", json=new_vehicle(owner)), 201).json()
            materials = {}
            for kind in ("registration_certificate", "driving_license"):
                uploaded = await api.post(
                    "/v1/materials",
                    headers=applicant,
                    data={"kind": kind},
                    files={"file": ("scan.png", PNG, "image/png")},
                )
                materials[kind] = checked(uploaded, 201).json()["material_id"]
            body = {
                "vehicle": {"plate": vehicle["plate"], "vin": vehicle["vin"]},
                "district": DISTRICT,
                "channel": "window",
                "delivery": {"method": "pickup"},
                "materials": materials,
                "insurance_commitment": True,
            }
            created = await api.post(
                "/v1/applications", json=body, headers={**applicant, "Idempotency-Key": uuid.uuid4().hex}
            )
            application_id = checked(created, 201).json()["application_id"]
            while True:
                await asyncio.sleep(2)
                view = checked(await api.get(f"/v1/applications/{application_id}", headers=applicant), 200).json()
                if view["step"] == Step.PRELIMINARY_REVIEW:
                    break
            await approve(api, clerk, application_id)
            parked.append({"application_id": application_id, "vin": vehicle["vin"], "plate": vehicle["plate"]})
            progress.advance(task)

    await asyncio.gather(*(one() for _ in range(N)))
    return parked, applicant


async def resume_after_restart(stack: LocalStack, application_ids: list[str], progress: Progress) -> dict[str, float]:
    """SIGKILL the worker, start a fresh one (empty cache), and wake every parked application.

    Each gets the signal a calendar load sends (`recompute_deadlines`); to handle it the new
    worker replays the workflow's whole history, computes the deadlines and projects the
    view. Resumed = projected after the restart, read from the store.
    """
    console.print("SIGKILL the worker; a fresh one starts with an empty cache")
    stack.processes.kill(next(n for n in stack.processes.running if n.startswith("worker#")), signal.SIGKILL)
    stack.start_worker()
    restarted = datetime.now(UTC)
    started = time.perf_counter()
    client = await Client.connect(
        stack.temporal_address, data_converter=data_converter(Settings(app_env="development"))
    )
    gate = asyncio.Semaphore(100)
    task = progress.add_task("woken by a signal", total=len(application_ids))

    async def wake(application_id: str) -> None:
        async with gate:
            handle = client.get_workflow_handle(workflow_id(application_id))
            await handle.signal(PermitApplicationWorkflow.recompute_deadlines, CalendarChanged(restarted.year))
        progress.advance(task)

    await asyncio.gather(*(wake(application_id) for application_id in application_ids))
    signalled_s = time.perf_counter() - started
    await wait_for(
        stack.running_database_url,
        "updated_at > $1",
        restarted,
        len(application_ids),
        progress,
        "resumed (replayed and projected)",
    )
    resumed_s = time.perf_counter() - started
    rss, peak = memory_mb(stack.worker_pids()[0])
    return {
        "signalled_s": signalled_s,
        "all_resumed_s": resumed_s,
        "resumed_per_s": len(application_ids) / resumed_s,
        "worker_rss_mb_after": rss,
        "worker_peak_rss_mb_after": peak,
    }


async def scale() -> dict[str, Any]:
    OUT.mkdir(parents=True, exist_ok=True)
    stack = LocalStack.fresh(
        OUT / "run",
        database_url=os.environ.get("SCALE_DATABASE_URL"),
        env={
            "RATE_LIMIT_SUBMISSIONS": str(N + 10),
            "RATE_LIMIT_UPLOADS": str(2 * N + 10),
            "RATE_LIMIT_EID_SIGN_INS": str(N + 10),  # every applicant signs in from this one address
            "POLL_USAGE_CHANGE_S": "30",
            "UPDATE_TIMEOUT_S": "120",
        },
    )
    try:
        await asyncio.to_thread(stack.start)
        limits = client_limits(CONCURRENCY + 20)
        async with (
            httpx.AsyncClient(base_url=stack.api_url, timeout=120, limits=limits) as api,
            httpx.AsyncClient(base_url=stack.sandbox_url, timeout=120, limits=limits) as sandbox,
        ):
            with Progress(
                TextColumn("{task.description}"),
                BarColumn(),
                MofNCompleteColumn(),
                TimeElapsedColumn(),
                console=console,
            ) as progress:
                started = time.perf_counter()
                parked, applicant = await park(api, sandbox, progress)
                parked_s = await wait_for(
                    stack.running_database_url,
                    "status = $1",
                    Status.AWAITING_INSURANCE,
                    N,
                    progress,
                    "parked in awaiting_insurance",
                )
                parking_s = time.perf_counter() - started
                await asyncio.sleep(10)  # let the worker settle before reading its memory
                worker_pid = stack.worker_pids()[0]
                rss, peak = memory_mb(worker_pid)

                latencies = Latencies()
                sample = random.sample(parked, min(VIEW_SAMPLES, len(parked)))
                gate = asyncio.Semaphore(20)

                async def look(app: dict[str, Any]) -> None:
                    async with gate, latencies.timed("view"):
                        checked(await api.get(f"/v1/applications/{app['application_id']}", headers=applicant), 200)

                await asyncio.gather(*(look(app) for app in sample))
                save(
                    {
                        "n": N,
                        "parking_s": parking_s,
                        "worker_rss_mb": rss,
                        "worker_peak_rss_mb": peak,
                        "view_ms": latencies.summary("view"),
                    }
                )

                resume = await resume_after_restart(stack, [app["application_id"] for app in parked], progress)
        view = latencies.summary("view")
        return {
            "n": N,
            "parking_s": parking_s,
            "parked_per_s": N / parking_s,
            "waited_for_last_parked_s": parked_s,
            "worker_rss_mb": rss,
            "worker_peak_rss_mb": peak,
            "view_ms": view,
            "resume": resume,
        }
    finally:
        await asyncio.to_thread(stack.stop)


def main() -> None:
    signal.signal(signal.SIGTERM, lambda *_: (_ for _ in ()).throw(KeyboardInterrupt()))
    results = asyncio.run(scale())
    save(results)
    r = results["resume"]
    print(
        f"parked {results['n']} applications in {results['parking_s']:.0f} s ({results['parked_per_s']:.1f}/s); "
        f"worker RSS {results['worker_rss_mb']:.0f} MiB (peak {results['worker_peak_rss_mb']:.0f} MiB); "
        f"view p50/p99 {results['view_ms']['p50']:.1f}/{results['view_ms']['p99']:.1f} ms; "
        f"after a worker restart all resumed in {r['all_resumed_s']:.0f} s ({r['resumed_per_s']:.1f}/s, "
        f"signalled in {r['signalled_s']:.0f} s), "
        f"new worker RSS {r['worker_rss_mb_after']:.0f} MiB",
        flush=True,
    )
    print(
        f"scale: n={results['n']} worker_rss_mb={results['worker_rss_mb']:.0f} "
        f"view_p99_ms={results['view_ms']['p99']:.1f} resume_s={r['all_resumed_s']:.0f}"
    )
    sys.exit(0)


if __name__ == "__main__":
    main()
