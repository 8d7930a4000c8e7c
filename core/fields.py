"""Model fields for personal numbers kept encrypted at rest (see ``core.crypto``).

``EncryptedCharField`` reads and writes plain text in Python and stores it sealed; it cannot be
searched, sorted or compared in SQL (any lookup but ``isnull`` is refused, loudly, rather than
silently comparing ciphertext). Its companion ``DigestField`` holds the keyed hash that exact
search, uniqueness and joins use::

    id_number = EncryptedCharField(_("ID number"), max_length=18)
    id_number_digest = DigestField(source="id_number")

    Member.objects.filter(id_number_digest="50010319680305031X")   # plain text in, hashed

The digest is always derived from its source on the instance, so ``save``, ``bulk_create``,
``bulk_update``, constraint validation and the history tables all store the right hash.
"""

from __future__ import annotations

from collections.abc import Callable

from django.core.exceptions import FieldError
from django.db import models, reset_queries
from django.db.models import lookups

from . import crypto


class EncryptedCharField(models.CharField):
    """Plain text in Python, sealed in the database (a text column: the sealed form is longer).
    ``max_length`` bounds the plain text."""

    def get_internal_type(self):
        return "TextField"

    def from_db_value(self, value, expression, connection):
        if value in (None, ""):
            return value
        return crypto.unseal(value)

    def get_prep_value(self, value):
        value = super().get_prep_value(value)
        if value in (None, ""):
            return value
        return crypto.seal(value)

    def get_lookup(self, lookup_name):
        if lookup_name != "isnull":
            raise FieldError(
                f"{self.name} is encrypted: search it through its digest field, exactly."
            )
        return super().get_lookup(lookup_name)


class _Derived:
    """The digest attribute of an instance: always its source's current plain text (hashed when
    written), whatever was read from the database."""

    def __init__(self, field: DigestField):
        self.field = field

    def __get__(self, instance, owner=None):
        if instance is None:
            return self
        return getattr(instance, self.field.source)

    def __set__(self, instance, value):
        # Kept only so that Django counts the field as loaded (saved with the others).
        instance.__dict__[self.field.attname] = value


class DigestField(models.CharField):
    """The keyed hash of another field of the same model, for exact search."""

    descriptor_class = _Derived

    def __init__(self, *args, source: str, **kwargs):
        self.source = source
        kwargs.setdefault("max_length", 64)
        kwargs.setdefault("editable", False)
        kwargs.setdefault("blank", True)
        super().__init__(*args, **kwargs)

    def deconstruct(self):
        name, path, args, kwargs = super().deconstruct()
        kwargs["source"] = self.source
        for key, default in (("max_length", 64), ("editable", False), ("blank", True)):
            if kwargs.get(key, default) == default:
                kwargs.pop(key, None)
        return name, path, args, kwargs

    def get_prep_value(self, value):
        if value is None:
            return None
        if isinstance(value, Digest):
            return str(value)
        return crypto.digest(str(value)) if value != "" else ""


class Digest(str):
    """A value that is already a keyed hash (not to be hashed again)."""


def _digests(value) -> list[Digest]:
    if value in (None, ""):
        return [Digest("")]
    return [Digest(d) for d in crypto.digests(str(value))]


@DigestField.register_lookup
class DigestExact(lookups.Exact):
    """``field=plain``: equal to the plain text's hash under any configured search key."""

    prepare_rhs = False  # hashed in as_sql, under every key

    def as_sql(self, compiler, connection):
        if hasattr(self.rhs, "as_sql") or self.rhs is None:
            return super().as_sql(compiler, connection)
        lhs, params = self.process_lhs(compiler, connection)
        hashes = _digests(self.rhs)
        placeholders = ", ".join(["%s"] * len(hashes))
        return f"{lhs} IN ({placeholders})", [*params, *map(str, hashes)]


@DigestField.register_lookup
class DigestIn(lookups.In):
    """``field__in=[plain, …]``: hashes under every configured search key."""

    def get_prep_lookup(self):
        if not hasattr(self.rhs, "resolve_expression"):
            self.rhs = [d for value in self.rhs for d in _digests(value)]
        return super().get_prep_lookup()


def seal_existing(table: str, columns: dict[str, str | None], key: str = "id"):
    """A migration step sealing a table's existing plain values in place (and filling their
    digest columns): ``{"id_number": "id_number_digest", "bank_account_number": None}``."""

    def forwards(apps, schema_editor):
        seal_table(schema_editor.connection, table, columns, key)

    return forwards


def seal_table(
    connection,
    table: str,
    columns: dict[str, str | None],
    key: str = "id",
    *,
    read: Callable[[str], str] = str,
    progress: Callable[[int], None] = lambda done: None,
) -> int:
    """Seal plain values written by SQL (a migration, the scale seed) in place, batch by batch,
    one UPDATE per batch: a table of millions of rows is neither held in memory nor written
    one row per round trip. With ``read=crypto.unseal``: seal sealed values again under the
    current keys (key rotation). Returns the rows written."""
    batch, done = 4000, 0
    quote = connection.ops.quote_name
    plain = list(columns)
    digests = [d for d in columns.values() if d]
    sets = [f"{quote(c)} = v.column{i + 2}" for i, c in enumerate(plain)] + [
        f"{quote(d)} = v.column{len(plain) + i + 2}" for i, d in enumerate(digests)
    ]
    width = 1 + len(plain) + len(digests)
    row = "(" + ", ".join(["%s"] * width) + ")"
    last = None
    with connection.cursor() as cursor:
        while True:
            after = f"WHERE {quote(key)} > %s " if last is not None else ""
            cursor.execute(
                f"SELECT {quote(key)}, {', '.join(map(quote, plain))} "  # noqa: S608
                f"FROM {quote(table)} {after}ORDER BY {quote(key)} LIMIT {batch}",
                [last] if last is not None else [],
            )
            rows = cursor.fetchall()
            if not rows:
                return done
            values = []
            for pk, *stored in rows:
                texts = [read(t) if t else t for t in stored]
                values += [pk, *(crypto.seal(t) if t else t for t in texts)]
                values += [
                    crypto.digest(t) if t else ""
                    for t, d in zip(texts, columns.values(), strict=True)
                    if d
                ]
            cursor.execute(
                f"UPDATE {quote(table)} SET {', '.join(sets)} "  # noqa: S608
                f"FROM (VALUES {', '.join([row] * len(rows))}) AS v "
                f"WHERE {quote(table)}.{quote(key)} = v.column1",
                values,
            )
            last, done = rows[-1][0], done + len(rows)
            reset_queries()  # under DEBUG the query log would keep every batch's values
            progress(done)
