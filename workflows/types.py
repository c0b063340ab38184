"""Every type that crosses Temporal's data converter for the permit application.

The workflow's input and result, its updates and signals, the activities' requests and
answers, the departments' records that activities hand back, and the application's state that a
run hands to the next (continue-as-new). Plain dataclasses of JSON types (dates as ISO strings,
except the state's instants). Fields may be added with defaults; never removed.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from domain.eligibility import VehicleFacts
from domain.statuses import Status, Step, WarningLevel

# ------------------------------------------------------------ workflow input, result, updates and signals


@dataclass
class Applicant:
    sub: str
    name: str
    id_number: str
    phone: str


@dataclass
class Vehicle:
    plate: str
    vin: str


@dataclass
class Delivery:
    method: str
    recipient: str = ""
    phone: str = ""
    address: str = ""


@dataclass
class Timing:
    """Polling fall-backs; callbacks normally arrive first."""

    usage_change_poll_s: float = 60.0
    insurance_poll_s: float = 6 * 3600.0
    delivery_poll_s: float = 3600.0
    # Each poll that finds nothing doubles the wait before the next, up to this.
    poll_max_s: float = 3600.0
    # The applicant's "I have insured" queries the platform at most once in this window.
    insurance_check_window_s: float = 300.0
    insurance_working_days: int = 15
    decision_working_days: int = 20
    reminder_working_days: list[int] = field(default_factory=lambda: [5, 1])
    reminder_hour_cst: int = 9
    warning_working_days: int = 5
    # How long a department (or the store) is retried before the step opens an incident instead.
    give_up_after_s: float = 6 * 3600.0
    # Drills only: the insurance deadline this many seconds after acceptance (see config).
    insurance_deadline_s: float | None = None
    # Continue-as-new (rollover.py): a run hands its state to the next, at a quiet point of a long wait,
    # once its history has this many events (None: when Temporal suggests it) or once it has answered this
    # many insurance checks (Temporal takes 2,000 updates a run).
    continue_as_new_after_events: int | None = None
    continue_as_new_after_checks: int = 1000


@dataclass
class PermitApplicationInput:
    application_id: str
    applicant: Applicant
    vehicle: Vehicle
    district: str
    channel: str
    delivery: Delivery
    materials: dict[str, str]
    submitted_at: str
    timing: Timing = field(default_factory=Timing)
    request_id: str = ""
    carried: Carried | None = None  # set when the run before continued as new (rollover.py)


@dataclass
class PermitApplicationResult:
    application_id: str
    status: str
    permit_number: str | None = None


@dataclass
class Decision:
    step: str
    outcome: str
    actor: str
    reason: str = ""
    items: list[str] = field(default_factory=list)
    request_id: str = ""


@dataclass
class IncidentResolution:
    """A supervisor's resolution of the open incident (`IncidentAction`: retry, skip, close)."""

    incident_id: str
    action: str
    actor: str
    reason: str = ""
    request_id: str = ""


@dataclass
class Supplements:
    materials: dict[str, str]
    note: str = ""


@dataclass
class OriginalsShipment:
    tracking_number: str


@dataclass
class Withdrawal:
    reason: str = ""


@dataclass
class UsageChangeReport:
    job_id: str
    status: str
    driving_license_no: str | None = None


@dataclass
class PolicyReport:
    policy_no: str


@dataclass
class CalendarChanged:
    year: int


@dataclass
class DeliveryReport:
    tracking_number: str
    status: str


# ------------------------------------------------------------ activity requests and answers


@dataclass
class VehicleQuery:
    vin: str
    plate: str = ""
    owner_id_number: str = ""


@dataclass
class ModelQuery:
    model: str


@dataclass
class AssessmentInput:
    facts: VehicleFacts
    on: str


@dataclass
class DeadlinesQuery:
    accepted_on: str
    insurance_working_days: int
    decision_working_days: int
    reminder_working_days: list[int]
    warning_working_days: int


@dataclass
class DeadlineAnswer:
    start: str
    working_days: int
    due_on: str
    provisional: bool


@dataclass
class Deadlines:
    """Both statutory clocks of one acceptance, and the days their alerts fall on."""

    insurance: DeadlineAnswer
    decision: DeadlineAnswer
    reminder_dates: dict[str, str]
    decision_warning_from: str


@dataclass
class SmsRequest:
    phone: str
    text: str
    idempotency_key: str


@dataclass
class DocumentRequest:
    application_id: str
    kind: str
    key: str
    data: dict[str, Any]


@dataclass
class UsageChangeRequest:
    vin: str
    plate: str
    owner_id_number: str
    target_nature: str
    reference: str
    idempotency_key: str


@dataclass
class JobQuery:
    job_id: str


@dataclass
class PermitRequest:
    application_id: str
    issued_on: str
    vehicle_registered_on: str


@dataclass
class PermitAnswer:
    number: str
    issued_on: str
    valid_until: str


@dataclass
class ShipmentRequest:
    reference: str
    recipient: str
    phone: str
    address: str
    contents: str
    idempotency_key: str


@dataclass
class TrackingQuery:
    tracking_number: str


@dataclass
class ProjectionRequest:
    version: int
    view: dict[str, Any]


# ------------------------------------------------------------ department records (what the adapters answer)


@dataclass(frozen=True)
class VehicleRecord:
    plate: str
    vin: str
    owner_name: str
    owner_id_number: str
    usage_nature: str
    seats: int
    fuel: str
    model: str
    registered_on: str
    flags: list[str]


@dataclass(frozen=True)
class UsageChangeJob:
    job_id: str
    vin: str
    target_nature: str
    reference: str
    status: str
    requested_at: str
    completed_at: str | None = None
    driving_license_no: str | None = None


@dataclass(frozen=True)
class Invoice:
    invoice_no: str
    vin: str
    amount_yuan: float
    issued_on: str


@dataclass(frozen=True)
class PurchaseTax:
    certificate_no: str
    vin: str
    paid_on: str


@dataclass(frozen=True)
class InspectionReport:
    report_no: str
    vin: str
    passed: bool
    valid_until: str


@dataclass(frozen=True)
class Policy:
    policy_no: str
    vin: str
    plate: str
    kind: str
    valid_from: str
    valid_until: str
    bought_at: str


@dataclass(frozen=True)
class NevRange:
    model: str
    range_km: int


@dataclass(frozen=True)
class Shipment:
    tracking_number: str
    reference: str
    status: str
    created_at: str | None = None
    delivered_at: str | None = None


# ------------------------------------------------------------ the state, as a continued run receives it


@dataclass
class ApplicationState:
    """The application as the workflow holds it; what is shown of it is derived in state.py."""

    input: PermitApplicationInput
    status: Status = Status.SUBMITTED
    step: Step | None = None  # the clerk's step the application waits for
    materials: dict[str, str] = field(default_factory=dict)
    timeline: list[dict[str, Any]] = field(default_factory=list)
    documents: list[dict[str, str]] = field(default_factory=list)
    findings: list[dict[str, str]] = field(default_factory=list)
    supplement_items: list[str] = field(default_factory=list)
    vehicle: VehicleRecord | None = None
    accepted_on: str | None = None
    accepted_at: datetime | None = None
    deadlines: Deadlines | None = None
    warning: WarningLevel = WarningLevel.NONE
    licensing_decided: bool = False
    originals_tracking: str | None = None
    policy: Policy | None = None
    permit: dict[str, str] | None = None
    delivery_tracking: str | None = None
    # The open incident (API.md, "Incidents"): incident_id, step, department, answer, opened_at.
    incident: dict[str, str] | None = None


@dataclass
class Carried:
    """What a run starts from: a new application's state or, when the run before it continued as new
    (rollover.py), the state and what the workflow's parts kept beside it."""

    state: ApplicationState
    undos: list[str] = field(default_factory=list)  # the saga's undos (undos.py), by step, the earliest first
    usage_job: UsageChangeJob | None = None  # the usage-nature change in flight
    usage_poll_s: float | None = None  # and how long until its next poll (they back off)
    usage_reports: dict[str, UsageChangeReport] = field(default_factory=dict)
    delivered: list[str] = field(default_factory=list)
    decisions_taken: int = 0  # numbers the supplement requests' SMS keys
    projection_version: int = 0  # the store keeps the latest projection by this number
    reminders_handled: list[str] = field(default_factory=list)
    insurance_queried_at: datetime | None = None
