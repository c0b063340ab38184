"""Application statuses exactly as in the public API (API.md)."""

from enum import StrEnum


class Status(StrEnum):
    SUBMITTED = "submitted"
    COLLECTING_DATA = "collecting_data"
    PRELIMINARY_REVIEW = "preliminary_review"
    SUPPLEMENT_REQUESTED = "supplement_requested"
    AWAITING_ORIGINALS = "awaiting_originals"
    VEHICLE_NATURE_CHANGE = "vehicle_nature_change"
    AWAITING_INSURANCE = "awaiting_insurance"
    FINAL_REVIEW = "final_review"
    DELIVERING = "delivering"
    COMPLETED = "completed"
    REJECTED = "rejected"
    WITHDRAWN = "withdrawn"
    EXPIRED = "expired"


TERMINAL = frozenset({Status.COMPLETED, Status.REJECTED, Status.WITHDRAWN, Status.EXPIRED})
OPEN = frozenset(Status) - TERMINAL


class Step(StrEnum):
    """Steps at which a transport clerk takes a decision."""

    PRELIMINARY_REVIEW = "preliminary_review"
    ORIGINALS_RECEIVED = "originals_received"
    FINAL_REVIEW = "final_review"


class Outcome(StrEnum):
    APPROVE = "approve"
    REJECT = "reject"
    REQUEST_SUPPLEMENT = "request_supplement"


# Which outcomes each step admits.
STEP_OUTCOMES: dict[Step, frozenset[Outcome]] = {
    Step.PRELIMINARY_REVIEW: frozenset(Outcome),
    Step.ORIGINALS_RECEIVED: frozenset({Outcome.APPROVE}),
    Step.FINAL_REVIEW: frozenset({Outcome.APPROVE, Outcome.REJECT}),
}


class Channel(StrEnum):
    ONLINE = "online"
    WINDOW = "window"


class DeliveryMethod(StrEnum):
    MAIL = "mail"
    PICKUP = "pickup"


class MaterialKind(StrEnum):
    REGISTRATION_CERTIFICATE = "registration_certificate"
    DRIVING_LICENSE = "driving_license"


USAGE_PRIVATE = "非营运"
USAGE_RIDE_HAILING = "预约出租客运"
