"""What the rules read and return: a described household (``Case``) and the result. Plain
data, so an assessment can be stored with its inputs and replayed (``snapshot``)."""

from __future__ import annotations

import datetime as dt
from dataclasses import asdict, dataclass, field
from decimal import Decimal

from beneficiaries import people

from .values import ZERO, Finding, money

# --- Inputs -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Income:
    type: str
    monthly_amount: Decimal


@dataclass(frozen=True)
class Person:
    id_number: str = ""
    relation: str = "other"
    lives_with_household: bool = True
    absence_reason: str = ""  # why the member lives away (``people.COUNTED_ABSENCES`` …)
    absence_counted: bool | None = None  # the reviewer's decision for "other"
    labour_capacity: str = ""  # a recorded override (full / partial / none); "" = derived
    disability_type: str = ""
    disability_grade: int | None = None
    serious_illness: bool = False
    self_care: str = "capable"  # capable / partial / none
    employment: str = ""
    studying_abroad_self_funded: bool = False
    works_without_income_proof: bool = False  # stable work, no proof: the imputed wage counts
    job_referrals_refused: int = 0  # refused without good reason (社会救助暂行办法 第四十五条)
    incomes: tuple[Income, ...] = ()

    @property
    def counts(self) -> bool:
        return people.counts(
            lives_with_household=self.lives_with_household,
            absence_reason=self.absence_reason,
            absence_counted=self.absence_counted,
        )

    def capacity(self, as_of: dt.date) -> str:
        return people.labour_capacity(
            birth_date=people.birth_date_of(self.id_number),
            as_of=as_of,
            recorded=self.labour_capacity,
            kind=self.disability_type,
            grade=self.disability_grade,
        )


@dataclass(frozen=True)
class Asset:
    type: str
    value: Decimal = ZERO
    area: Decimal | None = None
    count: int = 1
    built_or_bought_on: dt.date | None = None  # houses
    luxury_renovation: bool = False  # houses: luxuriously renovated within the period
    exempt_reason: str = ""  # houses: "disaster" or "relocation" (rebuilt, not excluding)


@dataclass(frozen=True)
class Expenditure:
    type: str  # medical / disability_care / education / other
    annual_amount: Decimal


@dataclass(frozen=True)
class Hardship:
    type: str  # medical / disaster / education / other
    applicant_class: str  # A / B / C / D
    expense: Decimal | None = None


@dataclass(frozen=True)
class Case:
    programme: str  # dibao / tekun / temporary
    residence: str  # urban / rural
    as_of: dt.date
    members: tuple[Person, ...]
    assets: tuple[Asset, ...] = ()
    hardship: Hardship | None = None
    rigid_spending_12m: Decimal | None = None  # for the 支出型 determination
    non_essential_purchases_6m: Decimal | None = None  # spending rule
    district_code: str = ""
    # Self-paid rigid costs with evidence over the last 12 months (medical and disability care
    # are deducted from income: always for 支出型, for 低保 when policy says so).
    expenditures: tuple[Expenditure, ...] = ()
    employs_others: bool = False
    single_member: str = ""  # 单人保: the ID number of the member assessed alone (低保)


# --- Outputs ----------------------------------------------------------------------------------


@dataclass
class Result:
    eligible: bool
    household_size: int
    counted_income_per_capita: Decimal | None
    standard: Decimal
    monthly_amount: Decimal | None = None
    one_off_amount: Decimal | None = None
    components: list[tuple[str, Decimal]] = field(default_factory=list)
    findings: list[Finding] = field(default_factory=list)
    deducted_expenditure_per_capita: Decimal | None = None
    suggested_class: str | None = None
    recommendation: dict | None = None

    def as_json(self) -> dict:
        def fmt(value):
            return None if value is None else f"{money(value)}"

        return {
            "eligible": self.eligible,
            "household_size": self.household_size,
            "counted_income_per_capita": fmt(self.counted_income_per_capita),
            "standard": fmt(self.standard),
            "monthly_amount": fmt(self.monthly_amount),
            "one_off_amount": fmt(self.one_off_amount),
            "components": [{"code": c, "amount": fmt(a)} for c, a in self.components],
            "findings": [asdict(f) for f in self.findings],
            "deducted_expenditure_per_capita": fmt(self.deducted_expenditure_per_capita),
            "suggested_class": self.suggested_class,
            "recommendation": self.recommendation,
        }
