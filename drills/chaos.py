"""`make chaos`: applications steered to every ending while the system is broken on purpose.

A fresh stack of separate processes under `.data/chaos/` (dev server on a SQLite file, a
private PostgreSQL, the sandbox, one worker, the API). CHAOS_M (default 100) applications
are steered, in turn, to: completed, rejected at the preliminary review, rejected at the
final review, withdrawn after the vehicle administration changed the usage nature, and
expired (the drill deadline DRILL_INSURANCE_DEADLINE_S passes without a policy). Meanwhile:

- the worker is SIGKILLed and started again every few seconds;
- the Temporal dev server is SIGKILLed once and started again on the same database file;
- PostgreSQL is stopped for a few seconds once (the API must answer 503, never 500);
- every department of the sandbox fails 30% of calls and answers 200 ms late.

Then it checks (`drills.chaos_verdict`), from the sandbox's and the store's own records:
the ending of each application; one permit number per completed application and none
otherwise; one usage-nature change per application that reached the vehicle
administration and one reversal per such application that ended without a permit; one
one-time-notice SMS per accepted application; one courier shipment per such application
(the permit, or the originals back); an audit record for every action the API confirmed.
The last line is
`chaos: applications=<M> as_steered=<k> lost=<l> duplicated=<d> server_errors=<e>`.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import random
import signal
import sys
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
from temporalio.client import Client, WorkflowFailureError

from config import Settings
from devstack.processes import ROOT, LocalStack, client_limits
from domain.statuses import TERMINAL, Outcome, PendingAction, Status, Step
from drills.chaos_verdict import STEERS, Case, Report, verify
from drills.people import PNG, new_citizen, new_vehicle
from sandbox.runtime import SERVICES
from workers.temporal import data_converter, workflow_id

DISTRICT = "330382"


@dataclass
class Drill:
    """What to break, and how much."""

    applications: int = 100
    worker_kills: int | None = None  # None: every few seconds until the end
    kill_every_s: tuple[float, float] = (4.0, 8.0)
    restart_temporal_at_s: float | None = 25.0
    restart_postgres_at_s: float | None = 50.0
    postgres_down_s: float = 6.0
    error_rate: float = 0.3
    latency_ms: int = 200
    insurance_deadline_s: float = 300.0  # long enough for the slowest usage change under the faults
    concurrency: int = 50
    timeout_s: float = 1200.0


class Api:
    """The API as a patient client sees it: 503 and broken connections are tried again."""

    def __init__(self, client: httpx.AsyncClient, report: Report, postgres_down: asyncio.Event) -> None:
        self.client, self.report, self.postgres_down = client, report, postgres_down

    async def call(self, method: str, path: str, *, give_up_after_s: float = 600, **kwargs: Any) -> httpx.Response:
        end = time.monotonic() + give_up_after_s
        while True:
            try:
                response = await self.client.request(method, path, **kwargs)
            except httpx.TransportError as err:
                self.report.statuses[f"transport error {type(err).__name__}"] += 1
            else:
                self.report.statuses[str(response.status_code)] += 1
                if self.postgres_down.is_set():
                    self.report.while_postgres_down[str(response.status_code)] += 1
                if response.status_code >= 500 and response.status_code != 503:
                    self.report.server_errors += 1
                    self.report.problems.append(f"{method} {path}: {response.status_code} {response.text[:200]}")
                if response.status_code != 503:
                    return response
            if time.monotonic() > end:
                raise RuntimeError(f"{method} {path}: no answer but 503 for {give_up_after_s:.0f} s")
            await asyncio.sleep(0.5 + random.random())


async def walk(case: Case, api: Api, sandbox: httpx.AsyncClient, clerk: dict[str, str], deadline: float) -> None:
    """One application, steered to its ending; every step is retried until it takes."""
    while True:  # a QR code is good once: when the sign-in failed after using it, the citizen scans a new one
        qr = (await sandbox.post("/sandbox/eid/qr", json=case.owner)).json()["qr_token"]
        signed_in = await api.call("POST", "/v1/auth/eid", json={"qr_token": qr})
        if signed_in.status_code == 200:
            break
        if signed_in.status_code != 401:
            raise RuntimeError(f"sign-in refused: {signed_in.status_code} {signed_in.text[:200]}")
    applicant = {"Authorization": f"Bearer {signed_in.json()['access_token']}"}
    materials = {}
    for kind in ("registration_certificate", "driving_license"):
        uploaded = await api.call(
            "POST",
            "/v1/materials",
            headers=applicant,
            data={"kind": kind},
            files={"file": ("scan.png", PNG, "image/png")},
        )
        materials[kind] = uploaded.json()["material_id"]
    body = {
        "vehicle": {"plate": case.vehicle["plate"], "vin": case.vehicle["vin"]},
        "district": DISTRICT,
        "channel": "online",
        "delivery": {
            "method": "mail",
            "recipient": case.owner["name"],
            "phone": case.owner["phone"],
            "address": "乐清市城南街道 8 号",
        },
        "materials": materials,
        "insurance_commitment": True,
    }
    created = await api.call(
        "POST", "/v1/applications", json=body, headers={**applicant, "Idempotency-Key": uuid.uuid4().hex}
    )
    if created.status_code not in (200, 201):
        raise RuntimeError(f"submission refused: {created.status_code} {created.text[:200]}")
    case.application_id = created.json()["application_id"]
    case.confirmed.append("application.submit")
    path = f"/v1/applications/{case.application_id}"
    insured = shipped = withdrawn = False

    async def act(action: str, url: str, headers: dict[str, str], payload: dict[str, Any] | None = None) -> None:
        response = await api.call("POST", url, headers=headers, json=payload)
        if response.status_code == 200:
            case.confirmed.append(action)
        elif response.status_code != 409:  # 409: taken already (an earlier try did it) or not yet there
            raise RuntimeError(f"{action}: {response.status_code} {response.text[:200]}")

    async def decide(step: str, outcome: str) -> None:
        payload = {"step": step, "outcome": outcome}
        if outcome == Outcome.REJECT:
            payload["reason"] = "材料与车辆登记信息不符"
        await act(f"decision.{step}.{outcome}", f"{path}/decisions", clerk, payload)

    while time.monotonic() < deadline:
        view = (await api.call("GET", path, headers=applicant)).json()
        status, step = view["status"], view.get("step")
        pending = {p["action"] for p in view.get("pending", [])}
        case.status = status
        if status in TERMINAL:
            return
        case.accepted = case.accepted or view.get("accepted_on") is not None
        if case.accepted and not insured and case.steer in ("completed", "rejected_final"):
            await sandbox.post(
                "/sandbox/insurance/policies", json={"vin": case.vehicle["vin"], "plate": case.vehicle["plate"]}
            )
            insured = True
        if status == Status.PRELIMINARY_REVIEW and step == Step.PRELIMINARY_REVIEW:
            await decide(
                Step.PRELIMINARY_REVIEW, Outcome.REJECT if case.steer == "rejected_preliminary" else Outcome.APPROVE
            )
        elif status == Status.AWAITING_ORIGINALS and PendingAction.SHIP_ORIGINALS in pending and not shipped:
            await act(
                "application.originals_shipment",
                f"{path}/originals-shipment",
                applicant,
                {"tracking_number": f"SF{random.randrange(10**12):012d}"},
            )
            shipped = True
        elif status == Status.AWAITING_ORIGINALS and step == Step.ORIGINALS_RECEIVED:
            await decide(Step.ORIGINALS_RECEIVED, Outcome.APPROVE)
        elif status == Status.AWAITING_INSURANCE and case.steer == "withdrawn" and not withdrawn:
            await act("application.withdraw", f"{path}/withdraw", applicant, {"reason": "不再从事网约车运营"})
            withdrawn = True
        elif status == Status.FINAL_REVIEW and step == Step.FINAL_REVIEW:
            await decide(Step.FINAL_REVIEW, Outcome.REJECT if case.steer == "rejected_final" else Outcome.APPROVE)
        await asyncio.sleep(1.0)


class Monkey:
    """Breaks the stack on a schedule until told to stop."""

    def __init__(self, stack: LocalStack, drill: Drill, postgres_down: asyncio.Event, report: Report) -> None:
        self.stack, self.drill, self.postgres_down, self.report = stack, drill, postgres_down, report
        self.stopped = asyncio.Event()

    def say(self, text: str) -> None:
        print(f"[chaos {time.monotonic() - self.started:6.1f}s] {text}", flush=True)

    async def run(self) -> None:
        self.started = time.monotonic()
        drill, stack = self.drill, self.stack
        next_kill = self.started + random.uniform(*drill.kill_every_s)
        temporal_at = self.started + drill.restart_temporal_at_s if drill.restart_temporal_at_s is not None else None
        postgres_at = self.started + drill.restart_postgres_at_s if drill.restart_postgres_at_s is not None else None
        while not self.stopped.is_set():
            await asyncio.sleep(0.5)
            now = time.monotonic()
            for name, code in stack.processes.exited():
                if name.startswith("worker#"):
                    stack.processes.running.pop(name)
                    stack.start_worker()
                    self.say(f"{name} had exited ({code}); started another")
            kills_left = drill.worker_kills is None or self.report.faults["worker SIGKILL"] < drill.worker_kills
            if kills_left and now >= next_kill:
                victim = next(name for name in stack.processes.running if name.startswith("worker#"))
                stack.processes.kill(victim, signal.SIGKILL)
                stack.start_worker()
                self.report.faults["worker SIGKILL"] += 1
                next_kill = now + random.uniform(*drill.kill_every_s)
            if temporal_at is not None and now >= temporal_at:
                temporal_at = None
                self.say("SIGKILL the Temporal dev server, then start it again on the same database file")
                stack.processes.kill("temporal", signal.SIGKILL)
                await asyncio.to_thread(stack.start_temporal)
                self.report.faults["Temporal dev server restart"] += 1
                self.say("Temporal is back")
            if postgres_at is not None and now >= postgres_at and stack.postgres is not None:
                postgres_at = None
                self.say(f"stopping PostgreSQL for {drill.postgres_down_s:.0f} s")
                self.postgres_down.set()
                await asyncio.to_thread(stack.postgres.stop)
                await asyncio.sleep(drill.postgres_down_s)
                await asyncio.to_thread(stack.postgres.start)
                self.postgres_down.clear()
                self.report.faults["PostgreSQL restart"] += 1
                self.say("PostgreSQL is back")


async def closed(stack: LocalStack, cases: list[Case], timeout_s: float = 180) -> None:
    """Wait until every workflow has finished closing down (a reversal and a return follow the ending)."""
    client = await Client.connect(stack.temporal_address, data_converter=data_converter(Settings()))
    with contextlib.suppress(TimeoutError):  # what has not closed by then, `verify` reports
        async with asyncio.timeout(timeout_s):
            for case in cases:
                if case.application_id is not None:
                    with contextlib.suppress(WorkflowFailureError):  # closed all the same
                        await client.get_workflow_handle(workflow_id(case.application_id)).result()


async def run_drill(drill: Drill, data_dir: Path, say: Callable[[str], None] = print) -> Report:
    """Start a stack under `data_dir`, steer the applications through the faults, verify."""
    report = Report(applications=drill.applications)
    stack = LocalStack.fresh(
        data_dir,
        env={
            "POLL_USAGE_CHANGE_S": "5",
            "POLL_INSURANCE_S": "5",
            "POLL_DELIVERY_S": "5",
            "DRILL_INSURANCE_DEADLINE_S": str(drill.insurance_deadline_s),
            "RATE_LIMIT_UPLOADS": "1000",
            "RATE_LIMIT_SUBMISSIONS": "1000",
        },
        sandbox_env={
            "SANDBOX_VEHICLE_ADMIN_DELAY_S": "0.5",
            "SANDBOX_COURIER_DELAY_S": "0.5",
            "SANDBOX_CALLBACK_BACKOFF_S": "1",
        },
    )
    postgres_down = asyncio.Event()
    try:
        await asyncio.to_thread(stack.start)
        async with (
            httpx.AsyncClient(base_url=stack.api_url, timeout=30, limits=client_limits()) as client,
            httpx.AsyncClient(base_url=stack.sandbox_url, timeout=30, limits=client_limits()) as sandbox,
        ):
            api = Api(client, report, postgres_down)
            cases = []
            for i in range(drill.applications):
                owner = new_citizen(DISTRICT)
                vehicle = (await sandbox.post("/sandbox/vehicles", json=new_vehicle(owner))).json()
                cases.append(Case(STEERS[i % len(STEERS)], owner, vehicle))
            token = await api.call(
                "POST", "/v1/dev/token", json={"role": "transport_clerk", "sub": "chaos-clerk", "district": DISTRICT}
            )
            clerk = {"Authorization": f"Bearer {token.json()['access_token']}"}
            for service in SERVICES:
                await sandbox.put(
                    f"/sandbox/faults/{service}", json={"error_rate": drill.error_rate, "latency_ms": drill.latency_ms}
                )
            monkey = Monkey(stack, drill, postgres_down, report)
            chaos = asyncio.create_task(monkey.run())
            gate = asyncio.Semaphore(drill.concurrency)
            started = time.monotonic()
            deadline = started + drill.timeout_s

            async def one(case: Case) -> None:
                async with gate:
                    try:
                        await walk(case, api, sandbox, clerk, deadline)
                    except Exception as err:  # noqa: BLE001 - the case is judged lost below, with the reason
                        report.problems.append(f"{case.steer} {case.application_id}: {err}")

            await asyncio.gather(*(one(case) for case in cases))
            report.seconds = time.monotonic() - started
            monkey.stopped.set()
            await chaos
            await sandbox.delete("/sandbox/faults")
            await closed(stack, cases)
            await verify(cases, stack, sandbox, report)
    finally:
        await asyncio.to_thread(stack.stop)
    return report


def main() -> None:
    drill = Drill(applications=int(os.environ.get("CHAOS_M", "100")))
    out = ROOT / ".data" / "chaos"
    signal.signal(signal.SIGTERM, lambda *_: (_ for _ in ()).throw(KeyboardInterrupt()))
    report = asyncio.run(run_drill(drill, out / "run"))
    out.mkdir(parents=True, exist_ok=True)
    summary = {
        "applications": report.applications,
        "as_steered": report.as_steered,
        "lost": report.lost,
        "duplicated": report.duplicated,
        "server_errors": report.server_errors,
        "seconds": report.seconds,
        "faults": dict(report.faults),
        "responses": dict(report.statuses),
        "responses_while_postgres_down": dict(report.while_postgres_down),
        "problems": report.problems,
    }
    (out / "report.json").write_text(json.dumps(summary, indent=2, ensure_ascii=False))
    print(f"faults: {dict(report.faults)}")
    print(f"API answers: {dict(report.statuses)}")
    print(f"API answers while PostgreSQL was down: {dict(report.while_postgres_down)}")
    for problem in report.problems[:20]:
        print(f"problem: {problem}")
    print(f"{report.applications} applications in {report.seconds:.0f} s; report: .data/chaos/report.json")
    print(report.line, flush=True)
    sys.exit(0 if report.clean else 1)


if __name__ == "__main__":
    main()
