"""Who counts in a household (共同生活) and who has labour capacity: the regulations' tables,
written once. The register checks what is entered against them, the means test
(``eligibility.rules``), the class rule and the public lists follow them."""

from __future__ import annotations

import datetime as dt

from django.db.models import Q

# Why a member lives away (DESIGN.md §5; 最低生活保障审核确认办法 2021, 第九条): studying
# (full-time students), working away and military service still count as living together;
# prison, compulsory isolation or rehabilitation, clergy living in a religious venue 3 years or
# more, and missing persons do not. "other" counts only when the township reviewer decides so.
COUNTED_ABSENCES = frozenset({"study", "work", "military"})
UNCOUNTED_ABSENCES = frozenset({"prison", "rehab", "religious", "missing"})
OTHER_ABSENCE = "other"

# No labour capacity from a disability (特困人员认定办法 2021, 第七条): grade 1–3 intellectual or
# mental, grade 1–2 physical, grade 1 visual. Multiple disabilities of grade 1–2 are treated
# like physical ones (an assumption: the regulation does not name them; docs/eligibility.md).
NO_CAPACITY_GRADES = {"intellectual": 3, "mental": 3, "physical": 2, "visual": 1, "multiple": 2}
# Under 16 and 60 or over: no labour capacity whatever is recorded (特困人员认定办法, 第六条).
CHILD_UNDER, ELDERLY_FROM = 16, 60


def counts(*, lives_with_household: bool, absence_reason: str, absence_counted) -> bool:
    """Whether a member counts in the household: living with it, or away for a reason that
    still counts, or away for another reason the reviewer decided counts."""
    if lives_with_household and not absence_reason:
        return True
    reason = absence_reason or OTHER_ABSENCE
    if reason in COUNTED_ABSENCES:
        return True
    return reason == OTHER_ABSENCE and absence_counted is True


def counted_q(prefix: str = "") -> Q:
    """``counts`` as a query condition on members (``prefix`` such as ``"members__"``)."""
    return (
        Q(**{f"{prefix}lives_with_household": True, f"{prefix}absence_reason": ""})
        | Q(**{f"{prefix}absence_reason__in": sorted(COUNTED_ABSENCES)})
        | Q(**{f"{prefix}absence_reason": OTHER_ABSENCE, f"{prefix}absence_counted": True})
    )


def awaiting_decision(*, lives_with_household: bool, absence_reason: str, absence_counted) -> bool:
    """Away for another reason, and nobody has decided yet whether the member counts."""
    away = not lives_with_household or bool(absence_reason)
    return away and (absence_reason or OTHER_ABSENCE) == OTHER_ABSENCE and absence_counted is None


def age_on(birth_date: dt.date | None, day: dt.date) -> int | None:
    if birth_date is None:
        return None
    return day.year - birth_date.year - ((day.month, day.day) < (birth_date.month, birth_date.day))


def birth_date_of(id_number: str) -> dt.date | None:
    try:
        return dt.date(int(id_number[6:10]), int(id_number[10:12]), int(id_number[12:14]))
    except (ValueError, IndexError):
        return None


def capacity_from_disability(kind: str, grade: int | None) -> str:
    """``none`` for the disabilities the table names, else ``full``."""
    limit = NO_CAPACITY_GRADES.get(kind or "")
    return "none" if limit is not None and grade is not None and grade <= limit else "full"


def labour_capacity(
    *, birth_date: dt.date | None, as_of: dt.date, recorded: str, kind: str, grade: int | None
) -> str:
    """The member's labour capacity: none under 16 and from 60; otherwise what a reviewer
    recorded (an override, with a reason) or, when nothing is recorded, what the disability
    gives."""
    age = age_on(birth_date, as_of)
    if age is not None and (age < CHILD_UNDER or age >= ELDERLY_FROM):
        return "none"
    return recorded or capacity_from_disability(kind, grade)


# 单人保 (重庆 2013): in a 低保边缘 family these members may be assessed and helped alone.
SINGLE_GRADE_3 = frozenset({"intellectual", "mental"})


def qualifies_alone(*, kind: str, grade: int | None, serious_illness: bool) -> bool:
    """A grade 1–2 disability, a grade-3 intellectual or mental disability, or a serious
    illness (重特大疾病)."""
    severe = grade is not None and (grade <= 2 or (grade == 3 and kind in SINGLE_GRADE_3))
    return severe or serious_illness
