"""The audit log: one ``AuditEvent`` per change of case data, per workflow step, per view of
sensitive data and per login.

Changes to history-tracked models (django-simple-history) arrive through its
``post_create_historical_record`` signal, so no ``save()`` or ``delete()`` anywhere, admin
included, escapes the log. Bulk writes (``bulk_create``, ``update()``) send no signal: a
service that writes in bulk records its own audit event for the batch (e.g. an import).
Workflow services call ``audit_record`` themselves inside their transaction.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.apps import apps
from django.core.paginator import Paginator
from django.db import models
from django.dispatch import receiver
from django.utils import timezone
from django.utils.translation import gettext as _
from simple_history.signals import post_create_historical_record

from .fields import DigestField
from .masking import mask_changes
from .models import AuditEvent

_HISTORY_ACTIONS = {
    "+": AuditEvent.Action.CREATE,
    "~": AuditEvent.Action.UPDATE,
    "-": AuditEvent.Action.DELETE,
}
# Never copied into the audit log: secrets, and bookkeeping that is not a change of data.
_SKIPPED_FIELDS = {"password", "last_login", "id", "version", "updated_at", "created_at"}


def audit_record(
    *,
    actor,
    action: str,
    obj: models.Model | None = None,
    region_code: str = "",
    case_key: str = "",
    from_state: str = "",
    to_state: str = "",
    reason: str = "",
    changes: dict[str, Any] | None = None,
) -> AuditEvent:
    """Write one audit event. Call it inside the service's transaction, so the event exists
    exactly when the change does."""
    event = audit_event(
        actor=actor,
        action=action,
        obj=obj,
        region_code=region_code,
        case_key=case_key,
        from_state=from_state,
        to_state=to_state,
        reason=reason,
        changes=changes,
    )
    event.save()
    return event


def audit_event(
    *,
    actor,
    action: str,
    obj: models.Model | None = None,
    region_code: str = "",
    case_key: str = "",
    from_state: str = "",
    to_state: str = "",
    reason: str = "",
    changes: dict[str, Any] | None = None,
) -> AuditEvent:
    """The event ``audit_record`` writes, unsaved: a service changing rows in bulk builds one
    per row and writes them with ``bulk_create`` in its transaction."""
    if obj is not None and not region_code:
        region_code = getattr(obj, "audit_region_code", "")
    if obj is not None and not case_key:
        case_key = getattr(obj, "audit_case_key", "")
    return AuditEvent(
        actor=actor if actor is not None and actor.pk else None,
        actor_name=actor.get_username() if actor is not None and actor.pk else "",
        action=action,
        object_type=obj._meta.label_lower if obj is not None else "",
        object_id=str(obj.pk) if obj is not None else "",
        object_repr=str(obj)[:200] if obj is not None else "",
        region_code=region_code or "",
        case_key=case_key,
        from_state=from_state,
        to_state=to_state,
        reason=reason,
        # Personal numbers are kept masked: the log holds no full ID, bank or phone number
        # (the full values live encrypted in the records and their history tables).
        changes=mask_changes(changes or {}),
    )


def _jsonable(value):
    if value is None or isinstance(value, (bool, int, float, str)):
        return value
    if isinstance(value, dt.datetime):
        return timezone.localtime(value).isoformat(timespec="seconds")
    return str(value)


def events_page(request, events, *, mask, page_size: int = 50) -> dict:
    """A page of a filtered audit-event list (``events``, a FilterSet) for a template: each
    event with its ``change_rows`` shown through ``mask``, and the query to keep in the
    pagination links."""
    page = Paginator(events.qs, page_size).get_page(request.GET.get("page"))
    for event in page.object_list:
        event.change_rows = change_rows(event, mask=mask)
    query = request.GET.copy()
    query.pop("page", None)
    return {"filter": events, "page": page, "query": query.urlencode()}


def change_rows(event: AuditEvent, mask=None) -> list[tuple[str, object, object]]:
    """(field label, before, after) for display, labels from the model's verbose names.
    ``mask(field, value)``, if given, hides values the viewer may not see."""
    try:
        model = apps.get_model(event.object_type) if event.object_type else None
    except (LookupError, ValueError):
        model = None
    fields = {f.attname: f for f in model._meta.concrete_fields} if model is not None else {}
    mask = mask or (lambda field, value: value)

    def shown(name, value):
        field = fields.get(name)
        if isinstance(value, bool):
            return _("Yes") if value else _("No")
        if field is not None and field.choices and value is not None:
            return dict(field.flatchoices).get(value, value)
        return mask(name, value)

    labels = {
        name[: -len(LABEL_SUFFIX)]: values
        for name, values in event.changes.items()
        if name.endswith(LABEL_SUFFIX)
    }
    return [
        (
            str(fields[name].verbose_name) if name in fields else name,
            *(
                labels[name]  # a reference, by what it was called when recorded
                if name in labels
                else (shown(name, values[0]), shown(name, values[1]))
            ),
        )
        for name, values in event.changes.items()
        if not name.endswith(LABEL_SUFFIX)
    ]


# A changed reference is recorded with the names of what it pointed at, beside the ids.
LABEL_SUFFIX = "__label"


def _with_labels(model, changes: dict) -> dict:
    """Add what each changed reference (a household's head, a member's household) is
    called, so the history reads "户主: 张三 → 李四", never ids."""
    fields = {f.attname: f for f in model._meta.concrete_fields if f.is_relation}
    labelled = dict(changes)
    for name, (before, after) in changes.items():
        field = fields.get(name)
        if field is None:
            continue
        names = {
            str(pk): str(obj)
            for pk, obj in field.related_model._default_manager.in_bulk(
                [v for v in (before, after) if v is not None]
            ).items()
        }
        labelled[name + LABEL_SUFFIX] = [
            names.get(str(before), before) if before is not None else None,
            names.get(str(after), after) if after is not None else None,
        ]
    return labelled


def _history_changes(history_instance) -> dict[str, list]:
    """{field: [before, after]} for the fields this historical record changed."""
    fields = [
        f.attname
        for f in history_instance.instance_type._meta.concrete_fields
        if f.attname not in _SKIPPED_FIELDS
        and not isinstance(f, DigestField)
        and f.attname in {h.attname for h in history_instance._meta.concrete_fields}
    ]
    after = {name: getattr(history_instance, name) for name in fields}
    if history_instance.history_type == "+":
        return {name: [None, _jsonable(v)] for name, v in after.items() if v not in (None, "")}
    if history_instance.history_type == "-":
        return {name: [_jsonable(v), None] for name, v in after.items()}
    previous = history_instance.prev_record
    if previous is None:  # created without history (bulk seed): the old values are unknown
        return {name: [None, _jsonable(v)] for name, v in after.items()}
    before = {name: getattr(previous, name) for name in fields}
    return {
        name: [_jsonable(before[name]), _jsonable(after[name])]
        for name in fields
        if before[name] != after[name]
    }


@receiver(post_create_historical_record)
def _history_to_audit_log(sender, instance, history_instance, history_user, **kwargs):
    changes = _with_labels(history_instance.instance_type, _history_changes(history_instance))
    if history_instance.history_type == "~" and not changes:
        return  # a save that changed nothing (e.g. only the password or last login)
    audit_record(
        actor=history_user,
        action=_HISTORY_ACTIONS[history_instance.history_type],
        obj=instance,
        reason=history_instance.history_change_reason or "",
        changes=changes,
    )
