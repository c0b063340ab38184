"""Incidents from end to end: a department refuses for good, the supervisor sees the incident (the
API's list, the console's pages, the metric) and resolves it; the pages before any workflow stands
behind them, from a projection as the workflow writes it."""

from __future__ import annotations

from collections.abc import AsyncIterator

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
from tests.support_stack import Stack

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
    waiting = await consoles["clerk"].get("/console/inbox", params={"step": "resolve_incident"})
    assert waiting.status_code == 200 and application_id[:8] in waiting.text


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
