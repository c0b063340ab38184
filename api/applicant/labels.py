"""What the applicant's app says: the console's Chinese for the API's codes, and the applicant's own."""

from __future__ import annotations

from typing import Final

from api.console.labels import (
    ACTIONS,
    ACTORS,
    CHANNELS,
    DELIVERY,
    DEPARTMENTS,
    DOCUMENTS,
    EVENTS,
    INCIDENT_STEPS,
    MATERIALS,
    STATUSES,
)
from domain import errors, rating
from domain.statuses import Status

__all__ = [
    "ACTIONS",
    "ACTORS",
    "CHANNELS",
    "DELIVERY",
    "DEPARTMENTS",
    "DOCUMENTS",
    "EVENTS",
    "INCIDENT_STEPS",
    "MATERIALS",
    "PROBLEMS",
    "REFUSALS",
    "STATUSES",
    "STEPS",
]

# The steps of the "one thing" as the applicant follows them, and the statuses in each.
STEPS: Final[list[tuple[str, frozenset[str]]]] = [
    (
        "初审",
        frozenset({Status.SUBMITTED, Status.COLLECTING_DATA, Status.PRELIMINARY_REVIEW, Status.SUPPLEMENT_REQUESTED}),
    ),
    ("原件", frozenset({Status.AWAITING_ORIGINALS})),
    ("车辆性质变更", frozenset({Status.VEHICLE_NATURE_CHANGE})),
    ("参保", frozenset({Status.AWAITING_INSURANCE})),
    ("审核发证", frozenset({Status.FINAL_REVIEW})),
    ("送达", frozenset({Status.DELIVERING})),
]

# What a field of a form must be, said next to it when it is not.
PROBLEMS: Final[dict[str, str]] = {
    "name": "请填写身份证上的姓名",
    "id_number": "请填写 18 位居民身份证号码（末位校验码须正确）",
    "phone": "请填写 11 位手机号码，如 13900139000",
    "plate": "请填写温州号牌，如 浙C12345 或新能源号牌 浙CD12345",
    "vin": "请填写 17 位车辆识别代号（不含 I、O、Q，第 9 位校验位须正确）",
    "district": "请选择所属区县",
    "channel": "请选择办理渠道",
    "delivery_method": "请选择送达方式",
    "recipient": "邮寄送达须填写收件人姓名",
    "address": "邮寄送达须填写收件地址（5–200 个字）",
    "insurance_commitment": "请阅读一次性告知并勾选承诺，方可提交",
    "registration_certificate": "请上传机动车登记证书扫描件",
    "driving_license": "请上传机动车行驶证扫描件",
    "tracking_number": "请填写快递运单号（4–40 位字母、数字或连字符）",
    "supplements": "请至少上传一份补正材料",
    "reason": "撤回理由最多 500 字",
    "level": "请选择满意程度",
    "indicators": "每项评价指标请选择 1–5 分",
    "reasons": "选择“不满意”或“非常不满意”时，请至少选择一个原因或填写具体意见",
    "rating_text": "具体意见最多 500 字，不含控制字符",
    "addendum_level": "请选择追评的满意程度",
    "addendum_text": "追评内容最多 500 字，不含控制字符",
}
FILE_TOO_LARGE = "文件不能超过 {limit} MB"
FILE_TYPE = "只接受 PDF、JPEG 或 PNG 格式的扫描件"
FILE_EMPTY = "文件是空的，请重新选择"

# Refusals of the service layer (the API's `error` codes), as the applicant reads them.
REFUSALS: Final[dict[str, str]] = {
    errors.NOT_AWAITING_THIS_STEP: "申请当前不在这一环节，请查看最新进度。",
    errors.ALREADY_CLOSED: "申请已办结或终止。",
    errors.CANNOT_WITHDRAW: "运输证已核发，申请不能再撤回。",
    "application_in_progress": "这辆车已有一件正在办理的申请。",
    "idempotency_key_reused": "这份表单已提交过，请查看您的申请。",
    "identity_not_verified": "请先用温警在线登录。",
    "eid_token_invalid": "二维码无效、已过期或已使用，请重新扫码。",
    "eid_unavailable": "温警在线暂时不可用，请稍后重试。",
    "rate_limited": "操作过于频繁，请稍后再试。",
    "too_large": "文件过大。",
    "unsupported_media_type": FILE_TYPE,
    "still_processing": "已提交，系统仍在处理，请稍后刷新本页查看。",
    "temporal_unavailable": "审批流程服务暂时不可用，请稍后重试。",
    "not_found": "没有找到该申请或文书。",
    "forbidden": "您不能进行此操作。",
    "no_longer_held": "已结束申请的个人信息不再完整保存。",
    rating.NOT_ENDED: "申请办结后方可评价。",
    rating.ALREADY_RATED: "该申请已评价，不能重复评价。",
    rating.NOT_RATED: "该申请尚未评价。",
    rating.NOT_A_BAD_RATING: "只有差评（不满意、非常不满意）答复后可以追评。",
    rating.NOT_ANSWERED: "差评尚未答复，答复后方可追评。",
    rating.ADDENDUM_EXISTS: "已追评，不能再次追评。",
}
