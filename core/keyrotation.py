"""Key rotation for encryption at rest: every encrypted value (records and their history tables)
sealed again under the first key of ENCRYPTION_KEYS, every digest hashed again under the first
key of SEARCH_HASH_KEYS, every stored file sealed again (and a file stored before encryption
was turned on sealed for the first time). Batch by batch, one UPDATE each, so a run can be
stopped and started again: it is idempotent.

Procedure: put the new key first in the variable and keep the old one after it; deploy; run
``manage.py rotate_keys``; ``manage.py rotate_keys --check`` reports nothing left under an old
key; remove the old key.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass, field

from django.apps import apps
from django.conf import settings
from django.core.files.storage import default_storage
from django.db import connection, models
from django.db.models.functions import Cast

from . import crypto
from .fields import DigestField, EncryptedCharField, seal_table


@dataclass
class Rotation:
    values: dict[str, int] = field(default_factory=dict)  # model label → rows re-sealed
    files: int = 0
    files_first_sealed: int = 0


def encrypted_models() -> list[tuple[type[models.Model], list[str], list[str]]]:
    """(model, encrypted field names, digest field names) for every model, history included."""
    found = []
    for model in apps.get_models():
        fields = model._meta.concrete_fields
        sealed = [f.name for f in fields if isinstance(f, EncryptedCharField)]
        digests = [f.name for f in fields if isinstance(f, DigestField)]
        if sealed:
            found.append((model, sealed, digests))
    return sorted(found, key=lambda entry: entry[0]._meta.label)


def rotate_values(progress: Callable[[str, int], None] = lambda label, done: None) -> dict:
    """Every encrypted column opened (under whichever listed key sealed it) and sealed again
    under the first key, its digest computed again under the first search key: set-wise,
    batch by batch, without loading model instances."""
    done: dict[str, int] = {}
    for model, sealed, digests in encrypted_models():
        label = model._meta.label
        fields = {f.name: f for f in model._meta.concrete_fields}
        source_of = {fields[d].source: fields[d].column for d in digests}
        columns = {fields[name].column: source_of.get(name) for name in sealed}
        done[label] = seal_table(
            connection,
            model._meta.db_table,
            columns,
            model._meta.pk.column,
            read=crypto.unseal,
            progress=lambda count, label=label: progress(label, count),
        )
    return done


def _stored_files():
    root = str(settings.MEDIA_ROOT)
    for directory, _dirs, names in os.walk(root):
        for name in names:
            if name.startswith(".sealing-"):
                continue
            yield os.path.relpath(os.path.join(directory, name), root)


def rotate_files() -> tuple[int, int]:
    """(files re-sealed, files sealed for the first time)."""
    resealed = first = 0
    for name in _stored_files():
        with open(default_storage.path(name), "rb") as raw:
            head = raw.read(crypto.HEADER)
        if crypto.is_sealed_file(head):
            resealed += default_storage.reseal(name)
        else:
            default_storage.seal_plain(name)
            first += 1
    return resealed, first


def rotate(progress: Callable[[str, int], None] = lambda label, done: None) -> Rotation:
    rotation = Rotation(values=rotate_values(progress))
    rotation.files, rotation.files_first_sealed = rotate_files()
    return rotation


def left_under_old_keys() -> dict[str, int]:
    """What is not yet sealed under the first key: {model label or "files": count}."""
    current = crypto.sealing_keys()[0][0] + ":"
    left: dict[str, int] = {}
    for model, sealed, _digests in encrypted_models():
        stale = models.Q()
        for name in sealed:
            stale |= ~models.Q(**{f"raw_{name}": ""}) & ~models.Q(
                **{f"raw_{name}__startswith": current}
            )
        raw = {f"raw_{name}": Cast(name, models.TextField()) for name in sealed}
        count = model._default_manager.annotate(**raw).filter(stale).count()
        if count:
            left[model._meta.label] = count
    files = 0
    for name in _stored_files():
        with open(default_storage.path(name), "rb") as handle:
            head = handle.read(crypto.HEADER)
        if not crypto.is_sealed_file(head) or head[len(crypto.MAGIC) :].decode() != current[:-1]:
            files += 1
    if files:
        left["files"] = files
    return left
