"""The means test and the benefit amounts: pure functions over plain data.

``assess(case, policy)`` needs no database: every figure comes in ``policy`` (resolved from
``PolicyValue`` rows by ``selectors.policy_for``), so an assessment stored with its inputs and
its policy gives the same result when run again years later. Each rule is a small function
that returns findings: a code, whether it disqualifies, and a sentence a clerk can read to
the family.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import asdict, dataclass, field
from decimal import ROUND_HALF_UP, Decimal

from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop

from beneficiaries.models import IncomeItem

FEN = Decimal("0.01")
ZERO = Decimal("0.00")
COUNTED_INCOME = frozenset(str(t) for t in IncomeItem.COUNTED)
HARDSHIP_LABELS = {
    "medical": gettext_noop("medical hardship"),
    "disaster": gettext_noop("major disaster or injury"),
    "education": gettext_noop("education hardship"),
    "other": gettext_noop("other special hardship"),
}


def money(value: Decimal) -> Decimal:
    return Decimal(value).quantize(FEN, rounding=ROUND_HALF_UP)


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
    labour_capacity: str = "full"  # full / partial / none
    self_care: str = "capable"  # capable / partial / none
    incomes: tuple[Income, ...] = ()


@dataclass(frozen=True)
class Asset:
    type: str
    value: Decimal = ZERO
    area: Decimal | None = None
    count: int = 1


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


@dataclass(frozen=True)
class Policy:
    """The figures in force for one case: ``values[kind]`` and the temporary-assistance table
    ``temporary_rates["A:medical"]`` (multiples of the monthly 低保 standard)."""

    values: dict[str, Decimal]
    temporary_rates: dict[str, Decimal] = field(default_factory=dict)

    def get(self, kind: str) -> Decimal:
        return self.values[kind]


# --- Outputs ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Finding:
    code: str
    disqualifying: bool
    message: str


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
        }


# --- Household composition and income -----------------------------------------------------------


def counted_members(case: Case) -> list[Person]:
    """Members who live together (共同生活) count; prisoners, clergy away, people in
    compulsory rehabilitation and the missing do not."""
    return [m for m in case.members if m.lives_with_household]


def counted_income(members: list[Person]) -> Decimal:
    """Wages, net business and property income, support received, pensions, unemployment
    insurance. Not 优抚/抚恤, family-planning rewards, scholarships, 见义勇为 awards,
    social-assistance payments or the basic resident pension."""
    return sum(
        (i.monthly_amount for m in members for i in m.incomes if i.type in COUNTED_INCOME), ZERO
    )


# --- Property rules ----------------------------------------------------------------------------


def deposits_rule(case: Case, policy: Policy, size: int, standard: Decimal) -> list[Finding]:
    held = sum((a.value for a in case.assets if a.type in ("deposit", "securities")), ZERO)
    limit = size * standard * policy.get("deposit_months")
    if held > limit:
        return [
            Finding(
                "deposits_over_limit",
                True,
                _(
                    "Deposits and securities of %(held)s yuan exceed the limit of %(limit)s yuan "
                    "(%(size)d members × %(standard)s yuan × %(months)s months)."
                )
                % {
                    "held": money(held),
                    "limit": money(limit),
                    "size": size,
                    "standard": money(standard),
                    "months": policy.get("deposit_months").normalize(),
                },
            )
        ]
    return []


def houses_rule(case: Case, policy: Policy, size: int) -> list[Finding]:
    houses = [a for a in case.assets if a.type == "house"]
    count = sum(a.count for a in houses)
    area = sum((a.area or ZERO for a in houses), ZERO)
    per_capita = area / size if size else area
    limit = policy.get("housing_area_limit")
    if count >= 2 and per_capita > limit:
        return [
            Finding(
                "houses_over_limit",
                True,
                _(
                    "The household owns %(count)d houses with %(area)s m² per person, above "
                    "%(limit)s m² per person."
                )
                % {"count": count, "area": money(per_capita), "limit": limit},
            )
        ]
    return []


_EXCLUDING_ASSETS = {
    "shopfront": ("shopfront_owned", gettext_noop("The household owns a shopfront.")),
    "vehicle": (
        "vehicle_owned",
        gettext_noop("The household owns a motor vehicle (other than a disability vehicle)."),
    ),
    "company": ("company_registered", gettext_noop("A member has a registered company.")),
    "machinery": ("machinery_owned", gettext_noop("The household owns large machinery.")),
}


def excluding_assets_rule(case: Case) -> list[Finding]:
    findings = []
    for asset_type, (code, message) in _EXCLUDING_ASSETS.items():
        if any(a.type == asset_type for a in case.assets):
            findings.append(Finding(code, True, _(message)))
    if any(a.type == "disability_vehicle" for a in case.assets):
        findings.append(
            Finding(
                "disability_vehicle_exempt",
                False,
                _("A disability vehicle does not count against the household."),
            )
        )
    return findings


def purchases_rule(case: Case, policy: Policy, size: int, standard: Decimal) -> list[Finding]:
    """Non-essential purchases within six months above size × standard × 5 exclude."""
    spent = case.non_essential_purchases_6m
    if spent is None:
        return []
    limit = size * standard * policy.get("purchase_months")
    if spent >= limit:  # "≥ size × standard × 5" (重庆 2013)
        return [
            Finding(
                "purchases_over_limit",
                True,
                _(
                    "Non-essential purchases of %(spent)s yuan in six months reach the limit of "
                    "%(limit)s yuan."
                )
                % {"spent": money(spent), "limit": money(limit)},
            )
        ]
    return []


def property_findings(case: Case, policy: Policy, size: int, standard: Decimal):
    return (
        deposits_rule(case, policy, size, standard)
        + houses_rule(case, policy, size)
        + excluding_assets_rule(case)
        + purchases_rule(case, policy, size, standard)
    )


# --- Determinations ----------------------------------------------------------------------------


def marginal_rule(per_capita: Decimal, standard: Decimal, policy: Policy) -> list[Finding]:
    line = standard * policy.get("marginal_multiple")
    if standard <= per_capita < line:
        return [
            Finding(
                "marginal",
                False,
                _(
                    "Income per person (%(income)s yuan) is below %(line)s yuan, %(multiple)s "
                    "times the standard: the household can be recognised as near-dibao (低保边缘)."
                )
                % {
                    "income": money(per_capita),
                    "line": money(line),
                    "multiple": policy.get("marginal_multiple").normalize(),
                },
            )
        ]
    return []


def expenditure_rule(case: Case, income: Decimal, policy: Policy) -> list[Finding]:
    """支出型贫困: rigid spending over the last 12 months above a share of the year's income."""
    if case.rigid_spending_12m is None:
        return []
    share = policy.get("expenditure_share")
    if case.rigid_spending_12m > income * 12 * share:
        return [
            Finding(
                "expenditure_hardship",
                False,
                _(
                    "Rigid spending of %(spending)s yuan over 12 months is above %(share)s of the "
                    "household's income for the year (%(income)s yuan): rigid-expenditure hardship "
                    "(支出型贫困)."
                )
                % {
                    "spending": money(case.rigid_spending_12m),
                    "share": f"{share * 100:.0f}%",
                    "income": money(income * 12),
                },
            )
        ]
    return []


def assess(case: Case, policy: Policy) -> Result:
    return {"dibao": assess_dibao, "tekun": assess_tekun, "temporary": assess_temporary}[
        case.programme
    ](case, policy)


def _base(case: Case, policy: Policy):
    members = counted_members(case)
    size = len(members)
    income = counted_income(members)
    standard = policy.get("dibao_standard")
    per_capita = income / size if size else None
    return members, size, income, standard, per_capita


def assess_dibao(case: Case, policy: Policy) -> Result:
    """(standard − counted income per person) × household size, per month, to the fen."""
    _members, size, income, standard, per_capita = _base(case, policy)
    result = Result(False, size, per_capita, standard)
    if not size:
        result.findings.append(
            Finding("no_member_lives_together", True, _("No member lives with the household."))
        )
        return result
    findings = property_findings(case, policy, size, standard)
    if per_capita >= standard:
        findings.append(
            Finding(
                "income_above_standard",
                True,
                _(
                    "Counted income per person (%(income)s yuan) is not below the standard of "
                    "%(standard)s yuan."
                )
                % {"income": money(per_capita), "standard": money(standard)},
            )
        )
    findings += marginal_rule(per_capita, standard, policy)
    findings += expenditure_rule(case, income, policy)
    result.findings = findings
    result.eligible = not any(f.disqualifying for f in findings)
    if result.eligible:
        amount = money(standard * size - income)
        minimum = policy.get("dibao_minimum_payment")
        if amount < minimum:
            findings.append(
                Finding(
                    "minimum_payment",
                    False,
                    _("Raised to the minimum payment of %(minimum)s yuan.") % {"minimum": minimum},
                )
            )
            amount = money(minimum)
        result.monthly_amount = amount
        result.components = [("dibao", amount)]
    return result


def no_labour_capacity(person: Person, as_of: dt.date) -> bool:
    """Without labour capacity: 60 or over, under 16 (by the ID number's birth date), or
    recorded so (severe disability, serious illness)."""
    if person.labour_capacity == "none":
        return True
    born = _birth_date(person.id_number)
    if born is None:
        return False
    age = as_of.year - born.year - ((as_of.month, as_of.day) < (born.month, born.day))
    return age >= 60 or age < 16


def _birth_date(number: str) -> dt.date | None:
    try:
        return dt.date(int(number[6:10]), int(number[10:12]), int(number[12:14]))
    except (ValueError, IndexError):
        return None


def assess_tekun(case: Case, policy: Policy) -> Result:
    """特困: each member living together without labour capacity, when the household's income
    is below the 低保 standard and its property within the limits, gets the basic living
    standard plus a nursing subsidy by self-care level."""
    members, size, _income, dibao_standard, per_capita = _base(case, policy)
    basic = policy.get("tekun_basic")
    result = Result(False, size, per_capita, basic)
    supported = [m for m in members if no_labour_capacity(m, case.as_of)]
    able = [m for m in members if m.labour_capacity == "full" and m not in supported]
    findings = property_findings(case, policy, size, dibao_standard) if size else []
    if supported and able:
        findings.append(
            Finding(
                "able_supporter",
                True,
                _("%(n)d member(s) living together are able to work and so able to support them.")
                % {"n": len(able)},
            )
        )
    if not supported:
        findings.append(
            Finding(
                "has_labour_capacity",
                True,
                _(
                    "No member living together is without labour capacity (60 or over, under 16, "
                    "or severely disabled)."
                ),
            )
        )
    if per_capita is not None and per_capita >= dibao_standard:
        findings.append(
            Finding(
                "income_above_standard",
                True,
                _(
                    "Counted income per person (%(income)s yuan) is not below the 低保 standard of "
                    "%(standard)s yuan."
                )
                % {"income": money(per_capita), "standard": money(dibao_standard)},
            )
        )
    findings.append(
        Finding(
            "supporter_check",
            False,
            _("Check that no one with a legal duty to support them is able to."),
        )
    )
    result.findings = findings
    result.eligible = not any(f.disqualifying for f in findings)
    if result.eligible:
        nursing = {
            "none": policy.get("tekun_nursing_full"),
            "partial": policy.get("tekun_nursing_partial"),
        }
        components = [("tekun_basic", money(basic * len(supported)))]
        subsidy = sum((nursing.get(m.self_care, ZERO) for m in supported), ZERO)
        if subsidy:
            components.append(("tekun_nursing", money(subsidy)))
        result.components = components
        result.monthly_amount = money(sum((a for _c, a in components), ZERO))
    return result


def assess_temporary(case: Case, policy: Policy) -> Result:
    """A one-off amount: the class × hardship multiple of the monthly 低保 standard, not above
    the expense (when given) nor the cap per case."""
    _members, size, _income, standard, per_capita = _base(case, policy)
    hardship = case.hardship
    multiple = policy.temporary_rates[f"{hardship.applicant_class}:{hardship.type}"]
    table_amount = amount = money(standard * multiple)
    findings = [
        Finding(
            "table_amount",
            False,
            _(
                "Class %(cls)s, %(type)s: %(multiple)s × the monthly standard of %(standard)s "
                "yuan = %(amount)s yuan."
            )
            % {
                "cls": hardship.applicant_class,
                "type": _(HARDSHIP_LABELS.get(hardship.type, hardship.type)),
                "multiple": multiple.normalize(),
                "standard": money(standard),
                "amount": table_amount,
            },
        )
    ]
    if hardship.expense is not None and hardship.expense <= 0:
        findings.append(Finding("no_expense", True, _("No expense is recorded for this hardship.")))
        return Result(False, size, per_capita, standard, None, None, [], findings)
    cap = policy.get("temporary_cap")
    if hardship.expense is not None and amount > hardship.expense:
        amount = money(hardship.expense)
        findings.append(
            Finding(
                "limited_to_expense",
                False,
                _("Limited to the expense of %(expense)s yuan.") % {"expense": amount},
            )
        )
    if amount > cap:
        amount = money(cap)
        findings.append(
            Finding(
                "capped",
                False,
                _("Limited to the cap of %(cap)s yuan per case.") % {"cap": money(cap)},
            )
        )
    limit = policy.get("township_temporary_limit")
    if amount <= limit:
        findings.append(
            Finding(
                "township_may_approve",
                False,
                _("Within the township's delegated limit of %(limit)s yuan: the township approves.")
                % {"limit": money(limit)},
            )
        )
    else:
        findings.append(
            Finding(
                "district_approves",
                False,
                _("Above the township's delegated limit of %(limit)s yuan: the district approves.")
                % {"limit": money(limit)},
            )
        )
    # One component, the amount paid; how the table amount was limited is in the findings.
    components = [("temporary", amount)]
    return Result(amount > 0, size, per_capita, standard, None, amount, components, findings)


# --- Classification for dynamic management (DESIGN.md §7) --------------------------------------


@dataclass(frozen=True)
class ClassMember:
    birth_date: dt.date
    lives_with_household: bool = True
    labour_capacity: str = "full"
    disability_grade: int | None = None
    serious_illness: bool = False
    employment: str = ""
    has_pension: bool = False


def able_to_work(member: ClassMember, as_of: dt.date, working_from: int, retire_at: int) -> bool:
    """Of working age, full labour capacity, not seriously ill, not grade 1–2 disabled."""
    if not member.lives_with_household:
        return False
    age = as_of.year - member.birth_date.year
    age -= (as_of.month, as_of.day) < (member.birth_date.month, member.birth_date.day)
    return (
        working_from <= age < retire_at
        and member.labour_capacity == "full"
        and not member.serious_illness
        and not (member.disability_grade is not None and member.disability_grade <= 2)
    )


STABLE_EMPLOYMENT = frozenset({"employed", "retired"})


def household_class(
    members: list[ClassMember], as_of: dt.date, working_from: int = 16, retire_at: int = 60
) -> str:
    """A: nobody able to work (elderly, minors, severely disabled, seriously ill) — yearly.
    B: someone able to work, and a stable income source (steady employment, a pension) —
    half-yearly. C: someone able to work, income irregular — quarterly."""
    able = [m for m in members if able_to_work(m, as_of, working_from, retire_at)]
    if not able:
        return "A"
    stable = any(
        m.lives_with_household and (m.employment in STABLE_EMPLOYMENT or m.has_pension)
        for m in members
    )
    return "B" if stable else "C"
