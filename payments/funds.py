"""资金统筹: what each district has been allocated for a programme and year, and what its
approved payrolls have spent of it (payments that failed at the bank or were held back are
not spent; their re-issues are).

Spent is read from the payrolls' recorded totals less the few lines that sent nothing, never
by summing every line of the year: a city-wide page would otherwise add up millions of rows."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from decimal import Decimal

from django.db.models import Sum

from core.money import fen

from .models import COMMITTED_PAYROLL, FundAllocation, Payroll, PayrollLine

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
    rows = execution(year=year, districts=[district], programme=programme)
    if not rows:
        return Position(ZERO, ZERO)
    return rows[0]["position"]


def _spending(year: int, districts, programme: str | None) -> dict:
    payrolls = Payroll.objects.filter(
        district__in=districts, month__year=year, status__in=COMMITTED_PAYROLL
    )
    if programme:
        payrolls = payrolls.filter(programme=programme)
    spent: dict = defaultdict(lambda: ZERO)
    for row in payrolls.values("district_id", "programme").annotate(total=Sum("total_amount")):
        spent[(row["district_id"], row["programme"])] += fen(row["total"])
    unsent = (
        PayrollLine.objects.filter(payroll__in=payrolls, status__in=NOT_SPENT)
        .values("payroll__district_id", "payroll__programme")
        .annotate(total=Sum("amount"))
    )
    for row in unsent:
        spent[(row["payroll__district_id"], row["payroll__programme"])] -= fen(row["total"])
    return spent


def execution(*, year: int, districts, programme: str | None = None) -> list[dict]:
    """Per district and programme: allocated, spent, share (fund execution page)."""
    allocations = FundAllocation.objects.filter(year=year, district__in=districts)
    if programme:
        allocations = allocations.filter(programme=programme)
    allocated = {
        (row["district_id"], row["programme"]): fen(row["total"])
        for row in allocations.values("district_id", "programme").annotate(total=Sum("amount"))
    }
    spending = _spending(year, districts, programme)
    keys = sorted(set(allocated) | set(spending))
    return [
        {
            "district_id": district,
            "programme": programme_code,
            "position": Position(allocated.get(key, ZERO), spending.get(key, ZERO)),
        }
        for key in keys
        for district, programme_code in [key]
    ]
