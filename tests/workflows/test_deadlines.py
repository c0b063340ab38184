"""Deadlines to the day, each test on a time-skipping server of its own (its clock only moves forward).

The tests move time with `env.sleep` alone (`handle.result()` would let the server skip
freely) and wait for what a timer sets off with `eventually`, since the work a timer
starts finishes after the sleep returns.

A time-skipping server starts at today's date and cannot go back to 2026's Spring
Festival or National Day; 2037 has exactly 2026's weekdays (both begin on a Thursday,
neither is a leap year), so those tests load 2026's published schedule moved to 2037
and walk the workflow across the very same holidays and make-up Saturdays and Sundays.
"""

from __future__ import annotations

import asyncio
import dataclasses
import inspect
from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import date, datetime, time, timedelta
from typing import Any

import pytest
from temporalio.testing import WorkflowEnvironment
from temporalio.worker import Replayer

from domain.calendar import CST, WorkingDayCalendar, YearSchedule, end_of_day_cst, official_calendar
from tests.support_settings import settings_for_tests
from tests.workflows.fakes import FakeWorld
from tests.workflows.support import Run, Starter, starting, time_skipping_server
from workers.temporal import data_converter
from workflows import search_attributes as sa
from workflows.permit_application import PermitApplicationWorkflow
from workflows.types import CalendarChanged, Withdrawal

# A 2027 schedule as the State Council might announce it (the real one is not published yet).
SCHEDULE_2027 = YearSchedule(
    2027,
    holidays=frozenset(
        {date(2027, 1, 1), date(2027, 2, 8), date(2027, 2, 9), date(2027, 2, 10), date(2027, 2, 11), date(2027, 2, 12)}
    ),
    makeup_workdays=frozenset({date(2027, 2, 6)}),
)


def schedule_2026_as_2037() -> YearSchedule:
    s2026 = next(s for s in official_calendar()._years.values() if s.year == 2026)
    return YearSchedule(
        2037,
        frozenset(d.replace(year=2037) for d in s2026.holidays),
        frozenset(d.replace(year=2037) for d in s2026.makeup_workdays),
    )


@pytest.fixture
async def env() -> AsyncIterator[WorkflowEnvironment]:
    async with time_skipping_server() as env:
        yield env


@pytest.fixture
async def start(env: WorkflowEnvironment) -> AsyncIterator[Starter]:
    async with starting(env) as start:
        yield start


async def sleep_until(env: WorkflowEnvironment, instant: datetime) -> None:
    now = await env.get_current_time()
    assert instant > now, f"the test server is already at {now}, past {instant}"
    await env.sleep(instant - now)


def world_in_2037(calendar: WorkingDayCalendar) -> FakeWorld:
    """Departments in 2037, with a vehicle registered the year before (within its 8 years of service)."""
    world = FakeWorld(calendar=calendar)
    world.vehicle = dataclasses.replace(world.vehicle, registered_on="2036-06-01")
    return world


async def accept_on(run: Run, day: date) -> dict:
    """Walk to acceptance on `day` (10:00 CST) and on to awaiting_insurance."""
    await run.reach("preliminary_review", step="preliminary_review")
    await sleep_until(run.env, datetime.combine(day, time(10), tzinfo=CST))
    await run.through_acceptance()
    view = await run.view()
    assert view["accepted_on"] == day.isoformat()
    return view


def texts(run: Run, marker: str) -> list[str]:
    return [s.text for s in run.world.sms if marker in s.idempotency_key]


async def eventually(check: Callable[[], Awaitable[bool]] | Callable[[], bool], timeout: float = 15) -> None:
    loop = asyncio.get_running_loop()
    end = loop.time() + timeout
    while True:
        result = check()
        if inspect.isawaitable(result):
            result = await result
        if result:
            return
        if loop.time() > end:
            raise AssertionError("the condition never held")
        await asyncio.sleep(0.05)


async def warning(run: Run) -> str:
    return (await run.view())["deadlines"]["decision"]["warning"]


async def test_deadline_into_an_unknown_year_is_provisional_until_the_year_is_loaded(start: Starter) -> None:
    run = await start(FakeWorld())
    view = await accept_on(run, date(2026, 12, 15))
    insurance = view["deadlines"]["insurance"]
    assert insurance == {**insurance, "due_on": "2027-01-06", "provisional": True}  # weekends and 1 Jan off
    assert "暂定" in texts(run, "one-time-notice")[0]

    run.world.calendar = run.world.calendar.with_year(SCHEDULE_2027)
    await run.handle.signal(PermitApplicationWorkflow.recompute_deadlines, CalendarChanged(2027))
    await run.handle.signal(PermitApplicationWorkflow.recompute_deadlines, CalendarChanged(2027))
    view = await wait_for_deadline(run, provisional=False)
    assert view["deadlines"]["insurance"]["due_on"] == "2027-01-06"
    assert view["deadlines"]["decision"] == {**view["deadlines"]["decision"], "provisional": False}
    updates = texts(run, "deadline-update")
    assert len(updates) == 1 and "2027-01-06" in updates[0]

    await sleep_until(run.env, end_of_day_cst(date(2027, 1, 6)) + timedelta(minutes=1))
    assert (await run.reach("expired"))["status"] == "expired"


async def test_loading_a_year_moves_the_running_timer(start: Starter) -> None:
    """Accepted 2027-01-25: provisional due 2027-02-15; with Spring Festival 2027 loaded, 2027-02-19."""
    world = FakeWorld(calendar=official_calendar())
    run = await start(world)
    view = await accept_on(run, date(2027, 1, 25))
    assert view["deadlines"]["insurance"]["due_on"] == "2027-02-15"
    world.calendar = world.calendar.with_year(SCHEDULE_2027)
    await run.handle.signal(PermitApplicationWorkflow.recompute_deadlines, CalendarChanged(2027))
    view = await wait_for_deadline(run, provisional=False)
    assert view["deadlines"]["insurance"]["due_on"] == "2027-02-19"
    await sleep_until(run.env, end_of_day_cst(date(2027, 2, 15)) + timedelta(hours=1))
    assert (await run.view())["status"] == "awaiting_insurance"  # the old deadline no longer applies
    await eventually(lambda: _search_attribute_is(run, sa.INSURANCE_DUE, end_of_day_cst(date(2027, 2, 19))))
    await run.handle.execute_update(PermitApplicationWorkflow.withdraw, Withdrawal())


async def _is(value: Awaitable[Any], expected: Any) -> bool:
    return await value == expected


async def _search_attribute_is(run: Run, key: Any, expected: Any) -> bool:
    return (await run.handle.describe()).typed_search_attributes.get(key) == expected


async def wait_for_deadline(run: Run, *, provisional: bool) -> dict:
    for _ in range(200):
        view = await run.view()
        if view["deadlines"]["insurance"]["provisional"] is provisional and "deadlines_recomputed" in {
            e["event"] for e in view["timeline"]
        }:
            return view
        await run.env.sleep(timedelta(seconds=1))
    raise AssertionError("the deadlines were not recomputed")


async def test_reminders_are_sent_once_each_and_not_again_on_replay(start: Starter) -> None:
    """5 and 1 working days before the due date, at 09:00 CST; a restarted worker replays, sends nothing.

    The restart is shown by replaying the history in a fresh Replayer (what a new worker does): a
    live worker restart stalls the time-skipping test server, which then never skips time again.
    """
    world = FakeWorld(calendar=official_calendar().with_year(SCHEDULE_2027))
    run = await start(world)
    view = await accept_on(run, date(2027, 3, 1))
    insurance = view["deadlines"]["insurance"]
    assert insurance["due_on"] == "2027-03-22" and insurance["reminders_on"] == ["2027-03-15", "2027-03-19"]

    await sleep_until(run.env, datetime(2027, 3, 15, 8, 59, tzinfo=CST))
    assert texts(run, "reminder") == []
    await sleep_until(run.env, datetime(2027, 3, 15, 9, 1, tzinfo=CST))
    await eventually(lambda: len(texts(run, "reminder")) == 1)
    await sleep_until(run.env, datetime(2027, 3, 19, 12, tzinfo=CST))
    await eventually(lambda: len(texts(run, "reminder")) == 2)
    reminders = texts(run, "reminder")
    assert len(reminders) == 2 and "还剩5个工作日" in reminders[0] and "还剩1个工作日" in reminders[1]
    assert all("2027-03-22" in text for text in reminders)

    history = await run.handle.fetch_history()
    sent_before = len(world.sms)
    await Replayer(
        workflows=[PermitApplicationWorkflow], data_converter=data_converter(settings_for_tests())
    ).replay_workflow(history)
    assert len(world.sms) == sent_before
    scheduled = [
        e
        for e in history.events
        if e.HasField("activity_task_scheduled_event_attributes")
        and e.activity_task_scheduled_event_attributes.activity_type.name == "send_sms"
    ]
    assert len(scheduled) == len({s.idempotency_key for s in world.sms})
    await run.handle.execute_update(PermitApplicationWorkflow.withdraw, Withdrawal())


async def test_no_reminder_once_the_policy_is_found(start: Starter) -> None:
    world = FakeWorld(calendar=official_calendar().with_year(SCHEDULE_2027))
    run = await start(world)
    await accept_on(run, date(2027, 4, 6))
    world.buy_policy(await run.env.get_current_time())
    await run.handle.execute_update(PermitApplicationWorkflow.check_insurance)
    await sleep_until(run.env, datetime(2027, 4, 30, 12, tzinfo=CST))
    assert texts(run, "reminder") == []
    assert (await run.view())["status"] == "final_review"


async def test_decision_warning_goes_yellow_then_red(start: Starter) -> None:
    world = FakeWorld(calendar=official_calendar().with_year(SCHEDULE_2027))
    run = await start(world)
    view = await accept_on(run, date(2027, 5, 10))
    decision = view["deadlines"]["decision"]
    assert decision == {**decision, "due_on": "2027-06-07", "warning": "none"}
    world.buy_policy(await run.env.get_current_time())
    await run.handle.execute_update(PermitApplicationWorkflow.check_insurance)

    await sleep_until(run.env, datetime(2027, 5, 31, 9, tzinfo=CST))  # 5 working days left
    await eventually(lambda: _is(warning(run), "yellow"))
    await sleep_until(run.env, end_of_day_cst(date(2027, 6, 7)) + timedelta(minutes=1))
    await eventually(lambda: _is(warning(run), "red"))
    await eventually(lambda: _search_attribute_is(run, sa.WARNING_LEVEL, "red"))
    after = await run.decide("final_review")
    assert after["deadlines"]["decision"]["warning"] == "none"


async def test_spring_festival_with_make_up_saturdays(env: WorkflowEnvironment, start: Starter) -> None:
    """2026's schedule as 2037's: accepted Fri 13 Feb, off 15-23 Feb, Sat 14 and Sat 28 Feb worked."""
    await sleep_until(env, datetime(2037, 1, 5, tzinfo=CST))  # before starting: a run may last 10 years at most
    world = world_in_2037(official_calendar().with_year(schedule_2026_as_2037()))
    run = await start(world)
    view = await accept_on(run, date(2037, 2, 13))
    assert view["deadlines"]["insurance"] == {
        **view["deadlines"]["insurance"],
        "due_on": "2037-03-12",
        "provisional": False,
    }
    expected = official_calendar().add_working_days(date(2026, 2, 13), 15).due_on
    assert expected == date(2026, 3, 12)
    await run.handle.execute_update(PermitApplicationWorkflow.withdraw, Withdrawal())


async def test_national_day_due_date_to_the_second(env: WorkflowEnvironment, start: Starter) -> None:
    """DOMAIN.md's example on 2026's schedule as 2037's: accepted Fri 25 Sep, due Thu 22 Oct 24:00 CST.

    A policy bought at 23:59:59 CST is in time; one bought at 00:00:00 is not.
    """
    await sleep_until(env, datetime(2037, 9, 1, tzinfo=CST))
    calendar = official_calendar().with_year(schedule_2026_as_2037())
    in_time, too_late = await start(world_in_2037(calendar)), await start(world_in_2037(calendar))
    await in_time.reach("preliminary_review", step="preliminary_review")
    await too_late.reach("preliminary_review", step="preliminary_review")
    await sleep_until(in_time.env, datetime(2037, 9, 25, 10, tzinfo=CST))
    for run in (in_time, too_late):
        await run.through_acceptance()
        view = await run.view()
        assert (view["accepted_on"], view["deadlines"]["insurance"]["due_on"]) == ("2037-09-25", "2037-10-22")
    ends = end_of_day_cst(date(2037, 10, 22))
    in_time.world.buy_policy(ends - timedelta(seconds=1))
    too_late.world.buy_policy(ends)
    await sleep_until(in_time.env, ends + timedelta(seconds=30))
    assert (await in_time.reach("final_review"))["status"] == "final_review"
    assert (await too_late.reach("expired"))["status"] == "expired"
