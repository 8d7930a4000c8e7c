"""Changes registered on a household that its assistance must be reviewed for (DESIGN.md §7):
a death, a member leaving, joining or moving, income or property changed, a verification
finding. The register writes them as ``HouseholdEvent`` rows in the same transaction as the
change; this module reads them, opens (or adds to) a review of each live entitlement with the
cause, and suspends payment from next month where nobody counted is left to pay (the only
member died, the last one moved away, the member helped alone left). A beat task runs it
every minute and the night runs it once more."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict

from django.db import transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.models import Role
from accounts.services import alert_staff
from beneficiaries import people
from beneficiaries.models import Entitlement, HouseholdEvent
from core.audit import audit_record
from core.models import AuditEvent
from core.months import next_month
from eligibility.selectors import policy_figure
from notices import services as notices

from .models import Review
from .selectors import LIVE, OPEN_REVIEW
from .services import review_open
from .timeline import record_change

BATCH = 1000


def household_events_process(today: dt.date | None = None) -> dict:
    """Review what changed since the last run, a household at a time."""
    today = today or timezone.localdate()
    counts = {"changes": 0, "reviews_opened": 0, "suspended": 0, "alerts": 0}
    pending = HouseholdEvent.objects.filter(processed_at=None).order_by("id")
    by_household: dict[int, list[int]] = defaultdict(list)
    for pk, household_id in pending.values_list("pk", "household_id")[:BATCH]:
        by_household[household_id].append(pk)
    for pks in by_household.values():
        for name, n in _household(pks, today).items():
            counts[name] += n
    return counts


@transaction.atomic
def _household(pks: list[int], today: dt.date) -> dict:
    events = list(
        HouseholdEvent.objects.select_for_update(of=("self",))
        .filter(pk__in=pks, processed_at=None)
        .select_related("household__region__parent", "member")
        .order_by("id")
    )
    counts = {"changes": len(events), "reviews_opened": 0, "suspended": 0, "alerts": 0}
    if not events:
        return counts
    household = events[0].household
    _follow_the_household(household)
    cause = "; ".join(
        f"{e.get_kind_display()}: {e.detail}" if e.detail else e.get_kind_display() for e in events
    )[:1000]
    members = [e.member_id for e in events if e.member_id]
    entitlements = list(
        Entitlement.objects.select_for_update(of=("self",))
        .filter(status__in=LIVE)
        .filter(Q(household=household) | Q(member__in=members))
        .select_related("member", "household__region__parent")
        .order_by("id")
    )
    counted_left = household.members.filter(is_current=True).filter(people.counted_q()).exists()
    due = today + dt.timedelta(days=int(policy_figure("review_open_days", today)))
    for entitlement in entitlements:
        if _nobody_left(entitlement, counted_left) and entitlement.status == "active":
            _suspend(entitlement, cause, today)
            counts["suspended"] += 1
        counts["reviews_opened"] += _review(entitlement, cause, due)
    for event in events:
        if event.kind == HouseholdEvent.Kind.MOVED_OUT:
            counts["alerts"] += _alert_losing_township(event)
    HouseholdEvent.objects.filter(pk__in=[e.pk for e in events]).update(processed_at=timezone.now())
    return counts


def _follow_the_household(household) -> None:
    """Open reviews are worked, and seen, by the township the household lives in now. No
    edit here moves a household to another township; this keeps the rule should one (a
    transfer, a correction in the admin) ever do so."""
    township = household.region.parent_id
    Review.objects.filter(entitlement__household=household, status__in=OPEN_REVIEW).exclude(
        township_id=township
    ).update(township_id=township)


def _nobody_left(entitlement: Entitlement, counted_left: bool) -> bool:
    """Nobody counted is left to pay: the household's, or the member helped alone is gone
    (died, left the register, moved to another household)."""
    if entitlement.member_id is None:
        return not counted_left
    member = entitlement.member
    return not member.is_current or member.household_id != entitlement.household_id


def _suspend(entitlement: Entitlement, cause: str, today: dt.date) -> None:
    month = next_month(today)
    reason = _("Nobody counted is left in the household: %(cause)s") % {"cause": cause}
    record_change(entitlement, "status", month, "active", "suspended", reason, None, None)
    entitlement.status = Entitlement.Status.SUSPENDED
    entitlement.save(update_fields=["status"])
    notices.standing_changed(entitlement)
    audit_record(
        actor=None,
        action=AuditEvent.Action.TRANSITION,
        obj=entitlement,
        from_state="active",
        to_state="suspended",
        reason=reason[:500],
    )


def _review(entitlement: Entitlement, cause: str, due: dt.date) -> int:
    """A reported-change review with the cause, or the cause added to the open review."""
    if review_open(entitlement, cause, due):
        return 1
    review = Review.objects.filter(entitlement=entitlement, status__in=OPEN_REVIEW).first()
    if review is not None and cause not in review.reported_change:
        review.reported_change = "\n".join(filter(None, [review.reported_change, cause]))
        review.save(update_fields=["reported_change"])
    return 0


def _alert_losing_township(event: HouseholdEvent) -> int:
    """A member moved away (possibly by another township's window): the township that had
    them hears of it, and reviews the household's assistance."""
    township = event.household.region.parent
    message = _("%(detail)s: the assistance of household %(number)s is under review") % {
        "detail": event.detail,
        "number": event.household.number,
    }
    return sum(
        alert_staff(
            role=role,
            jurisdiction_code=township.code,
            key=f"moved-out:{event.pk}",
            message=message[:200],
            url=f"/households/{event.household_id}/",
        )
        for role in (Role.TOWNSHIP_REVIEWER, Role.CLERK)
    )
