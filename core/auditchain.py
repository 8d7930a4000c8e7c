"""The audit log as a hash chain: each event is sealed with the SHA-256 of the previous
event's seal and its own content, in id order, by one job at a time (``audit_seal``, every
minute), so writers never wait on each other. ``verify`` walks the chain and names the first
event whose seal no longer matches: an event changed, removed or slipped in afterwards.
On PostgreSQL the table also refuses any change but sealing, and any deletion younger than
the retention period (migration core 0005)."""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass

from django.db import transaction

from .models import AuditEvent

FIELDS = (
    "id",
    "occurred_at",
    "actor_id",
    "actor_name",
    "action",
    "object_type",
    "object_id",
    "object_repr",
    "region_code",
    "case_key",
    "from_state",
    "to_state",
    "reason",
    "changes",
)
GENESIS = "0" * 64
BATCH = 5000


def _content(row: dict) -> str:
    values = {name: row[name] for name in FIELDS}
    values["occurred_at"] = row["occurred_at"].isoformat(timespec="microseconds")
    return json.dumps(values, sort_keys=True, ensure_ascii=False, default=str)


def seal_of(previous: str, row: dict) -> str:
    return hashlib.sha256((previous + _content(row)).encode()).hexdigest()


def seal_pending() -> dict:
    """Seal the events not sealed yet, oldest first (run under the job lock)."""
    last = AuditEvent.objects.exclude(seal="").order_by("-id").values("id", "seal").first() or {
        "id": 0,
        "seal": GENESIS,
    }
    previous, after, sealed = last["seal"], last["id"], 0
    while True:
        rows = list(
            AuditEvent.objects.filter(id__gt=after, seal="").order_by("id").values(*FIELDS)[:BATCH]
        )
        if not rows:
            return {"sealed": sealed}
        updates = []
        for row in rows:
            previous = seal_of(previous, row)
            updates.append(AuditEvent(id=row["id"], seal=previous))
        with transaction.atomic():
            AuditEvent.objects.bulk_update(updates, ["seal"], batch_size=1000)
        after, sealed = rows[-1]["id"], sealed + len(rows)


@dataclass(frozen=True)
class Verdict:
    checked: int
    unsealed: int
    broken_at: int | None  # the first event whose seal does not match, if any


def verify() -> Verdict:
    """Walk the sealed chain from the first event; events after it not sealed yet are
    counted, not judged (the next sealing run covers them)."""
    previous, checked = GENESIS, 0
    rows = AuditEvent.objects.order_by("id").values(*FIELDS, "seal")
    for row in rows.iterator(chunk_size=BATCH):
        if not row["seal"]:
            later = AuditEvent.objects.filter(id__gt=row["id"]).exclude(seal="").first()
            if later is not None:  # a sealed event after a gap: something was slipped in
                return Verdict(checked, 0, row["id"])
            unsealed = AuditEvent.objects.filter(id__gte=row["id"]).count()
            return Verdict(checked, unsealed, None)
        previous = seal_of(previous, row)
        if previous != row["seal"]:
            return Verdict(checked, 0, row["id"])
        checked += 1
    return Verdict(checked, 0, None)
