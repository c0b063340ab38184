"""The chaos drill's supervisor bot against a played API: what it does about each open incident."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import httpx

from domain import errors
from drills.chaos_api import Api
from drills.chaos_monkey import Drill, Faults
from drills.chaos_supervisor import Supervisor
from drills.chaos_verdict import Report


class PlayedApi:
    """Lists the given open incidents; answers resolutions as told, recording each."""

    def __init__(self, incidents: list[dict[str, Any]]) -> None:
        self.incidents = incidents
        self.resolutions: list[tuple[str, str]] = []  # (incident_id, action)
        self.answers: dict[str, httpx.Response] = {}

    def handle(self, request: httpx.Request) -> httpx.Response:
        if request.method == "GET" and request.url.path == "/v1/incidents":
            assert request.url.params["open"] == "true"
            return httpx.Response(200, json={"items": self.incidents, "total": len(self.incidents)})
        incident_id = request.url.path.split("/")[-2]
        action = json.loads(request.content)["action"]
        self.resolutions.append((incident_id, action))
        return self.answers.get(incident_id, httpx.Response(200, json={}))


def _incident(incident_id: str, department: str, step: str, application_id: str = "a1") -> dict[str, Any]:
    return {"application_id": application_id, "incident_id": incident_id, "department": department, "step": step}


async def _supervisor(played: PlayedApi, report: Report, *, lifted: bool) -> tuple[Supervisor, httpx.AsyncClient]:
    client = httpx.AsyncClient(transport=httpx.MockTransport(played.handle), base_url="http://api")
    faults = Faults(client, Drill())
    if not lifted:
        faults.lifted.clear()
    return Supervisor(Api([client], report, asyncio.Event()), {}, faults, report, give_up_after=2), client


async def test_a_notification_is_skipped_and_other_steps_wait_for_the_refusals_to_be_lifted() -> None:
    played = PlayedApi([_incident("i1", "sms", "send_sms"), _incident("i2", "vehicle_admin", "request_usage_change")])
    report = Report(applications=1)
    supervisor, client = await _supervisor(played, report, lifted=False)
    async with client:
        await supervisor.round()
        assert played.resolutions == [("i1", "skip")]

        supervisor.faults.lifted.set()
        played.incidents = played.incidents[1:]
        await supervisor.round()

    assert played.resolutions == [("i1", "skip"), ("i2", "retry")]
    assert report.resolutions == {("sms", "skip"): 1, ("vehicle_admin", "retry"): 1}
    assert report.problems == []


async def test_a_step_refused_again_after_its_retries_is_closed() -> None:
    played = PlayedApi([_incident("i1", "courier", "ship_permit")])
    report = Report(applications=1)
    supervisor, client = await _supervisor(played, report, lifted=True)
    async with client:
        for n in (2, 3):  # each retry refused again: a new incident for the same step
            await supervisor.round()
            played.incidents = [_incident(f"i{n}", "courier", "ship_permit")]
        await supervisor.round()

    assert [action for _, action in played.resolutions] == ["retry", "retry", "close"]


async def test_an_undo_whose_close_is_refused_is_retried_past_the_retry_limit() -> None:
    played = PlayedApi([_incident("i1", "courier", "return_originals")])
    report = Report(applications=1)
    supervisor, client = await _supervisor(played, report, lifted=True)
    not_possible = {"error": errors.RESOLUTION_NOT_POSSIBLE, "detail": "an undo is only retried"}
    async with client:
        for n in (2, 3):  # each retry refused again: a new incident for the same undo
            await supervisor.round()
            played.incidents = [_incident(f"i{n}", "courier", "return_originals")]
        played.answers = {"i3": httpx.Response(409, json=not_possible)}
        await supervisor.round()
        del played.answers["i3"]
        await supervisor.round()

    assert [action for _, action in played.resolutions] == ["retry", "retry", "close", "retry"]
    assert report.problems == []


async def test_a_skip_refused_as_not_possible_is_retried_and_a_lost_answer_is_not_a_problem() -> None:
    played = PlayedApi([_incident("i1", "sms", "send_sms"), _incident("i2", "insurance", "query_policy")])
    not_possible = {"error": errors.RESOLUTION_NOT_POSSIBLE, "detail": "only notifications are skipped"}
    played.answers = {
        "i1": httpx.Response(409, json=not_possible),
        "i2": httpx.Response(409, json={"error": errors.INCIDENT_NOT_OPEN, "detail": "resolved already"}),
    }
    report = Report(applications=1)
    supervisor, client = await _supervisor(played, report, lifted=True)
    async with client:
        await supervisor.round()
        del played.answers["i1"]
        await supervisor.round()

    assert played.resolutions[:2] == [("i1", "skip"), ("i2", "retry")]
    assert played.resolutions[2] == ("i1", "retry")
    assert report.problems == []
    assert report.resolutions[("sms", "retry")] == 1


async def test_an_unexpected_answer_is_reported_once() -> None:
    played = PlayedApi([_incident("i1", "tax", "fetch_purchase_tax")])
    played.answers = {"i1": httpx.Response(422, json={"error": "validation_failed", "detail": "reason"})}
    report = Report(applications=1)
    supervisor, client = await _supervisor(played, report, lifted=True)
    async with client:
        await supervisor.round()
        await supervisor.round()

    assert len(report.problems) == 1
    assert report.problems[0].startswith("resolve i1 (retry): 422")
