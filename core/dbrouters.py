"""Reports on a read replica (DESIGN.md §10, docs/operations.md).

With ``DATABASE_REPLICA_URL`` set, the settings add a ``replica`` database (a PostgreSQL
streaming standby) and install ``ReplicaRouter``. A router sees only the model, not who is
asking, so the reports say so themselves: the reads made inside ``reading_from_replica()``
(the statistics return, the dashboard, the indicators, an export's rows) go to the replica,
every other read to the primary, and every write, wherever it is made, to the primary.

A standby is some seconds behind its primary (replication lag): reports accept that, a clerk's
pages and anything that reads what it is about to write do not. So a read inside a transaction
on the primary stays there (it is a read-then-write, or must see the transaction's own writes),
and a report whose replica cannot be reached reads from the primary instead of failing.
"""

from __future__ import annotations

import contextvars
import logging
import time
from contextlib import contextmanager
from dataclasses import dataclass

from django.db import DEFAULT_DB_ALIAS, DatabaseError, connections, router

log = logging.getLogger(__name__)

REPLICA = "replica"
# After a failed connection the replica is left alone this long (per process), so that every
# report does not wait for a connection timeout while it is down.
RETRY_AFTER_SECONDS = 30.0


@dataclass
class _Scope:
    alias: str | None = None  # decided at the scope's first read


_scope: contextvars.ContextVar[_Scope | None] = contextvars.ContextVar("replica", default=None)
_down_until = 0.0


@contextmanager
def reading_from_replica():
    """Reads inside the block (or the decorated function) go to the replica when there is one.
    Only for reports, which tolerate data a few seconds old; writes still go to the primary."""
    token = _scope.set(_Scope())
    try:
        yield
    finally:
        _scope.reset(token)


def replica_in_use() -> bool:
    """True when reports read from a replica (``DATABASE_REPLICA_URL`` is set): the report
    pages then say their figures can be a few seconds behind."""
    return REPLICA in connections.settings and any(
        isinstance(r, ReplicaRouter) for r in router.routers
    )


def _reachable_replica() -> str:
    """The replica if a connection to it opens (a dropped persistent one is noticed by the
    health check), else the primary, with a warning, for the next ``RETRY_AFTER_SECONDS``."""
    global _down_until
    if time.monotonic() < _down_until:
        return DEFAULT_DB_ALIAS
    try:
        with connections[REPLICA].cursor():
            pass
    except DatabaseError as exc:
        _down_until = time.monotonic() + RETRY_AFTER_SECONDS
        log.warning(
            "read replica unreachable, reports read from the primary for %d s: %s",
            RETRY_AFTER_SECONDS,
            exc,
        )
        return DEFAULT_DB_ALIAS
    return REPLICA


class ReplicaRouter:
    """Installed only when ``DATABASE_REPLICA_URL`` is set (settings)."""

    def db_for_read(self, model, **hints):
        scope = _scope.get()
        if scope is None or REPLICA not in connections.settings:
            return DEFAULT_DB_ALIAS  # also for objects a report loaded, read again later
        if connections[DEFAULT_DB_ALIAS].in_atomic_block:
            return DEFAULT_DB_ALIAS
        if scope.alias is None:
            scope.alias = _reachable_replica()
        return scope.alias

    def db_for_write(self, model, **hints):
        return DEFAULT_DB_ALIAS

    def allow_relation(self, obj1, obj2, **hints):
        return True  # the replica holds the primary's rows: the same objects either way

    def allow_migrate(self, db, app_label, model_name=None, **hints):
        return db == DEFAULT_DB_ALIAS
