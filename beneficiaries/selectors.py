"""Every read of household data goes through here, scoped to the user's jurisdiction."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal

from django.core.exceptions import PermissionDenied
from django.db.models import Count, Exists, OuterRef, Prefetch, Q, QuerySet, Subquery
from django.db.models.functions import Coalesce
from django.http import Http404
from django.utils import timezone

from accounts.scoping import in_jurisdiction, scope_to_jurisdiction
from core.models import AuditEvent, JobRun
from regions.models import Region

from . import idnumber
from .models import DuplicateCandidate, Household, IncomeItem, Member
from .namesearch import name_contains
from .services import SENSITIVE_ROLES, can_write

CODE_FIELD = "region__code"


def household_scope(*, user) -> QuerySet[Household]:
    return scope_to_jurisdiction(Household.objects.all(), user=user, code_field=CODE_FIELD)


def household_list(
    *, user, name="", id_number="", number="", phone="", region_code="", residence_type="", flags=()
) -> QuerySet[Household]:
    """Search households. Name matches any part of a current member's name (a surname, a
    given name, any two consecutive characters: ``namesearch``); ID numbers (all 18
    characters), household numbers and phones exactly. ID and phone numbers are encrypted at
    rest and found through their keyed hash, which a partial number cannot match. Roles that
    see only masked data may not search by phone: a phone would let them confirm a masked
    number one search at a time. A fixed number of queries, whatever the page size."""
    qs = household_scope(user=user)
    sees_full = user.role in SENSITIVE_ROLES
    members = Member.objects.filter(household=OuterRef("pk"), is_current=True)
    if name := name.strip():
        qs = qs.filter(Exists(name_contains(members, name)))
    if (id_number := idnumber.normalize(id_number)) and len(id_number) == 18:
        qs = qs.filter(Exists(members.filter(id_number_digest=id_number)))
    elif id_number:
        qs = qs.none()
    if number := number.strip():
        qs = qs.filter(number=number)
    if (phone := phone.strip()) and sees_full:
        qs = qs.filter(phone_digest=phone)
    elif phone:
        qs = qs.none()
    if region_code := region_code.strip():
        qs = qs.filter(region__code__startswith=Region.prefix_of_code(region_code))
    if residence_type:
        qs = qs.filter(residence_type=residence_type)
    for flag in flags:
        qs = qs.filter(**{flag: True})
    member_count = (
        Member.objects.filter(household=OuterRef("pk"), is_current=True)
        .order_by()
        .values("household")
        .annotate(n=Count("pk"))
        .values("n")
    )
    return (
        qs.select_related("region__parent", "head")
        .annotate(member_count=Coalesce(Subquery(member_count), 0))
        .order_by("-id")
    )


def household_get_for_user(*, user, pk: int, write: bool = False) -> Household:
    """The household if it is in the user's jurisdiction (404 otherwise, so existence does not
    leak); with ``write`` the user's role must also allow editing (403)."""
    household = (
        household_scope(user=user)
        .select_related("region__parent__parent", "head")
        .filter(pk=pk)
        .first()
    )
    if household is None:
        raise Http404
    if write and not can_write(user, household.region):
        raise PermissionDenied
    return household


def household_detail(*, user, pk: int) -> Household:
    """The household with everything its page shows, in a fixed number of queries."""
    household = household_get_for_user(user=user, pk=pk)
    current = (
        Member.objects.filter(is_current=True)
        .order_by("id")
        .prefetch_related(Prefetch("incomes", queryset=IncomeItem.objects.order_by("id")))
    )
    return (
        Household.objects.filter(pk=household.pk)
        .select_related("region__parent__parent", "head", "created_by")
        .prefetch_related(
            Prefetch("members", queryset=current, to_attr="current_members"),
            "assets",
            "expenditures",
        )
        .get()
    )


def may_see_sensitive(user, household: Household) -> bool:
    return user.role in SENSITIVE_ROLES and in_jurisdiction(user, household.region.code)


def household_history(*, user, household: Household) -> QuerySet[AuditEvent]:
    """Who changed what in this household and its members, income, assets and spending."""
    household_get_for_user(user=user, pk=household.pk)
    return (
        AuditEvent.objects.filter(case_key=household.audit_case_key)
        .select_related("actor")
        .order_by("-occurred_at", "-id")
    )


@dataclass(frozen=True)
class CountedSummary:
    """What the means test starts from (DESIGN.md §5): members who live together, and their
    counted income per person per month."""

    counted_size: int
    counted_income: Decimal
    income_per_person: Decimal | None


def counted_summary(household: Household, *, today=None) -> CountedSummary:
    """From a household loaded by ``household_detail`` (no further queries). Only income in
    force today counts (an income whose period has ended does not)."""
    today = today or timezone.localdate()
    counted = [m for m in household.current_members if m.counted]
    income = sum(
        (
            i.monthly_amount
            for m in counted
            for i in m.incomes.all()
            if i.is_counted and i.in_force(today)
        ),
        Decimal("0.00"),
    )
    per_person = (
        (income / len(counted)).quantize(Decimal("0.01"), ROUND_HALF_UP) if counted else None
    )
    return CountedSummary(len(counted), income, per_person)


@dataclass(frozen=True)
class PersonLocation:
    member: Member | None  # None when the person is registered outside the user's sight
    visible: bool


def person_locate(
    *, user, id_number: str, exclude_household: Household | None = None
) -> PersonLocation | None:
    """Where a current person with this ID number is registered, as far as the user may see."""
    qs = Member.objects.filter(id_number_digest=idnumber.normalize(id_number), is_current=True)
    if exclude_household is not None:
        qs = qs.exclude(household=exclude_household)
    member = qs.select_related("household__region").first()
    if member is None:
        return None
    visible = in_jurisdiction(user, member.household.region.code)
    return PersonLocation(member if visible else None, visible)


def duplicate_candidates(*, user, kind: str) -> QuerySet[DuplicateCandidate]:
    """The likely duplicates of one kind found by the last nightly run (``duplicates``), in
    name order, as far as the user may see both records. A pair one of whose records has left
    the register since stays in its place (the page marks it): the list is the night's, so
    its pages hold still while the admin works through them, and its count needs no join.
    Page it, then read the page's pairs with ``duplicate_pairs``."""
    pairs = DuplicateCandidate.objects.filter(kind=kind)
    for side in ("member_a", "member_b"):
        pairs = scope_to_jurisdiction(
            pairs, user=user, code_field=f"{side}__household__region__code"
        )
    return pairs.order_by("id")


def duplicate_pairs(pks: list[int]) -> list[DuplicateCandidate]:
    """The pairs of one page, with both records, their households and villages. Read once the
    page is chosen: joined before OFFSET, every pair skipped would be joined too (page 300 of
    the city's list took 340 ms that way). A pair the night replaced between the two reads
    is left out, not an error."""
    pairs = DuplicateCandidate.objects.select_related(
        "member_a__household__region", "member_b__household__region"
    ).in_bulk(pks)
    return [pairs[pk] for pk in pks if pk in pairs]


def duplicates_last_run() -> JobRun | None:
    """The last complete run of the nightly job: when the list was made and what it covered."""
    return (
        JobRun.objects.filter(job="duplicates_find", status=JobRun.Status.DONE)
        .order_by("-finished_at")
        .first()
    )


# Programmes that pay the 低保 formula: a household (or a member) has at most one of them.
LIVING_ALLOWANCES = frozenset({"dibao", "expenditure"})


def overlapping_entitlements(*, household, programme: str, member=None):
    """Live entitlements that a new one for ``programme`` (for the household, or for
    ``member`` alone) would duplicate: the same programme, or 低保 and 支出型 together; a
    household's own and one of its members' alone."""
    from .models import Entitlement

    programmes = LIVING_ALLOWANCES if programme in LIVING_ALLOWANCES else {programme}
    live = Entitlement.objects.filter(
        household=household,
        programme__in=sorted(programmes),
        status__in=[Entitlement.Status.ACTIVE, Entitlement.Status.SUSPENDED],
    )
    if member is None:
        return live
    return live.filter(Q(member__isnull=True) | Q(member=member))
