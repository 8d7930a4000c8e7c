"""Resident identity card numbers (居民身份证号码, GB 11643).

18 characters: a 6-digit address code, the birth date YYYYMMDD, a 3-digit sequence (odd for
men, even for women) and a check digit (0–9 or X). Birth date and sex are derived from the
number and never typed separately.

The address code is where the number was *issued*, not where its holder was born: anyone born
in Chongqing before 1997 carries a 50xxxx code that did not exist at their birth. So the code
is checked only for a real province prefix, never against the birth year (python-stdnum's
``validate`` does the latter and would reject real residents).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _
from stdnum.cn import ric

from core import masking

# GB/T 2260 province-level prefixes (and 71/81/82 for Taiwan, Hong Kong and Macao residents).
PROVINCES = frozenset(
    "11 12 13 14 15 21 22 23 31 32 33 34 35 36 37 41 42 43 44 45 46 50 51 52 53 54 61 62 63 64 "
    "65 71 81 82".split()
)
EARLIEST_BIRTH = dt.date(1900, 1, 1)


@dataclass(frozen=True)
class IdNumber:
    number: str
    birth_date: dt.date
    sex: str  # "M" or "F"


def normalize(value: str) -> str:
    """Strip spaces and hyphens, upper-case a trailing x, map full-width digits to ASCII."""
    value = (value or "").translate(_FULLWIDTH).replace(" ", "").replace("-", "")
    return value.strip().upper()


_FULLWIDTH = str.maketrans("０１２３４５６７８９Ｘｘ", "0123456789XX")


def parse(value: str, *, today: dt.date | None = None) -> IdNumber:
    """Validate and decode a number, or raise ValidationError with a message a clerk can act
    on (the ``code`` says which check failed)."""
    number = normalize(value)
    if len(number) != 18:
        raise ValidationError(
            _("An ID number has 18 characters; this one has %(n)d."),
            code="length",
            params={"n": len(number)},
        )
    if not number[:17].isdigit() or not (number[17].isdigit() or number[17] == "X"):
        raise ValidationError(
            _("An ID number is 17 digits followed by a digit or X."), code="format"
        )
    if number[:2] not in PROVINCES:
        raise ValidationError(
            _("The ID number starts with %(code)s, which is no province code."),
            code="province",
            params={"code": number[:2]},
        )
    try:
        birth = dt.date(int(number[6:10]), int(number[10:12]), int(number[12:14]))
    except ValueError:
        raise ValidationError(
            _("Digits 7–14 of the ID number (%(digits)s) are not a valid birth date."),
            code="birth_date",
            params={"digits": number[6:14]},
        ) from None
    if birth > (today or dt.date.today()):
        raise ValidationError(
            _("The birth date in the ID number (%(date)s) is in the future."),
            code="birth_future",
            params={"date": birth.isoformat()},
        )
    if birth < EARLIEST_BIRTH:
        raise ValidationError(
            _("The birth date in the ID number (%(date)s) is before 1900."),
            code="birth_past",
            params={"date": birth.isoformat()},
        )
    expected = ric.calc_check_digit(number)
    if number[17] != expected:
        raise ValidationError(
            _(
                "The check digit is wrong: the last character should be %(expected)s, not "
                "%(actual)s. Please compare every digit with the ID card."
            ),
            code="checksum",
            params={"expected": expected, "actual": number[17]},
        )
    return IdNumber(number=number, birth_date=birth, sex="M" if int(number[16]) % 2 else "F")


def mask(number: str) -> str:
    """For lists: the address code and the last four characters, e.g. 500103********123X."""
    return masking.mask_id(number)


def age_on(birth_date: dt.date, day: dt.date) -> int:
    return day.year - birth_date.year - ((day.month, day.day) < (birth_date.month, birth_date.day))


def mask_name(name: str) -> str:
    """A name as public notices print it: the first and last character kept, the rest
    starred (张*明; two characters 张*; one character *)."""
    name = (name or "").strip()
    if len(name) <= 1:
        return "*" if name else ""
    if len(name) == 2:
        return name[0] + "*"
    return name[0] + "*" * (len(name) - 2) + name[-1]
