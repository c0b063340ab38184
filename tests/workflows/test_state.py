"""The view, the pending list, the current details and the search attributes, without Temporal."""

from __future__ import annotations

from datetime import datetime

import pytest

from domain.calendar import CST
from domain.statuses import TERMINAL, Status, Step, WarningLevel
from tests.workflows.fakes import OWNER_ID, PLATE, VIN, application_input
from workflows import search_attributes as sa
from workflows.state import current_details, pending, search_attributes, view
from workflows.types import ApplicationState, DeadlineAnswer, Deadlines

# API.md's application: the keys an applicant's client relies on.
VIEW_KEYS = {
    "application_id",
    "status",
    "step",
    "district",
    "channel",
    "submitted_at",
    "accepted_on",
    "vehicle",
    "applicant",
    "delivery",
    "materials",
    "deadlines",
    "findings",
    "pending",
    "documents",
    "timeline",
    "permit",
    "incident",
}


def state(**fields: object) -> ApplicationState:
    wf_input = application_input()
    return ApplicationState(input=wf_input, materials=dict(wf_input.materials), **fields)  # type: ignore[arg-type]


def accepted(**fields: object) -> ApplicationState:
    deadlines = Deadlines(
        insurance=DeadlineAnswer("2027-12-15", 15, "2028-01-06", True),
        decision=DeadlineAnswer("2027-12-15", 20, "2028-01-13", True),
        reminder_dates={"1": "2028-01-05", "5": "2027-12-29"},
        decision_warning_from="2028-01-06",
    )
    return state(status=Status.AWAITING_INSURANCE, accepted_on="2027-12-15", deadlines=deadlines, **fields)


def test_the_view_has_the_shape_of_the_api() -> None:
    shown = view(state(status=Status.PRELIMINARY_REVIEW, step=Step.PRELIMINARY_REVIEW))
    assert set(shown) == VIEW_KEYS
    assert (shown["status"], shown["step"], shown["deadlines"], shown["permit"]) == (
        "preliminary_review",
        "preliminary_review",
        {},
        None,
    )
    assert shown["materials"] == [
        {"kind": "driving_license", "material_id": "m2"},
        {"kind": "registration_certificate", "material_id": "m1"},
    ]


def test_the_deadlines_show_reminder_days_in_order_and_the_warning() -> None:
    deadlines = view(accepted(warning=WarningLevel.YELLOW))["deadlines"]
    assert deadlines["insurance"] == {
        "due_on": "2028-01-06",
        "working_days": 15,
        "provisional": True,
        "reminders_on": ["2027-12-29", "2028-01-05"],
    }
    assert deadlines["decision"]["warning"] == "yellow"


@pytest.mark.parametrize(
    ("status", "action", "actor"),
    [
        (Status.SUBMITTED, "collect_shared_data", "system"),
        (Status.PRELIMINARY_REVIEW, "preliminary_review", "transport_clerk"),
        (Status.VEHICLE_NATURE_CHANGE, "change_usage_nature", "vehicle_admin"),
        (Status.AWAITING_INSURANCE, "buy_carrier_liability_insurance", "applicant"),
        (Status.FINAL_REVIEW, "final_review", "transport_clerk"),
        (Status.DELIVERING, "deliver_documents", "courier"),
    ],
)
def test_an_open_application_waits_for_one_action(status: Status, action: str, actor: str) -> None:
    assert pending(state(status=status)) == [{"action": action, "actor": actor}]


def test_the_originals_are_awaited_from_the_applicant_then_from_the_clerk() -> None:
    assert pending(state(status=Status.AWAITING_ORIGINALS)) == [{"action": "ship_originals", "actor": "applicant"}]
    shipped = state(status=Status.AWAITING_ORIGINALS, originals_tracking="SF1")
    assert pending(shipped) == [{"action": "originals_received", "actor": "transport_clerk"}]


def test_a_supplement_request_names_its_items() -> None:
    waiting = pending(state(status=Status.SUPPLEMENT_REQUESTED, supplement_items=["机动车行驶证"]))
    assert waiting == [{"action": "submit_supplements", "actor": "applicant", "items": ["机动车行驶证"]}]


@pytest.mark.parametrize("status", sorted(TERMINAL))
def test_a_closed_application_waits_for_nothing(status: Status) -> None:
    assert pending(state(status=status)) == []
    assert search_attributes(state(status=status))[sa.PENDING_ACTOR] == "none"


def test_search_attributes_carry_the_due_instants_once_accepted() -> None:
    assert sa.INSURANCE_DUE not in search_attributes(state())
    values = search_attributes(accepted())
    assert values[sa.INSURANCE_DUE] == datetime(2028, 1, 7, tzinfo=CST)
    assert values[sa.DECISION_DUE] == datetime(2028, 1, 14, tzinfo=CST)
    assert (values[sa.STATUS], values[sa.PENDING_ACTOR], values[sa.WARNING_LEVEL]) == (
        "awaiting_insurance",
        "applicant",
        "none",
    )


def test_an_open_incident_waits_for_a_supervisor_and_names_its_department() -> None:
    incident = {
        "incident_id": "i-1",
        "step": "find_policy",
        "department": "insurance",
        "answer": "DepartmentRejectedRequest: insurance platform rejected the query with HTTP 400",
        "opened_at": "2027-12-20T01:00:00+00:00",
    }
    open_incident = accepted(incident=incident)
    assert view(open_incident)["incident"] == incident
    assert view(open_incident)["status"] == "awaiting_insurance"
    assert pending(open_incident) == [{"action": "resolve_incident", "actor": "supervisor"}]
    assert search_attributes(open_incident)[sa.INCIDENT] == "insurance"
    assert (view(accepted())["incident"], search_attributes(accepted())[sa.INCIDENT]) == (None, "none")


def test_a_closed_application_with_a_refused_undo_waits_for_a_supervisor() -> None:
    incident = {
        "incident_id": "i-2",
        "step": "create_shipment",
        "department": "courier",
        "answer": "DepartmentRejectedRequest: courier rejected the shipment with HTTP 422",
        "opened_at": "2027-12-20T01:00:00+00:00",
    }
    closed = state(status=Status.WITHDRAWN, incident=incident)
    assert pending(closed) == [{"action": "resolve_incident", "actor": "supervisor"}]
    assert search_attributes(closed)[sa.INCIDENT] == "courier"
    assert pending(state(status=Status.WITHDRAWN)) == []


def test_no_personal_data_reaches_the_web_ui() -> None:
    shown = accepted(permit={"number": "3303002026000001", "issued_on": "", "valid_until": ""})
    details = current_details(shown)
    assert "**Insurance due:** 2028-01-06 24:00 CST (provisional)" in details
    assert "**Permit:** 3303002026000001" in details
    everything = details + " ".join(str(v) for v in search_attributes(shown).values())
    for personal in (PLATE, VIN, OWNER_ID, "张三", "13800138000"):
        assert personal not in everything
