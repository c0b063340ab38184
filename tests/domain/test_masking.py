"""Masking helpers and the free-text masker used by the log processor.

All identifiers here are generated; none belongs to a real person or vehicle.
"""

from __future__ import annotations

from datetime import date

import pytest
from hypothesis import given
from hypothesis import strategies as st

from domain.masking import (
    mask_address,
    mask_id_number,
    mask_name,
    mask_phone,
    mask_plate,
    mask_text,
    mask_vin,
)
from domain.validators import id_check_character, vin_check_digit

DIGITS = "0123456789"
VIN_ALPHABET = "0123456789ABCDEFGHJKLMNPRSTUVWXYZ"
MASKERS = (mask_id_number, mask_phone, mask_name, mask_plate, mask_vin, mask_address, mask_text)


def test_mask_id_number() -> None:
    assert mask_id_number("330302199001011234") == "3303**********1234"
    assert mask_id_number("33030219850214009X") == "3303**********009X"


def test_mask_phone() -> None:
    assert mask_phone("13800138000") == "138****8000"
    assert mask_phone("+86 138-0013-8000") == "+86 138-****-8000"
    assert mask_phone(13800138000) == "138****8000"


def test_mask_name() -> None:
    assert mask_name("张三") == "张*"
    assert mask_name("欧阳娜娜") == "欧***"
    assert mask_name("李") == "*"


def test_mask_plate() -> None:
    assert mask_plate("浙C12345") == "浙C1***5"
    assert mask_plate("浙CD12345") == "浙CD****5"
    assert mask_plate("浙C12345F") == "浙C1****F"


def test_mask_vin() -> None:
    assert mask_vin("LSVAU218XN2183294") == "LSVA*********3294"


def test_mask_address() -> None:
    assert mask_address("浙江省温州市鹿城区某某路1号") == "浙江省温州市********"
    assert mask_address("温州市") == "温州市"


@pytest.mark.parametrize("masker", MASKERS)
@pytest.mark.parametrize("value", [None, ""])
def test_empty_input_gives_empty_string(masker, value) -> None:
    assert masker(value) == ""


@pytest.mark.parametrize("masker", [m for m in MASKERS if m is not mask_text])
def test_blank_value_gives_empty_string(masker) -> None:
    assert masker("   ") == ""


def test_mask_text_keeps_layout() -> None:
    assert mask_text("  \n\t") == "  \n\t"


@pytest.mark.parametrize(
    ("masker", "short"),
    [(mask_id_number, "12345678"), (mask_phone, "1380013"), (mask_plate, "浙C1"), (mask_vin, "LSVA")],
)
def test_short_input_is_fully_starred(masker, short: str) -> None:
    assert masker(short) == "*" * len(short)


@pytest.mark.parametrize("masker", MASKERS)
@given(value=st.one_of(st.none(), st.text(), st.integers(), st.floats(), st.binary()))
def test_maskers_never_raise(masker, value) -> None:
    assert isinstance(masker(value), str)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("身份证330302198502141236，", "身份证3303**********1236，"),
        ("id=33030219850214009x;", "id=3303**********009x;"),
        ("tel 13800138000.", "tel 138****8000."),
        ("tel:+8613800138000", "tel:+86138****8000"),
        ("电话 138 0013 8000 或 138-0013-8000", "电话 138 **** 8000 或 138-****-8000"),
        ("vin=LSVAU218XN2183294", "vin=LSVA*********3294"),
        ("车架号lsvau218xn2183294号", "车架号lsva*********3294号"),
        ("vin 12345678712345678", "vin 1234*********5678"),
        ("车牌浙C12345，", "车牌浙C1***5，"),
        ("plate=浙CD12345 ok", "plate=浙CD****5 ok"),
        ("车牌浙C·12345", "车牌浙C·****5"),
        ("外地京A12345", "外地京A1***5"),
        (
            "run 01a21ef5-f138-1234-8918-d5910b31fd76 tel 138-0013-8000",
            "run 01a21ef5-f138-1234-8918-d5910b31fd76 tel 138-****-8000",
        ),
    ],
)
def test_mask_text_masks_each_kind(text: str, expected: str) -> None:
    assert mask_text(text) == expected


@pytest.mark.parametrize(
    "text",
    [
        "workflow permit-2025-000123 started 2025-06-01T10:00:00+08:00",
        "order 12345678901234567 accepted",
        "snowflake 1234567890123456789",
        "serial 138001380001234",
        "使用新feature发布",
        "token ABCDEFGHJKLMNPRSTUV",
        "温州市鹿城区 330302",
        "run 01a21ef5-f138-1234-8918-d5910b31fd76 started",
        "workflow permit-7C9E6679-7425-4138-0013-800046A3B1C2 evicted",
    ],
)
def test_mask_text_leaves_ordinary_text_alone(text: str) -> None:
    assert mask_text(text) == text


def id_numbers() -> st.SearchStrategy[str]:
    first17 = st.builds(
        lambda area, born, seq: f"{area}{born:%Y%m%d}{seq}",
        st.text(DIGITS, min_size=6, max_size=6),
        st.dates(min_value=date(1900, 1, 1), max_value=date(2025, 6, 1)),
        st.text(DIGITS, min_size=3, max_size=3),
    )
    return first17.map(lambda f: f + id_check_character(f))


def mobiles() -> st.SearchStrategy[str]:
    return st.builds(
        lambda second, rest: f"1{second}{rest}",
        st.sampled_from("3456789"),
        st.text(DIGITS, min_size=9, max_size=9),
    )


def vins() -> st.SearchStrategy[str]:
    body = st.text(VIN_ALPHABET, min_size=16, max_size=16)
    return body.map(lambda b: b[:8] + vin_check_digit(b[:8] + "0" + b[8:]) + b[8:])


@given(id_numbers())
def test_mask_id_number_preserves_length_and_hides(number: str) -> None:
    masked = mask_id_number(number)
    assert len(masked) == len(number)
    assert masked != number
    assert masked[4:14] == "*" * 10


@given(mobiles())
def test_mask_phone_preserves_length_and_hides(mobile: str) -> None:
    masked = mask_phone(mobile)
    assert len(masked) == len(mobile)
    assert masked != mobile
    assert masked[3:7] == "****"


@given(vins())
def test_mask_vin_preserves_length_and_hides(vin: str) -> None:
    masked = mask_vin(vin)
    assert len(masked) == len(vin)
    assert masked != vin
    assert masked[4:13] == "*" * 9


FILLER = st.text(st.sampled_from("的申请人车辆已提交材料温州鹿城 abcdefghjkmnprstuvwxyz:=,.()[]{}/_#"), max_size=12)
SEPARATORS = st.sampled_from([" ", "，", "：", "\n", "; ", "号", "|", "\t"])


@given(
    st.lists(
        st.tuples(FILLER, SEPARATORS, st.one_of(id_numbers(), mobiles(), vins()), SEPARATORS),
        min_size=1,
        max_size=6,
    ),
    FILLER,
)
def test_mask_text_never_leaves_an_inserted_identifier(parts: list[tuple[str, str, str, str]], tail: str) -> None:
    text = "".join(f"{filler}{before}{value}{after}" for filler, before, value, after in parts) + tail
    masked = mask_text(text)
    assert len(masked) == len(text)
    for _, _, value, _ in parts:
        assert value not in masked
