"""The names the process speaks in, defined once: statuses, steps, pending actions and the
states of the departments' jobs, exactly as the public API (API.md) spells them."""

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


class PendingAction(StrEnum):
    """What an open application waits for (the view's `pending[].action`)."""

    COLLECT_SHARED_DATA = "collect_shared_data"
    PRELIMINARY_REVIEW = "preliminary_review"
    SUBMIT_SUPPLEMENTS = "submit_supplements"
    SHIP_ORIGINALS = "ship_originals"
    ORIGINALS_RECEIVED = "originals_received"
    CHANGE_USAGE_NATURE = "change_usage_nature"
    BUY_CARRIER_LIABILITY_INSURANCE = "buy_carrier_liability_insurance"
    FINAL_REVIEW = "final_review"
    DELIVER_DOCUMENTS = "deliver_documents"
    RESOLVE_INCIDENT = "resolve_incident"


class Actor(StrEnum):
    """Who acts: in the timeline, and as the one an application waits for."""

    APPLICANT = "applicant"
    TRANSPORT_CLERK = "transport_clerk"
    SYSTEM = "system"
    VEHICLE_ADMIN = "vehicle_admin"
    INSURANCE = "insurance"
    COURIER = "courier"
    SUPERVISOR = "supervisor"


class WarningLevel(StrEnum):
    """The licensing decision's warning (行政许可法 art. 42): yellow before its due date, red after."""

    NONE = "none"
    YELLOW = "yellow"
    RED = "red"


class IncidentAction(StrEnum):
    """How a supervisor resolves an incident (a step a department refused for good)."""

    RETRY = "retry"  # run the refused step again
    SKIP = "skip"  # notifications only: go on without it
    CLOSE = "close"  # end the application rejected, with full compensation


class UsageChangeState(StrEnum):
    """A usage-nature change job at the vehicle administration (PSB)."""

    PENDING = "pending"
    COMPLETED = "completed"
    FAILED = "failed"


class ShipmentState(StrEnum):
    """A courier shipment."""

    IN_TRANSIT = "in_transit"
    DELIVERED = "delivered"


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
