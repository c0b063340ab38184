"""What the departments answer, as frozen dataclasses of plain JSON types (dates as ISO strings)."""

from dataclasses import dataclass


@dataclass(frozen=True)
class Identity:
    name: str
    id_number: str
    phone: str


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
