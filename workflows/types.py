"""Input, result, signal and update types of the permit application workflow.

Everything here crosses Temporal's data converter, so it is plain dataclasses with
JSON types: dates are ISO strings. Fields may be added with defaults; never removed.
"""

from __future__ import annotations

from dataclasses import dataclass, field


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
    insurance_working_days: int = 15
    decision_working_days: int = 20
    reminder_working_days: list[int] = field(default_factory=lambda: [5, 1])
    reminder_hour_cst: int = 9
    warning_working_days: int = 5
    # Drills only: the insurance deadline this many seconds after acceptance (see config).
    insurance_deadline_s: float | None = None


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
