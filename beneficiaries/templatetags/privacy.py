"""Masking for lists and for staff without the right to see full personal data."""

from django import template

from beneficiaries import idnumber
from beneficiaries.models.entitlement import COMPONENT_LABELS
from core import masking

register = template.Library()


@register.filter
def mask_id(value: str) -> str:
    return idnumber.mask(value or "")


@register.filter
def mask_tail(value: str, keep: int = 4) -> str:
    """Phone numbers and bank accounts: only the last ``keep`` characters."""
    return masking.mask_tail(value, keep)


def mask_sensitive(field: str, value):
    """A value as a change history shows it: masked where sensitive; an amount's components
    in words (never their codes)."""
    if field == "components" and isinstance(value, list):
        return "; ".join(
            f"{COMPONENT_LABELS.get(c.get('code'), c.get('code'))} {c.get('amount')}"
            for c in value
            if isinstance(c, dict)
        )
    return masking.mask_value(field, value)
