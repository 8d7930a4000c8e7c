"""The household's class A/B/C (分类管理, DESIGN.md §7) from its members: a pure rule that
``recertification.classes`` also runs as one SQL expression (the tests hold the two equal)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from beneficiaries.people import age_on, capacity_from_disability, counts

STABLE_EMPLOYMENT = frozenset({"employed", "retired"})


@dataclass(frozen=True)
class ClassMember:
    birth_date: dt.date
    lives_with_household: bool = True
    absence_reason: str = ""
    absence_counted: bool | None = None
    labour_capacity: str = ""  # recorded override; "" = from age and disability
    disability_type: str = ""
    disability_grade: int | None = None
    serious_illness: bool = False
    employment: str = ""
    has_pension: bool = False  # a pension in force; the basic resident pension is not one

    @property
    def counted(self) -> bool:
        return counts(
            lives_with_household=self.lives_with_household,
            absence_reason=self.absence_reason,
            absence_counted=self.absence_counted,
        )


def able_to_work(member: ClassMember, as_of: dt.date, working_from: int, retire_at: int) -> bool:
    """Counted in the household, of working age, with labour capacity (recorded, or from the
    disability table), not seriously ill."""
    if not member.counted:
        return False
    age = age_on(member.birth_date, as_of)
    capacity = member.labour_capacity or capacity_from_disability(
        member.disability_type, member.disability_grade
    )
    return working_from <= age < retire_at and capacity == "full" and not member.serious_illness


def household_class(
    members: list[ClassMember], as_of: dt.date, working_from: int = 16, retire_at: int = 60
) -> str:
    """A: nobody able to work (elderly, minors, severely disabled, seriously ill) — yearly.
    B: someone able to work, and a stable income source (steady employment, a pension; not
    the basic resident pension) — half-yearly. C: someone able to work, income irregular —
    quarterly."""
    able = [m for m in members if able_to_work(m, as_of, working_from, retire_at)]
    if not able:
        return "A"
    stable = any(
        m.counted and (m.employment in STABLE_EMPLOYMENT or m.has_pension) for m in members
    )
    return "B" if stable else "C"
