"""Service ratings (好差评): the applicant rates an ended application once and may add one 追评 after
the answer to a bad rating; staff of the district read the rating, never who gave it; supervisors
read a month's figures. Every write is audited, refusals too; a bad rating opens its follow-up."""

from __future__ import annotations

import csv
import io
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

import structlog
from prometheus_client import Counter

from api.auth import Principal, Role, is_city_supervisor
from api.errors import ApiError, field_error
from api.resources import Resources
from api.schemas import AddendumIn, RatingIn
from api.services import audit, follow_ups
from api.services.applications import application_for
from config import Settings
from domain import rating as rules
from domain.districts import CITY_CODE, DISTRICTS, covers
from domain.masking import mask_text
from store.ratings import AlreadyRated, MonthFigures, Rating
from workflows.rating_types import FollowUpTiming

log = structlog.get_logger(__name__)

RATINGS_GIVEN = Counter(
    "permit_ratings_total", "Service ratings given (好差评), by level and channel", ["level", "channel"]
)
WENZHOU = ZoneInfo("Asia/Shanghai")


def _refused(refusal: rules.RatingRefused) -> ApiError:
    return ApiError(409, refusal.code, refusal.detail)


def _invalid(invalid: rules.RatingInvalid) -> ApiError:
    return field_error(["body", *invalid.field], invalid.message)


async def _applicant_only(
    resources: Resources, principal: Principal, action: str, application_id: str, source_ip: str | None
) -> None:
    """Only the applicant rates: a member of staff trying to is refused, and the attempt kept in the trail."""
    if principal.role is not Role.APPLICANT:
        await audit.record(resources, principal, action, application_id, "refused:forbidden", source_ip=source_ip)
        raise ApiError(403, "forbidden", "a rating is given by the application's applicant only")


async def rate(
    resources: Resources, principal: Principal, application_id: str, body: RatingIn, *, source_ip: str | None
) -> dict[str, Any]:
    """Rate an ended application, once; a 差评 (level 2 or 1) opens its follow-up."""
    await _applicant_only(resources, principal, "rating.give", application_id, source_ip)
    row = await application_for(resources, principal, application_id)
    channel = row.view.get("channel", "online")
    indicator_set = rules.load_indicator_set()
    given = rules.RatingInput(body.level, body.indicators, tuple(body.reasons), body.text)
    try:
        existing = await resources.store.ratings.for_application(row.application_id)
        rules.check_may_rate(row.status, already_rated=existing is not None)
        checked = rules.checked_rating(given, channel, indicator_set)
        stored = await resources.store.ratings.add(
            application_id=row.application_id,
            district=row.district,
            channel=channel,
            level=checked.level,
            indicators=dict(checked.indicators),
            indicator_version=indicator_set.version,
            reasons=list(checked.reasons),
            text=checked.text,
        )
    except (rules.RatingRefused, AlreadyRated) as refusal:
        code = refusal.code if isinstance(refusal, rules.RatingRefused) else rules.ALREADY_RATED
        await audit.record(
            resources, principal, "rating.give", row.application_id, f"refused:{code}", source_ip=source_ip
        )
        if isinstance(refusal, AlreadyRated):
            raise ApiError(409, code, "this application has been rated; a rating cannot be given again") from None
        raise _refused(refusal) from None
    except rules.RatingInvalid as invalid:
        raise _invalid(invalid) from None
    await audit.record(
        resources,
        principal,
        "rating.give",
        row.application_id,
        "created",
        source_ip=source_ip,
        rating_id=stored.rating_id,
        level=stored.level,
    )
    RATINGS_GIVEN.labels(str(stored.level), channel).inc()
    follow_up = await _open_follow_up(resources, stored) if rules.is_bad(stored.level) else None
    return rating_view(stored, principal, follow_up)


async def _open_follow_up(resources: Resources, stored: Rating) -> dict[str, Any] | None:
    """Start the follow-up of a bad rating (idempotent); if Temporal does not answer now, the next read
    of the rating starts it, so the rating given is never lost with it."""
    try:
        await follow_ups.open_follow_up(
            resources,
            rating_id=stored.rating_id,
            application_id=stored.application_id,
            district=stored.district,
            rated_at=stored.rated_at,
            timing=follow_up_timing(resources.settings),
        )
    except ApiError as err:  # Temporal unavailable: the rating stands, its follow-up is opened when read
        log.warning("rating.follow_up_not_opened", rating_id=stored.rating_id, error=err.error)
        return None
    return await follow_ups.follow_up_view(resources, stored.rating_id)


def follow_up_timing(settings: Settings) -> FollowUpTiming:
    """The follow-up's limits as configured (RATING_CALLBACK_WORKING_DAYS, RATING_RECTIFICATION_WORKING_DAYS)."""
    return FollowUpTiming(
        callback_working_days=settings.rating_callback_working_days,
        rectification_working_days=settings.rating_rectification_working_days,
    )


async def _follow_up_of(resources: Resources, stored: Rating) -> dict[str, Any] | None:
    if not rules.is_bad(stored.level):
        return None
    view = await follow_ups.follow_up_view(resources, stored.rating_id)
    if view is None and stored.voided_at is None:
        return await _open_follow_up(resources, stored)
    return view


async def read(resources: Resources, principal: Principal, application_id: str) -> dict[str, Any] | None:
    """The rating of an application its applicant or the staff of its district may see, with its follow-up;
    None while it is not rated (a 404 would not tell "not rated" from "not yours")."""
    row = await application_for(resources, principal, application_id)
    stored = await resources.store.ratings.for_application(row.application_id)
    return None if stored is None else rating_view(stored, principal, await _follow_up_of(resources, stored))


async def add_addendum(
    resources: Resources, principal: Principal, application_id: str, body: AddendumIn, *, source_ip: str | None
) -> dict[str, Any]:
    """The 追评: once, by the applicant, after the answer to their bad rating."""
    await _applicant_only(resources, principal, "rating.addendum", application_id, source_ip)
    row = await application_for(resources, principal, application_id)
    stored = await resources.store.ratings.for_application(row.application_id)
    follow_up = await _follow_up_of(resources, stored) if stored else None
    try:
        if stored is None:
            raise rules.RatingRefused(rules.NOT_RATED, "the application has not been rated")
        text = rules.check_addendum(
            body.level,
            body.text,
            rated_level=stored.level,
            answered=bool(follow_up and follow_up.get("answer")),
            has_addendum=stored.addendum_at is not None,
        )
        added = await resources.store.ratings.add_addendum(stored.rating_id, body.level, text)
        if added is None:
            raise rules.RatingRefused(rules.ADDENDUM_EXISTS, "a follow-up rating has been given already")
    except rules.RatingRefused as refusal:
        outcome = f"refused:{refusal.code}"
        await audit.record(resources, principal, "rating.addendum", row.application_id, outcome, source_ip=source_ip)
        raise _refused(refusal) from None
    except rules.RatingInvalid as invalid:
        raise _invalid(invalid) from None
    await audit.record(
        resources,
        principal,
        "rating.addendum",
        row.application_id,
        "created",
        source_ip=source_ip,
        rating_id=added.rating_id,
        level=added.addendum_level,
    )
    return rating_view(added, principal, follow_up)


def rating_view(stored: Rating, principal: Principal, follow_up: dict[str, Any] | None) -> dict[str, Any]:
    """The rating as its applicant or staff read it: no identity beside it, and for staff the free texts
    masked (an applicant may have typed a phone or ID number into them)."""
    shown = (lambda text: text) if principal.role is Role.APPLICANT else mask_text
    addendum = None
    if stored.addendum_level is not None:
        addendum = {
            "level": stored.addendum_level,
            "level_name": rules.LEVELS[stored.addendum_level],
            "text": shown(stored.addendum_text or ""),
            "added_at": stored.addendum_at,
        }
    return {
        "rating_id": stored.rating_id,
        "application_id": stored.application_id,
        "district": stored.district,
        "channel": stored.channel,
        "level": stored.level,
        "level_name": rules.LEVELS[stored.level],
        "indicators": stored.indicators,
        "indicator_version": stored.indicator_version,
        "reasons": stored.reasons,
        "text": shown(stored.text),
        "rated_at": stored.rated_at,
        "addendum": addendum,
        "voided": stored.voided_at is not None,
        "follow_up": follow_up,
    }


def indicators(channel: str) -> dict[str, Any]:
    indicator_set = rules.load_indicator_set()
    return {
        "version": indicator_set.version,
        "channel": channel,
        "indicators": list(indicator_set.indicators(channel)),
        "reasons": list(indicator_set.reasons),
        "levels": [{"level": level, "name": name} for level, name in rules.LEVELS.items()],
    }


def month_bounds(month: str) -> tuple[datetime, datetime]:
    """The month `YYYY-MM` as instants in Wenzhou: its first moment and the next month's; 422 naming `month`."""
    try:
        start = datetime.strptime(month, "%Y-%m").replace(tzinfo=WENZHOU)
    except ValueError:
        raise field_error(["query", "month"], "a month is written YYYY-MM, e.g. 2026-10") from None
    end = start.replace(year=start.year + 1, month=1) if start.month == 12 else start.replace(month=start.month + 1)
    return start, end


def summary_districts(principal: Principal, district: str | None) -> list[str]:
    """The districts a supervisor's summary covers: their own by default; 330300 (the whole city) and any
    other district only for a city supervisor."""
    assert principal.district is not None
    wanted = district or principal.district
    if wanted == CITY_CODE:
        if not is_city_supervisor(principal):
            raise ApiError(403, "forbidden", "the whole city's figures are for the city's supervisors (330300)")
        return list(DISTRICTS)
    if wanted not in DISTRICTS:
        raise field_error(["query", "district"], "one of Wenzhou's district codes, or 330300 for the city")
    if not covers(principal.district, wanted):
        raise ApiError(403, "forbidden", "a supervisor reads the figures of their own district")
    return [wanted]


def _rate(part: int, whole: int) -> float | None:
    return round(part / whole, 4) if whole else None


def figures_view(district: str, month: str, figures: MonthFigures) -> dict[str, Any]:
    """The standard's measures (GB/T 39735-2020); a rate is null when there is nothing to count it over."""
    counts = {str(level): figures.levels.get(level, 0) for level in rules.LEVELS}
    rated = sum(counts.values())
    good = sum(figures.levels.get(level, 0) for level in rules.GOOD_LEVELS)
    return {
        "district": district,
        "month": month,
        "counts": counts,
        "rated": rated,
        "voided": figures.voided,
        "bad": figures.bad,
        "ended": figures.ended,
        "unrated": figures.unrated,
        "good_rate": _rate(good, rated),
        "unrated_rate": _rate(figures.unrated, figures.ended),
        "reply_rate": _rate(figures.answered, figures.bad),
        "rectification_rate": _rate(figures.rectified_on_time, figures.bad),
        "rectification_satisfaction_rate": _rate(figures.addenda_satisfied, figures.answered),
    }


async def summary(
    resources: Resources, principal: Principal, district: str | None, month: str
) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """The figures of the month for the scope asked (a district, or the city), and those of each district in it."""
    districts = summary_districts(principal, district)
    start, end = month_bounds(month)
    by_district = await resources.store.ratings.month_figures(districts, start, end)
    total = MonthFigures()
    for figures in by_district.values():
        total.add(figures)
    scope = CITY_CODE if len(districts) > 1 else districts[0]
    rows = [figures_view(d, month, by_district[d]) for d in districts]
    return figures_view(scope, month, total), rows


CSV_COLUMNS = (
    "district",
    "month",
    *(f"level_{level}" for level in rules.LEVELS),
    "rated",
    "voided",
    "bad",
    "ended",
    "unrated",
    "good_rate",
    "unrated_rate",
    "reply_rate",
    "rectification_rate",
    "rectification_satisfaction_rate",
)


def summary_csv(total: dict[str, Any], rows: list[dict[str, Any]]) -> str:
    """One line per district, and the city's total after them when there are several."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(CSV_COLUMNS)
    for figures in [*rows, total] if len(rows) > 1 else rows:
        flat = {**figures, **{f"level_{level}": count for level, count in figures["counts"].items()}}
        writer.writerow(["" if flat[column] is None else flat[column] for column in CSV_COLUMNS])
    return out.getvalue()
