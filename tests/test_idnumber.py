import datetime as dt

import pytest
from django.core.exceptions import ValidationError
from django.utils import translation

from beneficiaries import idnumber

from .factories import make_id

TODAY = dt.date(2026, 11, 28)


@pytest.mark.parametrize(
    ("number", "birth", "sex"),
    [
        ("360426199101010071", dt.date(1991, 1, 1), "M"),  # python-stdnum's own example
        (make_id("19800101", seq=2), dt.date(1980, 1, 1), "F"),
        # A Chongqing code (500103) on a number of someone born in 1960, before the code
        # existed (1997): issued later, must be accepted.
        (make_id("19600315", area="500103", seq=11), dt.date(1960, 3, 15), "M"),
    ],
)
def test_valid(number, birth, sex):
    parsed = idnumber.parse(number, today=TODAY)
    assert (parsed.birth_date, parsed.sex) == (birth, sex)
    assert len(parsed.number) == 18


def test_spaces_and_hyphens_are_ignored():
    number = make_id("19600315", seq=11)
    assert (
        idnumber.parse(f" {number[:6]} {number[6:14]}-{number[14:]} ", today=TODAY).number == number
    )


def test_x_check_digit_and_lower_case_x():
    number = next(
        make_id("19750505", seq=s)
        for s in range(1, 999)
        if make_id("19750505", seq=s).endswith("X")
    )
    assert idnumber.parse(number.lower(), today=TODAY).number == number


def test_fullwidth_digits_are_accepted():
    number = make_id()
    fullwidth = number.translate(str.maketrans("0123456789X", "０１２３４５６７８９Ｘ"))
    assert idnumber.parse(fullwidth, today=TODAY).number == number


def _wrong_check(number):
    digits = "0123456789X"
    return number[:17] + next(d for d in digits if d != number[17])


@pytest.mark.parametrize(
    ("number", "code", "message"),
    [
        (_wrong_check(make_id()), "checksum", "校验位错误"),
        (make_id("20270101"), "birth_future", "在未来"),
        (make_id()[:17], "length", "应为18位"),
        (make_id() + "1", "length", "应为18位"),
        ("50010319800101A01X", "format", "17位数字"),
        ("50010319801301001X", "birth_date", "不是有效的出生日期"),
        ("99010319800101001X", "province", "不是有效的省级代码"),
        (make_id("18991231"), "birth_past", "早于1900年"),
        ("", "length", "应为18位"),
    ],
)
def test_invalid_with_chinese_message(number, code, message):
    with translation.override("zh-hans"), pytest.raises(ValidationError) as exc:
        idnumber.parse(number, today=TODAY)
    assert exc.value.code == code
    assert message in exc.value.messages[0], exc.value.messages[0]


def test_mask():
    assert idnumber.mask("50010319800101001X") == "500103********001X"
    assert idnumber.mask("123") == "***"
