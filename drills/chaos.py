"""`make chaos`: applications steered to every ending while the system is broken on purpose.

A fresh stack of separate processes under `.data/chaos/` (dev server on a SQLite file, a
private PostgreSQL, the sandbox, two workers, two API processes; the drivers alternate
between the APIs). CHAOS_M (default 100) applications
are steered, in turn, to: completed, rejected at the preliminary review, rejected at the
final review, withdrawn after the vehicle administration changed the usage nature, and
expired (the drill deadline DRILL_INSURANCE_DEADLINE_S passes without a policy). Meanwhile:

- a worker is SIGKILLed and another started every few seconds, the oldest each time;
- an API process is SIGKILLed and started again every little while, each in turn;
- the Temporal dev server is SIGKILLed once and started again on the same database file;
- PostgreSQL is stopped for a few seconds once (the API must answer 503, never 500);
- every department of the sandbox fails 30% of calls and answers 200 ms late;
- for a phase, the departments of the steps also refuse for good (422 with a body),
  answer garbage (not JSON, or JSON with other fields) and drop connections, each at a
  rate; a refused step opens an incident, which a supervisor bot (`drills.chaos_supervisor`)
  retries once the phase is over (skips, for a notification; closes, if retries keep
  being refused).

Then it checks (`drills.chaos_verdict`), from the sandbox's and the store's own records:
the ending of each application; one permit number per completed application and none
otherwise; one usage-nature change per application that reached the vehicle
administration and one reversal per such application that ended without a permit; one
one-time-notice SMS per accepted application; one courier shipment per such application
(the permit, or the originals back); an audit record for every action the API confirmed;
no failed workflow execution in Temporal's visibility; no incident left open. The last line is
`chaos: applications=<M> as_steered=<k> lost=<l> duplicated=<d> server_errors=<e> failed_workflows=<f>
incidents_open=<o> incidents_resolved=<r>` (one line).
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
from pathlib import Path
from typing import Any

import httpx
from temporalio.client import Client, WorkflowFailureError

from config import Settings
from devstack.processes import ROOT, LocalStack, client_limits
from domain.statuses import TERMINAL, Outcome, PendingAction, Status, Step
from drills.chaos_api import Api
from drills.chaos_monkey import Drill, Faults, Monkey
from drills.chaos_supervisor import CITY, Supervisor
from drills.chaos_verdict import STEERS, Case, Report, failed_workflows, verify
from drills.people import PNG, new_citizen, new_vehicle
from workers.temporal import data_converter, workflow_id

DISTRICT = "330382"


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


async def closed(client: Client, cases: list[Case], timeout_s: float = 180) -> None:
    """Wait until every workflow has finished closing down (a reversal and a return follow the ending)."""
    with contextlib.suppress(TimeoutError):  # what has not closed by then, `verify` reports
        async with asyncio.timeout(timeout_s):
            for case in cases:
                if case.application_id is not None:
                    with contextlib.suppress(WorkflowFailureError):  # counted by `failed_workflows`
                        await client.get_workflow_handle(workflow_id(case.application_id)).result()


async def token(api: Api, role: str, district: str) -> dict[str, str]:
    issued = await api.call("POST", "/v1/dev/token", json={"role": role, "sub": f"chaos-{role}", "district": district})
    return {"Authorization": f"Bearer {issued.json()['access_token']}"}


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
            "CONTINUE_AS_NEW_AFTER_EVENTS": "200",  # applications hand over to new runs under the faults
            "RATE_LIMIT_UPLOADS": "1000",
            "RATE_LIMIT_SUBMISSIONS": "1000",
            "RATE_LIMIT_EID_SIGN_INS": "1000",
        },
        sandbox_env={
            "SANDBOX_VEHICLE_ADMIN_DELAY_S": "0.5",
            "SANDBOX_COURIER_DELAY_S": "0.5",
            "SANDBOX_CALLBACK_BACKOFF_S": "1",
        },
    )
    postgres_down = asyncio.Event()
    try:
        await asyncio.to_thread(stack.start, drill.workers, drill.apis)
        async with contextlib.AsyncExitStack() as clients:
            apis = [
                await clients.enter_async_context(httpx.AsyncClient(base_url=url, timeout=30, limits=client_limits()))
                for url in stack.api_urls
            ]
            sandbox = await clients.enter_async_context(
                httpx.AsyncClient(base_url=stack.sandbox_url, timeout=30, limits=client_limits())
            )
            api = Api(apis, report, postgres_down)
            cases = []
            for i in range(drill.applications):
                owner = new_citizen(DISTRICT)
                vehicle = (await sandbox.post("/sandbox/vehicles", json=new_vehicle(owner))).json()
                cases.append(Case(STEERS[i % len(STEERS)], owner, vehicle))
            clerk = await token(api, "transport_clerk", DISTRICT)
            faults = Faults(sandbox, drill)
            await faults.steady()
            monkey = Monkey(stack, drill, faults, postgres_down, report)
            chaos = asyncio.create_task(monkey.run())
            supervisor = Supervisor(api, await token(api, "supervisor", CITY), faults, report)
            supervising = asyncio.create_task(supervisor.run())
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
            await faults.none()
            temporal = await Client.connect(
                stack.temporal_address, data_converter=data_converter(Settings(app_env="development"))
            )
            await closed(temporal, cases)
            supervisor.stopped.set()
            await supervising
            await failed_workflows(temporal, report)
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
        "failed_workflows": report.failed_workflows,
        "continued_runs": report.continued_runs,
        "incidents_opened": report.incidents_opened,
        "incidents_open": report.incidents_open,
        "incidents_resolved": report.incidents_resolved,
        "incidents_by_department": dict(report.incidents_by_department),
        "resolutions": {f"{department} {action}": n for (department, action), n in report.resolutions.items()},
        "closed_by_supervisor": report.closed_by_supervisor,
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
    print(f"incidents by department: {dict(report.incidents_by_department)}; opened {report.incidents_opened}")
    print(f"resolutions by the supervisor: {summary['resolutions']}")
    print(f"runs continued as new: {report.continued_runs}")
    for problem in report.problems[:20]:
        print(f"problem: {problem}")
    print(f"{report.applications} applications in {report.seconds:.0f} s; report: .data/chaos/report.json")
    print(report.line, flush=True)
    sys.exit(0 if report.clean else 1)


if __name__ == "__main__":
    main()
