"""An application's history stays bounded: polls back off, insurance checks are coalesced and rate-limited."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import timedelta

import pytest

from tests.workflows.fakes import FakeWorld, application_input
from tests.workflows.support import Starter, starting, time_skipping_server, until
from workflows.permit_application import PermitApplicationWorkflow


@pytest.fixture
async def start() -> AsyncIterator[Starter]:
    async with time_skipping_server() as env, starting(env) as start:
        yield start


async def test_a_pending_usage_change_is_polled_ever_less_often_up_to_an_hour(start: Starter) -> None:
    run = await start(FakeWorld(usage_change_pending=True), application_input(channel="window"))
    await run.decide("preliminary_review")
    await run.reach("vehicle_nature_change")
    await until(lambda: "request_usage_change" in run.world.names(), "the usage-change request")
    await run.env.sleep(timedelta(hours=10))
    await asyncio.sleep(0.5)  # the last poll's activity, started by the last timer, is recorded
    polls = run.world.names().count("get_usage_change")
    # 60 s doubling to an hour: 60+120+...+1920 = 3780 s for six polls, then one an hour; every 60 s would be 600.
    assert 13 <= polls <= 16
    assert (await run.view())["status"] == "vehicle_nature_change"


async def test_insurance_checks_within_the_window_share_one_platform_query(start: Starter) -> None:
    run = await start(FakeWorld(), application_input(channel="window"))
    await run.through_acceptance()
    queries = run.world.names().count("find_policy")
    answers = [await run.handle.execute_update(PermitApplicationWorkflow.check_insurance) for _ in range(20)]
    assert {a["status"] for a in answers} == {"awaiting_insurance"}
    assert run.world.names().count("find_policy") == queries + 1
    await run.env.sleep(timedelta(minutes=6))
    run.world.buy_policy(await run.env.get_current_time() - timedelta(minutes=1))
    checked = await run.handle.execute_update(PermitApplicationWorkflow.check_insurance)
    assert checked["status"] == "final_review"
    assert run.world.names().count("find_policy") == queries + 2
