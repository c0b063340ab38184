"""The follow-up of a bad rating on a time-skipping server: its working-day deadlines across National
Day, its yellow and red warnings (view, projection, search attribute, audit), the steps' refusals
before history, the appeal, and the projection of every change.

As in test_deadlines.py, 2026's published schedule is moved to 2037 (the same weekdays), since a
time-skipping server cannot go back to 2026: a rating on Wednesday 30 September meets the National
Day holiday (1 to 7 October) and the make-up Saturday of 10 October.
"""

from __future__ import annotations

import asyncio
import inspect
import uuid
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from datetime import datetime, time, timedelta
from typing import Any

import pytest
from temporalio.api.enums.v1 import EventType
from temporalio.client import WorkflowHandle, WorkflowUpdateFailedError
from temporalio.exceptions import ApplicationError
from temporalio.testing import WorkflowEnvironment
from temporalio.worker import Replayer

from activities.permit import PermitActivities
from activities.rating import RatingActivities
from domain.calendar import CST, WorkingDayCalendar, official_calendar
from tests.support_settings import settings_for_tests
from tests.workflows.support import time_skipping_server
from tests.workflows.test_deadlines import schedule_2026_as_2037
from workers.main import build_worker
from workers.temporal import data_converter
from workflows import search_attributes as sa
from workflows.rating_follow_up import RatingFollowUpWorkflow
from workflows.rating_types import (
    NOT_ITS_DISTRICT,
    NOTE_REQUIRED,
    STEP_FORBIDDEN,
    WRONG_STEP,
    FollowUpInput,
    StepRecord,
    follow_up_workflow_id,
)

DISTRICT = "330302"
RATED_AT = datetime(2037, 9, 30, 10, tzinfo=CST)


@dataclass
class World:
    """The store and the rating store, as the activities see them."""

    calendar: WorkingDayCalendar = field(default_factory=lambda: official_calendar().with_year(schedule_2026_as_2037()))
    projections: list[tuple[int, dict[str, Any]]] = field(default_factory=list)
    audited: list[dict[str, Any]] = field(default_factory=list)
    voided: list[tuple[str, str, str]] = field(default_factory=list)
    voiding: asyncio.Event | None = None  # set: voiding waits until it is set
    void_started: int = 0
    store_down: bool = False  # the projection's table refuses every write, as no retry would mend

    @property
    def follow_ups(self) -> World:
        return self

    @property
    def audit(self) -> World:
        return self

    async def project(self, version: int, view: dict[str, Any]) -> None:
        if self.store_down:
            raise ApplicationError("constraint violated", type="StoreConstraintViolated", non_retryable=True)
        self.projections.append((version, view))

    async def record(self, **entry: Any) -> None:
        self.audited.append(entry)

    async def void(self, rating_id: str, by: str, reason: str) -> None:
        self.void_started += 1
        if self.voiding is not None:
            await self.voiding.wait()
        self.voided.append((rating_id, by, reason))

    async def current_calendar(self) -> WorkingDayCalendar:
        return self.calendar

    def latest(self) -> dict[str, Any]:
        return max(self.projections, key=lambda p: p[0])[1]

    def actions(self) -> list[str]:
        return [entry["action"] for entry in self.audited]


@pytest.fixture
async def env() -> AsyncIterator[WorkflowEnvironment]:
    async with time_skipping_server() as env:
        yield env


@pytest.fixture
async def world() -> World:
    return World()


@pytest.fixture
async def worker(env: WorkflowEnvironment, world: World) -> AsyncIterator[str]:
    """The worker as workers/main.py composes it, the follow-up's activities on `world`."""
    task_queue = f"test-{uuid.uuid4()}"
    permit = PermitActivities(None, None, world.current_calendar)  # type: ignore[arg-type]  # not called here
    rating = RatingActivities(world, world.current_calendar, world.void)
    async with build_worker(env.client, task_queue, permit, rating_activities=rating):
        yield task_queue


async def eventually(check: Callable[[], Any], what: str, timeout: float = 15) -> None:
    loop = asyncio.get_running_loop()
    end = loop.time() + timeout
    while True:
        try:
            outcome = check()
            if await outcome if inspect.isawaitable(outcome) else outcome:
                return
        except (AssertionError, KeyError, ValueError):
            pass
        if loop.time() > end:
            raise AssertionError(f"never saw {what}")
        await asyncio.sleep(0.05)


async def sleep_until(env: WorkflowEnvironment, instant: datetime) -> None:
    now = await env.get_current_time()
    assert instant > now, f"the test server is already at {now}, past {instant}"
    await env.sleep(instant - now)


async def start(env: WorkflowEnvironment, task_queue: str) -> WorkflowHandle:
    if await env.get_current_time() < RATED_AT:
        await sleep_until(env, RATED_AT)
    rating_id = str(uuid.uuid4())
    rated_at = (await env.get_current_time()).isoformat()
    wf_input = FollowUpInput(rating_id, str(uuid.uuid4()), DISTRICT, rated_at)
    return await env.client.start_workflow(
        RatingFollowUpWorkflow.run, wf_input, id=follow_up_workflow_id(rating_id), task_queue=task_queue
    )


def supervisor(step: str, note: str = "已电话回访", district: str = DISTRICT, role: str = "supervisor") -> StepRecord:
    return StepRecord(step, note, f"sup-{district}", role, district)


async def refused(handle: WorkflowHandle, record: StepRecord) -> str:
    with pytest.raises(WorkflowUpdateFailedError) as failed:
        await handle.execute_update(RatingFollowUpWorkflow.record_step, record)
    assert isinstance(failed.value.cause, ApplicationError)
    return str(failed.value.cause.type)


async def attribute_is(handle: WorkflowHandle, warning: str) -> bool:
    """The warning as a search attribute (set with the workflow task's commands, after the projection)."""
    return (await handle.describe()).typed_search_attributes.get(sa.FOLLOW_UP_WARNING) == warning


async def accepted_updates(handle: WorkflowHandle) -> int:
    history = await handle.fetch_history()
    return sum(e.event_type == EventType.EVENT_TYPE_WORKFLOW_EXECUTION_UPDATE_ACCEPTED for e in history.events)


async def test_deadlines_count_working_days_across_national_day_and_warn_yellow_then_red(
    env: WorkflowEnvironment, world: World, worker: str
) -> None:
    handle = await start(env, worker)
    await eventually(lambda: world.projections and world.latest()["status"] == "awaiting_callback", "assigned")
    first = world.latest()
    # 1 October to 7 October off; the callback's working day is Thursday 8 October.
    assert first["callback_due_on"] == "2037-10-08"
    # 15 working days: 8, 9, Saturday 10 (make-up), 12-16, 19-23, 26 and 27 October.
    assert first["rectification_due_on"] == "2037-10-27"
    assert first["provisional"] is False
    # The day before the callback's due day is the day of the rating itself: yellow from the start.
    assert first["warning"] == "yellow"
    assert "rating_follow_up.assigned" in world.actions()
    await eventually(lambda: attribute_is(handle, "yellow"), "the yellow search attribute")

    await sleep_until(env, datetime.combine(RATED_AT.date() + timedelta(days=3), time(9), tzinfo=CST))
    assert (await handle.query(RatingFollowUpWorkflow.view))["warning"] == "yellow"  # the holiday counts for nothing

    await sleep_until(env, datetime(2037, 10, 9, 0, 30, tzinfo=CST))  # the callback's day has passed
    await eventually(lambda: world.latest()["warning"] == "red", "red in the projection")
    await eventually(lambda: attribute_is(handle, "red"), "the red search attribute")
    assert "rating_follow_up.warning_red" in world.actions()

    view = await handle.execute_update(RatingFollowUpWorkflow.record_step, supervisor("callback"))
    assert view["status"] == "awaiting_rectification"
    assert view["callback"]["late"] is True
    assert view["warning"] == "none"  # the rectification is due 27 October, yellow from the 26th

    await sleep_until(env, datetime(2037, 10, 26, 8, tzinfo=CST))
    await eventually(lambda: world.latest()["warning"] == "yellow", "yellow the working day before")
    await sleep_until(env, datetime(2037, 10, 28, 0, 30, tzinfo=CST))
    await eventually(lambda: world.latest()["warning"] == "red", "red once the rectification's day has passed")

    answered = await handle.execute_update(
        RatingFollowUpWorkflow.record_step, supervisor("rectification", "已核实并整改，答复申请人")
    )
    assert answered["status"] == "answered"
    assert answered["answer"] == "已核实并整改，答复申请人"
    assert answered["rectification"]["late"] is True
    result = await handle.result()
    assert result["warning"] == "none"
    assert world.latest() == result  # the last projection is the final view
    versions = [version for version, _ in world.projections]
    assert versions == sorted(versions) and len(set(versions)) == len(versions)
    assert world.actions().count("rating_follow_up.warning_red") == 2
    assert {"rating_follow_up.callback", "rating_follow_up.rectification"} <= set(world.actions())
    # A new worker replays the history (timers, updates, local activities) to the same commands.
    replayer = Replayer(workflows=[RatingFollowUpWorkflow], data_converter=data_converter(settings_for_tests()))
    await replayer.replay_workflow(await handle.fetch_history())


async def test_steps_out_of_turn_or_of_another_district_are_refused_before_history(
    env: WorkflowEnvironment, world: World, worker: str
) -> None:
    handle = await start(env, worker)
    await eventually(lambda: world.projections, "assigned")
    assert await refused(handle, supervisor("rectification")) == WRONG_STEP
    assert await refused(handle, supervisor("callback", district="330303")) == NOT_ITS_DISTRICT
    assert await refused(handle, supervisor("callback", role="transport_clerk")) == STEP_FORBIDDEN
    assert await refused(handle, supervisor("callback", note="  ")) == NOTE_REQUIRED
    assert await refused(handle, supervisor("appeal_voided", district="330300")) == WRONG_STEP  # no appeal yet
    assert await refused(handle, supervisor("skip")) == WRONG_STEP
    assert await accepted_updates(handle) == 0

    city = await handle.execute_update(RatingFollowUpWorkflow.record_step, supervisor("callback", district="330300"))
    assert city["status"] == "awaiting_rectification"  # the city's supervisors cover every district
    assert await refused(handle, supervisor("callback")) == WRONG_STEP
    assert await accepted_updates(handle) == 1


async def test_an_appeal_upheld_goes_on_and_one_voided_voids_the_rating_and_ends(
    env: WorkflowEnvironment, world: World, worker: str
) -> None:
    handle = await start(env, worker)
    await eventually(lambda: world.projections, "assigned")
    appealed = await handle.execute_update(RatingFollowUpWorkflow.record_step, supervisor("appeal", "恶意差评"))
    assert (appealed["appealed"], appealed["appeal"], appealed["status"]) == (True, "pending", "awaiting_callback")
    assert await refused(handle, supervisor("appeal_upheld")) == STEP_FORBIDDEN  # the district cannot decide it
    assert await refused(handle, supervisor("appeal", "再次申诉")) == WRONG_STEP

    upheld = await handle.execute_update(
        RatingFollowUpWorkflow.record_step, supervisor("appeal_upheld", "差评属实", district="330300")
    )
    assert (upheld["appeal"], upheld["voided"], upheld["status"]) == ("upheld", False, "awaiting_callback")
    assert await refused(handle, supervisor("appeal", "再次申诉")) == WRONG_STEP  # one appeal per rating
    assert world.voided == []

    second = await start(env, worker)
    await eventually(lambda: len({v["rating_id"] for _, v in world.projections}) == 2, "the second assigned")
    await second.execute_update(RatingFollowUpWorkflow.record_step, supervisor("appeal", "评价对象错误"))
    world.voiding = asyncio.Event()
    voiding = asyncio.ensure_future(
        second.execute_update(
            RatingFollowUpWorkflow.record_step, supervisor("appeal_voided", "非本事项评价", district="330300")
        )
    )
    await eventually(lambda: world.void_started == 1, "the voiding under way")
    assert await refused(second, supervisor("callback")) == WRONG_STEP  # one step at a time
    world.voiding.set()
    voided = await voiding
    assert (voided["status"], voided["voided"], voided["appeal"], voided["warning"]) == (
        "voided",
        True,
        "voided",
        "none",
    )
    rating_id = voided["rating_id"]
    assert world.voided == [(rating_id, "sup-330300", "非本事项评价")]
    assert (await second.result())["status"] == "voided"
    assert [e["district"] for e in world.audited if e["action"] == "rating_follow_up.appeal_voided"] == [DISTRICT]


async def test_a_projection_given_up_does_not_stop_the_follow_up(
    env: WorkflowEnvironment, world: World, worker: str
) -> None:
    world.store_down = True
    handle = await start(env, worker)
    await eventually(lambda: "rating_follow_up.assigned" in world.actions(), "assigned")
    called = await handle.execute_update(RatingFollowUpWorkflow.record_step, supervisor("callback"))
    assert called["status"] == "awaiting_rectification"
    answered = await handle.execute_update(RatingFollowUpWorkflow.record_step, supervisor("rectification", "已答复"))
    assert answered["status"] == "answered"
    assert (await handle.result())["answer"] == "已答复"
    assert world.projections == []
    assert {"rating_follow_up.callback", "rating_follow_up.rectification"} <= set(world.actions())
