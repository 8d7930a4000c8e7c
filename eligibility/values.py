"""What every rule module shares: money to the fen, the policy figures of a case, findings."""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal

FEN = Decimal("0.01")
ZERO = Decimal("0.00")


def money(value: Decimal) -> Decimal:
    return Decimal(value).quantize(FEN, rounding=ROUND_HALF_UP)


@dataclass(frozen=True)
class Policy:
    """The figures in force for one case: ``values[kind]`` and the temporary-assistance table
    ``temporary_rates["A:medical"]`` (multiples of the monthly 低保 standard)."""

    values: dict[str, Decimal]
    temporary_rates: dict[str, Decimal] = field(default_factory=dict)

    def get(self, kind: str) -> Decimal:
        return self.values[kind]


@dataclass(frozen=True)
class Finding:
    code: str
    disqualifying: bool
    message: str
