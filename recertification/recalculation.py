"""A new standard (DESIGN.md §7): every live 低保/特困/支出型 entitlement recomputed with the
figures in force from a month, as a background job (``tasks.recalculate``)."""

from __future__ import annotations

import datetime as dt

from django.db import transaction
from django.utils.translation import gettext as _

from beneficiaries.models import Entitlement
from core.jobs import heartbeat
from eligibility.selectors import household_case
from eligibility.services import assessment_preview

from .selectors import LIVE
from .services import review_open
from .timeline import record_change as _change


def entitlements_recalculate(effective_month: dt.date) -> dict:
    """A new standard from ``effective_month`` (this month or later; months already paid are
    not rewritten here): recompute every active 低保/特困 entitlement with the figures in
    force that month and record each change from that month (or from the entitlement's first
    month, if later). A household no longer eligible is not cut off by the batch: a review is
    opened for it. Runs in chunks and beats the job's heartbeat, so a long run keeps its lock."""
    effective_month = effective_month.replace(day=1)
    counts = {"checked": 0, "changed": 0, "reviews": 0}
    qs = Entitlement.objects.filter(
        status__in=LIVE, programme__in=["dibao", "tekun", "expenditure"]
    ).select_related("household__region__parent", "member")
    label = f"{effective_month:%Y-%m}"
    for entitlement in qs.iterator(chunk_size=500):
        counts["checked"] += 1
        if counts["checked"] % 500 == 0:
            heartbeat()
        month = max(effective_month, entitlement.start_month)
        case = household_case(
            household=entitlement.household,
            programme=entitlement.programme,
            as_of=month,
            single_member=entitlement.member.id_number if entitlement.member_id else "",
        )
        result, _policy, _sources = assessment_preview(case=case)
        with transaction.atomic():
            locked = Entitlement.objects.select_for_update().get(pk=entitlement.pk)
            if not result.eligible:
                counts["reviews"] += review_open(
                    locked,
                    _("Not eligible under the standard from %(month)s") % {"month": label},
                    due=month,
                )
                continue
            if locked.changes.filter(
                kind="amount",
                effective_month__gt=month,
                superseded=False,
                source__startswith="review:",
            ).exists():
                # A review already decided the amount for a later month: the batch does not
                # overwrite it; the township decides again under the new standard.
                counts["reviews"] += review_open(
                    locked,
                    _("A new standard applies from %(month)s: decide the amount from then.")
                    % {"month": label},
                    due=month,
                )
                continue
            # A suspended payment keeps its amount for when it resumes.
            current = locked.amount_for(month) or locked.monthly_amount
            amount = result.monthly_amount
            if amount is not None and amount != current:
                _change(
                    locked,
                    "amount",
                    month,
                    current,
                    amount,
                    _("New standard from %(month)s") % {"month": label},
                    None,
                    None,
                    source=f"standard:{label}",
                )
                locked.monthly_amount = amount
                locked.save(update_fields=["monthly_amount"])
                counts["changed"] += 1
    return counts
