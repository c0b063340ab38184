"""Incidents from end to end: a department refuses for good, the supervisor sees the incident (the
API's list, the console's pages, the metric) and resolves it; the pages before any workflow stands
behind them, from a projection as the workflow writes it."""

from __future__ import annotations

import asyncio
import re
import uuid
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest

from tests.support_console import (
    CLERK,
    INCIDENT_ANSWER,
    SUPERVISOR,
    alert_of,
    incident_projection,
    post_form,
    sign_in,
)
from tests.support_stack import Stack, Submitted, submitted

pytestmark = pytest.mark.timeout(180)


@pytest.fixture(scope="module")
async def consoles(stack: Stack) -> AsyncIterator[dict[str, httpx.AsyncClient]]:
    clients = {
        "clerk": await sign_in(stack, CLERK, "330382"),
        "supervisor": await sign_in(stack, SUPERVISOR, "330382"),
        "elsewhere": await sign_in(stack, SUPERVISOR, "330302"),
    }
    yield clients
    for client in clients.values():
        await client.aclose()


async def test_the_supervisors_page_lists_the_open_incidents_of_their_districts(
    stack: Stack, consoles: dict[str, httpx.AsyncClient]
) -> None:
    application_id, incident_id = await incident_projection(stack)
    page = await consoles["supervisor"].get("/console/supervision")
    assert page.status_code == 200
    section = page.text.split('id="h-incidents"')[1].split('id="h-overdue"')[0]
    assert application_id[:8] in section and INCIDENT_ANSWER in section
    assert "车管所" in section and "核验车辆所有人" in section and "2026-09-26 10:00" in section  # since, in CST
    assert f'action="/console/applications/{application_id}/incidents/{incident_id}/resolution"' in section
    assert 'name="csrf_token"' in section and 'name="reason"' in section
    elsewhere = await consoles["elsewhere"].get("/console/supervision")
    assert application_id[:8] not in elsewhere.text


async def test_the_application_page_shows_the_incident_and_only_a_supervisor_resolves(
    stack: Stack, consoles: dict[str, httpx.AsyncClient]
) -> None:
    application_id, incident_id = await incident_projection(stack)
    as_clerk = await consoles["clerk"].get(f"/console/applications/{application_id}")
    assert as_clerk.status_code == 200
    card = as_clerk.text.split('id="h-incident"')[1].split("</section>")[0]
    assert INCIDENT_ANSWER in card and "由科室负责人选择" in card and "/resolution" not in card
    assert "处理异常（部门拒绝办理）" in as_clerk.text  # what it waits for
    as_supervisor = await consoles["supervisor"].get(f"/console/applications/{application_id}")
    assert f"/incidents/{incident_id}/resolution" in as_supervisor.text
    assert 'value="retry"' in as_supervisor.text and 'value="close"' in as_supervisor.text
    assert 'value="skip"' not in as_supervisor.text  # verify_ownership is no notification
    waiting = await consoles["clerk"].get("/console/inbox", params={"step": "resolve_incident"})
    assert waiting.status_code == 200 and application_id[:8] in waiting.text


async def test_only_a_notification_is_offered_to_skip(stack: Stack, consoles: dict[str, httpx.AsyncClient]) -> None:
    application_id, _ = await incident_projection(stack, step="send_sms", department="sms")
    page = await consoles["supervisor"].get(f"/console/applications/{application_id}")
    assert 'value="skip"' in page.text and "短信平台" in page.text and "发送短信通知" in page.text


@pytest.mark.parametrize(
    ("form", "field"),
    [({"action": "retry", "reason": "  "}, "reason"), ({"reason": "车管所已修复"}, "action")],
)
async def test_a_resolution_without_its_reason_or_action_names_the_field(
    stack: Stack, consoles: dict[str, httpx.AsyncClient], form: dict[str, str], field: str
) -> None:
    application_id, incident_id = await incident_projection(stack)
    url = f"/console/applications/{application_id}/incidents/{incident_id}/resolution"
    refused = await post_form(consoles["supervisor"], url, form)
    assert refused.status_code == 422
    assert alert_of(refused.text).startswith("未能提交") and f'id="{field}-{incident_id}-error"' in refused.text
    audited = await stack.store.pool.fetchval("SELECT count(*) FROM audit_log WHERE target = $1", application_id)
    assert audited == 0  # refused before it reached the application


async def refused_by_the_vehicle_administration(stack: Stack, supervisor: dict[str, str]) -> tuple[Submitted, dict]:
    """A new application whose ownership check the vehicle administration refuses (422), in its incident.

    The refusal is lifted once the incident is open: only the supervisor's retry calls again.
    """
    await stack.sandbox.set_fault("vehicle-admin", refusal_rate=1.0, refusal_status=422)
    try:
        application = await submitted(stack)
        view = await incident_of(stack, application.application_id, supervisor)
    finally:
        await stack.sandbox.set_fault("vehicle-admin")
    return application, view


async def incident_of(stack: Stack, application_id: str, headers: dict[str, str], timeout: float = 30) -> dict:
    """The application's view once it shows an open incident."""
    loop = asyncio.get_running_loop()
    end = loop.time() + timeout
    while True:
        view = (await stack.api.get(f"/v1/applications/{application_id}", headers=headers)).json()
        if view.get("incident"):
            return view
        if loop.time() > end:
            raise AssertionError(f"no incident opened: {view.get('status')} {view.get('pending')}")
        await asyncio.sleep(0.1)


def open_incidents(metrics: str, department: str) -> float:
    match = re.search(rf'^permit_incidents_open\{{department="{department}"\}} (\S+)$', metrics, re.MULTILINE)
    assert match, metrics
    return float(match.group(1))


async def audited(stack: Stack, application_id: str) -> list[tuple[str, str, Any]]:
    rows = await stack.store.pool.fetch(
        "SELECT action, outcome, detail FROM audit_log WHERE target = $1 AND action LIKE 'incident.%' ORDER BY seq",
        application_id,
    )
    return [(r["action"], r["outcome"], r["detail"]) for r in rows]


async def test_a_refusal_opens_an_incident_that_a_supervisor_retries(stack: Stack) -> None:
    supervisor = await stack.clerk("330382", role="supervisor")
    application, view = await refused_by_the_vehicle_administration(stack, supervisor)
    app_id, incident = application.application_id, view["incident"]
    assert (incident["step"], incident["department"]) == ("verify_ownership", "vehicle_admin")
    assert view["pending"] == [{"action": "resolve_incident", "actor": "supervisor"}]
    assert view["status"] == "collecting_data"  # unchanged: the incident is not a status
    for secret in (*application.owner.values(), application.vehicle["plate"], application.vehicle["vin"]):
        assert secret not in incident["answer"]
    inbox = await stack.api.get("/v1/applications", headers=supervisor, params={"step": "resolve_incident"})
    assert app_id in [v["application_id"] for v in inbox.json()["items"]]
    listed = (await stack.api.get("/v1/incidents", headers=supervisor)).json()
    assert incident["incident_id"] in [i["incident_id"] for i in listed["items"]]
    assert open_incidents((await stack.api.get("/metrics")).text, "vehicle_admin") >= 1
    url = f"/v1/applications/{app_id}/incidents/{incident['incident_id']}/resolution"

    skipped = await stack.api.post(url, headers=supervisor, json={"action": "skip", "reason": "跳过"})
    assert skipped.status_code == 409 and skipped.json()["error"] == "resolution_not_possible"
    wrong = f"/v1/applications/{app_id}/incidents/{uuid.uuid4()}/resolution"
    stale = await stack.api.post(wrong, headers=supervisor, json={"action": "retry", "reason": "重试"})
    assert stale.status_code == 409 and stale.json()["error"] == "incident_not_open"
    retried = await stack.api.post(url, headers=supervisor, json={"action": "retry", "reason": "车管所已恢复"})

    assert retried.status_code == 200, retried.text
    assert retried.json()["incident"] is None and retried.json()["pending"] != view["pending"]
    await stack.wait_for(app_id, supervisor, "preliminary_review")
    assert incident["incident_id"] not in [
        i["incident_id"] for i in (await stack.api.get("/v1/incidents", headers=supervisor)).json()["items"]
    ]
    everything = (await stack.api.get("/v1/incidents", headers=supervisor, params={"open": "false"})).json()
    (resolved,) = [i for i in everything["items"] if i["incident_id"] == incident["incident_id"]]
    assert resolved["resolution"] == "retry" and resolved["resolved_at"] is not None
    assert [(action, outcome) for action, outcome, _ in await audited(stack, app_id)] == [
        ("incident.skip", "refused:resolution_not_possible"),
        ("incident.retry", "refused:incident_not_open"),
        ("incident.retry", "ok"),
    ]
    assert (await audited(stack, app_id))[-1][2] == {"incident_id": incident["incident_id"], "reason": "车管所已恢复"}


async def test_a_supervisor_closes_an_incident_from_the_console(
    stack: Stack, consoles: dict[str, httpx.AsyncClient]
) -> None:
    supervisor = await stack.clerk("330382", role="supervisor")
    application, view = await refused_by_the_vehicle_administration(stack, supervisor)
    app_id, incident_id = application.application_id, view["incident"]["incident_id"]
    page = await consoles["supervisor"].get("/console/supervision")
    assert f"/incidents/{incident_id}/resolution" in page.text
    url = f"/console/applications/{app_id}/incidents/{incident_id}/resolution"

    closed = await post_form(consoles["supervisor"], url, {"action": "close", "reason": "车辆所有人信息无法核实"})

    assert closed.status_code == 200, alert_of(closed.text)
    assert "已完成：终止申请（全部回退）" in closed.text
    assert re.search(r'id="status"><span class="status status-rejected">', closed.text)
    after = await stack.wait_for(app_id, supervisor, "rejected")
    assert after["incident"] is None and after["pending"] == []
    assert f"/incidents/{incident_id}/resolution" not in (await consoles["supervisor"].get("/console/supervision")).text
