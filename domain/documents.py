"""The documents an application produces: their content, verification code and PDF.

A document's content is its kind, its application id and its fields. The verification
code printed on it is the SHA-256 of that content as canonical JSON, so whoever holds
the paper can have it checked (`GET /v1/documents/{id}/verify?code=...`).

The PDF embeds a subset of Noto Sans CJK SC, taken from the `noto-cjk-sans-otc`
package, so every reader shows the Chinese text without fonts of its own.
"""

from __future__ import annotations

import hashlib
import hmac
import json
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

import noto_cjk_sans_otc  # type: ignore[import-untyped]  # ships only the font and its path, no type information
from fpdf import FPDF
from fpdf.enums import Align, WrapMode, XPos, YPos
from fpdf.fonts import FontFace

from domain.calendar import cst_date

BOX_HEIGHT = 30
HEADER = "温州市网约车营运“一件事”联办"
FONT_FILE = Path(str(noto_cjk_sans_otc.FONT_PATH))
LABEL_CELL = FontFace(fill_color=(238, 241, 245))
# The face of the Noto Sans CJK collection that draws Simplified Chinese.
SANS_SC_FACE = 2

TITLES: dict[str, str] = {
    "joint_handling_confirmation": "网约车营运“一件事”联办确认单",
    "insurance_one_time_notice": "容缺受理一次性告知书",
    "vehicle_change_contact_form": "车辆变更登记联系单",
    "usage_nature_feedback_form": "变更行驶证使用性质反馈单",
    "permit": "网络预约出租汽车运输证",
    "termination_notice": "终止办理告知书",
}

LABELS: dict[str, str] = {
    "accepted_on": "受理日期",
    "missing": "容缺材料",
    "due_on": "补齐期限",
    "provisional": "期限性质",
    "consequence": "逾期处理",
    "plate": "车牌号码",
    "owner": "车辆所有人",
    "target_nature": "变更后使用性质",
    "usage_nature": "变更后使用性质",
    "driving_license_no": "行驶证编号",
    "number": "运输证号",
    "issued_on": "发证日期",
    "valid_until": "有效期至",
    "status": "终止类别",
    "reason": "终止原因",
}

# Fields in the order a clerk reads them; fields not named here follow in their own order.
FIELD_ORDER: dict[str, tuple[str, ...]] = {
    "insurance_one_time_notice": ("missing", "due_on", "provisional", "consequence"),
    "vehicle_change_contact_form": ("plate", "target_nature"),
    "usage_nature_feedback_form": ("plate", "usage_nature", "driving_license_no"),
    "permit": ("number", "plate", "owner", "issued_on", "valid_until"),
    "termination_notice": ("status", "reason"),
}

INTRODUCTIONS: dict[str, str] = {
    "joint_handling_confirmation": (
        "您提交的网约车营运“一件事”联办申请已经受理。以下事项由交通运输部门与公安机关交通管理部门"
        "联合办理，所需材料通过部门间共享获取，无需重复提交。"
    ),
    "insurance_one_time_notice": (
        "您的申请已按容缺受理方式受理。现将尚缺材料、补齐期限及逾期处理办法一次性告知如下。"
        "承运人责任险投保后无需提交保单，由交通运输部门向保险平台查询。"
    ),
    "vehicle_change_contact_form": (
        "交通运输部门致公安机关交通管理部门车辆管理所：请为下列车辆办理机动车使用性质变更登记。"
    ),
    "usage_nature_feedback_form": "公安机关交通管理部门车辆管理所反馈：下列车辆的机动车使用性质已变更登记。",
    "permit": "本证由温州市交通运输主管部门核发，限在温州市行政区域内从事网络预约出租汽车经营。",
    "termination_notice": "您提交的网约车营运“一件事”联办申请终止办理，具体如下。",
}

JOINT_ITEMS = ("变更机动车使用性质登记（公安机关交通管理部门）", "核发《网络预约出租汽车运输证》（交通运输主管部门）")

TERMINATION_KINDS = {"rejected": "不予许可", "expired": "逾期未补齐容缺材料，申请终止"}
TERMINATION_NOTES = {
    "rejected": "如对本决定不服，可自收到本告知书之日起六十日内依法申请行政复议，或者六个月内依法提起行政诉讼。",
    "expired": "车辆使用性质将恢复为非营运，已邮寄的原件将予退回。如需继续办理，可重新提交申请。",
}

FORMATTERS: dict[str, Callable[[Any], str]] = {
    "due_on": lambda value: f"{value} 24:00（北京时间）",
    "provisional": lambda value: "暂定：次年节假日安排尚未公布，公布后重新计算" if value else "按法定工作日计算",
    "status": lambda value: TERMINATION_KINDS.get(value, str(value)),
}


def canonical_sha256(data: Any) -> str:
    """SHA-256 of `data` as canonical JSON (sorted keys, no spaces, UTF-8)."""
    text = json.dumps(data, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def document_content(application_id: str, kind: str, data: dict[str, Any]) -> dict[str, Any]:
    """What a document says, and what its verification code is computed over."""
    return {**data, "application_id": application_id, "kind": kind}


@dataclass(frozen=True)
class IssuedDocument:
    document_id: str
    application_id: str
    kind: str
    content: dict[str, Any]
    verification_code: str
    issued_at: datetime

    def fields(self) -> list[tuple[str, str]]:
        """(label, shown value) of every field, in reading order."""
        data = {k: v for k, v in self.content.items() if k not in ("application_id", "kind")}
        order = FIELD_ORDER.get(self.kind, ())
        keys = [k for k in order if k in data] + [k for k in data if k not in order]
        return [(LABELS.get(key, key), _shown(key, data[key])) for key in keys]

    def is_authentic(self, code: str) -> bool:
        """The code is this document's, and the stored content still hashes to it."""
        return hmac.compare_digest(code.lower(), self.verification_code) and hmac.compare_digest(
            canonical_sha256(self.content), self.verification_code
        )


def _shown(key: str, value: Any) -> str:
    if key in FORMATTERS:
        return FORMATTERS[key](value)
    if isinstance(value, bool):
        return "是" if value else "否"
    return "" if value is None else str(value)


class _Sheet(FPDF):
    """An A4 form: a light header, ruled rows of label and value, the verification box at the foot."""

    def __init__(self) -> None:
        super().__init__(format="A4", unit="mm")
        self.set_margins(20, 18, 20)
        self.set_auto_page_break(auto=True, margin=BOX_HEIGHT + 22)
        self.add_font("sans", "", FONT_FILE, collection_font_number=SANS_SC_FACE)
        self.set_text_color(20, 20, 20)

    def paragraph(self, text: str, size: float = 11, height: float = 6.5) -> None:
        self.set_font("sans", size=size)
        self.multi_cell(0, height, text, wrapmode=WrapMode.CHAR, new_x=XPos.LMARGIN, new_y=YPos.NEXT)

    def rows(self, rows: list[tuple[str, str]]) -> None:
        self.set_font("sans", size=11)
        self.set_draw_color(90, 90, 90)
        with self.table(
            col_widths=(45, 125),
            first_row_as_headings=False,
            wrapmode=WrapMode.CHAR,
            line_height=8,
            padding=(1.5, 3),
            v_align="MIDDLE",
        ) as table:
            for label, value in rows:
                row = table.row()
                row.cell(label, style=LABEL_CELL)
                row.cell(value)


def render_pdf(document: IssuedDocument, verify_url: str) -> bytes:
    """The document as a one-page A4 PDF with its verification code and how to check it."""
    pdf = _Sheet()
    title = TITLES.get(document.kind, document.kind)
    pdf.set_title(title)
    pdf.set_creator(HEADER)
    pdf.add_page()

    pdf.set_font("sans", size=9)
    pdf.set_text_color(110, 110, 110)
    pdf.cell(0, 5, HEADER, new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    pdf.set_text_color(20, 20, 20)
    pdf.ln(4)
    pdf.set_font("sans", size=20)
    pdf.cell(0, 12, title, align=Align.C, new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    pdf.set_line_width(0.6)
    pdf.line(pdf.l_margin, pdf.get_y() + 2, pdf.w - pdf.r_margin, pdf.get_y() + 2)
    pdf.set_line_width(0.2)
    pdf.ln(6)

    pdf.set_font("sans", size=10.5)
    pdf.cell(110, 7, f"申请编号：{document.application_id}")
    pdf.cell(
        0,
        7,
        f"出具日期：{cst_date(document.issued_at).isoformat()}",
        align=Align.R,
        new_x=XPos.LMARGIN,
        new_y=YPos.NEXT,
    )
    pdf.ln(3)

    if document.kind in INTRODUCTIONS:
        pdf.paragraph(INTRODUCTIONS[document.kind])
        pdf.ln(3)
    if document.kind == "joint_handling_confirmation":
        pdf.paragraph("联办事项：")
        for number, item in enumerate(JOINT_ITEMS, start=1):
            pdf.paragraph(f"{number}. {item}")
        pdf.ln(3)
    fields = document.fields()
    if fields:
        pdf.rows(fields)
        pdf.ln(4)
    note = TERMINATION_NOTES.get(str(document.content.get("status"))) if document.kind == "termination_notice" else None
    if note:
        pdf.paragraph(note)

    _verification_box(pdf, document, verify_url)
    return bytes(pdf.output())


def _verification_box(pdf: FPDF, document: IssuedDocument, verify_url: str) -> None:
    pdf.set_auto_page_break(False)
    width = pdf.w - pdf.l_margin - pdf.r_margin
    top = pdf.h - BOX_HEIGHT - 18
    pdf.set_draw_color(90, 90, 90)
    pdf.rect(pdf.l_margin, top, width, BOX_HEIGHT)
    pdf.set_left_margin(pdf.l_margin + 4)
    pdf.set_xy(pdf.l_margin, top + 3)
    pdf.set_font("sans", size=9.5)
    pdf.cell(0, 6, f"文书编号：{document.document_id}", new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    pdf.cell(0, 6, f"验证码：{document.verification_code}", new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    pdf.set_font("sans", size=9)
    pdf.multi_cell(
        width - 8,
        5,
        f"核验方法：访问 {verify_url}?code=验证码 ，结果 valid 为 true 即本文书与系统记录一致。"
        "本文书由系统生成，真伪以验证码核验为准。",
        wrapmode=WrapMode.CHAR,
        new_x=XPos.LMARGIN,
        new_y=YPos.NEXT,
    )
