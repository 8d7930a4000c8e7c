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
    """Count a lookup against its address; True once the address is over its hourly limit,
    or the number has had too many failed lookups, from this address or from everywhere
    (shared by every worker through the cache). Only failures count against a number, so
    nobody can lock a family out of its own lookup by asking for its number."""
    if ratelimit.exceeded(f"lookup:address:{address}", settings.PUBLIC_LOOKUPS_PER_ADDRESS_HOUR):
        return True
    return (
        ratelimit.count(f"lookup-failed:{kind}:{key}:{address}")
        >= settings.PUBLIC_LOOKUPS_PER_NUMBER_HOUR
        or ratelimit.count(f"lookup-failed:{kind}:{key}")
        >= settings.PUBLIC_LOOKUP_FAILURES_PER_NUMBER_HOUR
    )


def failed(*, kind: str, key: str, address: str) -> None:
    """A lookup that matched nothing counts against the number (here and in all)."""
    ratelimit.exceeded(f"lookup-failed:{kind}:{key}:{address}", 0)
    ratelimit.exceeded(f"lookup-failed:{kind}:{key}", 0)


OUTCOMES = {
    "found": gettext_lazy("found"),
    "no_match": gettext_lazy("no match"),
    "refused": gettext_lazy("refused: too many lookups"),
}


@transaction.atomic
def lookup_record(*, kind: str, key: str, outcome: str, address: str) -> None:
    audit_record(
        actor=None,
        action=AuditEvent.Action.VIEW,
        reason=_("%(kind)s: %(key)s, %(outcome)s, from %(address)s")
        % {
            "kind": KINDS[kind],
            "key": key[:40],
            "outcome": OUTCOMES[outcome],
            "address": address or "?",
        },
    )


def lookup(*, kind: str, key: str, address: str, find) -> tuple[str, dict | None]:
    """One lookup, limited, logged (never with the ID tail): ("found", answer),
    ("no_match", None) or ("refused", None)."""
    if too_many(kind=kind, key=key, address=address):
        lookup_record(kind=kind, key=key, outcome="refused", address=address)
        return "refused", None
    found = find()
    outcome = "found" if found is not None else "no_match"
    lookup_record(kind=kind, key=key, outcome=outcome, address=address)
    if found is None:
        failed(kind=kind, key=key, address=address)
    return outcome, found
