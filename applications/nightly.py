"""The nightly jobs of dynamic management (DESIGN.md §7): re-derive classes, open reviews
that come due, close expired notices, raise overdue alerts.

Each is set-based (a handful of queries whatever the number of households) and idempotent (a
second run finds nothing left to do); ``core.jobs.run_job`` gives each a lock and a run log.
``bench/nightly.py`` measures them on a million households."""

from __future__ import annotations

import datetime as dt
import logging
from collections import defaultdict

from django.db import transaction
from django.db.models import (
    Case,
    CharField,
    Count,
    Exists,
    F,
    OuterRef,
    Q,
    Subquery,
    Value,
    When,
)
from django.db.models.functions import Least
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.models import Role, User
from beneficiaries.models import Entitlement, EntitlementChange, Household, IncomeItem, Member
from core.audit import audit_record
from core.exceptions import DomainError
from core.jobs import run_job
from core.models import Alert, AuditEvent
from core.workdays import WorkdayCalendar
from eligibility import rules

from . import flows
from .models import Application, Lead, Notice, Objection, Referral, Review
from .workflow import add_months, policy_figure, transition

log = logging.getLogger(__name__)


def review_overdue(today: dt.date) -> Q:
    """The one definition of an overdue review: open past its due date, waiting for the
    district past its due date, or a termination held past its notice by an objection."""
    return Q(status__in=[Review.Status.OPEN, Review.Status.DISTRICT], due__lt=today) | Q(
        status=Review.Status.NOTICED, notices__status="open", notices__ends_on__lt=today
    )


def IN_FORCE(today: dt.date) -> Q:
    """An income item in force on ``today`` (as ``IncomeItem.in_force``)."""
    return (Q(period_start__isnull=True) | Q(period_start__lte=today)) & (
        Q(period_end__isnull=True) | Q(period_end__gte=today)
    )


LIVE = (Entitlement.Status.ACTIVE, Entitlement.Status.SUSPENDED)
OPEN_REVIEW = (Review.Status.OPEN, Review.Status.NOTICED, Review.Status.DISTRICT)
PENSIONS = (IncomeItem.Type.PENSION, IncomeItem.Type.BASIC_PENSION)


def _years_before(day: dt.date, years: int) -> dt.date:
    try:
        return day.replace(year=day.year - years)
    except ValueError:  # 29 February
        return day.replace(year=day.year - years, day=28)


def next_month(day: dt.date) -> dt.date:
    return add_months(day.replace(day=1), 1)


def review_months(klass: str, today: dt.date) -> int:
    return int(policy_figure(f"review_months_{klass.lower()}", today))


def _change(entitlement, kind, month, old, new, cause, review, actor, source: str = "") -> list:
    """Record a change from ``month``. The latest decision governs from its month on: changes
    of the same kind dated later (e.g. a new standard from next year entered earlier) are
    superseded, so the timeline and ``amount_for`` never disagree with ``monthly_amount``."""
    superseded = []
    if kind != EntitlementChange.Kind.REVIEW:
        later = entitlement.changes.filter(kind=kind, effective_month__gt=month, superseded=False)
        superseded = list(later)
        later.update(superseded=True)
    EntitlementChange.objects.create(
        entitlement=entitlement,
        kind=kind,
        effective_month=month,
        old_value=str(old),
        new_value=str(new),
        cause=cause[:200],
        source=source or (f"review:{review.pk}" if review else ""),
        created_by=actor,
    )
    return superseded


# --- Classes ------------------------------------------------------------------------------------


def derived_class(today: dt.date):
    """The class rule of ``eligibility.rules.household_class`` as one SQL expression over an
    Entitlement queryset (the tests hold the two to the same answers)."""
    working_from = int(policy_figure("working_age_from", today))
    retire_at = int(policy_figure("retirement_age", today))
    members = Member.objects.filter(
        household=OuterRef("household"), is_current=True, lives_with_household=True
    )
    able = Exists(
        members.filter(
            birth_date__lte=_years_before(today, working_from),
            birth_date__gt=_years_before(today, retire_at),
            labour_capacity=Member.Labour.FULL,
            serious_illness=False,
        ).exclude(disability_grade__lte=2)
    )
    stable = Exists(members.filter(employment__in=sorted(rules.STABLE_EMPLOYMENT))) | Exists(
        IncomeItem.objects.filter(
            member__household=OuterRef("household"),
            member__is_current=True,
            member__lives_with_household=True,
            type__in=PENSIONS,
        ).filter(IN_FORCE(today))
    )
    return Case(
        When(~able, then=Value("A")),
        When(stable, then=Value("B")),
        default=Value("C"),
        output_field=CharField(),
    )


def class_for_household(household: Household, today: dt.date) -> str:
    """The rule in Python, for one household (used when a reviewer decides)."""
    pensioners = set(
        IncomeItem.objects.filter(member__household=household, type__in=PENSIONS)
        .filter(IN_FORCE(today))
        .values_list("member_id", flat=True)
    )
    members = [
        rules.ClassMember(
            birth_date=m.birth_date,
            lives_with_household=m.lives_with_household,
            labour_capacity=m.labour_capacity,
            disability_grade=m.disability_grade,
            serious_illness=m.serious_illness,
            employment=m.employment,
            has_pension=m.pk in pensioners,
        )
        for m in household.members.filter(is_current=True)
    ]
    return rules.household_class(
        members,
        today,
        int(policy_figure("working_age_from", today)),
        int(policy_figure("retirement_age", today)),
    )


def _cause_columns(today: dt.date) -> dict:
    """Per entitlement, as subqueries of the one derivation query: the name of a member who
    turned 60 (or 16) in the last week, and whether a severe disability is recorded."""
    since = today - dt.timedelta(days=7)
    members = Member.objects.filter(
        household=OuterRef("household"), is_current=True, lives_with_household=True
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
    columns["severe"] = Exists(members.filter(disability_grade__lte=2))
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
        .values_list("id", "klass", "derived", "turned_old", "turned_adult", "severe")
        .order_by("id")
    )
    if not changed:
        return {"changed": 0}
    month = next_month(today)
    due = {k: add_months(month, review_months(k, today)) for k in ("A", "B", "C")}
    groups: dict[tuple[str, str], list[tuple]] = defaultdict(list)
    for pk, old, new, *causes in changed:
        groups[old, new].append((pk, *causes))
    done: dict[str, int] = defaultdict(int)
    with transaction.atomic():
        for (old, new), rows in groups.items():
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
                    klass=new, next_review=Least(F("next_review"), Value(due[new]))
                )
                done[new] += len(still)
    return {"changed": sum(done.values()), **dict(sorted(done.items()))}


CHUNK = 10_000


# --- Opening reviews ----------------------------------------------------------------------------


def reviews_open_due(today: dt.date | None = None) -> dict:
    """Open a periodic review for every active entitlement due within the policy number of
    days that has none open. The partial unique index makes a concurrent second run a no-op."""
    today = today or timezone.localdate()
    horizon = today + dt.timedelta(days=int(policy_figure("review_open_days", today)))
    due = (
        Entitlement.objects.filter(status__in=LIVE, next_review__lte=horizon)
        .exclude(Exists(Review.objects.filter(entitlement=OuterRef("pk"), status__in=OPEN_REVIEW)))
        .values_list("id", "next_review", "household__region__parent_id")
    )
    now = timezone.now()
    townships: dict[int, int] = defaultdict(int)
    batch: list[Review] = []
    for pk, next_review, township in due.iterator(chunk_size=5000):
        batch.append(
            Review(
                entitlement_id=pk,
                township_id=township,
                kind=Review.Kind.PERIODIC,
                opened_at=now,
                due=next_review,
            )
        )
        townships[township] += 1
        if len(batch) >= 5000:
            Review.objects.bulk_create(batch, ignore_conflicts=True)
            batch = []
    if batch:
        Review.objects.bulk_create(batch, ignore_conflicts=True)
    # bulk_create with ignore_conflicts returns every object; count what this run added.
    created = Review.objects.filter(kind=Review.Kind.PERIODIC, opened_at=now).count()
    alerted = _alert_townships(
        townships,
        key=f"reviews-opened:{today}",
        message=_("%(n)d periodic reviews opened for your township"),
        url="/applications/reviews/",
    )
    return {"opened": created, "townships": len(townships), "alerts": alerted}


def _alert_townships(counts: dict[int, int], *, key: str, message: str, url: str) -> int:
    """One inbox item per township user (reviewers and clerks) and key: raising it again
    changes nothing."""
    if not counts:
        return 0
    from regions.models import Region

    codes = dict(Region.objects.filter(pk__in=counts).values_list("pk", "code"))
    users = User.objects.filter(
        is_active=True,
        role__in=[Role.TOWNSHIP_REVIEWER, Role.CLERK],
        jurisdiction_id__in=list(counts),
    ).values_list("pk", "jurisdiction_id")
    alerts = [
        Alert(
            user_id=user,
            key=f"{key}:{codes.get(township, township)}",
            message=message % {"n": counts[township]},
            url=url,
        )
        for user, township in users
    ]
    return len(Alert.objects.bulk_create(alerts, ignore_conflicts=True))


# --- Overdue flags and alerts --------------------------------------------------------------------


def overdue_alert(today: dt.date | None = None) -> dict:
    """Count what is overdue per township (reviews, case steps, referrals, leads) and raise
    one inbox item a day for its staff; the district's overdue cases go to its approvers."""
    today = today or timezone.localdate()
    per_township: dict[int, int] = defaultdict(int)
    counts = {}
    for name, rows in (
        (
            "reviews",
            Review.objects.filter(review_overdue(today)).distinct().values("township"),
        ),
        (
            "steps",
            Application.objects.filter(
                status__in=[s for s in flows.OPEN if s != Application.Status.DISTRICT_REVIEW],
                step_due__lt=today,
            ).values("township"),
        ),
        (
            "referrals",
            Referral.objects.filter(status=Referral.Status.OPEN, due__lt=today).values("township"),
        ),
    ):
        total = 0
        for row in rows.annotate(n=Count("id")).order_by():
            per_township[row["township"]] += row["n"]
            total += row["n"]
        counts[name] = total
    leads = (
        Lead.objects.filter(status=Lead.Status.OPEN, contact_due__lt=today)
        .values("village__parent")
        .annotate(n=Count("id"))
        .order_by()
    )
    counts["leads"] = 0
    for row in leads:
        per_township[row["village__parent"]] += row["n"]
        counts["leads"] += row["n"]
    counts["alerts"] = _alert_townships(
        per_township,
        key=f"overdue:{today}",
        message=_("%(n)d overdue items in your township"),
        url="/",
    )
    district = (
        Application.objects.filter(status=Application.Status.DISTRICT_REVIEW, step_due__lt=today)
        .values("township__parent")
        .annotate(n=Count("id"))
        .order_by()
    )
    alerts = []
    for row in district:
        for user in User.objects.filter(
            is_active=True,
            role=Role.DISTRICT_APPROVER,
            jurisdiction_id=row["township__parent"],
        ).values_list("pk", flat=True):
            alerts.append(
                Alert(
                    user_id=user,
                    key=f"overdue-district:{today}",
                    message=_("%(n)d cases overdue for district review") % {"n": row["n"]},
                    url="/",
                )
            )
    counts["alerts"] += len(Alert.objects.bulk_create(alerts, ignore_conflicts=True))
    return counts


# --- Expired notices -----------------------------------------------------------------------------


def notices_close_expired(today: dt.date | None = None) -> dict:
    """Notices whose seven days are over and that have no open objection: a pre-approval
    notice moves its case on to the district; a termination notice ends the entitlement
    (payment stops from the following month)."""
    today = today or timezone.localdate()
    expired = Notice.objects.filter(status=Notice.Status.OPEN, ends_on__lt=today).exclude(
        Exists(
            Objection.objects.filter(
                notice=OuterRef("pk"),
                status__in=[Objection.Status.OPEN, Objection.Status.REINVESTIGATING],
            )
        )
    )
    now = timezone.make_aware(dt.datetime.combine(today, dt.time(2, 0)))
    moved = ended = failed = 0
    for notice in expired.filter(kind=Notice.Kind.APPROVAL).select_related("application"):
        case = notice.application
        if case.status != Application.Status.NOTICED:
            continue
        try:
            transition(
                actor=None,
                application=case,
                action="end_notice",
                expected_version=case.version,
                reason=_("Notice period over (nightly job)"),
                now=now,
            )
        except DomainError:  # changed meanwhile or refused: the next night tries again
            log.exception("notice %s not closed", notice.pk)
            failed += 1
        else:
            moved += 1
    for notice in expired.filter(kind=Notice.Kind.TERMINATION).select_related("review"):
        try:
            ended += _terminate(notice, today)
        except DomainError:
            log.exception("termination notice %s not closed", notice.pk)
            failed += 1
    return {"cases_to_district": moved, "terminations_to_district": ended, "failed": failed}


@transaction.atomic
def _terminate(notice: Notice, today: dt.date) -> int:
    """The termination notice is over unobjected: the district decides (DESIGN.md §1: the
    district approver terminates entitlements)."""
    # The review before the notice, as objection filing and withdrawal lock them.
    review = Review.objects.select_for_update().get(pk=notice.review_id)
    notice = Notice.objects.select_for_update().get(pk=notice.pk)
    if notice.status != Notice.Status.OPEN or review.status != Review.Status.NOTICED:
        return 0
    if notice.objections.filter(
        status__in=[Objection.Status.OPEN, Objection.Status.REINVESTIGATING]
    ).exists():
        return 0
    notice.status = Notice.Status.CLOSED
    notice.save(update_fields=["status"])
    review.status = Review.Status.DISTRICT
    review.due = WorkdayCalendar.load(today.year, today.year + 1).add_workdays(
        today, int(policy_figure("district_review_workdays", today))
    )
    review.version += 1
    review.save(update_fields=["status", "due", "version"])
    audit_record(
        actor=None,
        action=AuditEvent.Action.TRANSITION,
        obj=review,
        from_state=Review.Status.NOTICED,
        to_state=Review.Status.DISTRICT,
        reason=_("Termination notice over: to the district (nightly job)"),
    )
    Alert.objects.bulk_create(
        [
            Alert(
                user_id=user,
                key=f"termination:{review.pk}",
                message=_("A termination waits for your decision"),
                url=f"/applications/reviews/{review.pk}/",
            )
            for user in User.objects.filter(
                is_active=True,
                role=Role.DISTRICT_APPROVER,
                jurisdiction_id=review.township.parent_id,
            ).values_list("pk", flat=True)
        ],
        ignore_conflicts=True,
    )
    return 1


def entitlement_terminate(entitlement, review, today: dt.date, actor) -> None:
    """Payment ends: paid through this month, nothing from the next."""
    _change(
        entitlement,
        EntitlementChange.Kind.STATUS,
        next_month(today),
        entitlement.status,
        Entitlement.Status.TERMINATED,
        review.reason,
        review,
        actor,
    )
    entitlement.status = Entitlement.Status.TERMINATED
    entitlement.end_month = max(today.replace(day=1), entitlement.start_month)
    entitlement._history_user = actor
    entitlement.save(update_fields=["status", "end_month"])


def nightly(today: dt.date | None = None) -> list:
    """The night's jobs, each under its own lock and in the run log. One failing job is
    recorded and the others still run."""
    return [
        run_job("classes_rederive", lambda: classes_rederive(today), raise_errors=False),
        run_job("reviews_open_due", lambda: reviews_open_due(today), raise_errors=False),
        run_job("notices_close_expired", lambda: notices_close_expired(today), raise_errors=False),
        run_job("overdue_alert", lambda: overdue_alert(today), raise_errors=False),
    ]
