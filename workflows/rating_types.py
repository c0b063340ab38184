"""What the follow-up of a bad rating (差评) takes, answers and keeps: its input, its steps, its state.

The workflow (workflows/rating_follow_up.py), its activities (activities/rating.py) and the API's
service (api/services/follow_ups.py) share these; no personal data is in any of them (the rater is
known to the rating store only, never to the follow-up).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from domain.statuses import WarningLevel

WORKFLOW_ID_PREFIX = "rating-follow-up-"


def follow_up_workflow_id(rating_id: str) -> str:
    return f"{WORKFLOW_ID_PREFIX}{rating_id}"


class FollowUpStatus(StrEnum):
    AWAITING_CALLBACK = "awaiting_callback"  # 回访: the supervisor calls the applicant back
    AWAITING_RECTIFICATION = "awaiting_rectification"  # 整改: verify, rectify and answer the applicant
    ANSWERED = "answered"  # the answer is given: the applicant may add the 追评
    VOIDED = "voided"  # a city supervisor upheld the district's appeal: the rating leaves the statistics


OPEN = frozenset({FollowUpStatus.AWAITING_CALLBACK, FollowUpStatus.AWAITING_RECTIFICATION})


class FollowUpStep(StrEnum):
    CALLBACK = "callback"
    RECTIFICATION = "rectification"
    APPEAL = "appeal"
    APPEAL_UPHELD = "appeal_upheld"  # the rating stands: the follow-up goes on
    APPEAL_VOIDED = "appeal_voided"  # the rating is voided: the follow-up ends


APPEAL_DECISIONS = frozenset({FollowUpStep.APPEAL_UPHELD, FollowUpStep.APPEAL_VOIDED})


class AppealState(StrEnum):
    PENDING = "pending"
    UPHELD = "upheld"
    VOIDED = "voided"


# Why a step is refused (the validators' ApplicationError types; the API maps each to its status).
WRONG_STEP = "follow_up_wrong_step"  # 409: not the step the follow-up waits for, or closed
NOT_ITS_DISTRICT = "follow_up_not_its_district"  # 404: the follow-up is of a district the actor does not cover
STEP_FORBIDDEN = "follow_up_forbidden"  # 403: only supervisors take steps, only city supervisors decide appeals
NOTE_REQUIRED = "follow_up_note_required"  # 422: a step without its note


@dataclass(frozen=True)
class FollowUpTiming:
    """The follow-up's limits in working days (configurable): 回访 within 1, 整改 and the answer within 15
    (Zhejiang's published rule), counted from the day of the rating; the warning turns yellow from
    `warning_working_days` before a due day and red once it has passed."""

    callback_working_days: int = 1
    rectification_working_days: int = 15
    warning_working_days: int = 1
    give_up_after_s: int = 3600  # how long a projection, or voiding the rating, is retried


@dataclass(frozen=True)
class FollowUpInput:
    rating_id: str
    application_id: str
    district: str
    rated_at: str  # ISO timestamp with its offset
    timing: FollowUpTiming = field(default_factory=FollowUpTiming)


@dataclass(frozen=True)
class StepRecord:
    """One step as a staff member takes it: who (their sub, role and district) and the note."""

    step: str
    note: str
    actor: str
    role: str
    actor_district: str
    request_id: str = ""


@dataclass(frozen=True)
class FollowUpDeadlinesQuery:
    rated_on: str
    callback_working_days: int
    rectification_working_days: int
    warning_working_days: int


@dataclass(frozen=True)
class FollowUpDeadlines:
    callback_due_on: str
    callback_warning_from: str
    rectification_due_on: str
    rectification_warning_from: str
    provisional: bool  # counted over a year whose holidays are not announced yet


@dataclass(frozen=True)
class FollowUpProjection:
    version: int
    view: dict[str, Any]


@dataclass(frozen=True)
class FollowUpAudit:
    """One step of a follow-up in the audit trail."""

    actor: str
    role: str
    action: str
    rating_id: str
    district: str
    outcome: str = "ok"
    detail: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class VoidRequest:
    rating_id: str
    by: str
    reason: str


@dataclass
class FollowUpState:
    input: FollowUpInput
    status: FollowUpStatus = FollowUpStatus.AWAITING_CALLBACK
    deadlines: FollowUpDeadlines | None = None
    warning: WarningLevel = WarningLevel.NONE
    appeal: AppealState | None = None
    callback: dict[str, Any] | None = None  # {"note", "at", "by", "late"}
    rectification: dict[str, Any] | None = None  # the answer to the applicant: {"note", "at", "by", "late"}
    timeline: list[dict[str, Any]] = field(default_factory=list)
