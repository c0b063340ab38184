"""Error types shared by adapters, activities, workflows and the API.

Temporal `ApplicationError.type` values and API `error` codes are these constants,
never string literals scattered around.
"""

# Retryable: the department is down, slow or answered 5xx.
DEPARTMENT_UNAVAILABLE = "DepartmentUnavailable"

# Non-retryable business refusals from departments.
EID_TOKEN_INVALID = "EidTokenInvalid"
VEHICLE_UNKNOWN = "VehicleUnknown"
OWNER_MISMATCH = "OwnerMismatch"
BLOCKING_FLAG = "BlockingFlag"
TAX_RECORD_NOT_FOUND = "TaxRecordNotFound"
INSPECTION_REPORT_NOT_FOUND = "InspectionReportNotFound"
MODEL_NOT_IN_CATALOGUE = "ModelNotInCatalogue"
DEPARTMENT_REJECTED_REQUEST = "DepartmentRejectedRequest"

# A department's refusals of an application (no retry), and what the applicant reads for each
# (view, SMS, termination notice).
REFUSAL_REASONS = {
    EID_TOKEN_INVALID: "电子身份凭证无效",
    VEHICLE_UNKNOWN: "公安车管所未查到该车辆的登记信息",
    OWNER_MISMATCH: "申请人不是该车辆的登记所有人",
    BLOCKING_FLAG: "车辆存在抵押、查封等不能变更使用性质的情形",
    TAX_RECORD_NOT_FOUND: "未查到该车辆的购置税完税记录",
    INSPECTION_REPORT_NOT_FOUND: "未查到该车辆的综合性能检测报告",
    MODEL_NOT_IN_CATALOGUE: "该车型不在工信部新能源汽车目录内",
    DEPARTMENT_REJECTED_REQUEST: "相关部门退回了申请",
}

BUSINESS_REFUSALS = frozenset(REFUSAL_REASONS)

# Workflow update refusals, surfaced by the API as 409 with the same code.
NOT_AWAITING_THIS_STEP = "not_awaiting_this_step"
ALREADY_CLOSED = "application_closed"
CANNOT_WITHDRAW = "cannot_withdraw"
# A decision whose outcome its step does not admit (the API answers 422).
INVALID_OUTCOME = "invalid_outcome"
# An incident resolution that does not fit (the API answers 409 with the same code).
INCIDENT_NOT_OPEN = "incident_not_open"
RESOLUTION_NOT_POSSIBLE = "resolution_not_possible"
