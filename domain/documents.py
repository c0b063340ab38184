"""The documents an application produces, and their PDF rendering."""

from __future__ import annotations

import io
from typing import Any

TITLES: dict[str, str] = {
    "joint_handling_confirmation": "网约车营运“一件事”联办确认单",
    "insurance_one_time_notice": "容缺受理一次性告知书",
    "vehicle_change_contact_form": "车辆变更登记联系单",
    "usage_nature_feedback_form": "变更行驶证使用性质反馈单",
    "permit": "网络预约出租汽车运输证",
    "termination_notice": "终止办理告知书",
}

LABELS: dict[str, str] = {
    "application_id": "申请编号",
    "accepted_on": "受理日期",
    "missing": "容缺材料",
    "due_on": "补齐期限",
    "provisional": "期限为暂定",
    "consequence": "逾期处理",
    "target_nature": "变更后使用性质",
    "usage_nature": "使用性质",
    "driving_license_no": "行驶证编号",
    "number": "运输证号",
    "issued_on": "发证日期",
    "valid_until": "有效期至",
    "status": "结果",
    "reason": "原因",
}


def render_pdf(kind: str, data: dict[str, Any], verification_code: str) -> bytes:
    """A one-page PDF of the document's fields with its verification code."""
    from reportlab.lib.pagesizes import A4
    from reportlab.pdfbase import pdfmetrics
    from reportlab.pdfbase.cidfonts import UnicodeCIDFont
    from reportlab.pdfgen import canvas

    font = "STSong-Light"
    if font not in pdfmetrics.getRegisteredFontNames():
        pdfmetrics.registerFont(UnicodeCIDFont(font))
    buffer = io.BytesIO()
    page = canvas.Canvas(buffer, pagesize=A4)
    width, height = A4
    page.setTitle(TITLES.get(kind, kind))
    page.setFont(font, 18)
    page.drawCentredString(width / 2, height - 72, TITLES.get(kind, kind))
    page.setFont(font, 11)
    y = height - 120
    for key, value in data.items():
        if key == "kind":
            continue
        shown = ("是" if value else "否") if isinstance(value, bool) else str(value)
        page.drawString(72, y, f"{LABELS.get(key, key)}：{shown}")
        y -= 20
    page.setFont(font, 8)
    page.drawString(72, 60, f"验证码 verification code: {verification_code}")
    page.showPage()
    page.save()
    return buffer.getvalue()
