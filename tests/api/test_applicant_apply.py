"""The applicant's app, its apply form over HTTP (fake store, no stack): each bad field is told
next to it and nothing is kept; a good form uploads both scans and submits once; a pickup asks
for no postal address; submitting the same form again makes no second application."""

from __future__ import annotations

import re
from typing import Any

import pytest

from api.auth import issue_token
from tests.support_applicant import (
    APPLICANT,
    PDF,
    PNG,
    SETTINGS,
    FakeStore,
    a_vehicle,
    client_for,
    csrf_of,
    field_errors,
)


@pytest.fixture
def store() -> FakeStore:
    return FakeStore()


async def form_page(http) -> tuple[str, str]:
    """The blank form: its CSRF token and its own Idempotency-Key."""
    page = await http.get("/app/apply")
    assert page.status_code == 200, page.text
    key = re.search(r'name="idempotency_key" value="([0-9a-f-]{36})"', page.text)
    assert key
    return csrf_of(page.text), key.group(1)


def good_form(vehicle: dict[str, Any], **changes: str) -> dict[str, str]:
    return {
        "plate": vehicle["plate"],
        "vin": vehicle["vin"],
        "district": "330382",
        "channel": "online",
        "delivery_method": "mail",
        "recipient": "张三",
        "phone": "13800138000",
        "address": "乐清市城南街道 1 号",
        "insurance_commitment": "yes",
        **changes,
    }


SCANS = {
    "registration_certificate": ("certificate.png", PNG, "image/png"),
    "driving_license": ("licence.pdf", PDF, "application/pdf"),
}


async def test_the_form_shows_the_notice_with_the_deadline_as_a_date(store: FakeStore) -> None:
    async with client_for(store) as http:
        page = await http.get("/app/apply")
    assert "一次性告知" in page.text and "承运人责任险保单" in page.text
    due = re.search(r'<time id="insurance-due" datetime="(\d{4}-\d{2}-\d{2})">(\d{4}) 年', page.text)
    assert due, "the deadline is shown as a date"
    assert "逾期未投保，申请终止" in page.text
    assert (
        page.headers["cache-control"] == "no-store"
        and "frame-ancestors 'none'" in page.headers["content-security-policy"]
    )


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("plate", "京A12345", "温州号牌"),
        ("vin", "LSVAU2180N2183290", "17 位车辆识别代号"),
        ("district", "", "请选择所属区县"),
        ("channel", "mobile", "请选择办理渠道"),
        ("delivery_method", "drone", "请选择送达方式"),
        ("phone", "1234", "手机号码"),
        ("address", "", "收件地址"),
        ("recipient", "", "收件人"),
        ("insurance_commitment", "", "勾选承诺"),
    ],
)
async def test_a_bad_field_is_told_next_to_it_and_nothing_is_kept(
    store: FakeStore, field: str, value: str, message: str
) -> None:
    vehicle = a_vehicle()
    async with client_for(store) as http:
        token, key = await form_page(http)
        data = {**good_form(vehicle, **{field: value}), "csrf_token": token, "idempotency_key": key}
        answer = await http.post("/app/apply", data=data, files=SCANS)
    assert answer.status_code == 422
    errors = field_errors(answer.text)
    assert list(errors) == [field] and message in errors[field], errors
    assert f'name="idempotency_key" value="{key}"' in answer.text  # the same form, as entered
    assert store.saved_materials == [] and store.reserved == [] and store.audited == []


@pytest.mark.parametrize(
    ("upload", "message"),
    [
        (None, "请上传机动车登记证书"),
        (("scan.gif", b"GIF89a....", "image/gif"), "只接受 PDF、JPEG 或 PNG"),
        (("scan.png", b"", "image/png"), "文件是空的"),
    ],
)
async def test_a_bad_scan_is_told_next_to_it_and_nothing_is_kept(store: FakeStore, upload, message: str) -> None:
    files = dict(SCANS)
    if upload is None:
        del files["registration_certificate"]
    else:
        files["registration_certificate"] = upload
    async with client_for(store) as http:
        token, key = await form_page(http)
        data = {**good_form(a_vehicle()), "csrf_token": token, "idempotency_key": key}
        answer = await http.post("/app/apply", data=data, files=files)
    assert answer.status_code == 422
    errors = field_errors(answer.text)
    assert list(errors) == ["registration_certificate"] and message in errors["registration_certificate"], errors
    assert store.saved_materials == [] and store.reserved == []


async def test_a_scan_over_the_limit_is_told_and_not_kept(store: FakeStore) -> None:
    files = {**SCANS, "driving_license": ("big.pdf", PDF + b"0" * 2048, "application/pdf")}
    async with client_for(store, max_upload_bytes=1024) as http:
        token, key = await form_page(http)
        data = {**good_form(a_vehicle()), "csrf_token": token, "idempotency_key": key}
        answer = await http.post("/app/apply", data=data, files=files)
    assert answer.status_code == 422
    assert "不能超过" in field_errors(answer.text)["driving_license"]
    assert store.saved_materials == [] and store.reserved == []


async def test_a_form_without_its_csrf_token_is_refused(store: FakeStore) -> None:
    async with client_for(store) as http:
        await form_page(http)
        answer = await http.post("/app/apply", data=good_form(a_vehicle()), files=SCANS)
    assert answer.status_code == 403 and "CSRF" in answer.text
    assert store.saved_materials == [] and store.reserved == []


async def test_a_good_form_uploads_both_scans_and_submits_once(store: FakeStore) -> None:
    vehicle = a_vehicle()
    async with client_for(store) as http:
        token, key = await form_page(http)
        data = {**good_form(vehicle), "csrf_token": token, "idempotency_key": key}
        answer = await http.post("/app/apply", data=data, files=SCANS)
        assert answer.status_code == 303, answer.text
        application_id = store.reserved[0]["application_id"]
        assert answer.headers["location"] == f"/app/applications/{application_id}"
        again = await http.post("/app/apply", data=data, files=SCANS)  # the same form, submitted again
    assert again.status_code == 303 and again.headers["location"] == answer.headers["location"]
    assert len(store.reserved) == 1 and len(store.saved_materials) == 2
    reserved = store.reserved[0]
    assert reserved["idempotency_key"] == key
    assert sorted(m.kind for m in store.saved_materials) == ["driving_license", "registration_certificate"]
    delivery = reserved["start_input"]["delivery"]
    assert delivery == {"method": "mail", "recipient": "张三", "phone": "13800138000", "address": "乐清市城南街道 1 号"}
    assert [e["action"] for e in store.audited] == ["application.submit"]


async def test_a_pickup_asks_for_no_address(store: FakeStore) -> None:
    pickup = good_form(a_vehicle(), delivery_method="pickup", recipient="", phone="", address="")
    async with client_for(store) as http:
        token, key = await form_page(http)
        answer = await http.post(
            "/app/apply", data={**pickup, "csrf_token": token, "idempotency_key": key}, files=SCANS
        )
    assert answer.status_code == 303, field_errors(answer.text)
    assert store.reserved[0]["start_input"]["delivery"] == {
        "method": "pickup",
        "recipient": "",
        "phone": "",
        "address": "",
    }


async def test_fields_are_checked_as_typed_by_the_apis_validators(store: FakeStore) -> None:
    vehicle = a_vehicle()
    async with client_for(store) as http:
        good = await http.get("/app/check/vin", params={"value": vehicle["vin"]})
        vin = vehicle["vin"]
        wrong_check_digit = vin[:8] + ("1" if vin[8] == "0" else "0") + vin[9:]
        bad = await http.get("/app/check/vin", params={"value": wrong_check_digit})
        plate = await http.get("/app/check/plate", params={"value": "浙A12345"})
    assert good.json() == {"problem": ""}
    assert "校验位" in bad.json()["problem"] and "温州号牌" in plate.json()["problem"]


async def test_signed_out_the_form_leads_to_the_sign_in(store: FakeStore) -> None:
    async with client_for(store, signed_in=False) as http:
        answer = await http.get("/app/apply")
    assert answer.status_code == 303 and answer.headers["location"] == "/app/sign-in?next=%2Fapp%2Fapply"


async def test_the_json_api_asks_no_address_for_a_pickup_either(store: FakeStore) -> None:
    async with client_for(store) as http:
        bearer = {"Authorization": f"Bearer {issue_token(SETTINGS, APPLICANT)}"}
        ids = {}
        for kind, (name, content, content_type) in SCANS.items():
            uploaded = await http.post(
                "/v1/materials", headers=bearer, data={"kind": kind}, files={"file": (name, content, content_type)}
            )
            ids[kind] = uploaded.json()["material_id"]
        vehicle = a_vehicle()
        body = {
            "vehicle": {"plate": vehicle["plate"], "vin": vehicle["vin"]},
            "district": "330382",
            "channel": "window",
            "delivery": {"method": "pickup"},
            "materials": ids,
            "insurance_commitment": True,
        }
        created = await http.post("/v1/applications", headers=bearer, json=body)
        mail = await http.post("/v1/applications", headers=bearer, json={**body, "delivery": {"method": "mail"}})
    assert created.status_code == 201, created.text
    assert mail.status_code == 422  # a mailed delivery still needs its address


async def test_two_scans_each_within_the_limit_fit_in_one_form(store: FakeStore) -> None:
    limit = 100_000  # each scan may be this large; the two together pass the API's body limit of one
    files = {
        "registration_certificate": ("certificate.png", PNG + b"\x00" * 90_000, "image/png"),
        "driving_license": ("licence.pdf", PDF + b"0" * 90_000, "application/pdf"),
    }
    async with client_for(store, max_upload_bytes=limit) as http:
        token, key = await form_page(http)
        data = {**good_form(a_vehicle()), "csrf_token": token, "idempotency_key": key}
        answer = await http.post("/app/apply", data=data, files=files)
    assert answer.status_code == 303, answer.text
    assert len(store.saved_materials) == 2 and len(store.reserved) == 1
