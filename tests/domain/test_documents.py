"""Each kind of document rendered to PDF and read back; the font embedded; the verification code."""

from __future__ import annotations

import hashlib
import io
import re
import uuid
from datetime import UTC, datetime

import pytest
from fontTools.ttLib import TTFont
from pypdf import PdfReader

from domain.documents import (
    FONT_FILE,
    SANS_SC_FACE,
    TITLES,
    IssuedDocument,
    canonical_sha256,
    document_content,
    render_pdf,
)
from tests.support_pdf import compact, pdf_text

APPLICATION_ID = "6f1c2a0e-3b7d-4c55-9a1e-2d4b8f0c7e91"
ISSUED_AT = datetime(2026, 9, 25, 2, 30, tzinfo=UTC)
BASE = "https://permit.example.test"

# kind, its data as the workflow gives it, and (label, value) pairs the page must show.
CASES = [
    (
        "joint_handling_confirmation",
        {"accepted_on": "2026-09-25"},
        "网约车营运“一件事”联办确认单",
        [("受理日期", "2026-09-25"), ("联办事项", ""), ("核发《网络预约出租汽车运输证》", "")],
    ),
    (
        "insurance_one_time_notice",
        {
            "missing": "承运人责任险保单",
            "due_on": "2026-10-22",
            "provisional": False,
            "consequence": "逾期未投保的，申请终止，车辆使用性质恢复为非营运，原件退回。",
        },
        "容缺受理一次性告知书",
        [
            ("容缺材料", "承运人责任险保单"),
            ("补齐期限", "2026-10-22 24:00（北京时间）"),
            ("期限性质", "按法定工作日计算"),
            ("逾期处理", "逾期未投保的，申请终止，车辆使用性质恢复为非营运，原件退回。"),
        ],
    ),
    (
        "vehicle_change_contact_form",
        {"target_nature": "预约出租客运", "plate": "浙C1***5"},
        "车辆变更登记联系单",
        [("车牌号码", "浙C1***5"), ("变更后使用性质", "预约出租客运")],
    ),
    (
        "usage_nature_feedback_form",
        {"usage_nature": "预约出租客运", "driving_license_no": "330312345678", "plate": "浙C1***5"},
        "变更行驶证使用性质反馈单",
        [("车牌号码", "浙C1***5"), ("变更后使用性质", "预约出租客运"), ("行驶证编号", "330312345678")],
    ),
    (
        "permit",
        {
            "number": "3303002026000001",
            "issued_on": "2026-10-30",
            "valid_until": "2033-06-01",
            "plate": "浙C1***5",
            "owner": "李*",
        },
        "网络预约出租汽车运输证",
        [
            ("运输证号", "3303002026000001"),
            ("车牌号码", "浙C1***5"),
            ("车辆所有人", "李*"),
            ("发证日期", "2026-10-30"),
            ("有效期至", "2033-06-01"),
        ],
    ),
    (
        "termination_notice",
        {"status": "rejected", "reason": "车辆登记信息与申请不符"},
        "终止办理告知书",
        [("终止类别", "不予许可"), ("终止原因", "车辆登记信息与申请不符"), ("六十日内依法申请行政复议", "")],
    ),
    (
        "termination_notice",
        {"status": "expired", "reason": "期限届满仍未查到承运人责任险保单"},
        "终止办理告知书",
        [("终止类别", "逾期未补齐容缺材料，申请终止"), ("终止原因", "期限届满仍未查到承运人责任险保单")],
    ),
]


def issued(kind: str, data: dict, application_id: str = APPLICATION_ID) -> IssuedDocument:
    content = document_content(application_id, kind, data)
    return IssuedDocument(str(uuid.uuid4()), application_id, kind, content, canonical_sha256(content), ISSUED_AT)


def verify_url(document: IssuedDocument) -> str:
    return f"{BASE}/v1/documents/{document.document_id}/verify"


@pytest.mark.parametrize(("kind", "data", "title", "shown"), CASES, ids=[f"{c[0]}-{i}" for i, c in enumerate(CASES)])
def test_each_kind_reads_back_with_its_fields_ids_and_code(kind: str, data: dict, title: str, shown: list) -> None:
    document = issued(kind, data)
    text = pdf_text(render_pdf(document, verify_url(document)))
    assert compact(title) in text
    assert f"申请编号：{APPLICATION_ID}" in text
    assert f"文书编号：{document.document_id}" in text
    assert f"验证码：{document.verification_code}" in text
    assert f"{verify_url(document)}?code=" in text
    assert "出具日期：2026-09-25" in text  # 10:30 in Wenzhou
    for label, value in shown:
        assert compact(label + value) in text, (label, value)


def test_every_kind_is_covered() -> None:
    assert {case[0] for case in CASES} == set(TITLES)


def test_a_provisional_due_date_says_so() -> None:
    document = issued(
        "insurance_one_time_notice", {"missing": "承运人责任险保单", "due_on": "2027-01-20", "provisional": True}
    )
    text = pdf_text(render_pdf(document, verify_url(document)))
    assert compact("期限性质暂定：次年节假日安排尚未公布，公布后重新计算") in text


def test_a_field_without_a_label_is_still_shown() -> None:
    document = issued("permit", {"number": "3303002026000002", "seat_count": 5})
    assert "seat_count5" in pdf_text(render_pdf(document, verify_url(document)))


def test_the_font_is_embedded_as_a_subset() -> None:
    document = issued(*CASES[4][:2])
    pdf = render_pdf(document, verify_url(document))
    fonts = PdfReader(io.BytesIO(pdf)).pages[0]["/Resources"]["/Font"]
    assert fonts
    for ref in fonts.values():
        font = ref.get_object()
        descendant = font["/DescendantFonts"][0].get_object()
        descriptor = descendant["/FontDescriptor"].get_object()
        assert {"/FontFile", "/FontFile2", "/FontFile3"} & set(descriptor.keys()), descriptor
        assert re.fullmatch(r"/[A-Z]{6}\+NotoSansCJKSC", font["/BaseFont"])  # the tag before "+" marks a subset
        assert "/ToUnicode" in font
    assert len(pdf) < 100_000  # the whole face is 16 MB


def test_the_face_is_simplified_chinese() -> None:
    face = TTFont(FONT_FILE, fontNumber=SANS_SC_FACE, lazy=True)
    assert face["name"].getDebugName(1) == "Noto Sans CJK SC"


def test_the_verification_code_is_the_hash_of_kind_application_and_fields() -> None:
    fields = {"number": "3303002026000001", "owner": "李*"}
    document = issued("permit", fields)
    canonical = f'{{"application_id":"{APPLICATION_ID}","kind":"permit","number":"3303002026000001","owner":"李*"}}'
    assert document.verification_code == hashlib.sha256(canonical.encode("utf-8")).hexdigest()
    other_codes = {
        issued("permit", {**fields, "number": "3303002026000002"}).verification_code,
        issued("permit", fields, str(uuid.uuid4())).verification_code,
        issued("termination_notice", fields).verification_code,
    }
    assert document.verification_code not in other_codes


def test_only_the_documents_own_code_over_unchanged_content_is_authentic() -> None:
    document = issued("permit", {"number": "3303002026000001"})
    code = document.verification_code
    assert document.is_authentic(code)
    assert document.is_authentic(code.upper())
    tampered = code[:-1] + ("0" if code[-1] != "0" else "1")
    assert not document.is_authentic(tampered)
    altered = IssuedDocument(
        document.document_id,
        APPLICATION_ID,
        "permit",
        {**document.content, "number": "3303002026000009"},
        code,
        ISSUED_AT,
    )
    assert not altered.is_authentic(code)
