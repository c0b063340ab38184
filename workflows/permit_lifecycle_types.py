"""What the permit lifecycle workflow takes, carries from one year's run to the next, and is told.

The national regulator's own records (`RegulatorVehicleRecord`, `RegulatorStateChange`) live in
permit_types.py beside its adapter; these are the lifecycle's, and the record as built at issue.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from domain.districts import CITY_CODE, CITY_NAME
from workflows.permit_types import RegulatorVehicleRecord
from workflows.types import PermitApplicationInput, VehicleRecord

MILEAGE_LIMIT_KM = 600_000  # 《网络预约出租汽车经营服务管理暂行办法》: scrapped at 600,000 km


class PermitState(StrEnum):
    VALID = "valid"
    REVIEW_DUE = "review_due"
    LAPSED = "lapsed"
    CANCELLED = "cancelled"


class PermitEnd(StrEnum):
    """Why a permit ended (its state is lapsed or cancelled)."""

    EXPIRED = "expired"  # the 8 years of use, or the validity, ran out
    REVIEW_MISSED = "review_missed"  # the annual review (年度审验) was not passed by its due date
    SCRAPPED = "scrapped"  # 600,000 km reported by the inspection station
    CANCELLED = "cancelled"  # 注销: the holder's exit


ENDED_STATE = {
    PermitEnd.EXPIRED: PermitState.LAPSED,
    PermitEnd.REVIEW_MISSED: PermitState.LAPSED,
    PermitEnd.SCRAPPED: PermitState.CANCELLED,
    PermitEnd.CANCELLED: PermitState.CANCELLED,
}


@dataclass(frozen=True)
class LifecycleTiming:
    reminder_days: list[int] = field(default_factory=lambda: [90, 30, 7])  # SMS before the validity ends
    review_notice_days: int = 30  # the review is due (review_due) from this many days before its due date
    regulator_give_up_s: int = 3600  # a call to the regulator is retried this long, then tried again later
    regulator_retry_s: int = 86_400  # how long until a failed report is tried again


@dataclass
class LifecycleCarried:
    """The permit's state as one year's run hands it to the next (continue-as-new)."""

    state: PermitState = PermitState.VALID
    next_review_due_on: str | None = None
    reminders_sent: list[int] = field(default_factory=list)
    regulator_told: str = ""  # "", "valid" or "invalid": what the regulator last accepted
    regulator_pending: bool = False  # its last report failed after retries: an incident-like mark
    mileage_km: int = 0
    ended: PermitEnd | None = None
    reviews_passed: list[str] = field(default_factory=list)
    version: int = 0  # of the register's projection: newer wins
    run: int = 1


@dataclass(frozen=True)
class PermitLifecycleInput:
    number: str
    application_id: str
    holder_subject: str
    holder_phone: str
    district: str
    issued_on: str
    valid_until: str
    record: RegulatorVehicleRecord  # the regulator's record of the vehicle, as on the day of issue
    timing: LifecycleTiming = field(default_factory=LifecycleTiming)
    carried: LifecycleCarried | None = None


@dataclass(frozen=True)
class ReviewRecord:
    """A clerk's record that the annual review was passed."""

    reviewed_on: str
    clerk: str


@dataclass(frozen=True)
class MileageReport:
    km: int
    station: str


@dataclass(frozen=True)
class Cancellation:
    """注销: the coming exit ends the permit as cancelled."""

    reason: str
    by: str


@dataclass(frozen=True)
class PermitProjection:
    """The register's row of one permit (the plate masked; the holder by subject only)."""

    version: int
    row: dict[str, Any]


ISSUING_AUTHORITY = f"{CITY_NAME}交通运输局"
NEV_FUELS = ("bev", "phev")


def regulator_record(vehicle: VehicleRecord, permit: dict[str, str]) -> RegulatorVehicleRecord:
    """The platform's record of a vehicle whose permit was just issued (as PSB registered the vehicle)."""
    return RegulatorVehicleRecord(
        permit_number=permit["number"],
        administrative_area=CITY_CODE,
        plate=vehicle.plate,
        plate_colour="渐变绿色" if vehicle.fuel in NEV_FUELS else "蓝色",
        seats=vehicle.seats,
        brand=vehicle.model.split()[0],
        model=vehicle.model,
        vehicle_type="小型轿车",
        owner=vehicle.owner_name,
        vin=vehicle.vin,
        registered_on=vehicle.registered_on,
        fuel=vehicle.fuel,
        issuing_authority=ISSUING_AUTHORITY,
        operating_area=CITY_NAME,
        valid_from=permit["issued_on"],
        valid_until=permit["valid_until"],
        annual_review="qualified",
        state="valid",
    )


def lifecycle_input(
    application: PermitApplicationInput, vehicle: VehicleRecord, permit: dict[str, str]
) -> PermitLifecycleInput:
    """The lifecycle of a permit just issued to the applicant of `application`."""
    return PermitLifecycleInput(
        number=permit["number"],
        application_id=application.application_id,
        holder_subject=application.applicant.sub,
        holder_phone=application.applicant.phone,
        district=application.district,
        issued_on=permit["issued_on"],
        valid_until=permit["valid_until"],
        record=regulator_record(vehicle, permit),
    )
