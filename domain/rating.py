"""The service rating (政务服务"好差评", GB/T 39734-2020): its levels, the indicator set in force
(`data/rating_indicators.toml`, versioned data), and the rules a rating and its follow-up rating
(追评) obey. Pure: the API and the store apply them, the tests check them here."""

from __future__ import annotations

import tomllib
import unicodedata
from collections.abc import Mapping
from dataclasses import dataclass
from functools import cache
from importlib import resources
from typing import Any, Final

from domain.statuses import TERMINAL

INDICATORS_FILE: Final = "rating_indicators.toml"
OVERALL: Final = "整体满意度"
CHANNELS: Final = ("online", "window")
TEXT_MAX: Final = 500

LEVELS: Final[dict[int, str]] = {5: "非常满意", 4: "满意", 3: "基本满意", 2: "不满意", 1: "非常不满意"}
GOOD_LEVELS: Final = frozenset({5, 4})
BAD_LEVELS: Final = frozenset({2, 1})  # 差评: followed up, and a reason or a text is required

# The refusals of a rating act (the API answers 409 with the same code).
NOT_ENDED: Final = "not_ended"
ALREADY_RATED: Final = "already_rated"
NOT_RATED: Final = "not_rated"
NOT_A_BAD_RATING: Final = "not_a_bad_rating"
NOT_ANSWERED: Final = "not_answered"
ADDENDUM_EXISTS: Final = "addendum_exists"


def is_bad(level: int) -> bool:
    return level in BAD_LEVELS


class RatingRefused(Exception):
    """The case's state does not allow this act (`code`, one of the constants above)."""

    def __init__(self, code: str, detail: str) -> None:
        super().__init__(detail)
        self.code, self.detail = code, detail


class RatingInvalid(Exception):
    """A field of the rating breaks a rule; `field` is its path in the request body."""

    def __init__(self, field: tuple[str, ...], message: str) -> None:
        super().__init__(f"{'.'.join(field)}: {message}")
        self.field, self.message = field, message


class IndicatorSetInvalid(ValueError):
    """The indicator file does not describe a usable set."""


@dataclass(frozen=True)
class IndicatorSet:
    version: str
    channels: Mapping[str, tuple[str, ...]]
    reasons: tuple[str, ...]

    def indicators(self, channel: str) -> tuple[str, ...]:
        return self.channels[channel]

    @classmethod
    def from_mapping(cls, data: Mapping[str, Any]) -> IndicatorSet:
        version = data.get("version")
        if not isinstance(version, str) or not version.strip():
            raise IndicatorSetInvalid("`version` must be a non-empty string")
        channels = data.get("channels") or {}
        if set(channels) != set(CHANNELS):
            raise IndicatorSetInvalid(f"`channels` must be exactly {', '.join(CHANNELS)}")
        names = {channel: _names(channels[channel].get("indicators"), f"channels.{channel}") for channel in CHANNELS}
        for channel, indicators in names.items():
            if indicators[0] != OVERALL:
                raise IndicatorSetInvalid(f"channels.{channel}: the first indicator must be {OVERALL}")
        reasons = _names((data.get("reasons") or {}).get("tags"), "reasons")
        return cls(version=version.strip(), channels=names, reasons=reasons)


def _names(value: Any, where: str) -> tuple[str, ...]:
    if not isinstance(value, list) or not value or not all(isinstance(v, str) and v.strip() for v in value):
        raise IndicatorSetInvalid(f"{where}: a non-empty list of names is required")
    if len(set(value)) != len(value):
        raise IndicatorSetInvalid(f"{where}: a name is listed twice")
    return tuple(value)


@cache
def load_indicator_set() -> IndicatorSet:
    """The indicator set in force, read and checked once per process."""
    text = resources.files("domain.data").joinpath(INDICATORS_FILE).read_text(encoding="utf-8")
    return IndicatorSet.from_mapping(tomllib.loads(text))


@dataclass(frozen=True)
class RatingInput:
    """A rating as its applicant gives it: `indicators` are the scores beside the overall `level`."""

    level: int
    indicators: Mapping[str, int]
    reasons: tuple[str, ...]
    text: str


def check_may_rate(status: str, already_rated: bool) -> None:
    """A case is rated once it has ended, and once only."""
    if status not in TERMINAL:
        raise RatingRefused(NOT_ENDED, "the application has not ended yet; it is rated once it has")
    if already_rated:
        raise RatingRefused(ALREADY_RATED, "this application has been rated; a rating cannot be given again")


def checked_rating(rating: RatingInput, channel: str, indicator_set: IndicatorSet) -> RatingInput:
    """The rating with its indicators completed by the overall level and its reasons de-duplicated.

    Raises RatingInvalid naming the field: a level outside 1-5, an indicator of another channel or
    scored outside 1-5, an overall score that is not the level, an unknown reason tag, and a 差评
    (level 2 or 1) with neither a reason nor a text.
    """
    _check_level(rating.level, ("level",))
    allowed = indicator_set.indicators(channel)
    for name, score in rating.indicators.items():
        if name not in allowed:
            raise RatingInvalid(("indicators", name), f"not an indicator of {channel} cases: {', '.join(allowed)}")
        _check_level(score, ("indicators", name))
    if rating.indicators.get(OVERALL, rating.level) != rating.level:
        raise RatingInvalid(("indicators", OVERALL), f"{OVERALL} is the rating's level ({rating.level})")
    reasons = tuple(dict.fromkeys(rating.reasons))
    unknown = [reason for reason in reasons if reason not in indicator_set.reasons]
    if unknown:
        raise RatingInvalid(("reasons",), f"unknown reason {unknown[0]!r}; one of: {', '.join(indicator_set.reasons)}")
    text = rating.text.strip()
    _check_text(text)
    if is_bad(rating.level) and not reasons and not text:
        raise RatingInvalid(
            ("reasons",), f"a rating of {rating.level} ({LEVELS[rating.level]}) needs a reason or a text"
        )
    indicators = {OVERALL: rating.level} | {
        name: rating.indicators[name] for name in allowed if name in rating.indicators
    }
    return RatingInput(level=rating.level, indicators=indicators, reasons=reasons, text=text)


def check_addendum(level: int, text: str, *, rated_level: int, answered: bool, has_addendum: bool) -> str:
    """The follow-up rating (追评): only of a 差评, only once its answer is given, only once.

    Returns the text stripped; raises RatingRefused (the state) or RatingInvalid (the fields)."""
    if not is_bad(rated_level):
        raise RatingRefused(NOT_A_BAD_RATING, "only a bad rating (不满意, 非常不满意) may be followed by another")
    if not answered:
        raise RatingRefused(NOT_ANSWERED, "the bad rating has not been answered yet")
    if has_addendum:
        raise RatingRefused(ADDENDUM_EXISTS, "a follow-up rating has been given already")
    _check_level(level, ("level",))
    text = text.strip()
    _check_text(text)
    return text


def _check_level(value: object, field: tuple[str, ...]) -> None:
    if isinstance(value, bool) or not isinstance(value, int) or value not in LEVELS:
        raise RatingInvalid(field, "a level is 1 to 5: " + ", ".join(f"{k} {v}" for k, v in LEVELS.items()))


def _check_text(text: str) -> None:
    if len(text) > TEXT_MAX:
        raise RatingInvalid(("text",), f"at most {TEXT_MAX} characters")
    if any(unicodedata.category(c) == "Cc" and c not in "\n\t" for c in text):
        raise RatingInvalid(("text",), "control characters are not allowed (line breaks are)")
