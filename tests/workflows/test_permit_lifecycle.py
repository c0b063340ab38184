"""One permit's life on a time-skipping server: 8 years in seconds."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from datetime import date, datetime, time, timedelta
from typing import Any

import pytest
from temporalio.client import WorkflowExecutionStatus, WorkflowHandle, WorkflowUpdateFailedError
from temporalio.testing import WorkflowEnvironment

from tests.workflows.fakes import VIN, FakeWorld, application_input
from tests.workflows.support import new_worker, starting, time_skipping_server, until
from workflows.permit_lifecycle import LOCAL, NOT_REVIEW_DUE, PermitLifecycleWorkflow, add_years, workflow_id
from workflows.permit_lifecycle_types import (
    Cancellation,
    LifecycleTiming,
    MileageReport,
    PermitLifecycleInput,
    ReviewRecord,
    regulator_record,
)
from workflows.permit_types import RegulatorStateChange, RegulatorVehicleRecord

PHONE = "13800000000"


class Permit:
    def __init__(self, env: WorkflowEnvironment, world: FakeWorld, handle: WorkflowHandle, input: PermitLifecycleInput):
        self.env, self.world, self.handle, self.input = env, world, handle, input
        self.issued_on = date.fromisoformat(input.issued_on)
        self.valid_until = date.fromisoformat(input.valid_until)

    async def view(self) -> dict[str, Any]:
        return await self.handle.query(PermitLifecycleWorkflow.view)

    async def until(self, condition: Callable[[dict[str, Any]], bool], what: str, timeout: float = 15) -> dict:
        loop = asyncio.get_running_loop()
        end = loop.time() + timeout
        while True:
            view = await self.view()
            if condition(view):
                return view
            if loop.time() > end:
                raise AssertionError(f"never saw {what}; at {view}")
            await asyncio.sleep(0.05)

    async def sleep_to(self, day: date, hours: int = 1) -> None:
        """Skip time to `hours` past the start of `day` in the bureau's time zone."""
        target = datetime.combine(day, time(), LOCAL) + timedelta(hours=hours)
        await self.env.sleep(target - await self.env.get_current_time())

    def sms_steps(self) -> list[str]:
        return [s.idempotency_key.rsplit(":sms:", 1)[1] for s in self.world.sms]

    def regulator_states(self) -> list[str]:
        return [r.state for r in self.world.regulator_reports]

    def regulator_reason(self) -> str:
        change = self.world.regulator_reports[-1]
        assert isinstance(change, RegulatorStateChange) and change.permit_number == self.input.number
        return change.reason


@asynccontextmanager
async def permit(world: FakeWorld | None = None, timing: LifecycleTiming | None = None) -> AsyncIterator[Permit]:
    world = world or FakeWorld()
    async with time_skipping_server() as env:
        worker = new_worker(env, world, f"test-{uuid.uuid4()}")
        today = (await env.get_current_time()).astimezone(LOCAL).date()
        number = f"3303{today.year}{uuid.uuid4().int % 1_000_000:06d}"
        permit = {"number": number, "issued_on": today.isoformat(), "valid_until": add_years(today, 8).isoformat()}
        input = PermitLifecycleInput(
            number=number,
            application_id=str(uuid.uuid4()),
            holder_subject="applicant-1",
            holder_phone=PHONE,
            district="330302",
            issued_on=today.isoformat(),
            valid_until=add_years(today, 8).isoformat(),
            record=regulator_record(world.vehicle, permit),
            timing=timing or LifecycleTiming(),
        )
        handle = await env.client.start_workflow(
            PermitLifecycleWorkflow.run, input, id=workflow_id(number), task_queue=worker.task_queue
        )
        try:
            yield Permit(env, world, handle, input)
        finally:
            await worker.shutdown()


async def pass_review(p: Permit, year: int) -> None:
    due = add_years(p.issued_on, year)
    await p.sleep_to(due - timedelta(days=29))
    await p.until(lambda v: v["state"] == "review_due" and v["next_review_due_on"] == due.isoformat(), f"review {year}")
    view = await p.handle.execute_update(
        PermitLifecycleWorkflow.record_review, ReviewRecord((due - timedelta(days=10)).isoformat(), "clerk-1")
    )
    assert view["state"] == "valid"
    assert view["next_review_due_on"] == (add_years(p.issued_on, year + 1).isoformat() if year < 7 else None)


async def test_eight_years_of_reviews_reminders_once_each_and_the_end() -> None:
    async with permit() as p:
        await p.until(lambda v: p.regulator_states() == ["valid"], "the regulator told on issue")
        for year in range(1, 8):
            await pass_review(p, year)
        assert (await p.until(lambda v: v["run"] == 8, "the eighth year's run"))["state"] == "valid"
        for days in (90, 30, 7):
            await p.sleep_to(p.valid_until - timedelta(days=days))
            await p.until(lambda v, d=days: f"expiry-{d}" in p.sms_steps(), f"the {days}-day reminder")
        await p.sleep_to(p.valid_until)
        assert await p.handle.result() == "expired"

        reviews = [f"review-{add_years(p.issued_on, y).isoformat()}" for y in range(1, 8)]
        assert p.sms_steps() == [*reviews, "expiry-90", "expiry-30", "expiry-7"]
        assert all(s.phone == PHONE for s in p.world.sms)
        assert p.regulator_states() == ["valid", "invalid"]
        assert p.regulator_reason() == "运输证有效期届满"
        last = p.world.permit_projections[-1]
        assert (last.row["state"], last.row["ended"], last.row["run"]) == ("lapsed", "expired", 8)
        assert last.row["plate"] != p.input.record.plate and last.row["plate"].startswith("浙C")
        versions = [projection.version for projection in p.world.permit_projections]
        assert versions == sorted(set(versions))  # carried across the runs: newer always wins


async def test_a_missed_review_lapses_the_permit() -> None:
    async with permit() as p:
        with pytest.raises(WorkflowUpdateFailedError) as refused:  # no review is due in the first months
            await p.handle.execute_update(PermitLifecycleWorkflow.record_review, ReviewRecord("2026-01-01", "c"))
        assert refused.value.cause.type == NOT_REVIEW_DUE  # type: ignore[attr-defined]
        await pass_review(p, 1)
        await p.sleep_to(add_years(p.issued_on, 2))
        assert await p.handle.result() == "review_missed"
        last = p.world.permit_projections[-1].row
        assert (last["state"], last["ended"], last["next_review_due_on"]) == ("lapsed", "review_missed", None)
        assert p.regulator_states() == ["valid", "invalid"]
        assert p.regulator_reason() == "逾期未参加年度审验"


async def test_600000_km_scraps_the_vehicle() -> None:
    async with permit() as p:
        await p.sleep_to(p.issued_on + timedelta(days=100))
        await p.handle.signal(PermitLifecycleWorkflow.report_mileage, MileageReport(310_000, "station-1"))
        await p.until(lambda v: v["mileage_km"] == 310_000, "the mileage recorded")
        assert (await p.view())["state"] == "valid"
        await p.handle.signal(PermitLifecycleWorkflow.report_mileage, MileageReport(600_000, "station-1"))
        assert await p.handle.result() == "scrapped"
        assert p.world.permit_projections[-1].row["state"] == "cancelled"
        assert p.regulator_states() == ["valid", "invalid"]
        assert p.regulator_reason() == "行驶里程达到60万千米"


async def test_cancel_ends_the_permit_as_cancelled() -> None:
    async with permit() as p:
        await pass_review(p, 1)
        await p.handle.signal(PermitLifecycleWorkflow.cancel, Cancellation("exit", "transport_clerk"))
        assert await p.handle.result() == "cancelled"
        assert p.world.permit_projections[-1].row["state"] == "cancelled"
        assert p.regulator_states() == ["valid", "invalid"]
        assert p.regulator_reason() == "网约车退出营运，运输证注销"
        assert not any(step.startswith("expiry") for step in p.sms_steps())


async def test_the_regulator_down_never_blocks_the_permit() -> None:
    world = FakeWorld(regulator_down=True)
    timing = LifecycleTiming(regulator_give_up_s=120, regulator_retry_s=86_400)
    async with permit(world, timing) as p:
        await p.env.sleep(timedelta(minutes=5))
        view = await p.until(lambda v: v["regulator_pending"], "the report marked pending")
        assert view["state"] == "valid" and p.regulator_states() == []
        world.regulator_down = False
        await p.env.sleep(timedelta(days=1, hours=1))
        await p.until(lambda v: not v["regulator_pending"], "the report retried a day later")
        assert p.regulator_states() == ["valid"]
        await pass_review(p, 1)  # the permit went on meanwhile

        world.regulator_down = True
        await p.handle.signal(PermitLifecycleWorkflow.cancel, Cancellation("exit", "transport_clerk"))
        await p.env.sleep(timedelta(minutes=5))
        await p.until(lambda v: v["state"] == "cancelled" and v["regulator_pending"], "cancelled, regulator pending")
        world.regulator_down = False
        await p.env.sleep(timedelta(days=1, hours=1))
        assert await p.handle.result() == "cancelled"
        assert p.regulator_states() == ["valid", "invalid"]


async def test_the_permit_workflow_starts_the_lifecycle_on_issue_and_it_outlives_the_application() -> None:
    application = application_input(channel="window", method="pickup")
    async with time_skipping_server() as env, starting(env) as start:
        run = await start(FakeWorld(), application)
        final = await run.steer()  # not the result: awaiting it lets the server skip the lifecycle's months
        assert final["status"] == "completed"
        number = final["permit"]["number"]
        lifecycle = env.client.get_workflow_handle(workflow_id(number))
        await until(lambda: bool(run.world.regulator_reports), "the regulator told of the issue")
        view = await lifecycle.query(PermitLifecycleWorkflow.view)
        assert (await lifecycle.describe()).status == WorkflowExecutionStatus.RUNNING
        assert (view["state"], view["holder_subject"], view["district"]) == ("valid", "eid-test", application.district)
        (record,) = run.world.regulator_reports
        assert isinstance(record, RegulatorVehicleRecord)
        assert (record.permit_number, record.vin, record.state) == (number, VIN, "valid")
        await lifecycle.terminate("test finished")


async def test_a_lifecycle_already_running_under_the_number_does_not_hold_the_application_up() -> None:
    """Two stores numbering from the same counter on one Temporal (a restored database): the second
    application with the number still completes; the lifecycle already running is left to run."""
    async with time_skipping_server() as env, starting(env) as start:
        first = await start(FakeWorld(), application_input(channel="window", method="pickup"))
        assert (await first.steer())["status"] == "completed"
        second = await start(FakeWorld(), application_input(channel="window", method="pickup"))
        final = await second.steer()
        assert final["status"] == "completed"
        first_view = await first.view()
        assert final["permit"]["number"] == first_view["permit"]["number"]  # each world numbers from 1
        lifecycle = env.client.get_workflow_handle(workflow_id(final["permit"]["number"]))
        assert (await lifecycle.describe()).status == WorkflowExecutionStatus.RUNNING
        await lifecycle.terminate("test finished")
