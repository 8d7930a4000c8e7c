"""The means test and the benefit amounts: pure functions over plain data.

``assess(case, policy)`` needs no database: every figure comes in ``policy`` (resolved from
``PolicyValue`` rows by ``selectors.policy_for``), so an assessment stored with its inputs and
its policy gives the same result when run again years later. Each rule is a small function
that returns findings: a code, whether it disqualifies, and a sentence a clerk can read to
the family.
"""

from __future__ import annotations

from decimal import Decimal

from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop

from beneficiaries import people
from beneficiaries.models import IncomeItem

from . import classes
from .inputs import Asset, Case, Expenditure, Hardship, Income, Person, Result
from .property import property_findings
from .values import FEN, ZERO, Finding, Policy, money

# The rules' vocabulary, importable from here as one place.
__all__ = [
    "FEN",
    "ZERO",
    "Asset",
    "Case",
    "Expenditure",
    "Finding",
    "Hardship",
    "Income",
    "Person",
    "Policy",
    "Result",
    "money",
]

COUNTED_INCOME = frozenset(str(t) for t in IncomeItem.COUNTED)
HARDSHIP_LABELS = {
    "medical": gettext_noop("medical hardship"),
    "disaster": gettext_noop("major disaster or injury"),
    "education": gettext_noop("education hardship"),
    "other": gettext_noop("other special hardship"),
}

# Rigid costs that may be deducted from income (Chongqing 2013: disability and illness).
DEDUCTIBLE_EXPENDITURE = frozenset({"medical", "disability_care"})


# --- Household composition and income -----------------------------------------------------------


def counted_members(case: Case) -> list[Person]:
    """Members who live together (共同生活) count, and so do full-time students, workers and
    soldiers living away; prisoners, people in compulsory isolation or rehabilitation, clergy
    away 3+ years and the missing do not; "other" absences as the reviewer decided."""
    return [m for m in case.members if m.counts]


def counted_income(members: list[Person], policy: Policy) -> Decimal:
    """Wages, net business and property income, support received, pensions, unemployment
    insurance, and the imputed wage of stable work without proof. Not 优抚/抚恤,
    family-planning rewards, scholarships, 见义勇为 awards, social-assistance payments or the
    basic resident pension."""
    declared = sum(
        (i.monthly_amount for m in members for i in m.incomes if i.type in COUNTED_INCOME), ZERO
    )
    imputed = sum((policy.get("imputed_wage") for m in members if _imputed(m)), ZERO)
    return declared + imputed


def _imputed(member: Person) -> bool:
    return member.works_without_income_proof and not any(i.type == "wage" for i in member.incomes)


def rigid_deduction(case: Case) -> Decimal:
    """Self-paid medical and disability-care costs, averaged over the last 12 months."""
    yearly = sum(
        (e.annual_amount for e in case.expenditures if e.type in DEDUCTIBLE_EXPENDITURE), ZERO
    )
    return yearly / 12


def household_findings(case: Case, policy: Policy) -> list[Finding]:
    """What the reviewer must settle about who counts and what income is imputed."""
    findings = []
    undecided = [
        m
        for m in case.members
        if people.awaiting_decision(
            lives_with_household=m.lives_with_household,
            absence_reason=m.absence_reason,
            absence_counted=m.absence_counted,
        )
    ]
    if undecided:
        findings.append(
            Finding(
                "absence_undecided",
                False,
                _(
                    "%(n)d member(s) live away for another reason: not counted until the township "
                    "reviewer decides whether they live with the household."
                )
                % {"n": len(undecided)},
            )
        )
    imputed = [m for m in counted_members(case) if _imputed(m)]
    if imputed:
        findings.append(
            Finding(
                "wage_imputed",
                False,
                _(
                    "%(n)d member(s) in stable work without proof of income: %(wage)s yuan a month "
                    "(last year's average wage) is counted for each."
                )
                % {"n": len(imputed), "wage": money(policy.get("imputed_wage"))},
            )
        )
    return findings


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
    if case.programme == "dibao" and case.single_member:
        assess_programme = assess_single_member
    else:
        assess_programme = {
            "dibao": assess_dibao,
            "tekun": assess_tekun,
            "temporary": assess_temporary,
            "expenditure": assess_expenditure,
        }[case.programme]
    result = assess_programme(case, policy)
    result.findings = household_findings(case, policy) + result.findings
    result.suggested_class = suggested_class(case, policy)
    return result


def _base(case: Case, policy: Policy, *, deduct: bool = False):
    """Counted members and income; with ``deduct``, income after the rigid costs (never below
    zero)."""
    members = counted_members(case)
    size = len(members)
    income = counted_income(members, policy)
    deduction = rigid_deduction(case) if deduct else ZERO
    income = max(income - deduction, ZERO)
    standard = policy.get("dibao_standard")
    per_capita = income / size if size else None
    return members, size, income, standard, per_capita, (deduction / size if size else None)


def _dibao_amount(result: Result, size: int, income: Decimal, policy: Policy, code: str):
    """(standard × size − counted income), raised to the minimum payment if there is one."""
    amount = money(result.standard * size - income)
    minimum = policy.get("dibao_minimum_payment")
    if amount < minimum:
        result.findings.append(
            Finding(
                "minimum_payment",
                False,
                _("Raised to the minimum payment of %(minimum)s yuan.") % {"minimum": minimum},
            )
        )
        amount = money(minimum)
    result.monthly_amount = amount
    result.components = [(code, amount)]


def _income_above(per_capita: Decimal, standard: Decimal) -> Finding:
    return Finding(
        "income_above_standard",
        True,
        _(
            "Counted income per person (%(income)s yuan) is not below the standard of "
            "%(standard)s yuan."
        )
        % {"income": money(per_capita), "standard": money(standard)},
    )


def _deduction_finding(per_capita: Decimal) -> list[Finding]:
    if not per_capita:
        return []
    return [
        Finding(
            "rigid_expenditure_deducted",
            False,
            _(
                "Self-paid medical and disability-care costs of %(amount)s yuan per person a "
                "month (12-month average) are deducted from income."
            )
            % {"amount": money(per_capita)},
        )
    ]


def assess_dibao(case: Case, policy: Policy) -> Result:
    """(standard − counted income per person) × household size, per month, to the fen. Rigid
    medical and disability-care costs are deducted when the policy says so."""
    deduct = policy.values.get("dibao_deduct_rigid", ZERO) >= 1
    _members, size, income, standard, per_capita, deducted = _base(case, policy, deduct=deduct)
    result = Result(False, size, per_capita, standard)
    result.deducted_expenditure_per_capita = deducted if deduct else None
    if not size:
        result.findings.append(
            Finding("no_member_lives_together", True, _("No member lives with the household."))
        )
        return result
    findings = _deduction_finding(deducted) if deduct else []
    findings += property_findings(case, policy, size, standard)
    if per_capita >= standard:
        findings.append(_income_above(per_capita, standard))
    findings += marginal_rule(per_capita, standard, policy)
    findings += expenditure_rule(case, income, policy)
    result.findings = findings
    result.eligible = not any(f.disqualifying for f in findings)
    if result.eligible:
        _dibao_amount(result, size, income, policy, "dibao")
        _remove_refusers_shares(result, case, _members, per_capita, standard, policy)
    return result


def _remove_refusers_shares(result, case, members, per_capita, standard, policy) -> None:
    """A member able to work who refused the policy number of job referrals without good
    reason loses their share: one person's (standard − income per person)."""
    limit = int(policy.get("job_refusals_limit"))
    # Only members still able to work lose their share (第四十五条: 有劳动能力但未就业的成员).
    refusers = [
        m
        for m in members
        if m.job_referrals_refused >= limit
        and m.capacity(case.as_of) == "full"
        and not m.serious_illness
    ]
    if not refusers or not result.monthly_amount:
        return
    share = money(max(standard - per_capita, ZERO))
    removed = min(result.monthly_amount, share * len(refusers))
    result.monthly_amount = money(result.monthly_amount - removed)
    result.components = [(code, result.monthly_amount) for code, _a in result.components]
    nothing_left = result.monthly_amount <= ZERO
    if nothing_left:  # every share removed: nothing is payable, so nothing is granted
        result.eligible, result.monthly_amount, result.components = False, None, []
    result.findings.append(
        Finding(
            "job_refusals_share_removed",
            nothing_left,
            _(
                "%(n)d member(s) refused %(limit)d job referrals without good reason: their share "
                "of %(amount)s yuan is not paid."
            )
            % {"n": len(refusers), "limit": limit, "amount": removed},
        )
    )


def single_member_qualifies(person: Person) -> bool:
    return people.qualifies_alone(
        kind=person.disability_type,
        grade=person.disability_grade,
        serious_illness=person.serious_illness,
    )


def assess_single_member(case: Case, policy: Policy) -> Result:
    """单人保: in a 低保边缘 family (income per person below the marginal line) a severely
    disabled or seriously ill member is assessed alone: household size 1, the member's own
    income; the family's property still counts."""
    deduct = policy.values.get("dibao_deduct_rigid", ZERO) >= 1
    members, size, _income, standard, per_capita, _deducted = _base(case, policy, deduct=deduct)
    person = next((m for m in members if m.id_number == case.single_member), None)
    result = Result(False, 1, None, standard)
    findings = []
    if person is None:
        findings.append(
            Finding(
                "single_member_unknown",
                True,
                _("The member to be assessed alone is not a counted member of this household."),
            )
        )
    elif not single_member_qualifies(person):
        findings.append(
            Finding(
                "single_member_not_eligible",
                True,
                _(
                    "Only a member with a grade 1–2 disability, a grade-3 intellectual or mental "
                    "disability or a serious illness can be assessed alone."
                ),
            )
        )
    line = standard * policy.get("marginal_multiple")
    if per_capita is not None and per_capita < standard:
        findings.append(
            Finding(
                "family_eligible",
                True,
                _(
                    "The family's income per person (%(income)s yuan) is below the 低保 standard: "
                    "the whole household applies, not one member alone."
                )
                % {"income": money(per_capita)},
            )
        )
    elif per_capita is None or per_capita >= line:
        findings.append(
            Finding(
                "not_marginal_family",
                True,
                _(
                    "The family's income per person (%(income)s yuan) is not below the 低保边缘 "
                    "line of %(line)s yuan, so no member is assessed alone."
                )
                % {"income": money(per_capita or ZERO), "line": money(line)},
            )
        )
    findings += property_findings(case, policy, size, standard) if size else []
    if person is not None and not any(f.disqualifying for f in findings):
        own = counted_income([person], policy)
        result.counted_income_per_capita = own
        if own >= standard:
            findings.append(_income_above(own, standard))
        findings.insert(
            0,
            Finding(
                "single_member",
                False,
                _("单人保: the member is assessed alone, on their own income of %(income)s yuan.")
                % {"income": money(own)},
            ),
        )
        result.findings = findings
        result.eligible = not any(f.disqualifying for f in findings)
        if result.eligible:
            _dibao_amount(result, 1, own, policy, "dibao")
        return result
    result.findings = findings
    return result


def assess_expenditure(case: Case, policy: Policy) -> Result:
    """支出型贫困: the 低保 test on income after the rigid medical and disability-care costs.
    Eligible: the 低保 formula on that income. Otherwise 临时救助 is recommended, with the
    applicant class the household would fall in."""
    _members, size, income, standard, per_capita, deducted = _base(case, policy, deduct=True)
    result = Result(False, size, per_capita, standard)
    result.deducted_expenditure_per_capita = deducted
    if not size:
        result.findings.append(
            Finding("no_member_lives_together", True, _("No member lives with the household."))
        )
        return result
    findings = _deduction_finding(deducted) + property_findings(case, policy, size, standard)
    if per_capita >= standard:
        findings.append(_income_above(per_capita, standard))
    result.findings = findings
    result.eligible = not any(f.disqualifying for f in findings)
    if result.eligible:
        _dibao_amount(result, size, income, policy, "expenditure")
        _remove_refusers_shares(result, case, _members, per_capita, standard, policy)
        return result
    applicant_class = temporary_class(per_capita, standard, policy)
    result.recommendation = {"programme": "temporary", "applicant_class": applicant_class}
    findings.append(
        Finding(
            "recommend_temporary",
            False,
            _(
                "Not eligible for 支出型 assistance: consider 临时救助 for the hardship, as "
                "applicant class %(cls)s."
            )
            % {"cls": applicant_class},
        )
    )
    return result


def temporary_class(per_capita: Decimal, standard: Decimal, policy: Policy) -> str:
    """The 临时救助 applicant class by income per person (after rigid costs): A below the 低保
    standard, B below the 低保边缘 line, C below the policy multiple, D above (the class lines
    other than the standard are assumptions, docs/eligibility.md)."""
    if per_capita < standard:
        return "A"
    if per_capita < standard * policy.get("marginal_multiple"):
        return "B"
    if per_capita < standard * policy.get("temporary_class_c_multiple"):
        return "C"
    return "D"


def suggested_class(case: Case, policy: Policy) -> str | None:
    """The class A/B/C the household would have once approved (DESIGN.md §7), when every
    member's birth date is known from the ID number."""
    members = []
    assessed = [m for m in case.members if m.id_number == case.single_member] or case.members
    for m in assessed:
        born = people.birth_date_of(m.id_number)
        if born is None:
            return None
        members.append(
            classes.ClassMember(
                birth_date=born,
                lives_with_household=m.lives_with_household,
                absence_reason=m.absence_reason,
                absence_counted=m.absence_counted,
                labour_capacity=m.labour_capacity,
                disability_type=m.disability_type,
                disability_grade=m.disability_grade,
                serious_illness=m.serious_illness,
                employment=m.employment,
                has_pension=any(i.type == "pension" for i in m.incomes),
            )
        )
    return classes.household_class(
        members,
        case.as_of,
        int(policy.get("working_age_from")),
        int(policy.get("retirement_age")),
    )


def assess_tekun(case: Case, policy: Policy) -> Result:
    """特困: each member living together without labour capacity, when the household's income
    is below the 低保 standard and its property within the limits, gets the basic living
    standard plus a nursing subsidy by self-care level."""
    members, size, _income, dibao_standard, per_capita, _deducted = _base(case, policy)
    basic = policy.get("tekun_basic")
    result = Result(False, size, per_capita, basic)
    supported = [m for m in members if m.capacity(case.as_of) == "none"]
    able = [m for m in members if m.capacity(case.as_of) == "full"]
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
                    "grade 1–3 intellectual or mental, grade 1–2 physical or grade 1 visual "
                    "disability)."
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
    _members, size, _income, standard, per_capita, _deducted = _base(case, policy)
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
