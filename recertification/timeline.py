"""An entitlement's timeline (EntitlementChange): every change of class, amount, status or
review date, from the month it takes effect."""

from __future__ import annotations

import datetime as dt

from beneficiaries.models import Entitlement, EntitlementChange
from core.months import next_month
from notices import services as notices


def record_change(
    entitlement, kind, month, old, new, cause, review, actor, source: str = ""
) -> list:
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


def entitlement_terminate(entitlement, review, today: dt.date, actor) -> None:
    """Payment ends: paid through this month, nothing from the next."""
    record_change(
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
    notices.standing_changed(entitlement)
