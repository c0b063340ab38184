"""What the applicant reads: every template filled, documents masked."""

from __future__ import annotations

import string

import pytest

from domain.statuses import Status
from workflows import texts
from workflows.types import DeadlineAnswer


def test_every_template_names_only_fields_its_builder_fills() -> None:
    builders = {
        texts.Sms.SUPPLEMENT_REQUEST: texts.supplement_request(["行驶证"], ""),
        texts.Sms.ONE_TIME_NOTICE: texts.one_time_notice(DeadlineAnswer("2027-03-01", 15, "2027-03-22", False)),
        texts.Sms.INSURANCE_REMINDER: texts.insurance_reminder("2027-03-22", 5),
        texts.Sms.DEADLINE_UPDATE: texts.sms(texts.Sms.DEADLINE_UPDATE, due_on="2027-03-22"),
        texts.Sms.REJECTED: texts.closing(Status.REJECTED, "原因"),
    }
    for kind, template in texts.SMS_TEMPLATES.items():
        fields = {name for _, name, _, _ in string.Formatter().parse(template) if name}
        text = builders.get(kind) or texts.sms(kind, **dict.fromkeys(fields, "x"))
        assert "{" not in text and "}" not in text, kind


def test_the_one_time_notice_says_how_the_due_day_was_counted() -> None:
    known = texts.one_time_notice(DeadlineAnswer("2027-03-01", 15, "2027-03-22", False))
    provisional = texts.one_time_notice(DeadlineAnswer("2027-12-15", 15, "2028-01-06", True))
    assert "2027-03-22（工作日计算）24时前" in known
    assert "2028-01-06（暂定，以国务院公布的节假日安排为准）24时前" in provisional


def test_a_supplement_request_lists_the_items_or_else_the_reason() -> None:
    assert "机动车登记证书、机动车行驶证。" in texts.supplement_request(["机动车登记证书", "机动车行驶证"], "不清晰")
    assert "补正材料：扫描件不清晰。" in texts.supplement_request([], "扫描件不清晰")


@pytest.mark.parametrize(
    ("status", "words"),
    [(Status.REJECTED, "未通过：—"), (Status.EXPIRED, "已终止（—）"), (Status.WITHDRAWN, "已撤回（—）")],
)
def test_each_closing_has_its_text_and_a_dash_for_no_reason(status: Status, words: str) -> None:
    assert words in texts.closing(status, "")


def test_a_closing_with_a_permit_has_no_text() -> None:
    with pytest.raises(ValueError, match="completed"):
        texts.closing(Status.COMPLETED, "")


def test_documents_show_the_plate_and_owner_masked() -> None:
    permit = texts.permit({"number": "3303002026000001"}, "浙C12345", "张三")
    assert permit == {"number": "3303002026000001", "plate": "浙C1***5", "owner": "张*"}
    assert texts.vehicle_change_contact_form("浙C12345")["plate"] == "浙C1***5"
    assert texts.usage_nature_feedback_form("浙C12345", None)["driving_license_no"] == ""


def test_a_text_within_the_gateway_limit_is_one_part() -> None:
    assert texts.sms_parts(" 短信 ") == ["短信"]
    assert texts.sms_parts("字" * texts.SMS_MAX_CHARS) == ["字" * texts.SMS_MAX_CHARS]


def test_a_text_over_the_gateway_limit_is_split_into_numbered_parts_that_keep_every_character() -> None:
    text = texts.supplement_request([f"{n:02d}" + "补" * 98 for n in range(20)], "")
    parts = texts.sms_parts(text)
    assert len(text) > texts.SMS_MAX_CHARS
    assert len(parts) == 3
    assert all(len(part) <= texts.SMS_MAX_CHARS for part in parts)
    assert [part[:5] for part in parts] == ["(1/3)", "(2/3)", "(3/3)"]
    assert "".join(part[5:] for part in parts) == text
