"""What runs at night (DESIGN.md §7), in the order ``nightly`` runs it: re-derive classes,
open reviews that come due, close expired notices, raise overdue alerts.

Each is set-based (a handful of queries whatever the number of households) and idempotent (a
second run finds nothing left to do); ``core.jobs.run_job`` gives each a lock and a run log.
``bench/nightly.py`` measures them on a million households."""

from __future__ import annotations

import datetime as dt
import logging
from collections import defaultdict

from django.db import transaction
from django.db.models import Count, Exists, OuterRef
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.models import Role, User
from accounts.services import alert_staff
from applications import flows
from applications.deadlines import deadlines_recompute
from applications.models import Application, Lead, Referral
from applications.workflow import transition
from beneficiaries.models import Entitlement
from core.audit import audit_record
from core.exceptions import DomainError
from core.jobs import run_job
from core.models import Alert, AuditEvent
from core.workdays import WorkdayCalendar
from eligibility.selectors import policy_figure
from notices import selectors as notice_board
from notices import services as notices
from notices.models import Notice

from .changes import household_events_process
from .classes import classes_rederive
from .models import Review
from .selectors import LIVE, OPEN_REVIEW, review_counts_forget, review_overdue

log = logging.getLogger(__name__)


# --- Opening reviews ----------------------------------------------------------------------------


def reviews_open_due(today: dt.date | None = None) -> dict:
    """Open a periodic review for every active entitlement due within the policy number of
    days that has none open. The partial unique index makes a concurrent second run a no-op."""
    today = today or timezone.localdate()
    horizon = today + dt.timedelta(days=int(policy_figure("review_open_days", today)))
    due = (
        Entitlement.objects.filter(status__in=LIVE, next_review__lte=horizon, end_month=None)
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
    if created:
        review_counts_forget()  # the night's openings are the day's one big change
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
    expired = notice_board.notices_expired(today=today)
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
    if notice_board.objections_pending(notice=notice):
        return 0
    notices.notice_close(notice=notice)
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


def phase_outs_end(today: dt.date | None = None) -> dict:
    """Entitlements phased out (渐退), running or suspended, whose last paid month is over end:
    the end is already on their timeline; the status follows, recorded one by one."""
    today = today or timezone.localdate()
    ended = 0
    over = Entitlement.objects.filter(
        status__in=LIVE, end_month__lt=today.replace(day=1)
    ).values_list("pk", flat=True)
    for pk in list(over):
        with transaction.atomic():
            entitlement = Entitlement.objects.select_for_update().get(pk=pk)
            if entitlement.status not in LIVE:
                continue
            from_state = entitlement.status
            entitlement.status = Entitlement.Status.TERMINATED
            entitlement.save(update_fields=["status"])
            notices.standing_changed(entitlement)
            audit_record(
                actor=None,
                action=AuditEvent.Action.TRANSITION,
                obj=entitlement,
                from_state=from_state,
                to_state=entitlement.status,
                reason=_("Phase-out over: paid until %(month)s (nightly job)")
                % {"month": f"{entitlement.end_month:%Y-%m}"},
            )
            ended += 1
    if ended:
        transaction.on_commit(notices.public_changed)
    return {"ended": ended}


def calendar_check(today: dt.date | None = None) -> dict:
    """From 1 November, while next year's working-day calendar is missing, the city admins
    find it in their inbox every night (deadlines running into it are only provisional)."""
    from core.workdays import missing_years
    from regions.models import Region

    today = today or timezone.localdate()
    year = today.year + 1
    if today < dt.date(today.year, 11, 1) or not missing_years([year]):
        return {"alerts": 0}
    city = Region.objects.filter(level="city").values_list("code", flat=True).first()
    sent = alert_staff(
        role=Role.CITY_ADMIN,
        jurisdiction_code=city or "",
        key=f"calendar-missing:{year}:{today}",
        message=_(
            "The %(year)d working-day calendar is not entered: deadlines in %(year)d are "
            "provisional until it is."
        )
        % {"year": year},
        url="/admin/core/calendarday/",
    )
    return {"alerts": sent}


def standing_catch_up(today: dt.date | None = None) -> dict:
    """The public standing list catches up with the day's edits that do not refresh it at
    once (members joining or leaving, a head renamed): the villages touched in the last 26
    hours (a night's margin for a late or skipped run) are rebuilt."""
    since = timezone.now() - dt.timedelta(hours=26)
    return {"villages": notices.standing_catch_up(since=since)}


def nightly(today: dt.date | None = None) -> list:
    """The night's jobs, each under its own lock and in the run log. One failing job is
    recorded and the others still run."""
    return [
        run_job("classes_rederive", lambda: classes_rederive(today), raise_errors=False),
        run_job("reviews_open_due", lambda: reviews_open_due(today), raise_errors=False),
        run_job("notices_close_expired", lambda: notices_close_expired(today), raise_errors=False),
        run_job("overdue_alert", lambda: overdue_alert(today), raise_errors=False),
        run_job("phase_outs_end", lambda: phase_outs_end(today), raise_errors=False),
        run_job("calendar_check", lambda: calendar_check(today), raise_errors=False),
        run_job("deadlines_recompute", lambda: deadlines_recompute(today), raise_errors=False),
        run_job(
            "household_events_process",
            lambda: household_events_process(today),
            raise_errors=False,
        ),
        run_job("standing_catch_up", lambda: standing_catch_up(today), raise_errors=False),
    ]
