"""Request bodies: unknown fields refused, every field validated to the national standards."""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import date
from typing import Annotated, Literal

from pydantic import AfterValidator, BaseModel, BeforeValidator, ConfigDict, Field, model_validator

from api.auth import Role
from domain import validators
from domain.statuses import Channel, DeliveryMethod, IncidentAction, MaterialKind, Outcome, Step
from store.calendar import YearOutcome
from workflows.rating_types import FollowUpStep


def _rule(fn: Callable[[str], str]) -> AfterValidator:
    def check(value: str) -> str:
        try:
            return fn(value)
        except validators.ValidationFailure as failure:
            raise ValueError(failure.message) from None

    return AfterValidator(check)


Plate = Annotated[str, Field(max_length=16), _rule(validators.validate_plate)]
Vin = Annotated[str, Field(max_length=32), _rule(validators.validate_vin)]
District = Annotated[str, Field(max_length=6), _rule(validators.validate_district)]
Mobile = Annotated[str, Field(max_length=20), _rule(validators.validate_mobile)]
PersonName = Annotated[str, Field(max_length=50), _rule(validators.validate_person_name)]
IdNumber = Annotated[str, Field(max_length=18), _rule(validators.validate_id_number)]


MaterialId = Annotated[str, Field(min_length=1, max_length=64)]
ShortText = Annotated[str, Field(max_length=500)]


def _iso_date_only(value: object) -> object:
    """Dates as YYYY-MM-DD only (pydantic would also take 0 as 1970-01-01)."""
    if isinstance(value, date):
        return value
    if not isinstance(value, str) or not re.fullmatch(r"\d{4}-\d{2}-\d{2}", value):
        raise ValueError("a date is written YYYY-MM-DD")
    return value


IsoDate = Annotated[date, BeforeValidator(_iso_date_only)]


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class VehicleIn(Strict):
    plate: Plate
    vin: Vin


class DeliveryIn(Strict):
    method: DeliveryMethod
    recipient: PersonName | None = None
    phone: Mobile | None = None
    address: Annotated[str, Field(min_length=5, max_length=200)] | None = None

    @model_validator(mode="after")
    def _mail_needs_an_address(self) -> DeliveryIn:
        if self.method == DeliveryMethod.MAIL and not (self.recipient and self.phone and self.address):
            raise ValueError("mail delivery needs recipient, phone and address")
        return self


class MaterialsIn(Strict):
    registration_certificate: MaterialId
    driving_license: MaterialId


class ApplicationIn(Strict):
    vehicle: VehicleIn
    district: District
    channel: Channel
    delivery: DeliveryIn
    materials: MaterialsIn
    insurance_commitment: bool = Field(description="容缺受理承诺书: the applicant commits to insure in time")

    @model_validator(mode="after")
    def _commitment_required(self) -> ApplicationIn:
        if not self.insurance_commitment:
            raise ValueError("insurance_commitment must be true (容缺受理承诺书)")
        return self


class SupplementsIn(Strict):
    materials: dict[MaterialKind, MaterialId] = Field(min_length=1)
    note: ShortText = ""


class OriginalsShipmentIn(Strict):
    tracking_number: Annotated[str, Field(min_length=4, max_length=40, pattern=r"^[A-Za-z0-9-]+$")]


class WithdrawalIn(Strict):
    reason: ShortText = ""


Reason = Annotated[str, Field(min_length=1, max_length=500, pattern=r"\S")]
Item = Annotated[str, Field(min_length=1, max_length=100, pattern=r"\S")]


class ApproveIn(Strict):
    step: Step
    outcome: Literal[Outcome.APPROVE]
    reason: ShortText = ""


class RejectIn(Strict):
    """A refusal names its reason."""

    step: Literal[Step.PRELIMINARY_REVIEW, Step.FINAL_REVIEW]
    outcome: Literal[Outcome.REJECT]
    reason: Reason


class RequestSupplementIn(Strict):
    """一次性告知: every missing item at once, with the reason."""

    step: Literal[Step.PRELIMINARY_REVIEW]
    outcome: Literal[Outcome.REQUEST_SUPPLEMENT]
    reason: Reason
    items: list[Item] = Field(min_length=1, max_length=20)


DecisionIn = Annotated[ApproveIn | RejectIn | RequestSupplementIn, Field(discriminator="outcome")]


class IncidentResolutionIn(Strict):
    """A supervisor resolves an incident: retry the step, skip a notification, or close; and says why."""

    action: IncidentAction
    reason: Reason


class RevealIn(Strict):
    """A clerk asks to see one personal field in full, and says why; the request is audited."""

    field: Literal["name", "id_number", "phone", "plate", "vin"]
    reason: Reason


class EidLoginIn(Strict):
    qr_token: Annotated[str, Field(min_length=8, max_length=200)]


class DevApplicantTokenIn(Strict):
    role: Literal[Role.APPLICANT]
    sub: Annotated[str, Field(min_length=1, max_length=64)]


class DevStaffTokenIn(Strict):
    """Clerks, supervisors and operators act for a district (330300 is the whole city)."""

    role: Literal[Role.TRANSPORT_CLERK, Role.SUPERVISOR, Role.OPERATOR]
    sub: Annotated[str, Field(min_length=1, max_length=64)]
    district: Annotated[str, Field(pattern=r"^3303(0[2-5]|2[46-9]|8[1-3]|00)$")]


DevTokenIn = Annotated[DevApplicantTokenIn | DevStaffTokenIn, Field(discriminator="role")]


class DevIdentityIn(Strict):
    """Development only: an applicant identity, as the e-ID service would give it."""

    name: PersonName
    id_number: IdNumber
    phone: Mobile


class TokenOut(BaseModel):
    access_token: str
    token_type: str = "bearer"


class DeadlineOut(BaseModel):
    start: date
    working_days: int
    due_on: date
    provisional: bool


class MaterialOut(BaseModel):
    """An uploaded scan, as its applicant refers to it in an application."""

    material_id: str
    kind: MaterialKind
    sha256: str
    size: int
    content_type: Literal["application/pdf", "image/png", "image/jpeg"] = Field(description="by content, not name")


class CalendarYearOut(BaseModel):
    year: int
    holidays: list[date] = Field(description="working days off (weekend days off are not listed)")
    makeup_workdays: list[date]
    created: bool = Field(description="false when the year was loaded before")
    outcome: YearOutcome = Field(
        description="`created`, `replaced` (another schedule, with `replace`), or `unchanged` (the same schedule)"
    )
    recomputed_applications: int = Field(
        description="open applications whose deadlines reach into the year, told to recompute them (0 when unchanged)"
    )


class RevealOut(BaseModel):
    field: Literal["name", "id_number", "phone", "plate", "vin"]
    value: str


RatingLevel = Annotated[int, Field(ge=1, le=5, description="5 非常满意, 4 满意, 3 基本满意, 2 不满意, 1 非常不满意")]
RatingText = Annotated[str, Field(max_length=500)]


class RatingIn(Strict):
    """A rating (好差评): the overall level, the channel's indicators, and for a 差评 its reasons or a text."""

    level: RatingLevel
    indicators: Annotated[dict[Annotated[str, Field(max_length=20)], RatingLevel], Field(max_length=10)] = {}
    reasons: Annotated[list[Annotated[str, Field(max_length=20)]], Field(max_length=10)] = []
    text: RatingText = ""


class AddendumIn(Strict):
    """The follow-up rating (追评) after the answer to a bad rating."""

    level: RatingLevel
    text: RatingText = ""


class FollowUpStepIn(Strict):
    """A step of a bad rating's follow-up, by a supervisor: 回访, 整改 and the answer, 申诉 (and a city
    supervisor's decision of the appeal)."""

    step: FollowUpStep
    note: Reason
