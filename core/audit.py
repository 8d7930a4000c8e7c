"""The audit log: one ``AuditEvent`` per change of case data, per workflow step, per view of
sensitive data and per login.

Changes to history-tracked models (django-simple-history) arrive through its
``post_create_historical_record`` signal, so no save anywhere, admin included, escapes the
log. Workflow services call ``audit_record`` themselves inside their transaction.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.apps import apps
from django.db import models
from django.dispatch import receiver
from django.utils import timezone
from simple_history.signals import post_create_historical_record

from .models import AuditEvent

_HISTORY_ACTIONS = {
    "+": AuditEvent.Action.CREATE,
    "~": AuditEvent.Action.UPDATE,
    "-": AuditEvent.Action.DELETE,
}
# Never copied into the audit log: secrets, and bookkeeping that is not a change of data.
_SKIPPED_FIELDS = {"password", "last_login", "id"}


def audit_record(
    *,
    actor,
    action: str,
    obj: models.Model | None = None,
    region_code: str = "",
    from_state: str = "",
    to_state: str = "",
    reason: str = "",
    changes: dict[str, Any] | None = None,
) -> AuditEvent:
    """Write one audit event. Call it inside the service's transaction, so the event exists
    exactly when the change does."""
    if obj is not None and not region_code:
        region_code = getattr(obj, "audit_region_code", "")
    return AuditEvent.objects.create(
        actor=actor if actor is not None and actor.pk else None,
        actor_name=actor.get_username() if actor is not None and actor.pk else "",
        action=action,
        object_type=obj._meta.label_lower if obj is not None else "",
        object_id=str(obj.pk) if obj is not None else "",
        object_repr=str(obj)[:200] if obj is not None else "",
        region_code=region_code or "",
        from_state=from_state,
        to_state=to_state,
        reason=reason,
        changes=changes or {},
    )


def _jsonable(value):
    if value is None or isinstance(value, (bool, int, float, str)):
        return value
    if isinstance(value, dt.datetime):
        return timezone.localtime(value).isoformat(timespec="seconds")
    return str(value)


def change_rows(event: AuditEvent) -> list[tuple[str, object, object]]:
    """(field label, before, after) for display, labels from the model's verbose names."""
    try:
        model = apps.get_model(event.object_type) if event.object_type else None
    except (LookupError, ValueError):
        model = None
    labels = {}
    if model is not None:
        labels = {f.attname: str(f.verbose_name) for f in model._meta.concrete_fields}
    return [
        (labels.get(name, name), values[0], values[1]) for name, values in event.changes.items()
    ]


def _history_changes(history_instance) -> dict[str, list]:
    """{field: [before, after]} for the fields this historical record changed."""
    fields = [
        f.attname
        for f in history_instance.instance_type._meta.concrete_fields
        if f.attname not in _SKIPPED_FIELDS
        and f.attname in {h.attname for h in history_instance._meta.concrete_fields}
    ]
    after = {name: getattr(history_instance, name) for name in fields}
    if history_instance.history_type == "+":
        return {name: [None, _jsonable(v)] for name, v in after.items() if v not in (None, "")}
    previous = history_instance.prev_record
    if history_instance.history_type == "-" or previous is None:
        return {name: [_jsonable(v), None] for name, v in after.items()}
    before = {name: getattr(previous, name) for name in fields}
    return {
        name: [_jsonable(before[name]), _jsonable(after[name])]
        for name in fields
        if before[name] != after[name]
    }


@receiver(post_create_historical_record)
def _history_to_audit_log(sender, instance, history_instance, history_user, **kwargs):
    changes = _history_changes(history_instance)
    if history_instance.history_type == "~" and not changes:
        return  # a save that changed nothing (e.g. only the password or last login)
    audit_record(
        actor=history_user,
        action=_HISTORY_ACTIONS[history_instance.history_type],
        obj=instance,
        reason=history_instance.history_change_reason or "",
        changes=changes,
    )
