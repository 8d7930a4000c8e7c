"""The audit log as a hash chain: each event is sealed with the SHA-256 of the previous
event's seal and its own content, in the order of sealing (``chain_position``), by one job at
a time (``audit_seal``, every minute), so writers never wait on each other. ``verify`` walks
the chain and names the first event whose seal no longer matches (an event changed) or that
follows a missing link (an event removed).
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
    """Seal the events not sealed yet (run under the job lock), each after the last sealed
    one, in id order among themselves. An event committed late (its transaction outlived a
    later one that was sealed meanwhile) is sealed at the next run, further down the chain."""
    last = (
        AuditEvent.objects.exclude(chain_position=None)
        .order_by("-chain_position")
        .values("chain_position", "seal")
        .first()
    ) or {"chain_position": 0, "seal": GENESIS}
    previous, position, sealed = last["seal"], last["chain_position"], 0
    while True:
        rows = list(AuditEvent.objects.filter(seal="").order_by("id").values(*FIELDS)[:BATCH])
        if not rows:
            return {"sealed": sealed}
        updates = []
        for row in rows:
            previous, position = seal_of(previous, row), position + 1
            updates.append(AuditEvent(id=row["id"], seal=previous, chain_position=position))
        with transaction.atomic():
            AuditEvent.objects.bulk_update(updates, ["seal", "chain_position"], batch_size=1000)
        sealed += len(rows)


@dataclass(frozen=True)
class Verdict:
    checked: int
    unsealed: int
    broken_at: int | None  # the first event whose seal does not match, if any


def verify() -> Verdict:
    """Walk the chain in its order. A seal that does not match names the event changed; a
    missing position names the event after the one removed. When events past the retention
    period were deleted, the chain is checked from the oldest one kept (its own seal is the
    anchor). Events not sealed yet are counted, not judged (the next sealing run covers
    them)."""
    chain = (
        AuditEvent.objects.exclude(chain_position=None)
        .order_by("chain_position")
        .values(*FIELDS, "seal", "chain_position")
    )
    previous, expected, checked = None, None, 0
    for row in chain.iterator(chunk_size=BATCH):
        position = row["chain_position"]
        if previous is None and position > 1:  # older links deleted after retention
            previous, expected, checked = row["seal"], position + 1, 1
            continue
        if previous is None:
            previous, expected = GENESIS, 1
        if position != expected or seal_of(previous, row) != row["seal"]:
            return Verdict(checked, 0, row["id"])
        previous, expected, checked = row["seal"], position + 1, checked + 1
    return Verdict(checked, AuditEvent.objects.filter(seal="").count(), None)
