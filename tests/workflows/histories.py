"""The reference histories of the workflow's journeys, and how a test records and replays them."""

from __future__ import annotations

import os
from pathlib import Path

from temporalio.api.enums.v1 import EventType
from temporalio.client import WorkflowHandle, WorkflowHistory
from temporalio.worker import Replayer

from tests.support_settings import settings_for_tests
from workers.temporal import data_converter
from workflows.permit_application import PermitApplicationWorkflow

HISTORIES = Path(__file__).parent / "histories"
# The workflow's shape (docs/versioning.md): until a release runs applications, a change of shape
# re-records every history under the new version and the old set goes.
HISTORY_VERSION = "1.4.0"
JOURNEYS = {
    "online_completed",
    "window_pickup_completed",
    "supplement_loop_withdrawn",
    "rejected_preliminary",
    "rejected_final_reverted",
    "withdrawn_after_usage_change",
    "expired_reverted",
    "business_refusal",
    "insurance_callback_during_entry",
    "early_delivery_report",
    "decisions_projected",
    "incident_retried",
    "rollover_handed_over",
    "rollover_resumed_withdrawn",
}


def replayer() -> Replayer:
    return Replayer(workflows=[PermitApplicationWorkflow], data_converter=data_converter(settings_for_tests()))


async def replay(handle: WorkflowHandle, path: str) -> None:
    """Replay this run's history; with SAVE_HISTORIES=1 keep it as the path's reference history."""
    await replay_history(await handle.fetch_history(), path)


async def replay_history(history: WorkflowHistory, path: str) -> None:
    await replayer().replay_workflow(history)
    if os.environ.get("SAVE_HISTORIES") == "1":
        HISTORIES.mkdir(exist_ok=True)
        (HISTORIES / f"{path}@{HISTORY_VERSION}.json").write_text(history.to_json(), encoding="utf-8")


def saved_history(path: str) -> WorkflowHistory:
    text = (HISTORIES / f"{path}.json").read_text(encoding="utf-8")
    return WorkflowHistory.from_json(f"permit-{path.partition('@')[0]}", text)


COMMAND_EVENTS = {
    EventType.EVENT_TYPE_MARKER_RECORDED,
    EventType.EVENT_TYPE_UPSERT_WORKFLOW_SEARCH_ATTRIBUTES,
    EventType.EVENT_TYPE_ACTIVITY_TASK_SCHEDULED,
    EventType.EVENT_TYPE_TIMER_STARTED,
    EventType.EVENT_TYPE_TIMER_CANCELED,
    EventType.EVENT_TYPE_WORKFLOW_EXECUTION_UPDATE_ACCEPTED,
    EventType.EVENT_TYPE_WORKFLOW_EXECUTION_UPDATE_COMPLETED,
}


def cut_after_each_task(history: WorkflowHistory) -> list[WorkflowHistory]:
    """The history as it stood after each workflow task and the commands it wrote: what a query on
    an evicted workflow, or a worker restarted at that point, replays."""
    events = list(history.events)
    cuts = []
    for i, event in enumerate(events):
        if event.event_type == EventType.EVENT_TYPE_WORKFLOW_TASK_COMPLETED:
            end = i + 1
            while end < len(events) and events[end].event_type in COMMAND_EVENTS:
                end += 1
            cuts.append(WorkflowHistory(history.workflow_id, events[:end]))
    return cuts


async def replay_each_cut(history: WorkflowHistory) -> None:
    cuts = cut_after_each_task(history)
    assert len(cuts) >= 4
    replaying = replayer()
    for cut in cuts:
        await replaying.replay_workflow(cut)
