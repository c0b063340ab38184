"""The chaos drill's verdict, from the store's, the sandbox's and Temporal's own records.

Did every application end as steered, with each department's work done once and every
action the API confirmed in the audit log? Did no workflow execution fail, and was every
incident resolved?

An application a supervisor closed (`close`, after retries kept being refused) ends
rejected, whatever it was steered to: it is not counted as steered (not even one steered
to a rejection, which was to be the clerk's), but reported with its compensation checked
and its doubles counted. The one-time notice may be missing where the timeline shows the
SMS gateway refused a text for good (`sms_refused`): notifications never stop the process.
"""

from __future__ import annotations

import json
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

import asyncpg
import httpx
from temporalio.client import Client

from devstack.processes import LocalStack
from domain.statuses import TERMINAL, IncidentAction, Status, UsageChangeState
from domain.statuses import USAGE_PRIVATE as PRIVATE
from domain.statuses import USAGE_RIDE_HAILING as RIDE_HAILING

STEERS = ("completed", "rejected_preliminary", "rejected_final", "withdrawn", "expired")
ENDING = {
    "completed": Status.COMPLETED,
    "rejected_preliminary": Status.REJECTED,
    "rejected_final": Status.REJECTED,
    "withdrawn": Status.WITHDRAWN,
    "expired": Status.EXPIRED,
}
ONE_TIME_NOTICE = "已受理。容缺材料"


@dataclass
class Case:
    steer: str
    owner: dict[str, str]
    vehicle: dict[str, Any]
    application_id: str | None = None
    status: str | None = None
    accepted: bool = False
    confirmed: list[str] = field(default_factory=list)  # audit actions the API answered 2xx for


@dataclass
class Report:
    applications: int
    as_steered: int = 0
    lost: int = 0
    duplicated: int = 0
    server_errors: int = 0
    problems: list[str] = field(default_factory=list)
    statuses: Counter[str] = field(default_factory=Counter)
    while_postgres_down: Counter[str] = field(default_factory=Counter)
    faults: Counter[str] = field(default_factory=Counter)
    seconds: float = 0.0
    failed_workflows: int = 0
    continued_runs: int = 0  # runs that handed over to a new run (continue-as-new)
    incidents_opened: int = 0
    incidents_open: int = 0
    incidents_resolved: int = 0
    incidents_by_department: Counter[str] = field(default_factory=Counter)
    resolutions: Counter[tuple[str, str]] = field(default_factory=Counter)  # (department, action) the bot had confirmed
    closed_by_supervisor: int = 0

    @property
    def line(self) -> str:
        return (
            f"chaos: applications={self.applications} as_steered={self.as_steered} lost={self.lost} "
            f"duplicated={self.duplicated} server_errors={self.server_errors} "
            f"failed_workflows={self.failed_workflows} incidents_open={self.incidents_open} "
            f"incidents_resolved={self.incidents_resolved}"
        )

    @property
    def clean(self) -> bool:
        return self.as_steered == self.applications and not (
            self.lost
            or self.duplicated
            or self.server_errors
            or self.failed_workflows
            or self.incidents_open
            or self.problems
        )


async def failed_workflows(client: Client, report: Report) -> None:
    """Failed executions, from Temporal's own visibility: none may fail, whatever a department answered."""
    failed = "ExecutionStatus = 'Failed'"
    report.failed_workflows = (await client.count_workflows(failed)).count
    async for execution in client.list_workflows(failed, limit=10):
        report.problems.append(f"workflow {execution.id} failed")
    report.continued_runs = (await client.count_workflows("ExecutionStatus = 'ContinuedAsNew'")).count


async def verify(cases: list[Case], stack: LocalStack, sandbox: httpx.AsyncClient, report: Report) -> None:
    """Judge by the sandbox's and the store's records, not by what the workflows say."""
    records = (await sandbox.get("/sandbox/records")).json()
    connection = await asyncpg.connect(stack.running_database_url)
    try:
        rows = await connection.fetch("SELECT application_id, status, view FROM applications")
        statuses = {str(r["application_id"]): r["status"] for r in rows}
        views = {str(r["application_id"]): _json(r["view"]) for r in rows}
        incidents = [
            dict(r)
            for r in await connection.fetch(
                "SELECT application_id::text, incident_id, department, resolved_at IS NULL AS open FROM incidents"
            )
        ]
        permits = Counter(
            str(r["application_id"]) for r in await connection.fetch("SELECT application_id FROM permits")
        )
        audited = Counter(
            (r["action"], r["target"]) for r in await connection.fetch("SELECT action, target FROM audit_log")
        )
        per_vehicle = await connection.fetchval("SELECT count(*) - count(DISTINCT vin_digest) FROM applications")
    finally:
        await connection.close()
    judge(
        cases,
        Records(
            statuses,
            permits,
            audited,
            per_vehicle,
            records["usage_changes"],
            records["sms"],
            records["shipments"],
            views,
            incidents,
        ),
        report,
    )


def _json(value: Any) -> Any:
    return json.loads(value) if isinstance(value, str) else value


@dataclass
class Records:
    """What the store and the departments hold after a drill."""

    statuses: dict[str, str]
    permits: Counter[str]
    audited: Counter[tuple[str, str]]
    extra_per_vehicle: int
    usage_changes: list[dict[str, Any]]
    sms: list[dict[str, Any]]
    shipments: list[dict[str, Any]] = field(default_factory=list)
    views: dict[str, dict[str, Any]] = field(default_factory=dict)  # each application's last view
    incidents: list[dict[str, Any]] = field(default_factory=list)  # application_id, incident_id, department, open


def count_incidents(records: Records, report: Report) -> None:
    """Incidents as the workflows' timelines and the store's incident list show them."""
    events = Counter(entry.get("event") for view in records.views.values() for entry in view.get("timeline") or [])
    report.incidents_opened = max(events["incident_opened"], len(records.incidents))
    report.incidents_resolved = events["incident_resolved"]
    open_now = {(row["application_id"], row["incident_id"]) for row in records.incidents if row["open"]}
    open_now |= {(app, view["incident"]["incident_id"]) for app, view in records.views.items() if view.get("incident")}
    report.incidents_open = len(open_now)
    report.incidents_by_department = Counter(row["department"] for row in records.incidents)


def sms_refused(view: dict[str, Any]) -> bool:
    return any(entry.get("event") == "sms_refused" for entry in view.get("timeline") or [])


def closed_by_supervisor(view: dict[str, Any]) -> bool:
    return any(
        entry.get("event") == "incident_resolved" and entry.get("action") == IncidentAction.CLOSE
        for entry in view.get("timeline") or []
    )


def judge(cases: list[Case], records: Records, report: Report) -> None:
    changes = Counter(
        (job["reference"], job["target_nature"])
        for job in records.usage_changes
        if job["status"] == UsageChangeState.COMPLETED
    )
    notices = Counter(message["phone"] for message in records.sms if ONE_TIME_NOTICE in message["text"])
    shipments = Counter(shipment["reference"] for shipment in records.shipments)
    report.duplicated += records.extra_per_vehicle
    count_incidents(records, report)
    for case in cases:
        app = case.application_id
        if app is None or app not in records.statuses or records.statuses[app] not in TERMINAL:
            report.lost += 1
            report.problems.append(f"{case.steer}: {app} ended nowhere (store: {records.statuses.get(app or '')})")
            continue
        if closed_by_supervisor(records.views.get(app, {})):
            judge_closed(case, app, records, changes, notices, shipments, report)
            continue
        reached_vehicle_admin = case.steer != "rejected_preliminary"
        expected_counts = {
            "permits": int(case.steer == "completed"),
            "changes": int(reached_vehicle_admin),
            "reversals": int(reached_vehicle_admin and case.steer != "completed"),
            "notices": int(reached_vehicle_admin),
            "shipments": int(reached_vehicle_admin),  # the permit to the owner, or the originals back
        }
        found_counts = {
            "permits": records.permits[app],
            "changes": changes[(app, RIDE_HAILING)],
            "reversals": changes[(app, PRIVATE)],
            "notices": notices[case.owner["phone"]],
            "shipments": shipments[app],
        }
        if found_counts["notices"] == 0 and sms_refused(records.views.get(app, {})):
            expected_counts["notices"] = 0  # the gateway refused a text for good: recorded, and the process went on
        expected = {"ending": ENDING[case.steer].value, **expected_counts}
        found = {"ending": records.statuses[app], **found_counts}
        doubled = [key for key, count in found_counts.items() if count > max(1, expected_counts[key])]
        missing_audit = [action for action in case.confirmed if not records.audited[(action, app)]]
        report.duplicated += len(doubled)
        if found == expected and not missing_audit:
            report.as_steered += 1
        else:
            report.problems.append(
                f"{case.steer} {app}: expected {expected}, found {found}, audit missing {missing_audit}"
            )


def judge_closed(
    case: Case,
    app: str,
    records: Records,
    changes: Counter[tuple[str, str]],
    notices: Counter[str],
    shipments: Counter[str],
    report: Report,
) -> None:
    """An application a supervisor closed: rejected, no permit, whatever was done undone, nothing doubled."""
    report.closed_by_supervisor += 1
    ending = records.statuses[app]
    counts = {
        "permits": records.permits[app],
        "changes": changes[(app, RIDE_HAILING)],
        "reversals": changes[(app, PRIVATE)],
        "notices": notices[case.owner["phone"]],
        "shipments": shipments[app],
    }
    report.duplicated += sum(count > 1 for count in counts.values())
    compensated = ending == Status.REJECTED and not counts["permits"] and counts["reversals"] == counts["changes"]
    report.problems.append(
        f"{case.steer} {app}: closed by a supervisor, not as steered; ended {ending}, found {counts}"
        + ("" if compensated else ", not compensated")
    )
