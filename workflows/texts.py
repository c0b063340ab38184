"""What the applicant reads: the SMS texts, the closing reasons, and the documents' payloads.

The Chinese texts are data (templates filled with `str.format`), kept apart from the process so
that a change of wording is made here and nowhere else. Documents are stored in clear, so the
plate and the owner's name they carry are masked here.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Any

from domain.masking import mask_name, mask_plate
from domain.statuses import USAGE_RIDE_HAILING, Status
from workflows.types import DeadlineAnswer


class Sms(StrEnum):
    SUPPLEMENT_REQUEST = "supplement_request"
    ONE_TIME_NOTICE = "one_time_notice"
    ORIGINALS_RECEIVED = "originals_received"
    INSURANCE_REMINDER = "insurance_reminder"
    DEADLINE_UPDATE = "deadline_update"
    PICKUP_READY = "pickup_ready"
    ORIGINALS_PICKUP = "originals_pickup"
    REJECTED = "rejected"
    EXPIRED = "expired"
    WITHDRAWN = "withdrawn"


SMS_TEMPLATES: dict[Sms, str] = {
    Sms.SUPPLEMENT_REQUEST: "您的网约车运输证联办申请需一次性补正材料：{items}。请登录浙里办提交。",
    Sms.ONE_TIME_NOTICE: "您的网约车运输证联办申请已受理。容缺材料：承运人责任险。"
    "请于{due_on}（{basis}）24时前投保，逾期申请终止并恢复车辆使用性质。",
    Sms.ORIGINALS_RECEIVED: "您邮寄的机动车登记证书、行驶证原件已收到，车辆使用性质变更已提交公安车管所。",
    Sms.INSURANCE_REMINDER: "提醒：您的网约车运输证联办申请须于{due_on} 24时前投保承运人责任险"
    "（还剩{working_days}个工作日），逾期申请终止。",
    Sms.DEADLINE_UPDATE: "您的网约车运输证联办申请投保期限已按国务院公布的节假日安排确定为{due_on} 24时前。",
    Sms.PICKUP_READY: "您的网约车运输证及新行驶证已办结，请携带身份证到综合窗口领取。",
    Sms.ORIGINALS_PICKUP: "您的机动车登记证书、行驶证原件请携带身份证到综合窗口领取。",
    Sms.REJECTED: "您的网约车运输证联办申请未通过：{reason}。",
    Sms.EXPIRED: "您的网约车运输证联办申请因逾期未投保承运人责任险已终止（{reason}），车辆使用性质将恢复为非营运。",
    Sms.WITHDRAWN: "您的网约车运输证联办申请已撤回（{reason}）。",
}

# How the due day of a deadline was counted, as the one-time notice says it.
BASIS_PROVISIONAL = "暂定，以国务院公布的节假日安排为准"
BASIS_WORKING_DAYS = "工作日计算"

# Reasons of closings the system decides (a clerk's and the applicant's reasons are their own).
REASON_USAGE_CHANGE_FAILED = "公安车管所未能变更车辆使用性质"
REASON_NO_POLICY = "期限届满仍未查到承运人责任险保单"
REASON_INCIDENT_CLOSED = "相关部门无法办理该申请"
FINDINGS_SEPARATOR = "；"

# What the courier carries.
CONTENTS_DOCUMENTS = "网约车运输证、机动车行驶证、机动车登记证书"
CONTENTS_ORIGINALS_RETURNED = "机动车登记证书、机动车行驶证（原件退回）"

# The one-time notice (一次性告知) of the missing material.
MISSING_POLICY = "承运人责任险保单"
CONSEQUENCE_NO_POLICY = "逾期未投保的，申请终止，车辆使用性质恢复为非营运，原件退回。"


# The SMS gateway takes at most this many characters a message (sandbox/common.py's LongText).
SMS_MAX_CHARS = 1000
SMS_PART_PREFIX = "({n}/{count})"


def sms_parts(text: str, limit: int = SMS_MAX_CHARS) -> list[str]:
    """A text the gateway can take: as it is, or in numbered parts each within `limit` (the full text
    stays in the view and the documents)."""
    text = text.strip()
    if len(text) <= limit:
        return [text]
    room = limit - len(SMS_PART_PREFIX.format(n=99, count=99))
    chunks = [text[i : i + room] for i in range(0, len(text), room)]
    return [SMS_PART_PREFIX.format(n=n, count=len(chunks)) + chunk for n, chunk in enumerate(chunks, start=1)]


def sms(kind: Sms, **fields: object) -> str:
    return SMS_TEMPLATES[kind].format(**fields)


def supplement_request(items: list[str], reason: str) -> str:
    return sms(Sms.SUPPLEMENT_REQUEST, items="、".join(items or [reason]))


def one_time_notice(insurance: DeadlineAnswer) -> str:
    basis = BASIS_PROVISIONAL if insurance.provisional else BASIS_WORKING_DAYS
    return sms(Sms.ONE_TIME_NOTICE, due_on=insurance.due_on, basis=basis)


def insurance_reminder(due_on: str, working_days: int) -> str:
    return sms(Sms.INSURANCE_REMINDER, due_on=due_on, working_days=working_days)


def closing(status: Status, reason: str) -> str:
    """The SMS of an application closed without a permit (rejected, expired or withdrawn)."""
    return sms(Sms(status.value), reason=reason or "—")


# ------------------------------------------------------------------ documents (kind → payload)


def vehicle_fields(plate: str, owner_name: str | None = None) -> dict[str, str]:
    """The plate (and the registered owner) as documents show them: masked, documents being stored in clear."""
    fields = {"plate": mask_plate(plate)}
    if owner_name is not None:
        fields["owner"] = mask_name(owner_name)
    return fields


def joint_handling_confirmation(accepted_on: str) -> dict[str, Any]:
    return {"accepted_on": accepted_on}


def insurance_one_time_notice(insurance: DeadlineAnswer) -> dict[str, Any]:
    return {
        "missing": MISSING_POLICY,
        "due_on": insurance.due_on,
        "provisional": insurance.provisional,
        "consequence": CONSEQUENCE_NO_POLICY,
    }


def vehicle_change_contact_form(plate: str) -> dict[str, Any]:
    return {"target_nature": USAGE_RIDE_HAILING, **vehicle_fields(plate)}


def usage_nature_feedback_form(plate: str, driving_license_no: str | None) -> dict[str, Any]:
    return {"usage_nature": USAGE_RIDE_HAILING, "driving_license_no": driving_license_no or "", **vehicle_fields(plate)}


def permit(permit: dict[str, str], plate: str, owner_name: str) -> dict[str, Any]:
    return {**permit, **vehicle_fields(plate, owner_name)}


def termination_notice(status: Status, reason: str) -> dict[str, Any]:
    return {"status": status.value, "reason": reason}


# ------------------------------------------------------------------ the permit after issue (to its holder)

PERMIT_EXPIRY_REMINDER = (
    "提醒：您的网约车运输证（{number}）将于{valid_until}到期（还剩{days}天），到期后车辆不得从事网约车经营。"
)
PERMIT_REVIEW_DUE = "提醒：您的网约车运输证（{number}）年度审验须于{due_on}前完成，逾期未审验的运输证失效。"


def permit_expiry_reminder(number: str, valid_until: str, days: int) -> str:
    return PERMIT_EXPIRY_REMINDER.format(number=number, valid_until=valid_until, days=days)


def permit_review_due(number: str, due_on: str) -> str:
    return PERMIT_REVIEW_DUE.format(number=number, due_on=due_on)
