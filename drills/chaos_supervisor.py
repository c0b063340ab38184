"""The chaos drill's supervisor: resolves the city's open incidents as a person on duty would.

A notification is skipped; any other step is retried once the departments no longer refuse
on purpose; a step retried `give_up_after` times and refused again is closed (the
application ends rejected, with full compensation). Where the workflow refuses a skip or a
close (an undo of a closed application admits only a retry), the incident is retried.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections import Counter
from typing import Any

from domain import errors
from domain.statuses import IncidentAction
from drills.chaos_api import Api
from drills.chaos_monkey import Faults
from drills.chaos_verdict import Report

CITY = "330300"
NOTIFYING = "sms"
REASONS = {
    IncidentAction.RETRY: "部门故障已排除，重新办理",
    IncidentAction.SKIP: "通知未送达，不影响办理",
    IncidentAction.CLOSE: "部门多次拒绝，终止办理并撤销已办事项",
}


class Supervisor:
    """Lists the open incidents (GET /v1/incidents) and resolves each through the API."""

    def __init__(self, api: Api, headers: dict[str, str], faults: Faults, report: Report, give_up_after: int = 3):
        self.api, self.headers, self.faults, self.report = api, headers, faults, report
        self.give_up_after = give_up_after
        self.retried: Counter[tuple[str, str]] = Counter()  # (application, step) -> retries confirmed
        self.retry_only: set[str] = set()  # incidents whose skip or close the workflow refused
        self.stopped = asyncio.Event()

    async def run(self, every_s: float = 2.0) -> None:
        while not self.stopped.is_set():
            try:
                await self.round()
            except Exception as err:  # noqa: BLE001 - reported; the incidents left open fail the verdict
                self.problem(f"supervisor: {type(err).__name__}: {err}")
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self.stopped.wait(), every_s)

    async def round(self) -> None:
        listing = await self.api.call(
            "GET",
            "/v1/incidents",
            params={"district": CITY, "open": "true", "page_size": 100},
            headers=self.headers,
        )
        if listing.status_code != 200:
            self.problem(f"incident list: {listing.status_code} {listing.text[:200]}")
            return
        for incident in listing.json()["items"]:
            action = self.action(incident)
            if action is not None:
                await self.resolve(incident, action)

    def action(self, incident: dict[str, Any]) -> IncidentAction | None:
        """What to do about an open incident now; None: wait until the refusals are lifted."""
        retry_only = incident["incident_id"] in self.retry_only
        if incident["department"] == NOTIFYING and not retry_only:
            return IncidentAction.SKIP
        if not self.faults.lifted.is_set():
            return None
        if self.retried[incident["application_id"], incident["step"]] >= self.give_up_after and not retry_only:
            return IncidentAction.CLOSE
        return IncidentAction.RETRY

    async def resolve(self, incident: dict[str, Any], action: IncidentAction) -> None:
        application, incident_id = incident["application_id"], incident["incident_id"]
        answer = await self.api.call(
            "POST",
            f"/v1/applications/{application}/incidents/{incident_id}/resolution",
            json={"action": action, "reason": REASONS[action]},
            headers=self.headers,
        )
        if answer.status_code == 200:
            self.report.resolutions[incident["department"], action] += 1
            if action == IncidentAction.RETRY:
                self.retried[application, incident["step"]] += 1
        elif answer.status_code == 409 and answer.json().get("error") == errors.RESOLUTION_NOT_POSSIBLE:
            self.retry_only.add(incident_id)
        elif answer.status_code != 409:  # 409 incident_not_open: resolved by an earlier try whose answer was lost
            self.problem(f"resolve {incident_id} ({action}): {answer.status_code} {answer.text[:200]}")

    def problem(self, text: str) -> None:
        """Reported once, however many rounds meet it."""
        if text not in self.report.problems:
            self.report.problems.append(text)
