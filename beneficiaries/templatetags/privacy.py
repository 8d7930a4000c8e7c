"""Masking for lists and for staff without the right to see full personal data."""

from django import template

from beneficiaries import idnumber
from beneficiaries.models.entitlement import COMPONENT_LABELS

register = template.Library()


@register.filter
def mask_id(value: str) -> str:
    return idnumber.mask(value or "")


@register.filter
def mask_tail(value: str, keep: int = 4) -> str:
    """Phone numbers and bank accounts: only the last ``keep`` characters."""
    value = value or ""
    return "" if not value else "*" * max(len(value) - keep, 3) + value[-keep:]


# Fields whose values only SENSITIVE_ROLES see in full, also in change histories.
SENSITIVE_FIELDS = {"id_number": mask_id, "phone": mask_tail, "bank_account_number": mask_tail}


def mask_sensitive(field: str, value):
    """A value as a change history shows it: masked where sensitive; an amount's components
    in words (never their codes)."""
    if field == "components" and isinstance(value, list):
        return "; ".join(
            f"{COMPONENT_LABELS.get(c.get('code'), c.get('code'))} {c.get('amount')}"
            for c in value
            if isinstance(c, dict)
        )
    masker = SENSITIVE_FIELDS.get(field)
    return masker(value) if masker and isinstance(value, str) else value
