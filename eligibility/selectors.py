from __future__ import annotations

import datetime as dt
from collections import defaultdict
from dataclasses import dataclass
from decimal import Decimal

from django.db.models import Case as DbCase
from django.db.models import IntegerField, Q, Value, When
from django.utils.translation import gettext as _

from core.exceptions import DomainError, ValidationFailed

from . import rules
from .models import PolicyValue, TemporaryRate


class PolicyMissing(DomainError):
    default_code = "policy_missing"


# The figures each programme's rules read.
_HOUSEHOLD = ("dibao_standard", "imputed_wage", "working_age_from", "retirement_age")
_COMMON = (
    *_HOUSEHOLD,
    "purchase_months",
    "deposit_months",
    "housing_area_limit",
    "house_purchase_years",
    "marginal_multiple",
    "expenditure_share",
)
REQUIRED = {
    "dibao": (*_COMMON, "dibao_minimum_payment", "dibao_deduct_rigid", "job_refusals_limit"),
    "tekun": (*_COMMON, "tekun_basic", "tekun_nursing_full", "tekun_nursing_partial"),
    "temporary": (*_HOUSEHOLD, "temporary_cap", "township_temporary_limit"),
    "expenditure": (
        *_COMMON,
        "dibao_minimum_payment",
        "temporary_class_c_multiple",
        "job_refusals_limit",
    ),
}


# How specific a policy row is: a district's own for one residence type, a district's own,
# the city's for one residence type, the city's for both.
_SPECIFIC = DbCase(
    When(~Q(district_code="") & ~Q(residence=""), then=Value(3)),
    When(~Q(district_code=""), then=Value(2)),
    When(~Q(residence=""), then=Value(1)),
    default=Value(0),
    output_field=IntegerField(),
)


def policy_for(
    *, as_of: dt.date, residence: str, district_code: str = "", programme: str = "dibao"
) -> tuple[rules.Policy, dict]:
    """The figures in force on the first of ``as_of``'s month for this residence type and
    district, and where each came from. The latest start wins, so a new standard applies from
    its month whoever set it; among rows starting the same month the most specific wins (a
    district's own figure over the city's, a residence-specific one over one for both).
    Two queries however many figures there are."""
    month = as_of.replace(day=1)
    rows = (
        PolicyValue.objects.filter(
            effective_from__lte=month,
            residence__in=[residence, ""],
            district_code__in=[district_code, ""] if district_code else [""],
        )
        .annotate(specific=_SPECIFIC)
        .order_by("kind", "-effective_from", "-specific")
    )
    values, sources = {}, {}
    for row in rows.filter(kind__in=REQUIRED[programme]):
        if row.kind not in values:
            values[row.kind] = row.value
            sources[row.kind] = {
                "id": row.pk,
                "effective_from": row.effective_from.isoformat(),
                "source": row.source,
                "assumed": row.is_assumption,
            }
    missing = [
        label
        for kind, label in PolicyValue.Kind.choices
        if kind in REQUIRED[programme] and kind not in values
    ]
    if missing:
        raise PolicyMissing(
            _(
                "No figure is in force on %(date)s for: %(kinds)s. The city "
                "administrator must enter it."
            )
            % {"date": month.isoformat(), "kinds": "; ".join(str(m) for m in missing)}
        )
    rates = {}
    if programme != "temporary":
        return rules.Policy(values, rates), sources
    for rate in TemporaryRate.objects.filter(effective_from__lte=month).order_by(
        "applicant_class", "hardship", "-effective_from"
    ):
        key = f"{rate.applicant_class}:{rate.hardship}"
        if key not in rates:
            rates[key] = rate.multiple
            sources[f"rate:{key}"] = {
                "id": rate.pk,
                "effective_from": rate.effective_from.isoformat(),
                "source": rate.source,
                "assumed": rate.is_assumption,
            }
    return rules.Policy(values, rates), sources


def household_case(
    *,
    household,
    programme: str,
    as_of: dt.date,
    hardship: rules.Hardship | None = None,
    single_member: str = "",
) -> rules.Case:
    """The rules' view of a registered household: current members with the income items in
    force on ``as_of`` and their job referrals, its assets and its rigid spending. Five
    queries."""
    from decimal import Decimal

    from django.db.models import Prefetch

    from beneficiaries.models import IncomeItem, JobReferral

    in_force = IncomeItem.objects.filter(
        Q(period_start__isnull=True) | Q(period_start__lte=as_of),
        Q(period_end__isnull=True) | Q(period_end__gte=as_of),
    )
    members = (
        household.members.filter(is_current=True)
        .order_by("id")
        .prefetch_related(
            Prefetch("incomes", queryset=in_force),
            Prefetch(
                "job_referrals",
                queryset=JobReferral.objects.filter(offered_on__lte=as_of).order_by(
                    "-offered_on", "-id"
                ),
            ),
        )
    )
    people = tuple(
        rules.Person(
            id_number=m.id_number,
            relation=m.relation,
            lives_with_household=m.lives_with_household,
            absence_reason=m.absence_reason,
            absence_counted=m.absence_counted,
            labour_capacity=m.labour_capacity,
            disability_type=m.disability_type,
            disability_grade=m.disability_grade,
            serious_illness=m.serious_illness,
            self_care=m.self_care,
            employment=m.employment,
            studying_abroad_self_funded=m.studying_abroad_self_funded,
            works_without_income_proof=m.works_without_income_proof,
            job_referrals_refused=refusals_in_a_row(m.job_referrals.all()),
            incomes=tuple(rules.Income(i.type, i.monthly_amount) for i in m.incomes.all()),
        )
        for m in members
    )
    assets = tuple(
        rules.Asset(
            a.type,
            a.value,
            a.area,
            a.count,
            a.built_or_bought_on,
            a.luxury_renovation,
            a.exempt_reason,
        )
        for a in household.assets.all()
    )
    spending = list(household.expenditures.all())
    return rules.Case(
        programme=programme,
        residence=household.residence_type,
        as_of=as_of,
        members=people,
        assets=assets,
        hardship=hardship,
        rigid_spending_12m=sum((e.amount_12m for e in spending), Decimal("0.00"))
        if spending
        else None,
        district_code=household.region.code[:6],
        expenditures=tuple(
            rules.Expenditure(e.type, e.amount_12m) for e in spending if e.evidenced
        ),
        employs_others=household.employs_others,
        single_member=single_member,
    )


def refusals_in_a_row(referrals) -> int:
    """Refusals without good reason since the last job accepted (newest first; answers still
    pending and justified refusals neither count nor break the run): 连续 in 第四十五条."""
    count = 0
    for referral in referrals:
        if referral.outcome == "accepted":
            break
        count += referral.outcome == "refused"
    return count


def policy_figure(kind: str, on: dt.date, district_code: str = "", residence: str = "") -> Decimal:
    """One figure in force on the first of ``on``'s month (policy data): the latest start
    wins, and among rows starting the same month the most specific (a district's own over the
    city's, a residence-specific one over one for both), as in ``policy_for``."""
    districts = [district_code[:6], ""] if district_code else [""]
    row = (
        PolicyValue.objects.filter(
            kind=kind,
            residence__in=[residence, ""] if residence else [""],
            district_code__in=districts,
            effective_from__lte=on.replace(day=1),
        )
        .annotate(specific=_SPECIFIC)
        .order_by("-effective_from", "-specific")
        .first()
    )
    if row is None:
        raise ValidationFailed(
            [("", _("No figure is set for %(kind)s.") % {"kind": PolicyValue.Kind(kind).label})]
        )
    return row.value


def policy_figures(kind: str, on: dt.date):
    """``policy_figure`` for every district and residence at once: the rows in force read in
    one query, resolved in memory by the same rule (latest start, then most specific).
    Returns ``figure(district_code, residence) -> Decimal | None`` (None: nothing set)."""
    rows = list(
        PolicyValue.objects.filter(kind=kind, effective_from__lte=on.replace(day=1))
        .annotate(specific=_SPECIFIC)
        .order_by("-effective_from", "-specific")
        .values_list("district_code", "residence", "value")
    )

    def figure(district_code: str = "", residence: str = "") -> Decimal | None:
        districts = (district_code[:6], "") if district_code else ("",)
        for district, applies_to, value in rows:
            if district in districts and applies_to in (residence, ""):
                return value
        return None

    return figure


class HouseholdCases:
    """``household_case`` for many households at once, for set-based work such as a new
    standard (``recertification.recalculation``): the members, their income items and job
    referrals, the assets and the spending of every household in ``household_ids`` (a list or
    a subquery of ids) are read in five queries whatever their number; ``case`` then builds
    each household's ``Case`` for any month without a query. The tests hold its cases to
    ``household_case``'s."""

    def __init__(self, household_ids):
        from beneficiaries.models import Asset, Expenditure, IncomeItem, JobReferral, Member

        members = Member.objects.filter(household_id__in=household_ids, is_current=True)
        self._members: dict[int, list[tuple]] = defaultdict(list)
        for row in members.order_by("household_id", "id").values_list(
            "household_id", "id", *_PERSON_FIELDS
        ):
            self._members[row[0]].append(row[1:])
        self._incomes: dict[int, list[tuple]] = defaultdict(list)
        for member_id, *item in IncomeItem.objects.filter(
            member__household_id__in=household_ids, member__is_current=True
        ).values_list("member_id", "type", "monthly_amount", "period_start", "period_end"):
            self._incomes[member_id].append(item)
        self._referrals: dict[int, list[tuple]] = defaultdict(list)
        # Newest first, as ``refusals_in_a_row`` reads them.
        for member_id, offered_on, outcome in (
            JobReferral.objects.filter(
                member__household_id__in=household_ids, member__is_current=True
            )
            .order_by("member_id", "-offered_on", "-id")
            .values_list("member_id", "offered_on", "outcome")
        ):
            self._referrals[member_id].append((offered_on, outcome))
        self._assets: dict[int, list[rules.Asset]] = defaultdict(list)
        for household_id, *asset in Asset.objects.filter(
            household_id__in=household_ids
        ).values_list(
            "household_id",
            "type",
            "value",
            "area",
            "count",
            "built_or_bought_on",
            "luxury_renovation",
            "exempt_reason",
        ):
            self._assets[household_id].append(rules.Asset(*asset))
        self._spending: dict[int, list[tuple]] = defaultdict(list)
        for household_id, *spent in Expenditure.objects.filter(
            household_id__in=household_ids
        ).values_list("household_id", "type", "amount_12m", "evidenced"):
            self._spending[household_id].append(spent)
        self._people: dict[tuple[int, dt.date], tuple[rules.Person, ...]] = {}

    def case(
        self,
        *,
        household_id: int,
        residence: str,
        region_code: str,
        employs_others: bool,
        programme: str,
        as_of: dt.date,
        single_member: str = "",
    ) -> rules.Case:
        """What ``household_case`` gives for the household (its residence type, region code
        and ``employs_others`` come from the caller, who has read them with its own rows)."""
        spending = self._spending.get(household_id, ())
        return rules.Case(
            programme=programme,
            residence=residence,
            as_of=as_of,
            members=self._people_on(household_id, as_of),
            assets=tuple(self._assets.get(household_id, ())),
            rigid_spending_12m=sum((amount for _t, amount, _e in spending), Decimal("0.00"))
            if spending
            else None,
            district_code=region_code[:6],
            expenditures=tuple(
                rules.Expenditure(kind, amount) for kind, amount, evidenced in spending if evidenced
            ),
            employs_others=employs_others,
            single_member=single_member,
        )

    def _people_on(self, household_id: int, as_of: dt.date) -> tuple[rules.Person, ...]:
        """The household's members as the rules see them on ``as_of`` (kept: the household's
        other entitlements are assessed on the same month)."""
        key = (household_id, as_of)
        if key not in self._people:
            self._people[key] = tuple(
                self._person(member_id, fields, as_of)
                for member_id, *fields in self._members.get(household_id, ())
            )
        return self._people[key]

    def _person(self, member_id: int, fields: list, as_of: dt.date) -> rules.Person:
        incomes = tuple(
            rules.Income(kind, amount)
            for kind, amount, start, end in self._incomes.get(member_id, ())
            if (start is None or start <= as_of) and (end is None or end >= as_of)
        )
        offered = [
            _Referral(outcome)
            for offered_on, outcome in self._referrals.get(member_id, ())
            if offered_on <= as_of
        ]
        return rules.Person(
            **dict(zip(_PERSON_FIELDS, fields, strict=True)),
            job_referrals_refused=refusals_in_a_row(offered),
            incomes=incomes,
        )


# The member's columns that ``rules.Person`` takes as they are (as ``household_case`` reads).
_PERSON_FIELDS = (
    "id_number",
    "relation",
    "lives_with_household",
    "absence_reason",
    "absence_counted",
    "labour_capacity",
    "disability_type",
    "disability_grade",
    "serious_illness",
    "self_care",
    "employment",
    "studying_abroad_self_funded",
    "works_without_income_proof",
)


@dataclass(frozen=True)
class _Referral:
    outcome: str
