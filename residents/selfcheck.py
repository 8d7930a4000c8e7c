"""自助测算: a family describes itself in a few answers and learns whether it may be eligible
and for about how much, by the eligibility engine's own rules and the figures in force. The
answers are neither stored nor logged; the window's investigation decides."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from django.utils import timezone
from django.utils.translation import gettext as _

from applications.models import Material, MaterialRequirement
from beneficiaries.models import Programme
from core.exceptions import DomainError
from eligibility import rules
from eligibility.selectors import policy_figure
from eligibility.services import assessment_preview
from eligibility.values import ZERO

# Income the means test counts, as the form asks for it (type codes of the register).
INCOME_FIELDS = (
    ("wage", "wage"),
    ("business", "business"),
    ("pension", "pension"),
    ("support", "support"),
    ("other_income", "property"),
)
CHECKED = (Programme.DIBAO, Programme.EXPENDITURE)


@dataclass(frozen=True)
class Answers:
    residence: str
    district_code: str
    household_size: int
    incomes: dict  # form field → monthly yuan
    deposits: Decimal
    vehicle: bool
    houses: bool  # two or more houses with more floor area per person than the limit
    company: bool
    medical_costs_12m: Decimal


def case_of(answers: Answers, programme: str) -> rules.Case:
    """The described family as the engine reads it: working-age members living together,
    the income on the first, the assets and self-paid medical costs as declared."""
    incomes = tuple(
        rules.Income(kind, answers.incomes[field])
        for field, kind in INCOME_FIELDS
        if answers.incomes.get(field)
    )
    members = tuple(
        rules.Person(relation="head" if i == 0 else "other", incomes=incomes if i == 0 else ())
        for i in range(answers.household_size)
    )
    assets = []
    if answers.deposits:
        assets.append(rules.Asset("deposit", value=answers.deposits))
    if answers.vehicle:
        assets.append(rules.Asset("vehicle"))
    if answers.company:
        assets.append(rules.Asset("company"))
    if answers.houses:
        # "Two or more houses with much floor area per person": the form's own words, told
        # to the houses rule as just over the limit in force.
        limit = policy_figure(
            "housing_area_limit", timezone.localdate(), answers.district_code, answers.residence
        )
        area = (limit + 1) * answers.household_size
        assets.append(rules.Asset("house", count=2, area=area))
    costs = answers.medical_costs_12m
    return rules.Case(
        programme=programme,
        residence=answers.residence,
        as_of=timezone.localdate(),
        members=members,
        assets=tuple(assets),
        district_code=answers.district_code[:6],
        expenditures=(rules.Expenditure("medical", costs),) if costs else (),
        rigid_spending_12m=costs if costs else None,
    )


def check(answers: Answers) -> dict:
    """低保 always; 支出型 (rigid-expenditure hardship) when the family has medical costs."""
    results = []
    checked = CHECKED if answers.medical_costs_12m else (Programme.DIBAO,)
    for programme in checked:
        try:
            result, _policy, _sources = assessment_preview(case=case_of(answers, programme))
        except DomainError:
            continue  # a figure missing for this district: say nothing rather than guess
        reasons = [f.message for f in result.findings if f.disqualifying] or [
            f.message for f in result.findings
        ]
        amount = result.monthly_amount if result.eligible else None
        results.append(
            {
                "programme": programme,
                "programme_label": str(Programme(programme).label),
                "likely_eligible": result.eligible,
                "estimated_monthly_amount": f"{amount:.2f}" if amount is not None else None,
                "standard": f"{result.standard:.2f}",
                "income_per_person": (
                    f"{result.counted_income_per_capita:.2f}"
                    if result.counted_income_per_capita is not None
                    else None
                ),
                "reasons": [str(reason) for reason in reasons],
            }
        )
    hopeful = [r["programme"] for r in results if r["likely_eligible"]] or [Programme.DIBAO]
    materials = [
        str(Material(code).label)
        for code in MaterialRequirement.objects.filter(programme__in=hopeful)
        .order_by("material")
        .values_list("material", flat=True)
        .distinct()
    ]
    return {"results": results, "materials": materials}


def answers_from(data: dict) -> Answers:
    """Answers from cleaned form or serializer data."""
    return Answers(
        residence=data["residence"],
        district_code=data["district"],
        household_size=data["household_size"],
        incomes={field: data.get(field) or ZERO for field, _kind in INCOME_FIELDS},
        deposits=data.get("deposits") or ZERO,
        vehicle=bool(data.get("vehicle")),
        houses=bool(data.get("houses")),
        company=bool(data.get("company")),
        medical_costs_12m=data.get("medical_costs_12m") or ZERO,
    )


def window_of(district) -> dict:
    return {
        "name": _("The social assistance window of your township (街道/乡镇) in %(district)s")
        % {"district": district.name},
        "phone": district.office_phone or "",
    }
