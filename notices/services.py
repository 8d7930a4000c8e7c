"""Every write to notices and objections. Applications and periodic reviews call these to post
or take down a notice and to settle objections; the public files objections through the
/gongshi/ form. The case a notice is about is locked and checked by the caller."""

from __future__ import annotations

import datetime as dt
from collections import Counter
from decimal import Decimal

from django.core.cache import cache
from django.db import transaction
from django.db.models import Count, Q
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.models import Role
from accounts.scoping import in_jurisdiction
from accounts.services import alert_staff
from beneficiaries import people
from beneficiaries.idnumber import mask_name
from core.audit import audit_record
from core.exceptions import ConflictError, OutOfScopeError, ValidationFailed
from core.models import AuditEvent

from .models import Notice, Objection, StandingRow, StandingTally, new_objection_reference
from .selectors import PENDING_OBJECTION, notices_of

# --- notices ------------------------------------------------------------------------------------


def notice_post(
    *,
    kind: str,
    village_code: str,
    head_name: str,
    household_size: int,
    programme: str,
    amount: Decimal,
    starts_on: dt.date,
    ends_on: dt.date,
    application=None,
    review=None,
) -> Notice:
    """Copy what the public may see, and nothing else, into the notice."""
    notice = Notice.objects.create(
        application=application,
        review=review,
        kind=kind,
        starts_on=starts_on,
        ends_on=ends_on,
        village_code=village_code,
        masked_name=mask_name(head_name),
        household_size=household_size,
        programme=programme,
        amount=amount,
    )
    transaction.on_commit(public_changed)
    return notice


def notices_take_down(*, application=None, review=None) -> int:
    """The case's notice comes down (re-investigation, a termination withdrawn)."""
    taken = (
        notices_of(application=application, review=review)
        .filter(status=Notice.Status.OPEN)
        .update(status=Notice.Status.WITHDRAWN)
    )
    if taken:
        transaction.on_commit(public_changed)
    return taken


def notice_close(*, notice: Notice) -> None:
    """The notice period is over (the caller has checked there is no pending objection)."""
    notice.status = Notice.Status.CLOSED
    notice.save(update_fields=["status"])
    transaction.on_commit(public_changed)


# --- objections ---------------------------------------------------------------------------------


@transaction.atomic
def objection_file(*, notice: Notice, text: str, name: str = "", contact: str = "") -> Objection:
    """Anyone may object while a notice is up. The case's township reviewer sees it at once;
    the case cannot be approved while it is open."""
    # Lock the case before the notice: the transitions that end a notice lock the case, so
    # an objection and the end of the notice cannot pass each other. The case's model is
    # reached through the foreign key, so this app never imports it.
    case_field = "application" if notice.application_id else "review"
    case_model = Notice._meta.get_field(case_field).related_model
    case_pk = notice.application_id or notice.review_id
    case_model.objects.select_for_update().filter(pk=case_pk).values_list("pk").first()
    notice = Notice.objects.select_for_update().get(pk=notice.pk)
    today = timezone.localdate()
    if notice.status != Notice.Status.OPEN or not notice.starts_on <= today <= notice.ends_on:
        raise ConflictError(_("This notice period has ended; objections are no longer taken."))
    if not text.strip():
        raise ValidationFailed([("text", _("Write what you object to."))])
    objection = Objection.objects.create(
        notice=notice,
        application_id=notice.application_id,
        reference=new_objection_reference(),
        text=text.strip()[:4000],
        name=name.strip()[:64],
        contact=contact.strip()[:64],
    )
    audit_record(
        actor=None,
        action=AuditEvent.Action.CREATE,
        obj=objection,
        reason=_("Objection received during the public notice"),
    )
    _alert_township(notice, objection)
    return objection


def _alert_township(notice: Notice, objection: Objection) -> None:
    """The case's township reviewers find the objection in their inbox at once."""
    if notice.application_id:
        url = reverse("applications:detail", args=[notice.application_id])
    else:
        url = reverse("recertification:review", args=[notice.review_id])
    alert_staff(
        role=Role.TOWNSHIP_REVIEWER,
        jurisdiction_code=notice.village_code[:9] + "000",
        key=f"objection:{objection.pk}",
        message=_("An objection was filed against the notice for %(name)s")
        % {"name": notice.masked_name},
        url=url,
    )


@transaction.atomic
def objection_dismiss(*, actor, objection: Objection, reason: str) -> Objection:
    """The township finds an objection has no substance (e.g. not about this household):
    recorded with the reason; the case goes on."""
    objection = Objection.objects.select_for_update().select_related("notice").get(pk=objection.pk)
    if actor.role != Role.TOWNSHIP_REVIEWER or not in_jurisdiction(
        actor, objection.notice.village_code
    ):
        raise OutOfScopeError(_("Only the township reviewer deals with objections."))
    if objection.status != Objection.Status.OPEN:
        raise ConflictError(_("This objection has already been dealt with."))
    if not reason.strip():
        raise ValidationFailed([("reason", _("Write why the objection is unfounded."))])
    objection.status, objection.resolution = Objection.Status.RESOLVED, reason.strip()
    objection.resolved_at, objection.resolved_by = timezone.now(), actor
    objection.save(update_fields=["status", "resolution", "resolved_at", "resolved_by"])
    audit_record(
        actor=actor,
        action=AuditEvent.Action.UPDATE,
        obj=objection,
        reason=_("Objection found unfounded: %(reason)s") % {"reason": reason.strip()},
    )
    return objection


def objections_reinvestigate(*, application) -> int:
    """The case goes back to investigation over its open objections; returns how many."""
    return Objection.objects.filter(application=application, status=Objection.Status.OPEN).update(
        status=Objection.Status.REINVESTIGATING, reinvestigated=True
    )


def objections_resolve(
    *,
    actor,
    resolution: str,
    application=None,
    review=None,
    statuses=PENDING_OBJECTION,
    taken_up: bool = False,
) -> int:
    """Settle a case's objections in ``statuses`` (after a re-investigation, or when a
    termination is withdrawn over them: ``taken_up``)."""
    objections = Objection.objects.filter(status__in=statuses)
    if application is not None:
        objections = objections.filter(application=application)
    else:
        objections = objections.filter(notice__review=review)
    extra = {"reinvestigated": True} if taken_up else {}
    return objections.update(
        status=Objection.Status.RESOLVED,
        resolution=resolution,
        **extra,
        resolved_at=timezone.now(),
        resolved_by=actor,
    )


# --- the public standing list ------------------------------------------------------------------

REFRESH_CHUNK = 5000


@transaction.atomic
def standing_refresh(*, prefix: str = "") -> int:
    """Rebuild the public standing-list rows (and village tallies) of every village under
    ``prefix`` (a village's full code, a township's or district's prefix, or "" for the whole
    city) from the entitlements as they are now; returns the number of rows. Called in the
    transaction that approves or ends an entitlement, so the list and the entitlement change
    together; the nightly job refreshes villages whose households were edited."""
    from beneficiaries.models import Entitlement, Programme

    rows = StandingRow.objects.all()
    tallies = StandingTally.objects.all()
    if prefix:
        rows = rows.filter(village_code__startswith=prefix)
        tallies = tallies.filter(village_code__startswith=prefix)
    rows.delete()
    tallies.delete()
    standing = (
        Entitlement.objects.filter(
            status=Entitlement.Status.ACTIVE,
            programme=Programme.DIBAO,
        )
        .filter(_under(prefix))
        .annotate(
            size=Count(
                "household__members",
                filter=Q(household__members__is_current=True)
                & people.counted_q("household__members__"),
            )
        )
        .values_list(
            "id",
            "programme",
            "monthly_amount",
            "household__region__code",
            "household__region__name",
            "household__region__parent__name",
            "household__head__name",
            "member__name",
            "size",
        )
        .order_by()
    )
    counts: Counter[str] = Counter()
    batch: list[StandingRow] = []
    for pk, programme, amount, code, village, township, head, member, size in standing.iterator(
        chunk_size=REFRESH_CHUNK
    ):
        counts[code] += 1
        batch.append(
            StandingRow(
                entitlement_id=pk,
                village_code=code,
                township=township or "",
                village=village,
                # 单人保: the member helped alone, as a household of one.
                masked_name=mask_name(member or head or ""),
                household_size=1 if member else size,
                programme=programme,
                amount=amount,
            )
        )
        if len(batch) == REFRESH_CHUNK:
            StandingRow.objects.bulk_create(batch)
            batch = []
    StandingRow.objects.bulk_create(batch)
    StandingTally.objects.bulk_create(
        StandingTally(village_code=code, households=n) for code, n in counts.items()
    )
    return sum(counts.values())


def _under(prefix: str) -> Q:
    """Entitlements of households under ``prefix``: one village by its code (an index lookup
    down to its households), a larger region by the prefix of its villages' codes."""
    if len(prefix) == 12:
        return Q(household__region__code=prefix)
    return Q(household__region__code__startswith=prefix)


def standing_changed(*entitlements) -> None:
    """These entitlements began, ended, were suspended or changed amount: their villages'
    standing-list rows are rebuilt now, in the caller's transaction (so the public list and
    the entitlement change together), and the cached pages are dropped after commit."""
    from beneficiaries.models import Household

    codes = set(
        Household.objects.filter(pk__in={e.household_id for e in entitlements}).values_list(
            "region__code", flat=True
        )
    )
    for code in sorted(codes):
        standing_refresh(prefix=code)
    transaction.on_commit(public_changed)


def standing_catch_up(*, since) -> int:
    """The nightly pass: villages whose households or entitlements changed since ``since``
    by a path that does not call ``standing_changed`` (a member joining or leaving, a head
    renamed, an amount from a scheduled change) are rebuilt. Returns the villages rebuilt."""
    from beneficiaries.models import Entitlement, Household, HouseholdEvent

    codes = (
        set(Household.objects.filter(updated_at__gte=since).values_list("region__code", flat=True))
        | set(
            HouseholdEvent.objects.filter(created_at__gte=since).values_list(
                "household__region__code", flat=True
            )
        )
        | set(
            Entitlement.history.filter(history_date__gte=since).values_list(
                "household__region__code", flat=True
            )
        )
    )
    for code in sorted(codes):
        standing_refresh(prefix=code)
    if codes:
        transaction.on_commit(public_changed)
    return len(codes)


# --- the public pages' cache ----------------------------------------------------------------------

GENERATION_KEY = "gongshi:generation"


def public_changed() -> None:
    """Something the public pages show has changed: every cached page is stale from now."""
    cache.add(GENERATION_KEY, 0, None)
    try:
        cache.incr(GENERATION_KEY)
    except ValueError:
        cache.set(GENERATION_KEY, 1, None)
