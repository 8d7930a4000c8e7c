"""资金统筹: what each district has been allocated for a programme and year, and what its
approved payrolls have spent of it (payments that failed at the bank or were held back are
not spent; their re-issues are)."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from django.db.models import Q, Sum

from .models import COMMITTED_PAYROLL, FundAllocation, PayrollLine

ZERO = Decimal("0.00")
# Lines that sent no money: refused by the bank, or held back (their re-issue is spent instead).
NOT_SPENT = (PayrollLine.Status.FAILED, PayrollLine.Status.HELD)


@dataclass(frozen=True)
class Position:
    allocated: Decimal
    spent: Decimal

    @property
    def share(self) -> Decimal | None:
        """Spent over allocated (None with nothing allocated)."""
        return (self.spent / self.allocated) if self.allocated else None


def position(district, programme: str, year: int) -> Position:
    allocated = FundAllocation.objects.filter(
        district=district, programme=programme, year=year
    ).aggregate(total=Sum("amount"))["total"]
    return Position(_money(allocated), spent(Q(payroll__district=district), programme, year))


def spent(where: Q, programme: str, year: int) -> Decimal:
    total = (
        PayrollLine.objects.filter(
            where,
            payroll__programme=programme,
            payroll__month__year=year,
            payroll__status__in=COMMITTED_PAYROLL,
        )
        .exclude(status__in=NOT_SPENT)
        .aggregate(total=Sum("amount"))["total"]
    )
    return _money(total)


def _money(value) -> Decimal:
    """A sum as yuan and fen (SQLite's sums drop the scale)."""
    return (value or ZERO).quantize(Decimal("0.01"))


def execution(*, year: int, districts) -> list[dict]:
    """Per district and programme: allocated, spent, share (fund execution page)."""
    allocated = {
        (row["district_id"], row["programme"]): row["total"]
        for row in FundAllocation.objects.filter(year=year, district__in=districts)
        .values("district_id", "programme")
        .annotate(total=Sum("amount"))
    }
    spending = {
        (row["payroll__district_id"], row["payroll__programme"]): row["total"]
        for row in PayrollLine.objects.filter(
            payroll__district__in=districts,
            payroll__month__year=year,
            payroll__status__in=COMMITTED_PAYROLL,
        )
        .exclude(status__in=NOT_SPENT)
        .values("payroll__district_id", "payroll__programme")
        .annotate(total=Sum("amount"))
    }
    keys = sorted(set(allocated) | set(spending))
    return [
        {
            "district_id": district,
            "programme": programme,
            "position": Position(_money(allocated.get(key)), _money(spending.get(key))),
        }
        for key in keys
        for district, programme in [key]
    ]
