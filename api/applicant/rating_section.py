"""What the progress view shows of the service rating (好差评) once the application has ended: the form
to rate it; or the rating given, read-only, with the follow-up of a 差评 (回访 and 整改 due dates, the
answer) and, once the answer is given, the form of the one follow-up rating (追评)."""

from __future__ import annotations

from typing import Any, Final

from api.auth import Principal
from api.resources import Resources
from api.services import ratings
from domain import rating as rules
from domain.statuses import TERMINAL

# The follow-up of a 差评, as the applicant reads its state.
FOLLOW_UP_STATUSES: Final[dict[str, str]] = {
    "awaiting_callback": "待回访",
    "awaiting_rectification": "核实整改中",
    "answered": "已答复",
    "voided": "经申诉核实，该评价已作废",
}


def indicator_fields(channel: str) -> list[tuple[str, str]]:
    """The indicators the applicant scores beside the overall level, each with its form field's name
    (`indicator_1` …, in the order of the indicator data; 整体满意度 is the level itself)."""
    names = rules.load_indicator_set().indicators(channel)
    return [(f"indicator_{i}", name) for i, name in enumerate(names) if name != rules.OVERALL]


def may_add_addendum(given: dict[str, Any]) -> bool:
    """The 追评 form is offered once, after the answer to a 差评 that still stands."""
    follow_up = given.get("follow_up") or {}
    return (
        rules.is_bad(given["level"])
        and bool(follow_up.get("answer"))
        and given.get("addendum") is None
        and not given.get("voided")
    )


async def rating_section(resources: Resources, principal: Principal, view: dict[str, Any]) -> dict[str, Any] | None:
    """The rating block of an ended application (None before its end): the rating given, if any, and
    what the forms offer (levels, the channel's indicators, the reason tags)."""
    if view["status"] not in TERMINAL:
        return None
    given = await ratings.read(resources, principal, view["application_id"])
    return {
        "given": given,
        "levels": list(rules.LEVELS.items()),
        "bad_levels": sorted(rules.BAD_LEVELS),
        "overall": rules.OVERALL,
        "indicators": indicator_fields(view.get("channel") or "online"),
        "reasons": rules.load_indicator_set().reasons,
        "follow_up_statuses": FOLLOW_UP_STATUSES,
        "may_add": given is not None and may_add_addendum(given),
    }
