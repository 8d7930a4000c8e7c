"""The residents' pages write only their log: every lookup, what was asked (never the ID tail),
whether it matched, and from which address."""

from __future__ import annotations

from django.conf import settings
from django.db import transaction
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from core import ratelimit
from core.audit import audit_record
from core.models import AuditEvent

KINDS = {
    "progress": gettext_lazy("Progress lookup by receipt number"),
    "payments": gettext_lazy("Payment lookup by household number"),
    "objection": gettext_lazy("Objection follow-up by reference"),
}


def too_many(*, kind: str, key: str, address: str) -> bool:
    """Count a lookup against its address and its number (shared by every worker through
    the cache); True once either is over its hourly limit."""
    by_address = ratelimit.exceeded(
        f"lookup:address:{address}", settings.PUBLIC_LOOKUPS_PER_ADDRESS_HOUR
    )
    by_key = ratelimit.exceeded(f"lookup:{kind}:{key}", settings.PUBLIC_LOOKUPS_PER_NUMBER_HOUR)
    return by_address or by_key


@transaction.atomic
def lookup_record(*, kind: str, key: str, found: bool, address: str, obj=None) -> None:
    audit_record(
        actor=None,
        action=AuditEvent.Action.VIEW,
        obj=obj,
        reason=_("%(kind)s: %(key)s, %(outcome)s, from %(address)s")
        % {
            "kind": KINDS[kind],
            "key": key[:40],
            "outcome": _("found") if found else _("no match"),
            "address": address or "?",
        },
    )
