"""A department's answer never fails the workflow: each activity refused for good, on the time-skipping server.

A refusal of the application closes it with its compensation; any other failure that is not retried opens
an incident that a supervisor resolves (retry once the fault is lifted, skip a notification, or close).
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import timedelta

import pytest
from temporalio.client import WorkflowExecutionStatus, WorkflowUpdateFailedError
from temporalio.exceptions import ApplicationError
from temporalio.service import RPCError

from domain import errors
from tests.workflows.fakes import FakeWorld, application_input
from tests.workflows.support import Run, Starter, starting, time_skipping_server
from workflows import search_attributes as sa
from workflows.incidents import DEPARTMENTS, STORE
from workflows.permit_application import PermitApplicationWorkflow
from workflows.texts import SMS_MAX_CHARS
from workflows.types import Withdrawal

STORE_REFUSAL = "StoreConstraintViolated"  # a store error that no retry will mend

# Every activity of the main path that is refused for good opens an incident (send_sms and project: below).
STEP_ACTIVITIES = {
    "verify_ownership": errors.DEPARTMENT_REJECTED_REQUEST,
    "fetch_invoice": errors.DEPARTMENT_REJECTED_REQUEST,
    "fetch_purchase_tax": errors.DEPARTMENT_REJECTED_REQUEST,
    "fetch_inspection_report": errors.DEPARTMENT_REJECTED_REQUEST,
    "fetch_nev_range": errors.DEPARTMENT_REJECTED_REQUEST,
    "assess_eligibility": STORE_REFUSAL,
    "compute_deadlines": STORE_REFUSAL,
    "issue_document": STORE_REFUSAL,
    "request_usage_change": errors.DEPARTMENT_REJECTED_REQUEST,
    "get_usage_change": errors.DEPARTMENT_REJECTED_REQUEST,
    "find_policy": errors.DEPARTMENT_REJECTED_REQUEST,
    "allocate_permit": STORE_REFUSAL,
    "create_shipment": errors.DEPARTMENT_REJECTED_REQUEST,
    "get_shipment": errors.DEPARTMENT_REJECTED_REQUEST,
}


@pytest.fixture
async def start() -> AsyncIterator[Starter]:
    async with time_skipping_server() as env, starting(env) as start:
        yield start


async def refused(start: Starter, activity: str, **timing: float) -> tuple[Run, dict]:
    """An online application whose `activity` is refused for good, steered until its incident opens."""
    run = await start(FakeWorld(refusals={activity: STEP_ACTIVITIES[activity]}), application_input(**timing))
    return run, await run.steer()


def events(view: dict) -> list[str]:
    return [e["event"] for e in view["timeline"]]


async def incident_attribute(run: Run) -> str | None:
    return (await run.handle.describe()).typed_search_attributes.get(sa.INCIDENT)


@pytest.mark.parametrize("activity", sorted(STEP_ACTIVITIES))
async def test_a_step_refused_for_good_opens_an_incident_that_a_retry_resolves(start: Starter, activity: str) -> None:
    run, view = await refused(start, activity)
    incident = view["incident"]
    assert (incident["step"], incident["department"]) == (activity, DEPARTMENTS.get(activity, STORE))
    assert STEP_ACTIVITIES[activity] in incident["answer"]
    assert view["pending"] == [{"action": "resolve_incident", "actor": "supervisor"}]
    assert view["status"] not in ("rejected", "completed")
    assert await incident_attribute(run) == incident["department"]
    assert (await run.handle.describe()).status == WorkflowExecutionStatus.RUNNING

    calls = run.world.names().count(activity)
    run.world.refusals.clear()
    answered = await run.resolve(incident["incident_id"], "retry", "部门已修复")
    assert answered["incident"] is None
    final = await run.steer(stop_at_incident=False)
    assert run.world.names().count(activity) > calls
    assert final["status"] == "completed"
    resolved = [e for e in final["timeline"] if e["event"] == "incident_resolved"]
    assert [(e["actor"], e["action"], e["reason"]) for e in resolved] == [("supervisor", "retry", "部门已修复")]
    assert events(final).index("incident_opened") < events(final).index("incident_resolved")
    assert await incident_attribute(run) == "none"


@pytest.mark.parametrize(
    ("activity", "undone"),
    [
        ("verify_ownership", []),
        ("request_usage_change", ["originals_returned"]),
        ("find_policy", ["usage_nature_reverted", "originals_returned"]),
        ("allocate_permit", ["usage_nature_reverted", "originals_returned"]),
    ],
)
async def test_closing_an_incident_rejects_the_application_with_full_compensation(
    start: Starter, activity: str, undone: list[str]
) -> None:
    run, view = await refused(start, activity)
    run.world.refusals.clear()  # the department takes the undos again (a refused undo: below)
    answered = await run.resolve(view["incident"]["incident_id"], "close", "部门无法办理")
    assert answered["status"] == "rejected"
    result = await run.handle.result()
    assert result.status == "rejected"
    final = await run.view()
    assert final["incident"] is None and final["pending"] == []
    done = events(final)
    assert [e for e in done if e in ("usage_nature_reverted", "originals_returned")] == undone
    assert "compensation_failed" not in done
    assert any(r.kind == "termination_notice" for r in run.world.documents.values())
    assert any("部门无法办理" in s.text for s in run.world.sms if s.idempotency_key.endswith("sms:closed"))


async def test_an_issued_permit_is_not_closed_by_an_incident_only_retried(start: Starter) -> None:
    run, view = await refused(start, "create_shipment")
    with pytest.raises(WorkflowUpdateFailedError) as refusal:
        await run.resolve(view["incident"]["incident_id"], "close")
    assert isinstance(refusal.value.cause, ApplicationError)
    assert refusal.value.cause.type == errors.RESOLUTION_NOT_POSSIBLE
    assert (await run.view())["incident"] == view["incident"]


async def test_a_clerk_decision_whose_step_fails_is_answered_with_the_incident(start: Starter) -> None:
    run = await start(FakeWorld(refusals={"compute_deadlines": STORE_REFUSAL}))
    answered = await run.decide("preliminary_review")
    assert answered["incident"]["step"] == "compute_deadlines"
    assert answered["status"] == "preliminary_review"


async def test_an_insurer_refusal_while_awaiting_insurance_is_an_incident_not_a_failure(start: Starter) -> None:
    run = await start(FakeWorld(refusals={"find_policy": errors.DEPARTMENT_REJECTED_REQUEST}))
    await run.through_acceptance()
    checked = await run.handle.execute_update(PermitApplicationWorkflow.check_insurance)
    assert (checked["status"], checked["incident"]["department"]) == ("awaiting_insurance", "insurance")


async def test_a_refused_reversal_after_a_close_is_an_incident_that_a_retry_resolves(start: Starter) -> None:
    run, view = await refused(start, "get_usage_change")
    await run.resolve(view["incident"]["incident_id"], "close")
    await run.env.sleep(timedelta(minutes=2))  # the reversal's first poll, refused too
    reversal = await run.incident()
    assert (reversal["status"], reversal["incident"]["step"]) == ("rejected", "get_usage_change")
    assert "originals_returned" not in events(reversal)  # the next undo waits for this one
    run.world.refusals.clear()
    await run.resolve(reversal["incident"]["incident_id"], "retry")
    assert (await run.handle.result()).status == "rejected"
    done = events(await run.view())
    assert done.index("usage_nature_reverted") < done.index("originals_returned")
    assert "compensation_failed" not in done


async def test_the_courier_refusing_the_return_of_the_originals_after_a_withdrawal_waits_for_a_retry(
    start: Starter,
) -> None:
    run = await start(FakeWorld(refusals={"create_shipment": errors.DEPARTMENT_REJECTED_REQUEST}))
    await run.through_acceptance()
    await run.handle.execute_update(PermitApplicationWorkflow.withdraw, Withdrawal("不办了"))
    await run.env.sleep(timedelta(minutes=2))  # the reversal's poll, then the return of the originals
    view = await run.incident()
    incident = view["incident"]
    assert (view["status"], incident["step"], incident["department"]) == ("withdrawn", "create_shipment", "courier")
    assert view["pending"] == [{"action": "resolve_incident", "actor": "supervisor"}]
    assert await incident_attribute(run) == "courier"
    assert (await run.handle.describe()).status == WorkflowExecutionStatus.RUNNING
    assert "usage_nature_reverted" in events(view) and "originals_returned" not in events(view)
    for action in ("skip", "close"):
        with pytest.raises(WorkflowUpdateFailedError) as refusal:
            await run.resolve(incident["incident_id"], action)
        assert isinstance(refusal.value.cause, ApplicationError)
        assert refusal.value.cause.type == errors.RESOLUTION_NOT_POSSIBLE

    run.world.refusals.clear()
    answered = await run.resolve(incident["incident_id"], "retry", "快递已恢复")
    assert answered["incident"] is None and answered["status"] == "withdrawn"
    assert (await run.handle.result()).status == "withdrawn"
    final = await run.view()
    assert events(final).index("incident_resolved") < events(final).index("originals_returned")
    assert any(k.endswith("return-originals") for k in run.world.shipments)
    assert any(s.idempotency_key.endswith("sms:closed") for s in run.world.sms)
    assert (final["incident"], final["pending"]) == (None, [])
    assert "compensation_failed" not in events(final)
    assert await incident_attribute(run) == "none"


async def test_only_a_notification_is_skipped_and_only_the_open_incident_resolved(start: Starter) -> None:
    run, view = await refused(start, "find_policy")
    incident_id = view["incident"]["incident_id"]
    for resolution_id, action, code in [
        (incident_id, "skip", errors.RESOLUTION_NOT_POSSIBLE),
        (incident_id, "ignore", errors.RESOLUTION_NOT_POSSIBLE),
        ("another", "retry", errors.INCIDENT_NOT_OPEN),
    ]:
        with pytest.raises(WorkflowUpdateFailedError) as refusal:
            await run.resolve(resolution_id, action)
        assert isinstance(refusal.value.cause, ApplicationError)
        assert refusal.value.cause.type == code
    assert (await run.view())["incident"]["incident_id"] == incident_id
    assert "incident_resolved" not in events(await run.view())


async def test_an_sms_gateway_down_past_the_retry_bound_opens_an_incident_that_a_skip_resolves(start: Starter) -> None:
    world = FakeWorld(sms_unavailable=True)
    run = await start(world, application_input(give_up_after_s=60))
    await run.decide("preliminary_review")
    await run.env.sleep(timedelta(seconds=120))
    view = await run.incident()
    assert (view["incident"]["step"], view["incident"]["department"]) == ("send_sms", "sms")
    assert "gave up retrying" in view["incident"]["answer"]
    skipped = await run.resolve(view["incident"]["incident_id"], "skip", "已电话告知申请人")
    assert skipped["incident"] is None
    world.sms_unavailable = False
    final = await run.steer()
    assert final["status"] == "completed" and final["incident"] is None


async def test_a_refused_sms_is_recorded_and_the_process_goes_on(start: Starter) -> None:
    run = await start(FakeWorld(refusals={"send_sms": errors.DEPARTMENT_REJECTED_REQUEST}))
    final = await run.steer()
    assert final["status"] == "completed"
    assert events(final).count("sms_refused") == 2  # the one-time notice, the originals received
    assert "incident_opened" not in events(final)


async def test_a_store_refusing_every_projection_does_not_stop_the_application(start: Starter) -> None:
    run = await start(FakeWorld(refusals={"project": STORE_REFUSAL}))
    final = await run.steer()
    assert final["status"] == "completed"
    assert run.world.projections == []


async def test_supplements_of_twenty_long_items_reach_the_applicant_in_parts(start: Starter) -> None:
    """The issue's scenario: 20 items of 100 characters pass the gateway's limit of 1,000."""
    run = await start(FakeWorld())
    items = [f"{n:02d}" + "请补充" * 32 + "。" * 2 for n in range(20)]
    assert {len(item) for item in items} == {100}
    answered = await run.decide("preliminary_review", "request_supplement", "材料不全", items)
    assert answered["status"] == "supplement_requested" and answered["incident"] is None
    assert answered["pending"][0]["items"] == items
    parts = [s for s in run.world.sms if ":sms:supplement-request-1" in s.idempotency_key]
    assert len(parts) == 3 and all(len(p.text) <= SMS_MAX_CHARS for p in parts)
    assert all(item in "".join(p.text[5:] for p in parts) for item in items)
    assert "sms_refused" not in events(answered)


async def test_a_withdrawal_during_an_incident_closes_it(start: Starter) -> None:
    run, view = await refused(start, "request_usage_change")
    await run.handle.execute_update(PermitApplicationWorkflow.withdraw, Withdrawal("不办了"))
    assert (await run.handle.result()).status == "withdrawn"
    final = await run.view()
    assert final["incident"] is None
    assert "originals_returned" in events(final)
    with pytest.raises(RPCError):  # closed: the update finds no running workflow
        await run.resolve(view["incident"]["incident_id"], "retry")
