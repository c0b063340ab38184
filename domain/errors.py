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

BUSINESS_REFUSALS = frozenset(
    {
        EID_TOKEN_INVALID,
        VEHICLE_UNKNOWN,
        OWNER_MISMATCH,
        BLOCKING_FLAG,
        TAX_RECORD_NOT_FOUND,
        INSPECTION_REPORT_NOT_FOUND,
        MODEL_NOT_IN_CATALOGUE,
        DEPARTMENT_REJECTED_REQUEST,
    }
)

# Workflow update refusals, surfaced by the API as 409 with the same code.
NOT_AWAITING_THIS_STEP = "not_awaiting_this_step"
ALREADY_CLOSED = "application_closed"
CANNOT_WITHDRAW = "cannot_withdraw"
