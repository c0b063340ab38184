"""What the console shows people: the Chinese for the API's codes."""

from __future__ import annotations

from typing import Final

from api.auth import Role
from domain import errors
from domain.documents import TITLES
from domain.statuses import (
    Actor,
    Channel,
    DeliveryMethod,
    IncidentAction,
    MaterialKind,
    Outcome,
    PendingAction,
    Status,
    Step,
    WarningLevel,
)

DOCUMENTS: Final[dict[str, str]] = TITLES  # the documents' own titles

STATUSES: Final[dict[str, str]] = {
    Status.SUBMITTED: "已提交",
    Status.COLLECTING_DATA: "共享数据核验中",
    Status.PRELIMINARY_REVIEW: "待初审",
    Status.SUPPLEMENT_REQUESTED: "待补正",
    Status.AWAITING_ORIGINALS: "待收原件",
    Status.VEHICLE_NATURE_CHANGE: "车管所变更使用性质中",
    Status.AWAITING_INSURANCE: "待投保（容缺）",
    Status.FINAL_REVIEW: "待审核发证",
    Status.DELIVERING: "寄递中",
    Status.COMPLETED: "已办结",
    Status.REJECTED: "不予受理/不予许可",
    Status.WITHDRAWN: "已撤回",
    Status.EXPIRED: "逾期终止",
}

# The pending action (`pending[].action`, the inbox's `step` filter).
ACTIONS: Final[dict[str, str]] = {
    PendingAction.COLLECT_SHARED_DATA: "共享数据核验",
    PendingAction.PRELIMINARY_REVIEW: "初审",
    PendingAction.SUBMIT_SUPPLEMENTS: "申请人补正材料",
    PendingAction.SHIP_ORIGINALS: "申请人寄送原件",
    PendingAction.ORIGINALS_RECEIVED: "确认收到原件",
    PendingAction.CHANGE_USAGE_NATURE: "车管所变更使用性质",
    PendingAction.BUY_CARRIER_LIABILITY_INSURANCE: "申请人投保承运人责任险",
    PendingAction.FINAL_REVIEW: "审核发证",
    PendingAction.DELIVER_DOCUMENTS: "寄递证件",
    PendingAction.RESOLVE_INCIDENT: "处理异常（部门拒绝办理）",
}

ACTORS: Final[dict[str, str]] = {
    Actor.SYSTEM: "系统",
    Actor.APPLICANT: "申请人",
    Actor.TRANSPORT_CLERK: "审批员",
    Actor.VEHICLE_ADMIN: "车管所",
    Actor.INSURANCE: "保险平台",
    Actor.COURIER: "快递",
    Actor.SUPERVISOR: "科室负责人",
}

ROLES: Final[dict[str, str]] = {Role.TRANSPORT_CLERK: "审批员", Role.SUPERVISOR: "科室负责人"}

CHANNELS: Final[dict[str, str]] = {Channel.ONLINE: "网上申请", Channel.WINDOW: "综合窗口"}
DELIVERY: Final[dict[str, str]] = {DeliveryMethod.MAIL: "快递寄送", DeliveryMethod.PICKUP: "窗口自取"}

MATERIALS: Final[dict[str, str]] = {
    MaterialKind.REGISTRATION_CERTIFICATE: "机动车登记证书",
    MaterialKind.DRIVING_LICENSE: "机动车行驶证",
}

WARNINGS: Final[dict[str, str]] = {
    WarningLevel.NONE: "正常",
    WarningLevel.YELLOW: "临近期限",
    WarningLevel.RED: "已超期",
}

EVENTS: Final[dict[str, str]] = {
    "submitted": "提交申请",
    "ownership_verified": "车管所核验车辆所有人",
    "shared_data_fetched": "共享数据获取（发票、购置税、检测报告等）",
    "eligible": "车辆条件符合本地政策",
    "supplement_requested": "一次性告知补正",
    "supplements_submitted": "申请人提交补正材料",
    "accepted": "初审通过，受理",
    "originals_shipped": "申请人寄出原件",
    "originals_received": "收到原件",
    "usage_nature_changed": "车管所变更使用性质为预约出租客运",
    "insurance_found": "查询到承运人责任险保单",
    "final_review_approved": "审核通过",
    "permit_issued": "核发运输证",
    "ready_for_pickup": "证件待窗口领取",
    "documents_shipped": "证件已寄出",
    "documents_delivered": "证件已签收",
    "completed": "办结",
    "rejected": "不予受理/不予许可",
    "withdrawn": "申请人撤回",
    "expired": "逾期未投保，申请终止",
    "compensation_failed": "回退失败，需人工处理",
    "usage_nature_reverted": "使用性质已恢复为非营运",
    "originals_ready_for_pickup": "原件待窗口领取",
    "originals_returned": "原件已退回",
    "decision_warning_yellow": "许可决定临近法定期限",
    "decision_warning_red": "许可决定已超法定期限",
    "insurance_reminder_sent": "已短信提醒投保",
    "deadlines_recomputed": "按节假日安排重新计算期限",
    "incident_opened": "部门拒绝办理，转科室负责人处理",
    "incident_resolved": "科室负责人处理异常",
    "sms_refused": "短信平台拒收，已记录",
}

# An incident: the department that refused, the step it refused, and how a supervisor resolves it.
DEPARTMENTS: Final[dict[str, str]] = {
    "vehicle_admin": "车管所",
    "tax": "税务",
    "inspection": "检测机构",
    "miit": "工信部公告",
    "insurance": "保险平台",
    "courier": "快递",
    "sms": "短信平台",
    "store": "本系统数据库",
}
INCIDENT_STEPS: Final[dict[str, str]] = {
    "verify_ownership": "核验车辆所有人",
    "request_usage_change": "申请变更使用性质",
    "get_usage_change": "查询使用性质变更进度",
    "fetch_invoice": "获取购车发票",
    "fetch_purchase_tax": "获取购置税完税信息",
    "fetch_inspection_report": "获取检测报告",
    "fetch_nev_range": "获取续航公告",
    "find_policy": "查询承运人责任险保单",
    "create_shipment": "下单寄递",
    "get_shipment": "查询寄递进度",
    "send_sms": "发送短信通知",
}
INCIDENT_ACTIONS: Final[dict[str, str]] = {
    IncidentAction.RETRY: "重试该环节",
    IncidentAction.SKIP: "跳过该通知",
    IncidentAction.CLOSE: "终止申请（全部回退）",
}

STEPS: Final[dict[str, str]] = {
    Step.PRELIMINARY_REVIEW: "初审",
    Step.ORIGINALS_RECEIVED: "原件签收",
    Step.FINAL_REVIEW: "审核发证",
}

# The button of each outcome at each step.
OUTCOMES: Final[dict[tuple[str, str], str]] = {
    (Step.PRELIMINARY_REVIEW, Outcome.APPROVE): "受理（初审通过）",
    (Step.PRELIMINARY_REVIEW, Outcome.REQUEST_SUPPLEMENT): "一次性告知补正",
    (Step.PRELIMINARY_REVIEW, Outcome.REJECT): "不予受理",
    (Step.ORIGINALS_RECEIVED, Outcome.APPROVE): "确认收到原件",
    (Step.FINAL_REVIEW, Outcome.APPROVE): "审核通过，核发运输证",
    (Step.FINAL_REVIEW, Outcome.REJECT): "不予许可",
}

# What the form fields are called, to name them in a message.
FIELDS: Final[dict[str, str]] = {
    "step": "环节",
    "outcome": "决定",
    "reason": "理由",
    "items": "补正材料清单",
    "plate": "车牌号",
    "status": "状态",
    "district": "区县",
    "page": "页码",
    "sub": "工号",
    "role": "角色",
    "id_token": "身份令牌",
    "action": "处理方式",
    "incident_id": "异常编号",
}

# Refusals of the service layer (the API's `error` codes), in Chinese.
REFUSALS: Final[dict[str, str]] = {
    errors.NOT_AWAITING_THIS_STEP: "该申请当前不在这一环节，可能已由他人处理。请查看最新状态。",
    errors.ALREADY_CLOSED: "该申请已办结或终止，不能再作决定。",
    errors.INVALID_OUTCOME: "这一环节不能作出该决定。",
    errors.INCIDENT_NOT_OPEN: "该异常已处理或已不存在，请查看申请的最新状态。",
    errors.RESOLUTION_NOT_POSSIBLE: "只有短信通知可以跳过；请选择重试或终止申请。",
    "still_processing": "决定已提交，系统仍在处理，请稍后刷新本页查看。",
    "temporal_unavailable": "审批流程服务暂时不可用，请稍后重试。",
    "not_found": "没有找到该申请，或它不属于您所在的区县。",
    "forbidden": "您的角色不能进行此操作。",
    "no_longer_held": "已结束申请的个人信息不再完整保存。",
}

RATINGS_FORBIDDEN: Final = "好差评统计仅供科室负责人查看：区县负责人查看本区县，全市统计仅供市级（330300）负责人查看。"

# A role refused by a page's `require(...)`, by the page (the route's name); REFUSALS["forbidden"] otherwise.
FORBIDDEN: Final[dict[str, str]] = {
    "take_decision": "只有审批员可以作出审批决定。",
    "read_supervision": "此页面仅供科室负责人查看。",
    "resolve_incident": "只有科室负责人可以处理异常。",
    "read_ratings": RATINGS_FORBIDDEN,
    "export_ratings": RATINGS_FORBIDDEN,
    "read_rating": "差评整改仅供科室负责人办理。",
    "take_follow_up_step": "差评整改仅供科室负责人办理。",
}
