"""The Web UI's codec endpoint on a real history: operators read it; nobody else does (tests/api/test_codec.py)."""

from __future__ import annotations

import base64

import pytest
from google.protobuf import json_format
from temporalio.api.common.v1 import Payload, Payloads
from temporalio.testing import WorkflowEnvironment

from drills.people import new_citizen, new_vehicle
from tests.support_stack import Stack, submit

pytestmark = pytest.mark.timeout(120)


def as_json(payloads: list[Payload]) -> dict:
    return json_format.MessageToDict(Payloads(payloads=payloads))


async def test_an_operator_decodes_a_real_history_payload(stack: Stack, dev_server_env: WorkflowEnvironment) -> None:
    owner = new_citizen()
    vehicle = await stack.sandbox.add_vehicle(**new_vehicle(owner))
    applicant = await stack.applicant(**owner)
    created, _ = await submit(stack, applicant, vehicle)
    app_id = created.json()["application_id"]
    raw = dev_server_env.client.service_client.workflow_service
    from temporalio.api.common.v1 import WorkflowExecution
    from temporalio.api.workflowservice.v1 import GetWorkflowExecutionHistoryRequest

    history = await raw.get_workflow_execution_history(
        GetWorkflowExecutionHistoryRequest(
            namespace=dev_server_env.client.namespace, execution=WorkflowExecution(workflow_id=f"permit-{app_id}")
        )
    )
    stored = history.history.events[0].workflow_execution_started_event_attributes.input.payloads[0]
    assert stored.metadata["encoding"] == b"binary/encrypted-aes256gcm"
    assert owner["id_number"].encode() not in stored.data

    operator = await stack.clerk("330300", role="operator")
    decoded = await stack.api.post("/codec/decode", headers=operator, json=as_json([stored]))
    assert decoded.status_code == 200, decoded.text
    data = base64.b64decode(decoded.json()["payloads"][0]["data"])
    assert app_id.encode() in data and owner["id_number"].encode() in data

    encoded = await stack.api.post("/codec/encode", headers=operator, json={"payloads": decoded.json()["payloads"]})
    again = await stack.api.post("/codec/decode", headers=operator, json=encoded.json())
    assert again.json() == decoded.json()


async def test_applicants_and_bad_tokens_cannot_decode(stack: Stack) -> None:
    payload = as_json([Payload(metadata={"encoding": b"json/plain"}, data=b"{}")])
    applicant = await stack.applicant(**new_citizen())
    assert (await stack.api.post("/codec/decode", headers=applicant, json=payload)).status_code == 403
    bad = {"Authorization": "Bearer not-a-token"}
    assert (await stack.api.post("/codec/decode", headers=bad, json=payload)).status_code == 401


async def test_the_ui_origin_may_call_it_cross_origin(stack: Stack) -> None:
    preflight = await stack.api.options(
        "/codec/decode",
        headers={
            "Origin": "http://127.0.0.1:8233",
            "Access-Control-Request-Method": "POST",
            "Access-Control-Request-Headers": "content-type,authorization",
        },
    )
    assert preflight.headers["access-control-allow-origin"] == "http://127.0.0.1:8233"
    other = await stack.api.options(
        "/codec/decode", headers={"Origin": "http://evil.example", "Access-Control-Request-Method": "POST"}
    )
    assert "access-control-allow-origin" not in other.headers
