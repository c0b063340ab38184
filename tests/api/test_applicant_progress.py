"""The applicant's app, following and acting on an application over HTTP (fake store and
Temporal): the steps with the current one marked, whom it waits for, the insurance due date with
the working days left, refusals' reasons; each act's form with its inline errors (nothing sent to
the workflow then), and the update each good form sends."""

from __future__ import annotations

import re
import uuid
from datetime import UTC, datetime, timedelta

import pytest

from tests.support_applicant import PNG, FakeStore, FakeTemporal, add_application, client_for, csrf_of, field_errors
from tests.support_views import view_of


@pytest.fixture
def store() -> FakeStore:
    return FakeStore()


@pytest.fixture
def temporal() -> FakeTemporal:
    return FakeTemporal()


def awaiting_insurance(provisional: bool = False) -> dict:
    due = (datetime.now(UTC) + timedelta(days=21)).date()
    return view_of(
        str(uuid.uuid4()),
        status="awaiting_insurance",
        accepted_on=datetime.now(UTC).date().isoformat(),
        pending=[{"action": "buy_carrier_liability_insurance", "actor": "applicant"}],
        deadlines={
            "insurance": {"due_on": due.isoformat(), "working_days": 15, "provisional": provisional, "reminders_on": []}
        },
        timeline=[
            {"at": "2026-09-24T01:02:03+00:00", "event": "submitted", "actor": "applicant"},
            {"at": "2026-09-25T01:02:03+00:00", "event": "accepted", "actor": "transport_clerk"},
            {"at": "2026-09-25T02:02:03+00:00", "event": "originals_received", "actor": "transport_clerk"},
            {"at": "2026-09-26T02:02:03+00:00", "event": "usage_nature_changed", "actor": "vehicle_admin"},
        ],
    )


def steps_shown(html: str) -> list[tuple[str, str]]:
    return re.findall(
        r'<li class="step step-(\w+)"[^>]*>\s*<span class="dot"[^>]*>[^<]*</span>\s*<span>([^<]+)</span>', html
    )


@pytest.mark.parametrize("provisional", [False, True])
async def test_the_progress_view_shows_the_step_who_it_waits_for_and_the_insurance_due_date(
    store: FakeStore, provisional: bool
) -> None:
    view = awaiting_insurance(provisional)
    application_id = add_application(store, view)
    async with client_for(store) as http:
        page = await http.get(f"/app/applications/{application_id}")
    assert page.status_code == 200
    assert [state for state, _ in steps_shown(page.text)] == ["done", "done", "done", "current", "todo", "todo"]
    assert [name for _, name in steps_shown(page.text)] == ["初审", "原件", "车辆性质变更", "参保", "审核发证", "送达"]
    assert re.search(
        r'class="step step-current" aria-current="step">\s*<span class="dot"[^>]*>4</span>\s*<span>参保', page.text
    )
    assert "待投保（容缺）" in page.text and '申请人投保承运人责任险<span class="muted">（您）' in page.text
    due = view["deadlines"]["insurance"]["due_on"]
    assert f'<time id="insurance-due" datetime="{due}">{due}</time>' in page.text
    left = re.search(r'<span id="days-left">还剩 (\d+) 个工作日</span>', page.text)
    assert left and 10 <= int(left.group(1)) <= 15
    assert ('<span class="tag">暂定</span>' in page.text) is provisional
    assert "我已参保" in page.text and "车管所变更使用性质为预约出租客运" in page.text


async def test_a_refusal_shows_its_reason_in_chinese_and_no_current_step(store: FakeStore) -> None:
    view = view_of(
        str(uuid.uuid4()),
        status="rejected",
        pending=[],
        findings=[{"rule": "vehicle_age", "message": "车辆注册登记已超过 8 年"}],
        timeline=[
            {"at": "2026-09-24T01:02:03+00:00", "event": "submitted", "actor": "applicant"},
            {
                "at": "2026-09-25T01:02:03+00:00",
                "event": "rejected",
                "actor": "transport_clerk",
                "reason": "车辆不符合本市车型要求",
            },
        ],
    )
    application_id = add_application(store, view)
    async with client_for(store) as http:
        page = await http.get(f"/app/applications/{application_id}")
    assert "不予受理/不予许可：</strong>车辆不符合本市车型要求" in page.text
    assert "车辆条件不符：</strong>车辆注册登记已超过 8 年" in page.text
    assert 'aria-current="step"' not in page.text and "撤回申请" not in page.text


async def test_another_applicants_application_is_not_found(store: FakeStore) -> None:
    application_id = add_application(store, awaiting_insurance(), applicant_sub="eid-someone-else")
    async with client_for(store) as http:
        page = await http.get(f"/app/applications/{application_id}")
    assert page.status_code == 404 and "没有找到" in page.text


async def test_the_home_page_lists_the_applicants_applications(store: FakeStore) -> None:
    mine = add_application(store, awaiting_insurance())
    add_application(store, awaiting_insurance(), applicant_sub="eid-someone-else")
    async with client_for(store) as http:
        page = await http.get("/app")
    assert re.findall(r'href="/app/applications/([0-9a-f-]{36})"', page.text) == [mine]


async def test_i_have_insured_asks_for_the_insurance_check(store: FakeStore, temporal: FakeTemporal) -> None:
    application_id = add_application(store, awaiting_insurance())
    temporal.answer = view_of(
        application_id, status="final_review", pending=[{"action": "final_review", "actor": "transport_clerk"}]
    )
    async with client_for(store, temporal=temporal) as http:
        page = await http.get(f"/app/applications/{application_id}")
        answer = await http.post(
            f"/app/applications/{application_id}/insurance-check", data={"csrf_token": csrf_of(page.text)}
        )
    assert answer.status_code == 200 and "已向保险平台查询保单" in answer.text and "待审核发证" in answer.text
    assert [name for name, _ in temporal.updates] == ["check_insurance"]
    assert [e["action"] for e in store.audited] == ["application.insurance_check"]


def supplement_requested() -> dict:
    return view_of(
        str(uuid.uuid4()),
        status="supplement_requested",
        pending=[
            {"action": "submit_supplements", "actor": "applicant", "items": ["行驶证副页（清晰）", "登记证书第 2 页"]}
        ],
        timeline=[
            {"at": "2026-09-24T01:02:03+00:00", "event": "submitted", "actor": "applicant"},
            {
                "at": "2026-09-25T01:02:03+00:00",
                "event": "supplement_requested",
                "actor": "transport_clerk",
                "reason": "扫描件不清晰",
                "items": ["行驶证副页（清晰）", "登记证书第 2 页"],
            },
        ],
    )


async def test_supplements_list_what_was_asked_and_a_bad_form_sends_nothing(
    store: FakeStore, temporal: FakeTemporal
) -> None:
    application_id = add_application(store, supplement_requested())
    url = f"/app/applications/{application_id}/supplements"
    async with client_for(store, temporal=temporal) as http:
        page = await http.get(f"/app/applications/{application_id}")
        token = csrf_of(page.text)
        nothing = await http.post(url, data={"csrf_token": token})
        gif = await http.post(
            url, data={"csrf_token": token}, files={"driving_license": ("a.gif", b"GIF89a...", "image/gif")}
        )
    assert re.findall(r"<li>([^<]+)</li>", page.text.split('id="requested"')[1].split("</ul>")[0]) == [
        "行驶证副页（清晰）",
        "登记证书第 2 页",
    ]
    assert "一次性告知补正：</strong>扫描件不清晰" in page.text
    assert nothing.status_code == 422 and "请至少上传" in field_errors(nothing.text)["supplements"]
    assert gif.status_code == 422 and "只接受" in field_errors(gif.text)["driving_license"]
    assert store.saved_materials == [] and temporal.updates == []


async def test_good_supplements_are_uploaded_and_handed_in(store: FakeStore, temporal: FakeTemporal) -> None:
    application_id = add_application(store, supplement_requested())
    temporal.answer = view_of(application_id, status="preliminary_review")
    async with client_for(store, temporal=temporal) as http:
        page = await http.get(f"/app/applications/{application_id}")
        answer = await http.post(
            f"/app/applications/{application_id}/supplements",
            data={"csrf_token": csrf_of(page.text), "note": "已重新扫描"},
            files={"driving_license": ("licence.png", PNG, "image/png")},
        )
    assert answer.status_code == 200 and "补正材料已提交" in answer.text
    [(name, supplements)] = temporal.updates
    assert name == "submit_supplements" and supplements.note == "已重新扫描"
    assert supplements.materials == {"driving_license": store.saved_materials[0].material_id}


async def test_the_tracking_number_of_the_originals(store: FakeStore, temporal: FakeTemporal) -> None:
    view = view_of(
        str(uuid.uuid4()), status="awaiting_originals", pending=[{"action": "ship_originals", "actor": "applicant"}]
    )
    application_id = add_application(store, view)
    temporal.answer = view
    url = f"/app/applications/{application_id}/originals-shipment"
    async with client_for(store, temporal=temporal) as http:
        token = csrf_of((await http.get(f"/app/applications/{application_id}")).text)
        bad = await http.post(url, data={"csrf_token": token, "tracking_number": "SF 12#"})
        assert bad.status_code == 422 and "运单号" in field_errors(bad.text)["tracking_number"]
        assert temporal.updates == []
        good = await http.post(url, data={"csrf_token": token, "tracking_number": "SF1234567890"})
    assert good.status_code == 200 and "运单号已登记" in good.text
    assert [(name, arg.tracking_number) for name, arg in temporal.updates] == [
        ("report_originals_shipment", "SF1234567890")
    ]


async def test_withdrawing_is_confirmed_with_what_will_be_reversed(store: FakeStore, temporal: FakeTemporal) -> None:
    view = awaiting_insurance()
    application_id = add_application(store, view)
    temporal.answer = {**view, "status": "withdrawn", "pending": []}
    async with client_for(store, temporal=temporal) as http:
        progress = await http.get(f"/app/applications/{application_id}")
        assert f'href="/app/applications/{application_id}/withdraw"' in progress.text
        confirm = await http.get(f"/app/applications/{application_id}/withdraw")
        too_long = await http.post(
            f"/app/applications/{application_id}/withdraw",
            data={"csrf_token": csrf_of(confirm.text), "reason": "长" * 501},
        )
        assert too_long.status_code == 422 and temporal.updates == []
        done = await http.post(
            f"/app/applications/{application_id}/withdraw",
            data={"csrf_token": csrf_of(confirm.text), "reason": "不跑了"},
        )
    reversals = confirm.text.split('id="reversals"')[1].split("</ul>")[0]
    assert "恢复为“非营运”" in reversals and "原件将退回" in reversals
    assert done.status_code == 200 and "申请已撤回" in done.text and "已撤回" in done.text
    assert [(name, arg.reason) for name, arg in temporal.updates] == [("withdraw", "不跑了")]


async def test_once_the_permit_is_issued_there_is_no_withdrawing(store: FakeStore) -> None:
    application_id = add_application(store, view_of(str(uuid.uuid4()), status="delivering", pending=[]))
    async with client_for(store) as http:
        progress = await http.get(f"/app/applications/{application_id}")
        confirm = await http.get(f"/app/applications/{application_id}/withdraw")
    assert "撤回申请" not in progress.text
    assert confirm.status_code == 409 and "不能再撤回" in confirm.text


async def test_a_departments_refusal_is_told_in_chinese(store: FakeStore) -> None:
    incident = {
        "incident_id": str(uuid.uuid4()),
        "step": "request_usage_change",
        "department": "vehicle_admin",
        "answer": "department_rejected_request: 422",
        "opened_at": "2026-09-26T02:00:00+00:00",
    }
    view = view_of(
        str(uuid.uuid4()),
        status="vehicle_nature_change",
        pending=[{"action": "resolve_incident", "actor": "supervisor"}],
        incident=incident,
    )
    application_id = add_application(store, view)
    async with client_for(store) as http:
        page = await http.get(f"/app/applications/{application_id}")
    told = page.text.split('id="incident">')[1].split("</p>")[0]
    assert told.startswith("车管所未能办理“申请变更使用性质”，已转科室负责人处理")
    assert '处理异常（部门拒绝办理）<span class="muted">（科室负责人）' in page.text
    assert "department_rejected_request" not in page.text
