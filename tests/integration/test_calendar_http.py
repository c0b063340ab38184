"""Loading a calendar year over HTTP, and what it does to running applications."""

from __future__ import annotations

import asyncio

import pytest

from domain.calendar import official_calendar
from tests.support_stack import Stack, submitted

pytestmark = pytest.mark.timeout(120)


def official(year: int) -> dict[str, list[str]]:
    schedule = next(s for s in official_calendar()._years.values() if s.year == year)
    return {
        "holidays": sorted(d.isoformat() for d in schedule.holidays),
        "makeup_workdays": sorted(d.isoformat() for d in schedule.makeup_workdays),
    }


@pytest.mark.parametrize(
    ("body", "loc"),
    [
        ({"holidays": ["2031-02-30"], "makeup_workdays": []}, ["body", "holidays", 0]),
        ({"holidays": ["2030-10-01"], "makeup_workdays": []}, ["body", "holidays", 0]),
        ({"holidays": [], "makeup_workdays": ["2031-01-06"]}, ["body", "makeup_workdays", 0]),
        ({"holidays": ["2031-02-01"], "makeup_workdays": ["2031-02-01"]}, ["body", "makeup_workdays"]),
        ({"holidays": [], "makeup_workdays": [], "extra": 1}, ["body", "extra"]),
    ],
)
async def test_a_bad_schedule_is_refused_naming_the_field(stack: Stack, body: dict, loc: list) -> None:
    supervisor = await stack.clerk("330300", role="supervisor")
    response = await stack.api.put("/v1/calendar/years/2031", headers=supervisor, json=body)
    assert response.status_code == 422, response.text
    assert response.json()["fields"][0]["loc"] == loc
    deadline = await stack.api.get("/v1/calendar/deadline", params={"start": "2030-12-20", "working_days": 15})
    assert deadline.json()["provisional"] is True


async def test_only_a_supervisor_loads_a_year(stack: Stack) -> None:
    clerk = await stack.clerk()
    assert (
        await stack.api.put("/v1/calendar/years/2031", headers=clerk, json={"holidays": [], "makeup_workdays": []})
    ).status_code == 403
    assert (
        await stack.api.put("/v1/calendar/years/2031", json={"holidays": [], "makeup_workdays": []})
    ).status_code == 401


async def test_loading_a_year_makes_deadlines_exact_and_is_audited(stack: Stack) -> None:
    before = (await stack.api.get("/v1/calendar/deadline", params={"start": "2031-12-24", "working_days": 15})).json()
    assert before["provisional"] is True
    supervisor = await stack.clerk("330300", role="supervisor")
    body = {"holidays": ["2032-01-01", "2032-02-10", "2032-02-11"], "makeup_workdays": ["2032-02-07"]}
    loaded = await stack.api.put("/v1/calendar/years/2032", headers=supervisor, json=body)
    assert loaded.status_code == 200, loaded.text
    assert loaded.json()["holidays"] == body["holidays"]
    after = (await stack.api.get("/v1/calendar/deadline", params={"start": "2031-12-24", "working_days": 15})).json()
    assert after["provisional"] is True  # 2031 itself is still unknown
    inside = (await stack.api.get("/v1/calendar/deadline", params={"start": "2032-02-06", "working_days": 3})).json()
    assert inside == {"start": "2032-02-06", "working_days": 3, "due_on": "2032-02-12", "provisional": False}
    audit = await stack.store.pool.fetchrow(
        "SELECT * FROM audit_log WHERE action = 'calendar.load_year' AND target = '2032' ORDER BY id DESC LIMIT 1"
    )
    assert audit["role"] == "supervisor" and audit["outcome"] == "created"


async def test_loading_the_year_recomputes_running_applications(stack: Stack) -> None:
    """With 2026 unknown, an accepted application's deadlines are provisional until 2026 is loaded."""
    await stack.store.pool.execute("DELETE FROM calendar_years WHERE year = 2026")
    supervisor = await stack.clerk("330300", role="supervisor")
    try:
        clerk = await stack.clerk()
        app = await submitted(stack, until="preliminary_review", clerk=clerk)
        owner, applicant, app_id = app.owner, app.applicant, app.application_id
        accepted = await stack.api.post(
            f"/v1/applications/{app_id}/decisions",
            headers=clerk,
            json={"step": "preliminary_review", "outcome": "approve"},
        )
        assert accepted.json()["deadlines"]["insurance"]["provisional"] is True
        filters = {"sort": "decision_due", "warning": "none", "plate": app.vehicle["plate"]}
        listed = (await stack.api.get("/v1/applications", headers=clerk, params=filters)).json()
        assert app_id in [item["application_id"] for item in listed["items"]]
    finally:
        loaded = await stack.api.put("/v1/calendar/years/2026", headers=supervisor, json=official(2026))
    assert loaded.status_code == 200 and loaded.json()["recomputed_applications"] >= 1
    for _ in range(100):
        view = (await stack.api.get(f"/v1/applications/{app_id}", headers=applicant)).json()
        if "deadlines_recomputed" in [e["event"] for e in view["timeline"]]:
            break
        await asyncio.sleep(0.1)
    else:
        raise AssertionError("the deadlines were never recomputed")
    insurance = view["deadlines"]["insurance"]
    assert insurance["provisional"] is False
    texts = [m["text"] for m in await stack.sandbox.sms(owner["phone"])]
    assert sum(insurance["due_on"] in t and "确定" in t for t in texts) == 1
