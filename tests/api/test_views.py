"""The typed application view: it describes the workflow's JSON exactly, without changing its shape."""

from __future__ import annotations

import copy
from typing import Any

import pytest
from pydantic import ValidationError

from api.app import create_app
from api.views import ApplicationView
from config import Settings
from domain.views import mask_view
from tests.support_views import SUBMITTED_VIEW

SUBMITTED = SUBMITTED_VIEW

COMPLETED: dict[str, Any] = {
    **SUBMITTED,
    "status": "completed",
    "accepted_on": "2026-09-25",
    "delivery": {"method": "mail", "tracking_number": "SF1234567890"},
    "deadlines": {
        "insurance": {"due_on": "2026-10-22", "working_days": 15, "provisional": False, "reminders_on": ["2026-10-19"]},
        "decision": {"due_on": "2026-10-29", "working_days": 20, "provisional": False, "warning": "none"},
    },
    "findings": [{"rule": "vehicle_age", "message": "车辆使用年限符合要求"}],
    "pending": [],
    "documents": [{"kind": "acceptance_notice", "document_id": "d-1"}, {"kind": "permit", "document_id": "d-2"}],
    "timeline": [
        {"at": "2026-09-24T01:02:03+00:00", "event": "submitted", "actor": "applicant", "channel": "online"},
        {
            "at": "2026-09-24T02:00:00+00:00",
            "event": "supplement_requested",
            "actor": "transport_clerk",
            "reason": "行驶证不清晰",
            "items": ["行驶证正页"],
        },
        {
            "at": "2026-09-26T02:00:00+00:00",
            "event": "shared_data_fetched",
            "actor": "system",
            "sources": ["tax", "inspection"],
        },
        {
            "at": "2026-10-01T02:00:00+00:00",
            "event": "deadlines_recomputed",
            "actor": "system",
            "insurance_due_on": "2026-10-22",
            "provisional": False,
        },
        {
            "at": "2026-10-02T02:00:00+00:00",
            "event": "permit_issued",
            "actor": "transport_clerk",
            "number": "3303002026000001",
        },
    ],
    "permit": {"number": "3303002026000001", "issued_on": "2026-10-02", "valid_until": "2034-06-01"},
}

SUPPLEMENT_REQUESTED: dict[str, Any] = {
    **SUBMITTED,
    "status": "supplement_requested",
    "pending": [{"action": "submit_supplements", "actor": "applicant", "items": ["行驶证正页"]}],
}


IN_INCIDENT: dict[str, Any] = {
    **SUBMITTED,
    "status": "vehicle_nature_change",
    "pending": [{"action": "resolve_incident", "actor": "supervisor"}],
    "incident": {
        "incident_id": "inc-1",
        "step": "request_usage_change",
        "department": "vehicle_admin",
        "answer": "rejected_request: 422 the vehicle is mortgaged",
        "opened_at": "2026-09-26T02:00:00+00:00",
    },
}


def as_the_api_answers(view: dict[str, Any]) -> Any:
    return ApplicationView.model_validate(view).model_dump(mode="json", exclude_unset=True)


@pytest.mark.parametrize(
    "view",
    [SUBMITTED, SUPPLEMENT_REQUESTED, COMPLETED, IN_INCIDENT, {**COMPLETED, "incident": None}],
    ids=["submitted", "supplement", "done", "incident", "no-incident"],
)
def test_the_view_keeps_its_shape(view: dict[str, Any]) -> None:
    assert as_the_api_answers(view) == view


def test_an_incident_passes_masking_as_the_workflow_wrote_it() -> None:
    unmasked = {**IN_INCIDENT, "applicant": {"name": "张三", "id_number": "330302199001011234", "phone": "13800138000"}}
    masked = mask_view(unmasked)
    assert masked["incident"] == IN_INCIDENT["incident"] and masked["applicant"]["phone"] == "138****8000"
    assert as_the_api_answers(masked)["incident"] == IN_INCIDENT["incident"]


@pytest.mark.parametrize(
    ("where", "change"),
    [
        ("a key the contract lacks", lambda v: v.update(surprise=1)),
        ("an unknown status", lambda v: v.update(status="lost")),
        ("an unknown pending action", lambda v: v["pending"][0].update(action="wait_forever")),
        ("a masked part missing", lambda v: v["applicant"].pop("phone")),
        ("an incident without its department", lambda v: v.update(incident={"incident_id": "i", "step": "s"})),
    ],
)
def test_a_view_off_the_contract_is_refused(where: str, change: Any) -> None:
    view = copy.deepcopy(SUBMITTED)
    change(view)
    with pytest.raises(ValidationError):
        ApplicationView.model_validate(view)


def test_openapi_describes_what_an_applicant_gets() -> None:
    document = create_app(Settings(app_env="development")).openapi()
    paths = document["paths"]
    for path, method in [
        ("/v1/applications", "post"),
        ("/v1/applications/{application_id}", "get"),
        ("/v1/applications/{application_id}/withdraw", "post"),
        ("/v1/applications/{application_id}/supplements", "post"),
        ("/v1/applications/{application_id}/originals-shipment", "post"),
        ("/v1/applications/{application_id}/insurance-check", "post"),
        ("/v1/applications/{application_id}/decisions", "post"),
        ("/v1/applications/{application_id}/incidents/{incident_id}/resolution", "post"),
    ]:
        success = next(code for code in paths[path][method]["responses"] if code.startswith("2"))
        schema = paths[path][method]["responses"][success]["content"]["application/json"]["schema"]
        assert schema == {"$ref": "#/components/schemas/ApplicationView"}, path
    status = document["components"]["schemas"]["Status"]
    assert "vehicle_nature_change" in status["enum"]
    step_filter = next(p for p in paths["/v1/applications"]["get"]["parameters"] if p["name"] == "step")
    assert {"$ref": "#/components/schemas/PendingAction"} in step_filter["schema"]["anyOf"]
    assert "buy_carrier_liability_insurance" in document["components"]["schemas"]["PendingAction"]["enum"]
