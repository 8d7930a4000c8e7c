"""救助标准公开: the figures in force in a district, with their history, from the policy data
(the same rows and the same rule as the eligibility engine: the latest start wins, then the
most specific)."""

from __future__ import annotations

import datetime as dt

from django.utils import timezone

from eligibility.models import PolicyValue
from eligibility.selectors import policy_figures

K = PolicyValue.Kind
# (programme, figure, split by urban and rural)
PUBLISHED = (
    ("dibao", K.DIBAO_STANDARD, True),
    ("tekun", K.TEKUN_BASIC, True),
    ("tekun", K.TEKUN_NURSING_FULL, False),
    ("tekun", K.TEKUN_NURSING_PARTIAL, False),
    ("temporary", K.TEMPORARY_CAP, False),
)


def standards_of(district_code: str, *, today: dt.date | None = None) -> list[dict]:
    """Every published figure of the district as it changed over time, newest first within
    each figure; ``current`` marks the one in force this month."""
    this_month = (today or timezone.localdate()).replace(day=1)
    district = district_code[:6]
    rows = []
    for programme, kind, split in PUBLISHED:
        starts = sorted(
            set(
                PolicyValue.objects.filter(kind=kind, district_code__in=[district, ""]).values_list(
                    "effective_from", flat=True
                )
            )
        )
        for residence in ("urban", "rural") if split else ("",):
            history, last = [], None
            for start in starts:
                value = policy_figures(kind, start)(district, residence)
                if value is not None and value != last:
                    history.append((start, value))
                    last = value
            in_force = [start for start, _value in history if start <= this_month]
            current = in_force[-1] if in_force else None
            for start, value in reversed(history):
                rows.append(
                    {
                        "programme": programme,
                        "residence": residence,
                        "component": kind,
                        "component_label": str(K(kind).label),
                        "amount": f"{value:.2f}",
                        "effective_from": start.isoformat(),
                        "current": start == current,
                    }
                )
    return rows
