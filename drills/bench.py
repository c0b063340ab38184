"""`make bench`: N applications end to end through the HTTP API, against a bare baseline.

A fresh stack of separate processes (dev server, PostgreSQL, sandbox answering at
once, one worker, the API) under `.data/bench/`. Citizens sign in, upload, submit,
mail their originals and buy the policy; clerk bots work the inbox and take the
decisions. On the same Temporal server a bare workflow of the same shape (as many
activities, updates and signals as one real application, all doing nothing) runs
first, with the same concurrency. Prints throughput and latencies, writes
`.data/bench/results.json` and `.data/bench/latency.png`; the last line is
`bench: ratio=… apps_per_s=… bare_per_s=… p99_decision_ms=… p99_bare_update_ms=…`.

BENCH_N (default 200) applications, BENCH_CONCURRENCY (default 50) in flight;
BENCH_PROFILE=1 records py-spy flame graphs of the worker and the API meanwhile.
"""

from __future__ import annotations

import asyncio
import json
import os
import signal
import subprocess
import sys
import time
import uuid
from pathlib import Path
from typing import Any

import httpx
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table
from temporalio.client import Client

from devstack.processes import ROOT, LocalStack, client_limits, memory_mb
from domain.statuses import TERMINAL, Outcome, PendingAction, Status, Step
from drills.bare import BarePlan, BareWorkflow
from drills.measure import CpuMeter, Latencies, checked, history_stats, percentile
from drills.people import PNG, new_citizen, new_vehicle
from workers.temporal import workflow_id

N = int(os.environ.get("BENCH_N", "200"))
CONCURRENCY = int(os.environ.get("BENCH_CONCURRENCY", "50"))
PROFILE = os.environ.get("BENCH_PROFILE") == "1"
TIMEOUT_S = float(os.environ.get("BENCH_TIMEOUT_S", "1800"))
OUT = ROOT / ".data" / "bench"
DISTRICT = "330382"
POLL_S = 0.5  # how often a citizen looks at the application, and a clerk at the inbox

console = Console(stderr=True)


# ------------------------------------------------------------------ ours


class Citizens:
    """The applicants' side: sign-in, uploads, submission, originals, policy."""

    def __init__(self, api: httpx.AsyncClient, sandbox: httpx.AsyncClient, latencies: Latencies) -> None:
        self.api, self.sandbox, self.latencies = api, sandbox, latencies

    async def prepare(self) -> tuple[dict[str, str], dict[str, Any]]:
        """A registered vehicle and its owner: the state of the world before anyone applies."""
        owner = new_citizen(DISTRICT)
        vehicle = checked(await self.sandbox.post("/sandbox/vehicles", json=new_vehicle(owner)), 201).json()
        return owner, vehicle

    async def walk(self, owner: dict[str, str], vehicle: dict[str, Any]) -> str:
        """One application from sign-in to `completed`; returns its id."""
        qr = checked(await self.sandbox.post("/sandbox/eid/qr", json=owner), 201).json()["qr_token"]
        token = checked(await self.api.post("/v1/auth/eid", json={"qr_token": qr}), 200).json()["access_token"]
        headers = {"Authorization": f"Bearer {token}"}
        materials = {}
        for kind in ("registration_certificate", "driving_license"):
            uploaded = await self.api.post(
                "/v1/materials", headers=headers, data={"kind": kind}, files={"file": ("scan.png", PNG, "image/png")}
            )
            materials[kind] = checked(uploaded, 201).json()["material_id"]
        body = {
            "vehicle": {"plate": vehicle["plate"], "vin": vehicle["vin"]},
            "district": DISTRICT,
            "channel": "online",
            "delivery": {
                "method": "mail",
                "recipient": owner["name"],
                "phone": owner["phone"],
                "address": "乐清市城南街道 8 号",
            },
            "materials": materials,
            "insurance_commitment": True,
        }
        async with self.latencies.timed("submit"):
            created = await self.api.post(
                "/v1/applications", json=body, headers={**headers, "Idempotency-Key": uuid.uuid4().hex}
            )
        application_id: str = checked(created, 201).json()["application_id"]
        shipped = insured = False
        while True:
            await asyncio.sleep(POLL_S)
            async with self.latencies.timed("view"):
                response = await self.api.get(f"/v1/applications/{application_id}", headers=headers)
            view = checked(response, 200).json()
            status, pending = view["status"], {p["action"] for p in view["pending"]}
            if status == Status.COMPLETED:
                return application_id
            if status in TERMINAL:
                raise RuntimeError(f"application ended {status}: {view['timeline'][-1]}")
            if PendingAction.SHIP_ORIGINALS in pending and not shipped:
                path = f"/v1/applications/{application_id}/originals-shipment"
                checked(
                    await self.api.post(
                        path, headers=headers, json={"tracking_number": f"SF{uuid.uuid4().int % 10**12:012d}"}
                    ),
                    200,
                )
                shipped = True
            if status == Status.AWAITING_INSURANCE and not insured:
                checked(
                    await self.sandbox.post(
                        "/sandbox/insurance/policies", json={"vin": vehicle["vin"], "plate": vehicle["plate"]}
                    ),
                    201,
                )
                insured = True


class ClerkBots:
    """One bot per clerk step: reads the district's inbox for that step and approves what it finds."""

    def __init__(self, api: httpx.AsyncClient, latencies: Latencies) -> None:
        self.api, self.latencies = api, latencies
        self.stopped = asyncio.Event()

    async def run(self) -> None:
        token = checked(
            await self.api.post(
                "/v1/dev/token", json={"role": "transport_clerk", "sub": "bench-clerk", "district": DISTRICT}
            ),
            200,
        )
        headers = {"Authorization": f"Bearer {token.json()['access_token']}"}
        await asyncio.gather(*(self._work(step, headers) for step in Step))

    async def _work(self, step: str, headers: dict[str, str]) -> None:
        taken: set[str] = set()
        while not self.stopped.is_set():
            async with self.latencies.timed("inbox"):
                inbox = await self.api.get("/v1/applications", headers=headers, params={"step": step, "page_size": 100})
            items = [item for item in checked(inbox, 200).json()["items"] if item["application_id"] not in taken]
            await asyncio.gather(*(self._decide(item["application_id"], step, headers) for item in items))
            taken.update(item["application_id"] for item in items)
            await asyncio.sleep(POLL_S)

    async def _decide(self, application_id: str, step: str, headers: dict[str, str]) -> None:
        async with self.latencies.timed("decision"):
            response = await self.api.post(
                f"/v1/applications/{application_id}/decisions",
                headers=headers,
                json={"step": step, "outcome": Outcome.APPROVE},
            )
        self.latencies.statuses[f"decision {response.status_code}"] += 1
        checked(response, 200)


async def run_ours(stack: LocalStack, progress: Progress, count: int, label: str) -> tuple[float, list[str], Latencies]:
    latencies = Latencies()
    limits = client_limits(CONCURRENCY * 2 + 10)
    async with (
        httpx.AsyncClient(base_url=stack.api_url, timeout=60, limits=limits) as api,
        httpx.AsyncClient(base_url=stack.sandbox_url, timeout=60, limits=limits) as sandbox,
    ):
        citizens, bots = Citizens(api, sandbox, latencies), ClerkBots(api, latencies)
        people = [await citizens.prepare() for _ in range(count)]
        task = progress.add_task(label, total=count)
        gate = asyncio.Semaphore(CONCURRENCY)

        async def one(owner: dict[str, str], vehicle: dict[str, Any]) -> str:
            async with gate:
                application_id = await citizens.walk(owner, vehicle)
            progress.advance(task)
            return application_id

        clerks = asyncio.create_task(bots.run())
        started = time.perf_counter()
        try:
            async with asyncio.timeout(TIMEOUT_S):
                walks = asyncio.gather(*(one(owner, vehicle) for owner, vehicle in people))
                racing: list[asyncio.Future[Any]] = [walks, clerks]
                await asyncio.wait(racing, return_when=asyncio.FIRST_COMPLETED)
                if clerks.done():
                    walks.cancel()
                    clerks.result()  # a clerk bot failed: say why
                ids = await walks
        except TimeoutError:
            logs = (stack.data_dir / "logs").relative_to(ROOT)
            raise SystemExit(
                f"{label}: not all applications completed within {TIMEOUT_S:.0f} s (BENCH_TIMEOUT_S); logs under {logs}"
            ) from None
        finally:
            bots.stopped.set()
        elapsed = time.perf_counter() - started
        await clerks
    return elapsed, [workflow_id(application_id) for application_id in ids], latencies


# ------------------------------------------------------------------ bare


async def run_bare(
    client: Client, plan: BarePlan, progress: Progress, count: int
) -> tuple[float, list[str], Latencies]:
    latencies = Latencies()
    task = progress.add_task("bare baseline", total=count)
    gate = asyncio.Semaphore(CONCURRENCY)
    inputs = ["update"] * plan.updates + ["signal"] * plan.signals
    inputs = [inputs[i] for i in sorted(range(len(inputs)), key=lambda i: (i * 7919) % len(inputs))]  # interleaved

    async def one(index: int) -> str:
        bare_id = f"bare-{uuid.uuid4()}"
        async with gate:
            async with latencies.timed("start"):
                handle = await client.start_workflow(BareWorkflow.run, plan, id=bare_id, task_queue="bench-bare")
            for kind in inputs:
                if kind == "update":
                    async with latencies.timed("update"):
                        await handle.execute_update(BareWorkflow.step)
                else:
                    await handle.signal(BareWorkflow.poke)
            await handle.result()
        progress.advance(task)
        return bare_id

    started = time.perf_counter()
    ids = await asyncio.gather(*(one(i) for i in range(count)))
    return time.perf_counter() - started, ids, latencies


# ------------------------------------------------------------------ report


def chart(ours: Latencies, bare: Latencies, path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    series = [
        ("submit", ours.samples["submit"]),
        ("decision", ours.samples["decision"]),
        ("view", ours.samples["view"]),
        ("bare start", bare.samples["start"]),
        ("bare update", bare.samples["update"]),
    ]
    fig, ax = plt.subplots(figsize=(9, 5))
    ax.boxplot([values for _, values in series], whis=(1, 99), showfliers=False)
    ax.set_xticks(range(1, len(series) + 1), [name for name, _ in series])
    for i, (_, values) in enumerate(series, start=1):
        ax.plot([i], [percentile(sorted(values), 99)], marker="v", color="crimson")
    ax.set_yscale("log")
    ax.set_ylabel("round trip (ms, log scale)")
    ax.set_title(f"Latency, {N} applications, {CONCURRENCY} in flight (box: p25-p75, whiskers: p1-p99, ▼ p99)")
    ax.grid(axis="y", alpha=0.3)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def print_table(results: dict[str, Any]) -> None:
    table = Table(title=f"bench: {N} applications, {CONCURRENCY} in flight")
    for column in ("operation", "count", "p50 ms", "p95 ms", "p99 ms", "max ms"):
        table.add_column(column, justify="right" if column != "operation" else "left")
    for side in ("ours", "bare"):
        for name, s in results[side]["latency_ms"].items():
            if s.get("count"):
                table.add_row(f"{side} {name}", str(s["count"]), *(f"{s[k]:.1f}" for k in ("p50", "p95", "p99", "max")))
    console.print(table)
    for side in ("ours", "bare"):
        r = results[side]
        console.print(
            f"{side}: {r['apps_per_s']:.2f} apps/s over {r['seconds']:.1f} s; "
            f"{r['history']['events_per_app']:.0f} events and "
            f"{r['history']['bytes_per_app'] / 1024:.1f} KiB of history per application; "
            f"worker peak RSS {r['worker_peak_rss_mb']:.0f} MiB"
        )
        console.print(
            "  CPU seconds per application: "
            + ", ".join(f"{part} {s:.3f}" for part, s in sorted(r["cpu_s_per_app"].items(), key=lambda kv: -kv[1]))
        )


def start_profilers(stack: LocalStack, seconds: int) -> list[subprocess.Popen[bytes]]:
    py_spy = Path(sys.executable).parent / "py-spy"
    targets = {"worker": stack.worker_pids()[0], "api": stack.processes.running["api#0"].pid}
    return [
        subprocess.Popen(
            [
                str(py_spy),
                "record",
                "--pid",
                str(pid),
                "--duration",
                str(seconds),
                "--rate",
                "50",
                "--format",
                "speedscope",
                "--output",
                str(OUT / f"profile-{name}.json"),
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        for name, pid in targets.items()
    ]


async def bench() -> dict[str, Any]:
    OUT.mkdir(parents=True, exist_ok=True)
    stack = LocalStack.fresh(
        OUT / "run",
        database_url=os.environ.get("DATABASE_URL"),
        env={
            "POLL_USAGE_CHANGE_S": "30",
            "POLL_DELIVERY_S": "30",
            "UPDATE_TIMEOUT_S": "60",
            "RATE_LIMIT_EID_SIGN_INS": str(N + 10),  # every applicant signs in from this one address
        },
    )
    console.print(f"starting the stack under {OUT.relative_to(ROOT)}/run …")
    try:
        stack.start()
        bare_worker = stack.processes.start(
            "bare-worker",
            [sys.executable, "-m", "drills.bare", stack.temporal_address, "bench-bare"],
            dict(os.environ),
        )
        client = await Client.connect(stack.temporal_address)
        with Progress(
            TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(), console=console
        ) as progress:
            _, warm_ids, _ = await run_ours(stack, progress, 1, "warm-up (one application)")
            shape = await history_stats(client, warm_ids)
            plan = BarePlan(
                round(shape["activities_per_app"]),
                round(shape["updates_per_app"]),
                round(shape["signals_per_app"]),
                round(shape["local_activities_per_app"]),
            )
            cpu = CpuMeter(stack)
            bare_s, bare_ids, bare = await run_bare(client, plan, progress, N)
            bare_cpu = cpu.since_last()
            profilers = start_profilers(stack, 600) if PROFILE else []
            ours_s, ours_ids, ours = await run_ours(stack, progress, N, "ours: citizens and clerk bots over HTTP")
            ours_cpu = cpu.since_last()
            for profiler in profilers:
                profiler.send_signal(2)
                profiler.wait(timeout=60)
        _, worker_peak = memory_mb(stack.worker_pids()[0])
        _, bare_peak = memory_mb(bare_worker.pid)
        results: dict[str, Any] = {
            "n": N,
            "concurrency": CONCURRENCY,
            "plan": plan.__dict__,
            "ours": {
                "seconds": ours_s,
                "apps_per_s": N / ours_s,
                "worker_peak_rss_mb": worker_peak,
                "latency_ms": {name: ours.summary(name) for name in ("submit", "decision", "view", "inbox")},
                "responses": dict(ours.statuses),
                "cpu_s_per_app": {part: seconds / N for part, seconds in ours_cpu.items() if seconds},
                "history": await history_stats(client, ours_ids),
            },
            "bare": {
                "seconds": bare_s,
                "apps_per_s": N / bare_s,
                "worker_peak_rss_mb": bare_peak,
                "latency_ms": {name: bare.summary(name) for name in ("start", "update")},
                "cpu_s_per_app": {part: seconds / N for part, seconds in bare_cpu.items() if seconds},
                "history": await history_stats(client, bare_ids),
            },
        }
        results["ratio"] = results["ours"]["apps_per_s"] / results["bare"]["apps_per_s"]
        (OUT / "results.json").write_text(json.dumps(results, indent=2))
        chart(ours, bare, OUT / "latency.png")
        return results
    finally:
        stack.stop()


def _interrupted(signum: int, frame: object) -> None:
    raise KeyboardInterrupt  # so that the stack is stopped on the way out


def main() -> None:
    signal.signal(signal.SIGTERM, _interrupted)
    results = asyncio.run(bench())
    print_table(results)
    console.print(
        f"results: {(OUT / 'results.json').relative_to(ROOT)}, chart: {(OUT / 'latency.png').relative_to(ROOT)}"
    )
    ours, bare = results["ours"], results["bare"]
    print(
        f"bench: ratio={results['ratio']:.2f} apps_per_s={ours['apps_per_s']:.2f} bare_per_s={bare['apps_per_s']:.2f} "
        f"p99_decision_ms={ours['latency_ms']['decision']['p99']:.1f} "
        f"p99_bare_update_ms={bare['latency_ms']['update']['p99']:.1f}",
        flush=True,
    )


if __name__ == "__main__":
    main()
