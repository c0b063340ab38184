"""The HTTP contract of API.md end to end: dev server, PostgreSQL, sandbox, worker, API."""

from __future__ import annotations

import asyncio
import time

import pytest
from temporalio.api.workflow.v1 import PendingActivityInfo

from domain.masking import mask_name, mask_plate
from domain.signing import sign
from drills.people import new_citizen, new_vehicle
from tests.support_pdf import pdf_text
from tests.support_stack import PNG, Stack, submit, submitted
from workers.temporal import workflow_id

pytestmark = pytest.mark.timeout(120)


async def test_online_application_walks_to_completed(stack: Stack) -> None:
    owner = new_citizen()
    vehicle = await stack.sandbox.add_vehicle(**new_vehicle(owner))
    applicant = await stack.applicant(**owner)
    clerk = await stack.clerk()

    created, body = await submit(stack, applicant, vehicle, key="walk-1")
    assert created.status_code == 201, created.text
    view = created.json()
    app_id = view["application_id"]
    assert created.headers["location"] == f"/v1/applications/{app_id}"
    assert view["applicant"]["id_number"] == owner["id_number"][:4] + "*" * 10 + owner["id_number"][-4:]
    assert view["vehicle"]["vin"] != vehicle["vin"] and view["vehicle"]["vin"].endswith(vehicle["vin"][-4:])

    replayed = await stack.api.post("/v1/applications", json=body, headers={**applicant, "Idempotency-Key": "walk-1"})
    assert replayed.status_code == 200 and replayed.json()["application_id"] == app_id

    await stack.wait_for(app_id, clerk, "preliminary_review")
    decided = await stack.api.post(
        f"/v1/applications/{app_id}/decisions", headers=clerk, json={"step": "preliminary_review", "outcome": "approve"}
    )
    assert decided.status_code == 200, decided.text
    assert decided.json()["status"] == "awaiting_originals"
    assert decided.json()["deadlines"]["insurance"]["working_days"] == 15

    shipped = await stack.api.post(
        f"/v1/applications/{app_id}/originals-shipment", headers=applicant, json={"tracking_number": "SF10001"}
    )
    assert shipped.status_code == 200, shipped.text
    received = await stack.api.post(
        f"/v1/applications/{app_id}/decisions", headers=clerk, json={"step": "originals_received", "outcome": "approve"}
    )
    assert received.status_code == 200, received.text

    await stack.wait_for(app_id, applicant, "awaiting_insurance")
    await stack.sandbox.buy_policy(plate=vehicle["plate"], vin=vehicle["vin"])
    await stack.wait_for(app_id, clerk, "final_review")
    final = await stack.api.post(
        f"/v1/applications/{app_id}/decisions", headers=clerk, json={"step": "final_review", "outcome": "approve"}
    )
    assert final.status_code == 200, final.text

    done = await stack.wait_for(app_id, applicant, "completed")
    assert done["permit"]["number"].startswith("3303002026") or done["permit"]["number"].startswith("330300")
    assert [d["kind"] for d in done["documents"]][-1] == "permit"
    texts = [m["text"] for m in await stack.sandbox.sms(owner["phone"])]
    due_on = done["deadlines"]["insurance"]["due_on"]
    assert any(due_on in text for text in texts), texts

    permit_doc = done["documents"][-1]["document_id"]
    as_json = await stack.api.get(f"/v1/documents/{permit_doc}", headers={**applicant, "Accept": "application/json"})
    assert as_json.json()["data"]["number"] == done["permit"]["number"]
    as_pdf = await stack.api.get(f"/v1/documents/{permit_doc}", headers=applicant)
    assert as_pdf.headers["content-type"] == "application/pdf"
    text = pdf_text(as_pdf.content)
    permit = done["permit"]
    for label, value in (
        ("运输证号", permit["number"]),
        ("车牌号码", mask_plate(vehicle["plate"])),
        ("车辆所有人", mask_name(owner["name"])),
        ("有效期至", permit["valid_until"]),
    ):
        assert f"{label}{value}" in text, (label, value)
    assert vehicle["plate"] not in text and owner["name"] not in text

    # The permit's lifecycle keeps the register; the applicant's view reads the permit's state from it.
    for _ in range(100):
        view = (await stack.api.get(f"/v1/applications/{app_id}", headers=applicant)).json()
        if view["permit"]["state"] is not None:
            break
        await asyncio.sleep(0.1)
    assert view["permit"]["state"] == "valid"
    registered = await stack.api.get(f"/v1/permits/{permit['number']}", headers=applicant)
    assert registered.status_code == 200 and registered.json()["state"] == "valid"


async def test_second_open_application_for_a_vehicle_is_refused(stack: Stack) -> None:
    owner = new_citizen()
    vehicle = await stack.sandbox.add_vehicle(**new_vehicle(owner))
    applicant = await stack.applicant(**owner)
    first, _ = await submit(stack, applicant, vehicle)
    assert first.status_code == 201
    second, _ = await submit(stack, applicant, vehicle)
    assert second.status_code == 409
    assert second.json()["error"] == "application_in_progress"
    listed = (await stack.api.get("/v1/applications", headers=applicant)).json()
    assert listed["total"] == 1


async def test_decision_at_the_wrong_step_is_409(stack: Stack) -> None:
    owner = new_citizen()
    vehicle = await stack.sandbox.add_vehicle(**new_vehicle(owner))
    applicant = await stack.applicant(**owner)
    clerk = await stack.clerk()
    created, _ = await submit(stack, applicant, vehicle)
    app_id = created.json()["application_id"]
    await stack.wait_for(app_id, clerk, "preliminary_review")
    wrong = await stack.api.post(
        f"/v1/applications/{app_id}/decisions", headers=clerk, json={"step": "final_review", "outcome": "approve"}
    )
    assert wrong.status_code == 409
    assert wrong.json()["error"] == "not_awaiting_this_step"
    assert (await stack.api.get(f"/v1/applications/{app_id}", headers=clerk)).json()["status"] == "preliminary_review"


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"vehicle": {"plate": "浙C12345", "vin": "LSVAU2180N2183294"}}, ["body", "vehicle", "vin"]),
        ({"vehicle": {"plate": "浙A12345", "vin": "LSVAU218XN2183294"}}, ["body", "vehicle", "plate"]),
        ({"district": "330100"}, ["body", "district"]),
        ({"channel": "fax"}, ["body", "channel"]),
        ({"insurance_commitment": False}, ["body"]),
        ({"unexpected": 1}, ["body", "unexpected"]),
    ],
)
async def test_bad_input_is_422_naming_the_field_and_changes_nothing(stack: Stack, change: dict, field: list) -> None:
    owner = new_citizen()
    vehicle = await stack.sandbox.add_vehicle(**new_vehicle(owner))
    applicant = await stack.applicant(**owner)
    response, _ = await submit(stack, applicant, vehicle, changes=change)
    assert response.status_code == 422, response.text
    problem = response.json()
    assert problem["error"] == "validation_failed"
    assert any(f["loc"][: len(field)] == field for f in problem["fields"]), problem
    assert (await stack.api.get("/v1/applications", headers=applicant)).json()["total"] == 0


async def test_unknown_material_is_422_naming_it(stack: Stack) -> None:
    owner = new_citizen()
    vehicle = await stack.sandbox.add_vehicle(**new_vehicle(owner))
    applicant = await stack.applicant(**owner)
    response, _ = await submit(
        stack,
        applicant,
        vehicle,
        changes={"materials": {"registration_certificate": "nope", "driving_license": "nope"}},
    )
    assert response.status_code == 422
    assert response.json()["fields"][0]["loc"] == ["body", "materials", "registration_certificate"]


async def test_others_cannot_see_or_act(stack: Stack) -> None:
    app = await submitted(stack)
    applicant, app_id = app.applicant, app.application_id
    stranger = await stack.applicant(**new_citizen())
    assert (await stack.api.get(f"/v1/applications/{app_id}", headers=stranger)).status_code == 404
    other_district = await stack.clerk("330302")
    assert (await stack.api.get(f"/v1/applications/{app_id}", headers=other_district)).status_code == 404
    city = await stack.clerk("330300", role="supervisor")
    assert (await stack.api.get(f"/v1/applications/{app_id}", headers=city)).status_code == 200
    refused = await stack.api.post(
        f"/v1/applications/{app_id}/decisions",
        headers=applicant,
        json={"step": "preliminary_review", "outcome": "approve"},
    )
    assert refused.status_code == 403
    assert (await stack.api.get(f"/v1/applications/{app_id}")).status_code == 401


async def test_callbacks_need_a_fresh_valid_signature(stack: Stack) -> None:
    body = b'{"policy_no": "P1", "vin": "LSVAU218XN2183294", "plate": "\\u6d59C12345"}'
    now = int(time.time())
    bad = await stack.api.post(
        "/v1/callbacks/insurance", content=body, headers={"X-Signature": sign("wrong", body, now)}
    )
    assert bad.status_code == 401
    stale = await stack.api.post(
        "/v1/callbacks/insurance",
        content=body,
        headers={"X-Signature": sign("tests-only-callback-secret-insurance", body, now - 600)},
    )
    assert stale.status_code == 401
    signature = sign("tests-only-callback-secret-insurance", body, now)
    first = await stack.api.post("/v1/callbacks/insurance", content=body, headers={"X-Signature": signature})
    assert first.status_code == 202
    replay = await stack.api.post("/v1/callbacks/insurance", content=body, headers={"X-Signature": signature})
    assert replay.status_code == 401 and replay.json()["error"] == "replayed"


async def test_calendar_deadline(stack: Stack) -> None:
    ok = await stack.api.get("/v1/calendar/deadline", params={"start": "2026-09-25", "working_days": 15})
    assert ok.json() == {"start": "2026-09-25", "working_days": 15, "due_on": "2026-10-22", "provisional": False}
    for params in ({"start": "2026-02-30", "working_days": 15}, {"start": "2026-09-25", "working_days": 0}):
        bad = await stack.api.get("/v1/calendar/deadline", params=params)
        assert bad.status_code == 422 and bad.json()["fields"]


async def test_a_department_outage_is_ridden_out_by_retries(stack: Stack) -> None:
    owner = new_citizen()
    vehicle = await stack.sandbox.add_vehicle(**new_vehicle(owner))
    applicant = await stack.applicant(**owner)
    await stack.sandbox.set_fault("tax", error_rate=1.0)
    try:
        created, _ = await submit(stack, applicant, vehicle)
        app_id = created.json()["application_id"]
        failing = await pending_activity(stack, app_id, "fetch_purchase_tax", attempt=3)
        assert failing.last_failure.message  # two attempts failed at the department, a third is under way
        view = (await stack.api.get(f"/v1/applications/{app_id}", headers=applicant)).json()
        assert view["status"] == "collecting_data" and not view["findings"]
    finally:
        await stack.sandbox.set_fault("tax", error_rate=0.0)
    view = await stack.wait_for(app_id, applicant, "preliminary_review")
    assert "shared_data_fetched" in [e["event"] for e in view["timeline"]]


async def pending_activity(
    stack: Stack, application_id: str, activity: str, *, attempt: int, timeout: float = 30
) -> PendingActivityInfo:
    """The workflow's pending `activity` once Temporal runs its `attempt`-th attempt."""
    handle = stack.temporal.get_workflow_handle(workflow_id(application_id))
    loop = asyncio.get_running_loop()
    end = loop.time() + timeout
    while True:
        description = await handle.describe()
        pending = [a for a in description.raw_description.pending_activities if a.activity_type.name == activity]
        if pending and pending[0].attempt >= attempt:
            return pending[0]
        if loop.time() > end:
            raise AssertionError(f"{activity} never reached attempt {attempt}: {pending}")
        await asyncio.sleep(0.1)


async def test_uploads_are_bounded_and_typed_by_content(stack: Stack) -> None:
    applicant = await stack.applicant(**new_citizen())
    fake_pdf = await stack.api.post(
        "/v1/materials",
        headers=applicant,
        data={"kind": "driving_license"},
        files={"file": ("scan.pdf", b"MZ\x90\x00 not a pdf", "application/pdf")},
    )
    assert fake_pdf.status_code == 415
    too_big = await stack.api.post(
        "/v1/materials",
        headers=applicant,
        data={"kind": "driving_license"},
        files={"file": ("scan.png", PNG + b"\x00" * (10 * 1024 * 1024), "image/png")},
    )
    assert too_big.status_code == 413
    bad_kind = await stack.api.post(
        "/v1/materials", headers=applicant, data={"kind": "passport"}, files={"file": ("scan.png", PNG, "image/png")}
    )
    assert bad_kind.status_code == 422 and bad_kind.json()["fields"][0]["loc"] == ["body", "kind"]


async def test_withdrawal_over_http(stack: Stack) -> None:
    app = await submitted(stack)
    vehicle, applicant, app_id = app.vehicle, app.applicant, app.application_id
    withdrawn = await stack.api.post(
        f"/v1/applications/{app_id}/withdraw", headers=applicant, json={"reason": "不办了"}
    )
    assert withdrawn.status_code == 200 and withdrawn.json()["status"] == "withdrawn"
    again = await stack.api.post(f"/v1/applications/{app_id}/withdraw", headers=applicant)
    assert again.status_code == 409
    await stack.wait_for(app_id, applicant, "withdrawn")
    second, _ = await submit(stack, applicant, vehicle)
    assert second.status_code == 201


async def test_insurance_checks_are_throttled_with_retry_after(stack: Stack) -> None:
    owner = new_citizen()
    vehicle = await stack.sandbox.add_vehicle(**new_vehicle(owner))
    applicant = await stack.applicant(**owner)
    created, _ = await submit(stack, applicant, vehicle)
    url = f"/v1/applications/{created.json()['application_id']}/insurance-check"
    statuses = [(await stack.api.post(url, headers=applicant)).status_code for _ in range(31)]
    assert statuses[:30] == [409] * 30  # not awaiting insurance yet, but counted
    throttled = await stack.api.post(url, headers=applicant)
    assert throttled.status_code == 429 and int(throttled.headers["retry-after"]) >= 1
    assert throttled.json()["error"] == "rate_limited"
    other = await stack.applicant(**new_citizen())
    assert (await stack.api.post(url, headers=other)).status_code == 404  # a different applicant is not throttled


async def test_a_clerk_sees_one_full_field_by_an_audited_request(stack: Stack) -> None:
    clerk = await stack.clerk()
    app = await submitted(stack, until="preliminary_review", clerk=clerk)
    owner, _vehicle, _applicant, app_id = app.owner, app.vehicle, app.applicant, app.application_id
    view = (await stack.api.get(f"/v1/applications/{app_id}", headers=clerk)).json()
    assert view["applicant"]["phone"] != owner["phone"]
    revealed = await stack.api.post(
        f"/v1/applications/{app_id}/reveal", headers=clerk, json={"field": "phone", "reason": "电话回访"}
    )
    assert revealed.json() == {"field": "phone", "value": owner["phone"]}
    no_reason = await stack.api.post(
        f"/v1/applications/{app_id}/reveal", headers=clerk, json={"field": "phone", "reason": " "}
    )
    assert no_reason.status_code == 422
    audit = await stack.store.pool.fetchrow(
        "SELECT * FROM audit_log WHERE action = 'reveal.phone' AND target = $1 ORDER BY seq DESC LIMIT 1", app_id
    )
    assert audit["outcome"] == "ok" and audit["detail"]["reason"] == "电话回访" and audit["role"] == "transport_clerk"
    assert owner["phone"] not in str(dict(audit))


async def test_the_clerks_inbox_filters_sorts_and_finds_a_plate(stack: Stack) -> None:
    clerk = await stack.clerk()
    app = await submitted(stack, until="preliminary_review", clerk=clerk)
    _owner, vehicle, _applicant, app_id = app.owner, app.vehicle, app.applicant, app.application_id

    async def inbox(**params) -> list[str]:
        response = await stack.api.get("/v1/applications", headers=clerk, params=params)
        assert response.status_code == 200, response.text
        return [item["application_id"] for item in response.json()["items"]]

    assert await inbox(plate=vehicle["plate"]) == [app_id]
    assert app_id in await inbox(step="preliminary_review", channel="online", status="preliminary_review")
    assert app_id not in await inbox(step="final_review")
    await stack.api.post(
        f"/v1/applications/{app_id}/decisions", headers=clerk, json={"step": "preliminary_review", "outcome": "approve"}
    )
    view = await stack.wait_for(app_id, clerk, "awaiting_originals")
    due = view["deadlines"]["insurance"]["due_on"]
    assert app_id in await inbox(due="insurance", due_from=due, due_to=due, sort="insurance_due")
    assert app_id not in await inbox(due="insurance", due_to="2026-01-01")
    pages = [await inbox(page=p, page_size=2) for p in (1, 2, 3)]
    flat = [i for page in pages for i in page]
    assert len(flat) == len(set(flat))  # stable pagination: no repeats across pages
    bad = await stack.api.get("/v1/applications", headers=clerk, params={"plate": "ABC"})
    assert bad.status_code == 422 and bad.json()["fields"][0]["loc"] == ["query", "plate"]
    assert (await stack.api.get("/v1/applications", headers=clerk, params={"page_size": 101})).status_code == 422


async def test_a_chunked_body_over_the_limit_is_413(stack: Stack) -> None:
    applicant = await stack.applicant(**new_citizen())

    async def chunks():
        for _ in range(12):
            yield b"x" * (1024 * 1024)

    response = await stack.api.post(
        "/v1/callbacks/courier", content=chunks(), headers={**applicant, "X-Signature": "t=1,v1=00"}
    )
    assert response.status_code == 413


async def test_bad_dates_and_payloads_are_422_not_500(stack: Stack) -> None:
    far = await stack.api.get("/v1/calendar/deadline", params={"start": "9999-12-30", "working_days": 5})
    assert far.status_code == 422 and far.json()["fields"][0]["loc"] == ["query", "start"]
    short = {
        "payloads": [
            {
                "metadata": {"encoding": "YmluYXJ5L2VuY3J5cHRlZC1hZXMyNTZnY20=", "encryption-key-id": "ZGV2MQ=="},
                "data": "AAAA",
            }
        ]
    }
    operator = await stack.clerk("330300", role="operator")
    assert (await stack.api.post("/codec/decode", headers=operator, json=short)).status_code == 422


async def test_a_callback_reformatted_is_still_a_replay(stack: Stack) -> None:
    body = b'{"tracking_number": "SF-NONE", "reference": "00000000-0000-0000-0000-000000000000", "status": "delivered"}'
    now = int(time.time())
    signature = sign("tests-only-callback-secret-courier", body, now)
    assert (
        await stack.api.post("/v1/callbacks/courier", content=body, headers={"X-Signature": signature})
    ).status_code == 202
    t, v1 = signature.split(",")
    reordered = f"{v1}, {t}"
    again = await stack.api.post("/v1/callbacks/courier", content=body, headers={"X-Signature": reordered})
    assert again.status_code == 401 and again.json()["error"] == "replayed"


async def test_concurrent_retries_with_one_key_give_one_application(stack: Stack) -> None:
    owner = new_citizen()
    vehicle = await stack.sandbox.add_vehicle(**new_vehicle(owner))
    applicant = await stack.applicant(**owner)
    _, body = await submit(stack, applicant, vehicle, key="race-0")  # materials uploaded, application created
    other = await stack.sandbox.add_vehicle(**new_vehicle(owner))
    body = {**body, "vehicle": {"plate": other["plate"], "vin": other["vin"]}}
    headers = {**applicant, "Idempotency-Key": "race-1"}
    responses = await asyncio.gather(
        *(stack.api.post("/v1/applications", json=body, headers=headers) for _ in range(4))
    )
    assert sorted(r.status_code for r in responses) == [200, 200, 200, 201]
    assert len({r.json()["application_id"] for r in responses}) == 1
