"""发放核查: after a payroll is reconciled, a random share of its paid lines is drawn for the
township to ask the recipients whether the money arrived in full. The seed is recorded, so
anyone can draw the same sample again from the same paid lines."""

from __future__ import annotations

import math
import random
import secrets

from django.utils import timezone

from eligibility.selectors import policy_figure

from .models import PaymentCheck, PaymentCheckDraw, Payroll, PayrollLine


def sample(line_ids: list[int], share, seed: int) -> list[int]:
    """The lines drawn: ``share`` of them (at least one when any was paid), from the ids
    sorted, with ``random.Random(seed)``."""
    population = sorted(line_ids)
    if not population:
        return []
    size = min(len(population), max(1, math.ceil(len(population) * float(share))))
    # Reproducible from the recorded seed by design; the seed itself comes from ``secrets``.
    return sorted(random.Random(seed).sample(population, size))  # noqa: S311


def draw(payroll: Payroll, seed: int | None = None) -> PaymentCheckDraw:
    """Draw the payroll's sample (once) and open a check for each line drawn. Call inside the
    reconciling transaction."""
    existing = PaymentCheckDraw.objects.filter(payroll=payroll).first()
    if existing is not None:
        return existing
    share = policy_figure("payment_check_share", timezone.localdate(), payroll.district.code)
    seed = secrets.randbits(62) if seed is None else seed
    paid = list(payroll.lines.filter(status=PayrollLine.Status.PAID).values_list("pk", flat=True))
    chosen = sample(paid, share, seed)
    record = PaymentCheckDraw.objects.create(
        payroll=payroll, seed=seed, share=share, population=len(paid), selected=chosen
    )
    townships = dict(
        PayrollLine.objects.filter(pk__in=chosen).values_list("pk", "household__region__parent_id")
    )
    PaymentCheck.objects.bulk_create(
        [PaymentCheck(line_id=pk, township_id=townships[pk]) for pk in chosen]
    )
    return record
