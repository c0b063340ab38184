"""The insurance deadline holds at every step from acceptance until the policy is found: awaiting the
originals, the usage change, an incident. Expiry undoes whatever was done by then."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import date, timedelta

import pytest

from domain import errors
from domain.calendar import end_of_day_cst
from tests.workflows.fakes import FakeWorld, application_input
from tests.workflows.support import Run, Starter, starting, time_skipping_server
from workflows.permit_application import PermitApplicationWorkflow
from workflows.types import OriginalsShipment


@pytest.fixture
async def start() -> AsyncIterator[Starter]:
    async with time_skipping_server() as env, starting(env) as start:
        yield start


async def past_the_deadline(run: Run) -> None:
    due = date.fromisoformat((await run.view())["deadlines"]["insurance"]["due_on"])
    await run.env.sleep(end_of_day_cst(due) - await run.env.get_current_time() + timedelta(minutes=2))


def events(view: dict) -> list[str]:
    return [e["event"] for e in view["timeline"]]


def usage_targets(run: Run) -> list[str]:
    return [r.target_nature for n, r in run.world.calls if n == "request_usage_change"]


async def test_an_applicant_who_never_mails_the_originals_expires(start: Starter) -> None:
    run = await start(FakeWorld(deadline_days=3))
    await run.decide("preliminary_review")
    await run.reach("awaiting_originals")
    await past_the_deadline(run)
    assert (await run.handle.result()).status == "expired"
    final = await run.view()
    assert run.world.names().count("find_policy") == 1  # the last check, at the deadline
    assert usage_targets(run) == []
    assert "expired" in events(final) and final["pending"] == []


async def test_a_usage_change_pending_at_the_deadline_expires_and_is_reverted(start: Starter) -> None:
    run = await start(FakeWorld(deadline_days=3), application_input(usage_change_poll_s=6 * 3600))
    await run.decide("preliminary_review")
    await run.reach("awaiting_originals")
    await run.handle.execute_update(PermitApplicationWorkflow.report_originals_shipment, OriginalsShipment("SF1"))
    await run.decide("originals_received")
    await run.reach("vehicle_nature_change")
    run.world.usage_change_pending = True
    await past_the_deadline(run)
    assert (await run.handle.result()).status == "expired"
    final = await run.view()
    assert usage_targets(run) == ["预约出租客运", "非营运"]  # requested before the deadline, reverted after
    assert events(final).index("expired") < events(final).index("usage_nature_reverted")
    assert "originals_returned" in events(final)


async def test_a_policy_bought_before_the_deadline_is_found_at_it_and_the_application_goes_on(start: Starter) -> None:
    run = await start(FakeWorld(deadline_days=3))
    await run.decide("preliminary_review")
    await run.reach("awaiting_originals")
    run.world.buy_policy(await run.env.get_current_time())
    await past_the_deadline(run)
    await run.handle.execute_update(PermitApplicationWorkflow.report_originals_shipment, OriginalsShipment("SF1"))
    await run.decide("originals_received")
    await run.complete_usage_change()
    view = await run.reach("final_review", step="final_review")
    assert "insurance_found" in events(view) and "expired" not in events(view)


async def test_an_incident_open_at_the_deadline_does_not_stop_the_expiry(start: Starter) -> None:
    run = await start(FakeWorld(deadline_days=3, refusals={"find_policy": errors.DEPARTMENT_REJECTED_REQUEST}))
    await run.through_acceptance()
    checked = await run.handle.execute_update(PermitApplicationWorkflow.check_insurance)
    assert checked["incident"]["department"] == "insurance"
    await past_the_deadline(run)
    assert (await run.handle.result()).status == "expired"
    final = await run.view()
    assert final["incident"] is None
    assert "usage_nature_reverted" in events(final)
