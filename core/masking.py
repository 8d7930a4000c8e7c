"""Masking of personal numbers wherever they are shown to someone who may not reveal them:
lists, change histories, the audit log (its pages, its API, the admin, its exports). The full
value is reachable only through the logged reveal on the household page."""

from __future__ import annotations


def mask_id(value: str) -> str:
    """An ID number: the address code and the last four characters, 500103********123X."""
    value = value or ""
    if len(value) != 18:
        return "*" * len(value)
    return f"{value[:6]}{'*' * 8}{value[14:]}"


def mask_tail(value: str, keep: int = 4) -> str:
    """Phone numbers and bank accounts: only the last ``keep`` characters."""
    value = value or ""
    return "" if not value else "*" * max(len(value) - keep, 3) + value[-keep:]


# Fields whose values are masked in histories and the audit log, by name.
SENSITIVE_FIELDS = {
    "id_number": mask_id,
    "phone": mask_tail,
    "bank_account_number": mask_tail,
    "account_number": mask_tail,
    "contact": mask_tail,
}


def mask_value(field: str, value):
    masker = SENSITIVE_FIELDS.get(field)
    return masker(value) if masker and isinstance(value, str) else value


def mask_changes(changes: dict) -> dict:
    """An audit event's ``changes`` ({field: [before, after]}) with sensitive values masked."""
    return {
        field: [mask_value(field, v) for v in values] if isinstance(values, list) else values
        for field, values in (changes or {}).items()
    }
