"""Search attributes operators filter on in the Web UI. No personal data, ever."""

from __future__ import annotations

from typing import Any

from temporalio.common import SearchAttributeKey

STATUS = SearchAttributeKey.for_keyword("PermitStatus")
DISTRICT = SearchAttributeKey.for_keyword("PermitDistrict")
CHANNEL = SearchAttributeKey.for_keyword("PermitChannel")
INSURANCE_DUE = SearchAttributeKey.for_datetime("PermitInsuranceDueOn")
DECISION_DUE = SearchAttributeKey.for_datetime("PermitDecisionDueOn")
WARNING_LEVEL = SearchAttributeKey.for_keyword("PermitWarningLevel")
PENDING_ACTOR = SearchAttributeKey.for_keyword("PermitPendingActor")
INCIDENT = SearchAttributeKey.for_keyword("PermitIncident")  # the department of the open incident, or "none"
# The follow-up of a bad rating (workflows/rating_follow_up.py); its district is DISTRICT.
FOLLOW_UP_STATUS = SearchAttributeKey.for_keyword("RatingFollowUpStatus")
FOLLOW_UP_WARNING = SearchAttributeKey.for_keyword("RatingFollowUpWarning")

ALL: tuple[SearchAttributeKey[Any], ...] = (
    STATUS,
    DISTRICT,
    CHANNEL,
    INSURANCE_DUE,
    DECISION_DUE,
    WARNING_LEVEL,
    PENDING_ACTOR,
    INCIDENT,
    FOLLOW_UP_STATUS,
    FOLLOW_UP_WARNING,
)

CLI_TYPES = {"KEYWORD": "Keyword", "DATETIME": "Datetime"}


def cli_flags() -> dict[str, str]:
    """Name → the type word `temporal server start-dev --search-attribute` expects."""
    return {key.name: CLI_TYPES[key.indexed_value_type.name.removeprefix("INDEXED_VALUE_TYPE_")] for key in ALL}
