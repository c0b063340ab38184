"""Every path of PermitApplicationWorkflow on the time-skipping test server."""

from __future__ import annotations

import asyncio
import dataclasses
from collections.abc import AsyncIterator
from datetime import date, timedelta

import pytest
from temporalio.api.enums.v1 import EventType
from temporalio.client import WorkflowUpdateFailedError
from temporalio.exceptions import ApplicationError
from temporalio.service import RPCError

from domain import errors
from domain.calendar import end_of_day_cst
from domain.masking import mask_plate
from tests.workflows.fakes import PLATE, FakeWorld, application_input
from tests.workflows.histories import (
    COMMAND_EVENTS,
    HISTORIES,
    HISTORY_VERSION,
    JOURNEYS,
    replay,
    replay_each_cut,
    replayer,
    saved_history,
)
from tests.workflows.support import Starter, starting, time_skipping_server, until
from workflows import WORKFLOW_SHAPE_VERSION
from workflows.permit_application import PermitApplicationWorkflow
from workflows.types import (
    Decision,
    DeliveryReport,
    OriginalsShipment,
    Supplements,
    Withdrawal,
)


@pytest.fixture
async def start() -> AsyncIterator[Starter]:
    async with time_skipping_server() as env, starting(env) as start:
        yield start


@pytest.mark.parametrize("path", sorted(p.stem for p in HISTORIES.glob("*.json")))
async def test_saved_histories_still_replay(path: str) -> None:
    """Histories of every path as shipped: a change that would break running applications fails here."""
    await replayer().replay_workflow(saved_history(path))


@pytest.mark.parametrize("path", sorted(p.stem for p in HISTORIES.glob(f"*@{HISTORY_VERSION}.json")))
async def test_histories_cut_after_each_task_replay(path: str) -> None:
    await replay_each_cut(saved_history(path))


def test_every_journey_has_one_saved_history_of_this_shape() -> None:
    assert HISTORY_VERSION == WORKFLOW_SHAPE_VERSION
    assert sorted(p.stem for p in HISTORIES.glob("*.json")) == sorted(f"{j}@{HISTORY_VERSION}" for j in JOURNEYS)


async def test_an_insurer_callback_while_awaiting_insurance_is_entered_is_answered_at_once(start) -> None:
    run = await start(FakeWorld(insurer_calls_back_on_entry=True))
    await run.through_acceptance(until="final_review", step="final_review")  # without waiting for the 6-hour poll
    assert [name for name, _ in run.world.calls].count("find_policy") == 1
    await run.decide("final_review")
    await run.reach("delivering")
    await replay(run.handle, "insurance_callback_during_entry")


async def test_a_projection_outlasting_its_workflow_task_replays(start) -> None:
    """The projection before the contact form (the first document-vehicle patch) takes ~10 s: Core
    heartbeats the workflow task, and the local activity's marker lands in a later task."""
    run = await start(FakeWorld(slow_projection_of="vehicle_nature_change"))
    await run.through_acceptance(until="awaiting_insurance")
    history = await run.handle.fetch_history()
    events = [e.event_type for e in history.events]
    heartbeats = [
        i
        for i, kind in enumerate(events)
        if kind == EventType.EVENT_TYPE_WORKFLOW_TASK_COMPLETED
        and next((k for k in events[i + 1 :] if k not in COMMAND_EVENTS), None)
        == EventType.EVENT_TYPE_WORKFLOW_TASK_SCHEDULED
    ]
    assert heartbeats, "the slow projection should have outlasted its workflow task"
    await replay_each_cut(history)


@pytest.mark.parametrize("channel", ["online", "window"])
async def test_queries_during_local_activities_leave_a_history_that_replays(start, channel: str) -> None:
    """A query that comes while a local activity runs makes the SDK close the workflow task before the
    code after the local activity runs, so on replay that code runs a task earlier than it did live.
    The history must replay whole and cut after every task (docs/versioning.md: why a patch is never
    decided right after a local activity)."""
    run = await start(FakeWorld(), application_input(channel=channel, method="mail"))

    async def keep_querying() -> None:
        while True:
            await run.view()
            await asyncio.sleep(0.01)

    querying = asyncio.create_task(keep_querying())
    try:
        await run.through_acceptance()
        run.world.buy_policy(await run.env.get_current_time())
        await run.handle.execute_update(PermitApplicationWorkflow.check_insurance)
        await run.decide("final_review")
        tracking = (await run.reach("delivering"))["delivery"]["tracking_number"]
        await run.handle.signal(PermitApplicationWorkflow.report_delivery, DeliveryReport(tracking, "delivered"))
        assert (await run.handle.result()).status == "completed"
    finally:
        querying.cancel()
    history = await run.handle.fetch_history()
    markers = [
        e.marker_recorded_event_attributes.marker_name
        for e in history.events
        if e.HasField("marker_recorded_event_attributes")
    ]
    assert "core_patch" not in markers
    assert markers.count("core_local_activity") >= 10  # the projections and the deadlines
    await replayer().replay_workflow(history)
    await replay_each_cut(history)


async def test_a_courier_callback_before_the_shipment_answer_is_not_lost(start) -> None:
    run = await start(FakeWorld(courier_calls_back_first=True))
    await run.through_acceptance()
    run.world.buy_policy(await run.env.get_current_time())
    await run.handle.execute_update(PermitApplicationWorkflow.check_insurance)
    await run.decide("final_review")
    await run.reach("completed")
    assert "get_shipment" not in [name for name, _ in run.world.calls]  # no fall-back poll was needed
    await replay(run.handle, "early_delivery_report")


async def projected(world: FakeWorld, status: str, timeout: float = 15) -> dict:
    """The newest view written to the (fake) store, once it shows `status`."""
    loop = asyncio.get_running_loop()
    end = loop.time() + timeout
    while not world.projections or world.projections[-1].view["status"] != status:
        if loop.time() > end:
            raise AssertionError(f"never projected {status}; last {[p.view['status'] for p in world.projections[-3:]]}")
        await asyncio.sleep(0.05)
    return world.projections[-1].view


async def test_the_applicant_sees_a_decision_before_the_paperwork_it_starts(start) -> None:
    """The SMS gateway holds its messages: the applicant's view already shows the acceptance with
    its insurance deadline, and later the receipt of the originals, while their SMS wait."""
    gateway = asyncio.Event()
    run = await start(FakeWorld(sms_gateway=gateway))

    async def held_at_the_gateway(step: str) -> None:
        calls = run.world.calls
        await until(lambda: any(n == "send_sms" and r.idempotency_key.endswith(f"sms:{step}") for n, r in calls), step)
        assert not any(s.idempotency_key.endswith(f"sms:{step}") for s in run.world.sms)

    await run.decide("preliminary_review")
    await held_at_the_gateway("one-time-notice")
    accepted = await projected(run.world, "awaiting_originals")
    assert accepted["deadlines"]["insurance"]["working_days"] == 15
    assert [e["event"] for e in accepted["timeline"]][-1] == "accepted"
    gateway.set()
    await until(
        lambda: any(s.idempotency_key.endswith("sms:one-time-notice") for s in run.world.sms), "the notice sent"
    )
    await run.handle.execute_update(PermitApplicationWorkflow.report_originals_shipment, OriginalsShipment("SF1234567"))
    gateway.clear()
    await run.decide("originals_received")
    await held_at_the_gateway("originals-received")
    received = await projected(run.world, "vehicle_nature_change")
    assert [e["event"] for e in received["timeline"]][-1] == "originals_received"
    gateway.set()
    await run.complete_usage_change()
    await run.reach("awaiting_insurance")
    await replay(run.handle, "decisions_projected")


async def test_online_happy_path_to_completed(start) -> None:
    run = await start(FakeWorld())
    await run.through_acceptance()
    view = await run.view()
    assert view["deadlines"]["insurance"]["working_days"] == 15
    assert view["deadlines"]["decision"]["working_days"] == 20
    notice = next(s for s in run.world.sms if s.idempotency_key.endswith("sms:one-time-notice"))
    assert view["deadlines"]["insurance"]["due_on"] in notice.text
    run.world.buy_policy(await run.env.get_current_time())
    checked = await run.handle.execute_update(PermitApplicationWorkflow.check_insurance)
    assert checked["status"] == "final_review"
    await run.decide("final_review")
    await run.reach("delivering")
    tracking = (await run.view())["delivery"]["tracking_number"]
    await run.handle.signal(PermitApplicationWorkflow.report_delivery, DeliveryReport(tracking, "delivered"))
    result = await run.handle.result()

    assert result.status == "completed"
    assert result.permit_number == "3303002026000001"
    final = await run.view()
    assert [d["kind"] for d in final["documents"]] == [
        "joint_handling_confirmation",
        "insurance_one_time_notice",
        "vehicle_change_contact_form",
        "usage_nature_feedback_form",
        "permit",
    ]
    assert final["permit"]["number"] == result.permit_number
    documents = {r.kind: r.data for r in run.world.documents.values()}
    assert documents["permit"] == {**final["permit"], "plate": mask_plate(PLATE), "owner": "张*"}
    assert (
        documents["vehicle_change_contact_form"]["plate"]
        == documents["usage_nature_feedback_form"]["plate"]
        == mask_plate(PLATE)
    )
    assert final["status"] == "completed" and "awaiting_originals" in run.seen
    assert {
        "ownership_verified",
        "accepted",
        "usage_nature_changed",
        "insurance_found",
        "permit_issued",
        "documents_delivered",
    } <= {e["event"] for e in final["timeline"]}
    assert not any(r.target_nature == "非营运" for _, r in run.world.calls if _ == "request_usage_change")
    assert run.world.projections[-1].view["status"] == "completed"
    await replay(run.handle, "online_completed")


async def test_an_incident_retried_by_a_supervisor_replays(start) -> None:
    run = await start(FakeWorld(refusals={"request_usage_change": errors.DEPARTMENT_REJECTED_REQUEST}))
    view = await run.steer()
    run.world.refusals.clear()
    await run.resolve(view["incident"]["incident_id"], "retry", "车管所已恢复")
    assert (await run.steer(stop_at_incident=False))["status"] == "completed"
    await replay(run.handle, "incident_retried")


async def test_window_channel_skips_originals_and_pickup_completes(start) -> None:
    run = await start(FakeWorld(), application_input(channel="window", method="pickup"))
    await run.through_acceptance()
    run.world.buy_policy(await run.env.get_current_time())
    await run.handle.execute_update(PermitApplicationWorkflow.check_insurance)
    await run.decide("final_review")
    result = await run.handle.result()
    assert result.status == "completed"
    assert "awaiting_originals" not in run.seen
    assert not run.world.shipments
    assert any(s.idempotency_key.endswith("sms:pickup-ready") for s in run.world.sms)
    await replay(run.handle, "window_pickup_completed")


async def test_supplement_loop_until_supplied(start) -> None:
    run = await start(FakeWorld())
    view = await run.decide("preliminary_review", "request_supplement", "登记证书扫描件不清晰", ["机动车登记证书"])
    assert view["status"] == "supplement_requested"
    assert view["pending"] == [{"action": "submit_supplements", "actor": "applicant", "items": ["机动车登记证书"]}]
    with pytest.raises(WorkflowUpdateFailedError):
        await run.handle.execute_update(
            PermitApplicationWorkflow.decide, Decision("preliminary_review", "approve", "transport_clerk")
        )
    back = await run.handle.execute_update(
        PermitApplicationWorkflow.submit_supplements, Supplements({"registration_certificate": "m3"})
    )
    assert back["status"] == "preliminary_review"
    await run.decide("preliminary_review", "request_supplement", "行驶证缺页", ["机动车行驶证"])
    await run.handle.execute_update(
        PermitApplicationWorkflow.submit_supplements, Supplements({"driving_license": "m4"})
    )
    accepted = await run.decide("preliminary_review")
    assert accepted["status"] == "awaiting_originals" and accepted["accepted_on"]
    events = [e["event"] for e in accepted["timeline"]]
    assert events.count("supplement_requested") == 2 and events.count("supplements_submitted") == 2
    assert sum(1 for s in run.world.sms if "sms:supplement-request" in s.idempotency_key) == 2
    await run.handle.execute_update(PermitApplicationWorkflow.withdraw, Withdrawal("changed my mind"))
    assert (await run.handle.result()).status == "withdrawn"
    await replay(run.handle, "supplement_loop_withdrawn")


async def test_rejection_at_preliminary_review_needs_no_compensation(start) -> None:
    run = await start(FakeWorld())
    view = await run.decide("preliminary_review", "reject", "车辆不符合条件")
    assert view["status"] == "rejected"
    result = await run.handle.result()
    assert result.status == "rejected"
    assert "request_usage_change" not in run.world.names() and not run.world.shipments
    assert any(r.kind == "termination_notice" for r in run.world.documents.values())
    await replay(run.handle, "rejected_preliminary")


async def test_rejection_at_final_review_reverts_usage_nature(start) -> None:
    run = await start(FakeWorld())
    await run.through_acceptance()
    run.world.buy_policy(await run.env.get_current_time())
    await run.handle.execute_update(PermitApplicationWorkflow.check_insurance)
    await run.decide("final_review", "reject", "保单信息与车辆不符")
    result = await run.handle.result()
    assert result.status == "rejected"
    reversal = [r for n, r in run.world.calls if n == "request_usage_change" and r.target_nature == "非营运"]
    assert len(reversal) == 1
    assert any(k.endswith("return-originals") for k in run.world.shipments)
    await replay(run.handle, "rejected_final_reverted")


async def test_withdrawal_after_usage_change_reverts_and_returns_originals(start) -> None:
    run = await start(FakeWorld())
    await run.through_acceptance()
    view = await run.handle.execute_update(PermitApplicationWorkflow.withdraw, Withdrawal("不再从事网约车"))
    assert view["status"] == "withdrawn"
    result = await run.handle.result()
    assert result.status == "withdrawn"
    final = await run.view()
    events = [e["event"] for e in final["timeline"]]
    assert events.index("withdrawn") < events.index("usage_nature_reverted") < events.index("originals_returned")
    reversal_keys = [
        r.idempotency_key for n, r in run.world.calls if n == "request_usage_change" and r.target_nature == "非营运"
    ]
    assert reversal_keys == [f"{run.handle.id}:usage-reversal"]
    with pytest.raises(RPCError):  # closed: the update finds no running workflow
        await run.handle.execute_update(PermitApplicationWorkflow.withdraw, Withdrawal())
    await replay(run.handle, "withdrawn_after_usage_change")


async def test_a_refused_reversal_waits_for_a_supervisor_and_the_originals_go_back_after_it(start) -> None:
    """Closing undoes the latest step first; an undo refused for good is an incident, and the next undo waits."""
    run = await start(FakeWorld(reversal_refusal=errors.BLOCKING_FLAG))
    await run.through_acceptance()
    await run.handle.execute_update(PermitApplicationWorkflow.withdraw, Withdrawal("不再从事网约车"))
    view = await run.incident()
    assert (view["status"], view["incident"]["step"]) == ("withdrawn", "request_usage_change")
    assert not run.world.shipments
    run.world.reversal_refusal = None
    await run.resolve(view["incident"]["incident_id"], "retry")
    assert (await run.handle.result()).status == "withdrawn"
    events = [e["event"] for e in (await run.view())["timeline"]]
    assert events.index("usage_nature_reverted") < events.index("originals_returned")
    assert "compensation_failed" not in events
    assert any(s.idempotency_key.endswith("sms:closed") for s in run.world.sms)


async def test_expiry_reverts_usage_nature(start) -> None:
    run = await start(FakeWorld(deadline_days=3))
    await run.through_acceptance()
    due = date.fromisoformat((await run.view())["deadlines"]["insurance"]["due_on"])
    await run.env.sleep(end_of_day_cst(due) - await run.env.get_current_time() + timedelta(minutes=2))
    result = await run.handle.result()
    assert result.status == "expired"
    final = await run.view()
    assert "usage_nature_reverted" in [e["event"] for e in final["timeline"]]
    assert any(r.kind == "termination_notice" for r in run.world.documents.values())
    assert any("逾期" in s.text for s in run.world.sms)
    await replay(run.handle, "expired_reverted")


@pytest.mark.parametrize(("offset", "expected"), [(timedelta(seconds=-1), "final_review"), (timedelta(0), "expired")])
async def test_policy_bought_at_the_last_second_is_in_time(start, offset: timedelta, expected: str) -> None:
    run = await start(FakeWorld(deadline_days=2))
    await run.through_acceptance()
    due = date.fromisoformat((await run.view())["deadlines"]["insurance"]["due_on"])
    ends = end_of_day_cst(due)
    run.world.buy_policy(ends + offset)
    await run.env.sleep(ends - await run.env.get_current_time() - timedelta(seconds=5))
    await run.env.sleep(timedelta(seconds=10))
    view = await run.reach(expected)
    assert view["status"] == expected


async def test_department_faults_are_recovered_by_retries(start) -> None:
    run = await start(FakeWorld(ownership_failures=2))
    view = await run.reach("preliminary_review", step="preliminary_review", timeout=30)
    assert run.world.names().count("verify_ownership") == 3
    assert "ownership_verified" in [e["event"] for e in view["timeline"]]


async def test_business_refusal_rejects_without_retry(start) -> None:
    world = FakeWorld()
    wf_input = application_input()
    wf_input.applicant.id_number = "110101198001010014"
    run = await start(world, wf_input)
    result = await run.handle.result()
    assert result.status == "rejected"
    assert world.names().count("verify_ownership") == 1
    closing = next(s.text for s in world.sms if s.idempotency_key.endswith("sms:closed"))
    assert (
        "申请人不是该车辆的登记所有人" in closing and "not the owner" not in closing
    )  # said as the applicant reads it
    await replay(run.handle, "business_refusal")


async def test_blocking_flag_at_the_vehicle_administration_rejects_and_returns_originals(start) -> None:
    run = await start(FakeWorld(usage_change_refusal=errors.BLOCKING_FLAG))
    await run.decide("preliminary_review")
    await run.handle.execute_update(PermitApplicationWorkflow.report_originals_shipment, OriginalsShipment("SF1234567"))
    await run.decide("originals_received")
    result = await run.handle.result()
    assert result.status == "rejected"
    assert [r.target_nature for n, r in run.world.calls if n == "request_usage_change"] == ["预约出租客运"]
    assert any(k.endswith("return-originals") for k in run.world.shipments)


async def test_ineligible_vehicle_is_rejected_with_findings(start) -> None:
    world = FakeWorld()
    world.vehicle = dataclasses.replace(world.vehicle, seats=9)
    run = await start(world)
    result = await run.handle.result()
    assert result.status == "rejected"
    findings = (await run.view())["findings"]
    assert [(f["rule"], f["message"]) for f in findings] == [("vehicle.seats", "车辆核定载客9座，不得超过7座")]
    assert any("车辆核定载客9座" in s.text for s in world.sms)


async def test_a_vehicle_near_its_eight_years_is_rejected_for_its_service_life(start) -> None:
    """Registered in 2017: its 8 years of ride-hailing end in 2025, before a permit could serve a year."""
    world = FakeWorld()
    world.vehicle = dataclasses.replace(world.vehicle, registered_on="2017-03-01")
    run = await start(world)
    result = await run.handle.result()
    assert result.status == "rejected"
    findings = (await run.view())["findings"]
    assert [f["rule"] for f in findings] == ["vehicle.service_life"]
    assert "使用满8年" in findings[0]["message"]


async def test_wrong_step_decision_is_refused_before_history(start) -> None:
    run = await start(FakeWorld())
    await run.reach("preliminary_review", step="preliminary_review")
    with pytest.raises(WorkflowUpdateFailedError) as refused:
        await run.handle.execute_update(
            PermitApplicationWorkflow.decide, Decision("final_review", "approve", "transport_clerk")
        )
    assert isinstance(refused.value.cause, ApplicationError)
    assert refused.value.cause.type == errors.NOT_AWAITING_THIS_STEP
    history = await run.handle.fetch_history()
    accepted = [e for e in history.events if e.event_type == EventType.EVENT_TYPE_WORKFLOW_EXECUTION_UPDATE_ACCEPTED]
    assert accepted == []
    assert (await run.view())["status"] == "preliminary_review"
    await run.handle.execute_update(PermitApplicationWorkflow.withdraw, Withdrawal())
    assert (await run.handle.result()).status == "withdrawn"


async def test_a_failed_usage_change_job_rejects_the_application_and_returns_the_originals(start) -> None:
    run = await start(FakeWorld(usage_change_fails=True))
    await run.decide("preliminary_review")
    await run.handle.execute_update(PermitApplicationWorkflow.report_originals_shipment, OriginalsShipment("SF1234567"))
    await run.decide("originals_received")
    result = await run.handle.result()
    assert result.status == "rejected"
    assert any(k.endswith("return-originals") for k in run.world.shipments)
    assert [r.target_nature for n, r in run.world.calls if n == "request_usage_change"] == ["预约出租客运"]


async def test_originals_of_a_pickup_application_wait_at_the_window(start) -> None:
    run = await start(FakeWorld(), application_input(channel="online", method="pickup"))
    run.world.deadline_days = 1
    await run.through_acceptance()
    result = await run.handle.result()
    assert result.status == "expired"
    assert not any(k.endswith("return-originals") for k in run.world.shipments)
    assert any(s.idempotency_key.endswith("sms:originals-pickup") for s in run.world.sms)
    assert "compensation_failed" not in [e["event"] for e in (await run.view())["timeline"]]


async def test_no_withdrawal_once_the_licensing_decision_is_taken(start) -> None:
    run = await start(FakeWorld())
    await run.through_acceptance()
    run.world.buy_policy(await run.env.get_current_time())
    await run.handle.execute_update(PermitApplicationWorkflow.check_insurance)
    await run.decide("final_review")
    with pytest.raises(WorkflowUpdateFailedError) as refused:
        await run.handle.execute_update(PermitApplicationWorkflow.withdraw, Withdrawal())
    assert refused.value.cause.type in (errors.CANNOT_WITHDRAW,)
