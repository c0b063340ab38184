"""The application view as the API returns it: what an applicant (or a clerk) gets, typed.

The workflow builds the view as plain JSON (masked by `domain.views.mask_view`); these
models describe it in the OpenAPI document and check it on the way out. Routes answer
with `response_model_exclude_unset=True`, so a key the view leaves out stays out (a
pending item without `items`, deadlines before acceptance) and the JSON keeps its shape.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field

from domain.statuses import (
    Actor,
    Channel,
    DeliveryMethod,
    IncidentAction,
    MaterialKind,
    PendingAction,
    Status,
    Step,
    WarningLevel,
)
from workflows.permit_lifecycle_types import PermitState

Timestamp = Annotated[str, Field(description="ISO 8601 date and time", json_schema_extra={"format": "date-time"})]
Masked = Annotated[str, Field(description="masked: only the characters the rules allow are shown")]


class Part(BaseModel):
    model_config = ConfigDict(extra="forbid")


class VehicleView(Part):
    plate: Masked
    vin: Masked


class ApplicantView(Part):
    name: Masked
    id_number: Masked
    phone: Masked


class DeliveryView(Part):
    method: DeliveryMethod
    tracking_number: str | None = Field(description="the courier's, once the documents are shipped")


class MaterialRef(Part):
    kind: MaterialKind
    material_id: str


class InsuranceDeadline(Part):
    """The carrier liability insurance must be found by `due_on`, or the application expires."""

    due_on: date
    working_days: int
    provisional: bool = Field(description="counted past the loaded calendar years; recomputed when one is loaded")
    reminders_on: list[date] = Field(description="the days the applicant is reminded by SMS")


class DecisionDeadline(Part):
    """The licensing decision's statutory period (行政许可法 art. 42)."""

    due_on: date
    working_days: int
    provisional: bool
    warning: WarningLevel


class Deadlines(Part):
    """Empty until the application is accepted."""

    insurance: InsuranceDeadline | None = None
    decision: DecisionDeadline | None = None


class Finding(Part):
    """An eligibility rule the vehicle fails, with the reason in Chinese."""

    rule: str
    message: str


class PendingItem(Part):
    """What the application waits for, and from whom."""

    action: PendingAction
    actor: Actor
    items: list[str] | None = Field(default=None, description="what to supplement (一次性告知), when asked")


class DocumentRef(Part):
    kind: str = Field(description="e.g. acceptance_notice, joint_handling_confirmation, permit")
    document_id: str


class TimelineEntry(BaseModel):
    """An event of the process; some events carry details (a reason, a tracking number ...)."""

    model_config = ConfigDict(extra="allow")

    at: Timestamp
    event: str
    actor: Actor
    reason: str | None = None
    items: list[str] | None = None
    tracking_number: str | None = None
    number: str | None = Field(default=None, description="the permit number, when issued")


class IncidentView(Part):
    """A step that a department refused for good, waiting for a supervisor (retry, skip or close)."""

    incident_id: str
    step: str = Field(description="the step that was refused, e.g. send_sms, request_usage_change")
    department: str = Field(description="e.g. vehicle_admin, insurance, courier, sms")
    answer: str = Field(description="the department's answer, without personal data")
    opened_at: Timestamp


class PermitView(Part):
    number: str
    issued_on: date
    valid_until: date
    state: PermitState | None = Field(default=None, description="in the register; null until projected there")


class PermitExitView(Part):
    application_id: str
    status: str


class RegisteredPermitView(Part):
    """A permit in the register (在册运输证): the plate masked, the holder not named."""

    number: str
    plate: Masked
    district: str
    state: PermitState
    issued_on: date
    valid_until: date
    next_review_due_on: date | None
    regulator_pending: bool = Field(description="the national regulator not yet told of its last change")
    exit: PermitExitView | None


class PermitPage(Part):
    items: list[RegisteredPermitView]
    total: int
    page: int
    page_size: int


class ApplicationView(Part):
    """An application as its applicant and the clerks of its district see it; personal data masked."""

    application_id: str
    status: Status
    step: Step | None = Field(description="the step awaiting a transport clerk's decision, if any")
    district: str
    channel: Channel
    submitted_at: Timestamp
    accepted_on: date | None
    vehicle: VehicleView
    applicant: ApplicantView
    delivery: DeliveryView
    materials: list[MaterialRef]
    deadlines: Deadlines
    findings: list[Finding]
    pending: list[PendingItem]
    documents: list[DocumentRef]
    timeline: list[TimelineEntry]
    permit: PermitView | None
    incident: IncidentView | None = Field(default=None, description="open while a supervisor must act")


class ApplicationPage(Part):
    """One page of the applications a principal may see, with the total for the filters."""

    items: list[ApplicationView]
    total: int
    page: int
    page_size: int


class IncidentOut(Part):
    """An incident as supervisors list it: the application, the refused step, and how it was resolved."""

    application_id: str
    incident_id: str
    district: str
    step: str
    department: str
    answer: str = Field(description="the department's answer, without personal data")
    opened_at: datetime
    resolved_at: datetime | None = Field(description="null while open")
    resolution: IncidentAction | None = Field(
        description="the supervisor's action; null if open or the application ended"
    )


class IncidentPage(Part):
    """One page of incidents, the open ones first (the longest waiting first), with the total."""

    items: list[IncidentOut]
    total: int
    page: int
    page_size: int


class RatingFollowUpView(Part):
    """The follow-up of a bad rating (差评), as its workflow projects it."""

    status: str = Field(description="awaiting_callback, awaiting_rectification, answered or voided")
    callback_due_on: date | None = Field(description="回访 due by this working day")
    rectification_due_on: date | None = Field(description="整改 and the answer due by this working day")
    answer: str | None = Field(description="the answer to the applicant; null until given")
    appealed: bool
    voided: bool
    warning: WarningLevel = WarningLevel.NONE


class RatingAddendumView(Part):
    level: int
    level_name: str
    text: str
    added_at: datetime


class RatingView(Part):
    """A rating (好差评) as its applicant or the staff of its district read it; never who gave it."""

    rating_id: str
    application_id: str
    district: str
    channel: Channel
    level: int = Field(ge=1, le=5)
    level_name: str = Field(description="非常满意, 满意, 基本满意, 不满意 or 非常不满意")
    indicators: dict[str, int] = Field(description="each indicator of the set in force, scored 1-5")
    indicator_version: str
    reasons: list[str]
    text: str = Field(description="masked for staff: personal data typed into it is not shown")
    rated_at: datetime
    addendum: RatingAddendumView | None = Field(description="the 追评, once the answer was given")
    voided: bool = Field(description="voided on appeal: out of the statistics")
    follow_up: RatingFollowUpView | None = Field(description="for a bad rating (level 2 or 1)")


class RatingLevelView(Part):
    level: int
    name: str


class RatingIndicatorsView(Part):
    """The indicator set in force for a channel, its reason tags and the levels."""

    version: str
    channel: Channel
    indicators: list[str]
    reasons: list[str]
    levels: list[RatingLevelView]


class RatingSummaryView(Part):
    """A month's ratings of a district (or the city, 330300), with the measures of GB/T 39735-2020."""

    district: str
    month: str
    counts: dict[str, int] = Field(description="ratings by level, '5' to '1', voided ones left out")
    rated: int
    voided: int
    bad: int = Field(description="差评: levels 2 and 1, not voided")
    ended: int = Field(description="applications that ended in the month")
    unrated: int = Field(description="of those, not rated")
    good_rate: float | None = Field(description="levels 4-5 among the ratings; null without ratings")
    unrated_rate: float | None
    reply_rate: float | None = Field(description="bad ratings answered")
    rectification_rate: float | None = Field(description="bad ratings called back and answered, each in time")
    rectification_satisfaction_rate: float | None = Field(description="追评 of 4-5 among answered bad ratings")
