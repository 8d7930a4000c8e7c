"""Money is Decimal yuan to the fen."""

from decimal import Decimal, InvalidOperation

from django.utils.translation import gettext as _

from .exceptions import ValidationFailed

MAX_AMOUNT = Decimal("99999999.99")  # what the amount columns hold


def parse_amount(value, field: str = "amount") -> Decimal:
    """A positive amount in yuan to the fen, or ValidationFailed (never NaN, never a figure
    the database cannot store)."""
    try:
        amount = Decimal(str(value).strip()).quantize(Decimal("0.01"))
    except (InvalidOperation, ValueError):
        amount = None
    if amount is None or not amount.is_finite() or not Decimal("0") < amount <= MAX_AMOUNT:
        raise ValidationFailed([(field, _("Enter an amount in yuan above 0."))])
    return amount
