"""The rules of the service rating: levels, reasons required for a 差评, once per case after its end,
the follow-up rating only after the answer and once, and the indicator set as checked data."""

from __future__ import annotations

from typing import Any

import pytest

from domain import rating
from domain.rating import (
    OVERALL,
    IndicatorSet,
    IndicatorSetInvalid,
    RatingInput,
    RatingInvalid,
    RatingRefused,
    check_addendum,
    check_may_rate,
    checked_rating,
    load_indicator_set,
)
from domain.statuses import TERMINAL, Status

INDICATORS = load_indicator_set()


def given(level: int, indicators: dict[str, int] | None = None, reasons: tuple[str, ...] = (), text: str = "") -> Any:
    return RatingInput(level=level, indicators=indicators or {}, reasons=reasons, text=text)


def test_the_five_levels_and_which_are_bad() -> None:
    assert rating.LEVELS == {5: "非常满意", 4: "满意", 3: "基本满意", 2: "不满意", 1: "非常不满意"}
    assert [level for level in rating.LEVELS if rating.is_bad(level)] == [2, 1]


def test_the_indicator_sets_in_force() -> None:
    assert INDICATORS.version
    assert INDICATORS.indicators("online") == ("整体满意度", "办事效率", "办事指南精确度", "办事便捷度", "平台操作性")
    assert INDICATORS.indicators("window") == ("整体满意度", "服务效率", "服务水平", "服务态度")
    assert "服务态度差" in INDICATORS.reasons


@pytest.mark.parametrize("status", sorted(TERMINAL))
def test_an_ended_case_may_be_rated_once(status: str) -> None:
    check_may_rate(status, already_rated=False)
    with pytest.raises(RatingRefused) as refused:
        check_may_rate(status, already_rated=True)
    assert refused.value.code == rating.ALREADY_RATED


@pytest.mark.parametrize("status", [Status.SUBMITTED, Status.FINAL_REVIEW, Status.DELIVERING])
def test_a_case_in_progress_may_not_be_rated(status: str) -> None:
    with pytest.raises(RatingRefused) as refused:
        check_may_rate(status, already_rated=False)
    assert refused.value.code == rating.NOT_ENDED


@pytest.mark.parametrize("level", [2, 1])
def test_a_bad_rating_needs_a_reason_or_a_text(level: int) -> None:
    with pytest.raises(RatingInvalid) as invalid:
        checked_rating(given(level, text="   "), "online", INDICATORS)
    assert invalid.value.field == ("reasons",)
    assert checked_rating(given(level, reasons=("多次跑动",)), "online", INDICATORS).reasons == ("多次跑动",)
    assert checked_rating(given(level, text=" 等了很久 "), "online", INDICATORS).text == "等了很久"


@pytest.mark.parametrize("level", [5, 4, 3])
def test_other_levels_need_nothing_more(level: int) -> None:
    checked = checked_rating(given(level), "window", INDICATORS)
    assert checked.indicators == {OVERALL: level} and checked.reasons == ()


def test_the_indicators_are_the_channels_and_scored_1_to_5() -> None:
    checked = checked_rating(given(4, {"平台操作性": 3, "办事效率": 5}), "online", INDICATORS)
    assert list(checked.indicators.items()) == [(OVERALL, 4), ("办事效率", 5), ("平台操作性", 3)]
    with pytest.raises(RatingInvalid) as other_channel:
        checked_rating(given(4, {"服务态度": 5}), "online", INDICATORS)
    assert other_channel.value.field == ("indicators", "服务态度")
    with pytest.raises(RatingInvalid) as out_of_range:
        checked_rating(given(4, {"服务态度": 6}), "window", INDICATORS)
    assert out_of_range.value.field == ("indicators", "服务态度")
    with pytest.raises(RatingInvalid) as overall:
        checked_rating(given(4, {OVERALL: 2}), "window", INDICATORS)
    assert overall.value.field == ("indicators", OVERALL)


@pytest.mark.parametrize("level", [0, 6, True])
def test_a_level_outside_1_to_5_is_refused(level: int) -> None:
    with pytest.raises(RatingInvalid) as invalid:
        checked_rating(given(level, reasons=("其他",)), "online", INDICATORS)
    assert invalid.value.field == ("level",)


def test_reasons_are_tags_of_the_set_and_kept_once() -> None:
    with pytest.raises(RatingInvalid) as invalid:
        checked_rating(given(1, reasons=("太慢了",)), "online", INDICATORS)
    assert invalid.value.field == ("reasons",)
    twice = checked_rating(given(1, reasons=("其他", "多次跑动", "其他")), "online", INDICATORS)
    assert twice.reasons == ("其他", "多次跑动")


@pytest.mark.parametrize("text", ["慢" * (rating.TEXT_MAX + 1), "慢\x00", "\x1b[31m差"])
def test_a_long_text_or_one_with_control_characters_is_refused(text: str) -> None:
    with pytest.raises(RatingInvalid) as invalid:
        checked_rating(given(3, text=text), "online", INDICATORS)
    assert invalid.value.field == ("text",)
    assert checked_rating(given(3, text="第一行\n第二行"), "online", INDICATORS).text == "第一行\n第二行"


def test_the_follow_up_rating_comes_after_the_answer_to_a_bad_rating_and_once() -> None:
    assert check_addendum(4, " 已解决 ", rated_level=2, answered=True, has_addendum=False) == "已解决"
    refusals = [
        ({"rated_level": 3, "answered": True, "has_addendum": False}, rating.NOT_A_BAD_RATING),
        ({"rated_level": 1, "answered": False, "has_addendum": False}, rating.NOT_ANSWERED),
        ({"rated_level": 1, "answered": True, "has_addendum": True}, rating.ADDENDUM_EXISTS),
    ]
    for state, code in refusals:
        with pytest.raises(RatingRefused) as refused:
            check_addendum(5, "", **state)
        assert refused.value.code == code
    with pytest.raises(RatingInvalid) as invalid:
        check_addendum(0, "", rated_level=1, answered=True, has_addendum=False)
    assert invalid.value.field == ("level",)


def valid_set() -> dict[str, Any]:
    return {
        "version": "t1",
        "channels": {"online": {"indicators": [OVERALL, "办事效率"]}, "window": {"indicators": [OVERALL]}},
        "reasons": {"tags": ["其他"]},
    }


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (lambda d: d.pop("version"), "version"),
        (lambda d: d["channels"].pop("window"), "channels"),
        (lambda d: d["channels"]["online"].update(indicators=["办事效率", OVERALL]), "first indicator"),
        (lambda d: d["channels"]["window"].update(indicators=[OVERALL, OVERALL]), "twice"),
        (lambda d: d["reasons"].update(tags=[]), "reasons"),
    ],
)
def test_a_broken_indicator_file_is_refused(change: Any, message: str) -> None:
    assert IndicatorSet.from_mapping(valid_set()).version == "t1"
    data = valid_set()
    change(data)
    with pytest.raises(IndicatorSetInvalid, match=message):
        IndicatorSet.from_mapping(data)
