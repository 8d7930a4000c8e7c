"""Classes A/B/C (分类管理, DESIGN.md §7): the rule of ``eligibility.classes.household_class``
for one household, and the same rule as one SQL expression that the nightly job runs over
every live entitlement. The tests hold the two to the same answers."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict

from django.db import transaction
from django.db.models import Case, CharField, Exists, F, OuterRef, Q, Subquery, Value, When
from django.db.models.functions import Least
from django.utils import timezone
from django.utils.translation import gettext as _

from beneficiaries import people
from beneficiaries.models import Entitlement, EntitlementChange, Household, IncomeItem, Member
from core.months import add_months, next_month
from eligibility import classes
from eligibility.selectors import policy_figure

from .selectors import LIVE

# A pension in force is a stable income source; the basic resident pension
# (城乡居民基本养老保险) is not.
PENSIONS = (IncomeItem.Type.PENSION,)
CHUNK = 10_000


def IN_FORCE(today: dt.date) -> Q:
    """An income item in force on ``today`` (as ``IncomeItem.in_force``)."""
    return (Q(period_start__isnull=True) | Q(period_start__lte=today)) & (
        Q(period_end__isnull=True) | Q(period_end__gte=today)
    )


def _years_before(day: dt.date, years: int) -> dt.date:
    try:
        return day.replace(year=day.year - years)
    except ValueError:  # 29 February
        return day.replace(year=day.year - years, day=28)


def review_months(klass: str, today: dt.date, residence: str = "", district_code: str = "") -> int:
    """Months between reviews of a class, as policy data sets them for the household's
    residence type and district (a city may review urban class C monthly)."""
    return int(policy_figure(f"review_months_{klass.lower()}", today, district_code, residence))


def review_months_for(klass: str, today: dt.date, household: Household) -> int:
    return review_months(klass, today, household.residence_type, household.region.code)


def _no_capacity_from_disability() -> Q:
    """``people.capacity_from_disability`` == "none", as a condition on members."""
    condition = Q(pk__in=[])
    for kind, grade in people.NO_CAPACITY_GRADES.items():
        condition |= Q(disability_type=kind, disability_grade__lte=grade)
    return condition


def derived_class(today: dt.date):
    """The class rule of ``eligibility.classes.household_class`` as one SQL expression over an
    Entitlement queryset (the tests hold the two to the same answers): over the household's
    counted members, or over the one member of a 单人保 entitlement."""
    household = Member.objects.filter(household=OuterRef("household"), is_current=True).filter(
        people.counted_q()
    )
    alone = Member.objects.filter(
        pk=OuterRef("member"), household=OuterRef("household"), is_current=True
    ).filter(people.counted_q())
    household_pensions = IncomeItem.objects.filter(
        member__household=OuterRef("household"), member__is_current=True
    ).filter(people.counted_q("member__"))
    alone_pensions = IncomeItem.objects.filter(
        member=OuterRef("member"), member__household=OuterRef("household"), member__is_current=True
    ).filter(people.counted_q("member__"))
    return Case(
        When(member__isnull=True, then=_class_of(household, household_pensions, today)),
        default=_class_of(alone, alone_pensions, today),
        output_field=CharField(),
    )


def _class_of(members, incomes, today: dt.date):
    working_from = int(policy_figure("working_age_from", today))
    retire_at = int(policy_figure("retirement_age", today))
    capable = Q(labour_capacity=Member.Labour.FULL) | (
        Q(labour_capacity=Member.Labour.DERIVED) & ~_no_capacity_from_disability()
    )
    able = Exists(
        members.filter(
            capable,
            birth_date__lte=_years_before(today, working_from),
            birth_date__gt=_years_before(today, retire_at),
            serious_illness=False,
        )
    )
    stable = Exists(members.filter(employment__in=sorted(classes.STABLE_EMPLOYMENT))) | Exists(
        incomes.filter(type__in=PENSIONS).filter(IN_FORCE(today))
    )
    return Case(
        When(~able, then=Value("A")),
        When(stable, then=Value("B")),
        default=Value("C"),
        output_field=CharField(),
    )


def class_for_entitlement(entitlement: Entitlement, today: dt.date) -> str:
    """The class of an entitlement: its household's, or its one member's (单人保)."""
    if entitlement.member_id:
        return class_for_household(entitlement.household, today, only=entitlement.member_id)
    return class_for_household(entitlement.household, today)


def class_for_household(household: Household, today: dt.date, only: int | None = None) -> str:
    """The rule in Python, for one household (used when a reviewer decides); with ``only``,
    for that member alone."""
    pensioners = set(
        IncomeItem.objects.filter(member__household=household, type__in=PENSIONS)
        .filter(IN_FORCE(today))
        .values_list("member_id", flat=True)
    )
    members = [
        classes.ClassMember(
            birth_date=m.birth_date,
            lives_with_household=m.lives_with_household,
            absence_reason=m.absence_reason,
            absence_counted=m.absence_counted,
            labour_capacity=m.labour_capacity,
            disability_type=m.disability_type,
            disability_grade=m.disability_grade,
            serious_illness=m.serious_illness,
            employment=m.employment,
            has_pension=m.pk in pensioners,
        )
        for m in household.members.filter(is_current=True)
        if only is None or m.pk == only
    ]
    return classes.household_class(
        members,
        today,
        int(policy_figure("working_age_from", today)),
        int(policy_figure("retirement_age", today)),
    )


def _cause_columns(today: dt.date) -> dict:
    """Per entitlement, as subqueries of the one derivation query: the name of a member who
    turned 60 (or 16) in the last week, and whether a severe disability is recorded."""
    since = today - dt.timedelta(days=7)
    members = Member.objects.filter(household=OuterRef("household"), is_current=True).filter(
        people.counted_q()
    )
    columns = {}
    for label, kind in (("turned_old", "retirement_age"), ("turned_adult", "working_age_from")):
        age = int(policy_figure(kind, today))
        columns[label] = Subquery(
            members.filter(
                birth_date__gt=_years_before(since, age),
                birth_date__lte=_years_before(today, age),
            ).values("name")[:1]
        )
    columns["severe"] = Exists(members.filter(_no_capacity_from_disability()))
    return columns


def _cause(
    today: dt.date, old: str, new: str, turned_old: str | None, turned_adult: str | None, severe
):
    """Why a class changed overnight, in words a reviewer recognises: the input that flipped
    (nobody able to work any more, someone able now, or the income sources)."""
    if new != "A" and old != "A":
        return _("Income sources changed (employment or pension)")
    if new == "A" and turned_old:
        return _("%(name)s turned %(age)d") % {
            "name": turned_old,
            "age": int(policy_figure("retirement_age", today)),
        }
    if old == "A" and turned_adult:
        return _("%(name)s turned %(age)d") % {
            "name": turned_adult,
            "age": int(policy_figure("working_age_from", today)),
        }
    if new == "A" and severe:
        return _("Severe disability recorded")
    return _("Household data changed")


def classes_rederive(today: dt.date | None = None) -> dict:
    """Re-derive every live entitlement's class in one query; record each change with its
    cause and bring the next review forward when the new class is reviewed more often. The
    writes are set-based too: bulk inserts, and one UPDATE per class and chunk."""
    today = today or timezone.localdate()
    changed = list(
        Entitlement.objects.filter(status__in=LIVE, class_overridden=False)
        .annotate(derived=derived_class(today))
        .exclude(klass=F("derived"))
        .annotate(**_cause_columns(today))
        .values_list(
            "id",
            "klass",
            "derived",
            "household__residence_type",
            "household__region__code",
            "turned_old",
            "turned_adult",
            "severe",
        )
        .order_by("id")
    )
    if not changed:
        return {"changed": 0}
    month = next_month(today)
    due_dates: dict[tuple[str, str, str], dt.date] = {}

    def due(klass: str, residence: str, code: str) -> dt.date:
        key = (klass, residence, code[:6])
        if key not in due_dates:
            due_dates[key] = add_months(month, review_months(klass, today, residence, code))
        return due_dates[key]

    groups: dict[tuple[str, str, dt.date], list[tuple]] = defaultdict(list)
    for pk, old, new, residence, code, *causes in changed:
        groups[old, new, due(new, residence, code)].append((pk, *causes))
    done: dict[str, int] = defaultdict(int)
    with transaction.atomic():
        for (old, new, new_due), rows in groups.items():
            for start in range(0, len(rows), CHUNK):
                chunk = {row[0]: row for row in rows[start : start + CHUNK]}
                # Lock what still holds the class read above: a reviewer's decision taken
                # meanwhile is left alone (and not recorded as a change).
                still = list(
                    Entitlement.objects.select_for_update()
                    .filter(pk__in=list(chunk), klass=old, class_overridden=False)
                    .values_list("id", flat=True)
                )
                EntitlementChange.objects.bulk_create(
                    EntitlementChange(
                        entitlement_id=pk,
                        kind=EntitlementChange.Kind.CLASS,
                        effective_month=month,
                        old_value=old,
                        new_value=new,
                        cause=_cause(today, old, new, *chunk[pk][1:]),
                    )
                    for pk in still
                )
                Entitlement.objects.filter(pk__in=still).update(
                    klass=new, next_review=Least(F("next_review"), Value(new_due))
                )
                done[new] += len(still)
    return {"changed": sum(done.values()), **dict(sorted(done.items()))}
