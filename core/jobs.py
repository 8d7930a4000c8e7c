"""Background work: scheduled jobs (each run takes the job's lock, records what it did, and
never runs twice at once), the locks that let a task re-delivered after its worker died take
the work over, and queueing that survives an unreachable broker.

A job's lock is its JobRun row (a partial unique index on running rows), so it holds across
processes and machines, not only inside one worker. On PostgreSQL the run also holds a session
advisory lock (``exclusive``), which the server drops the moment the holder's connection ends:
a run that died with its worker is then known dead at once, not only after ``STALE_AFTER``."""

from __future__ import annotations

import contextvars
import datetime as dt
import hashlib
import logging
import traceback
from collections.abc import Callable, Iterator
from contextlib import contextmanager

from django.db import Error, IntegrityError, connection, transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy
from kombu.exceptions import OperationalError as BrokerUnreachable

from .models import JobRun

log = logging.getLogger(__name__)
# A run whose last sign of life (its start, or its latest heartbeat) is older than this died
# with its worker; its lock is released. Long jobs call ``heartbeat()`` as they go.
STALE_AFTER = dt.timedelta(minutes=30)
_current: contextvars.ContextVar[int | None] = contextvars.ContextVar("job_run", default=None)
# For work that keeps no record to send again when ``queue`` fails.
BACKGROUND_UNREACHABLE = gettext_lazy(
    "The background service cannot be reached, so nothing was started; try again in a few minutes."
)


def locks_die_with_holder() -> bool:
    """True where ``exclusive`` proves a missing holder dead (PostgreSQL). SQLite, the
    embedded default, serves one machine with one worker and has no such lock."""
    return connection.vendor == "postgresql"


@contextmanager
def exclusive(name: str) -> Iterator[bool]:
    """Hold the lock called ``name`` for the block; yields False, at once, when another live
    process holds it. On PostgreSQL it is a session advisory lock: it goes with its holder's
    connection, so a worker killed midway leaves nothing locked and the re-delivered task
    takes the work over. Without such a lock (SQLite) every caller gets it."""
    if not locks_die_with_holder():
        yield True
        return
    key = _lock_key(name)
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_try_advisory_lock(%s)", [key])
        taken = cursor.fetchone()[0]
    if not taken:
        yield False
        return
    try:
        yield True
    finally:
        try:
            with connection.cursor() as cursor:
                cursor.execute("SELECT pg_advisory_unlock(%s)", [key])
        except Error:  # the connection broke: the server dropped the lock with it
            log.warning("lock %s not released: its connection is gone", name)


def _lock_key(name: str) -> int:
    return int.from_bytes(
        hashlib.blake2b(name.encode(), digest_size=8).digest(), "big", signed=True
    )


def _district_amounts(district_code: str) -> int:
    return _lock_key(f"district_amounts:{district_code[:6]}")


@contextmanager
def district_amounts_read(district_code: str) -> Iterator[None]:
    """Hold a district's amounts still while a payroll reads them, over the several
    transactions it takes: a new standard being applied to the district (``district_amounts_
    write``) is waited for, and waits in turn, so a payroll sees the district wholly before or
    wholly after it, never half and half. Shared: payrolls of several programmes may read at
    once. On PostgreSQL a session advisory lock (it goes with a dead worker's connection);
    SQLite serves one worker, which runs one task at a time."""
    if not locks_die_with_holder():
        yield
        return
    key = _district_amounts(district_code)
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_advisory_lock_shared(%s)", [key])
    try:
        yield
    finally:
        try:
            with connection.cursor() as cursor:
                cursor.execute("SELECT pg_advisory_unlock_shared(%s)", [key])
        except Error:  # the connection broke: the server dropped the lock with it
            log.warning("district amounts lock %s not released: its connection is gone", key)


def district_amounts_write(district_code: str) -> None:
    """Inside a transaction that changes a district's amounts: wait for the payrolls reading
    them (``district_amounts_read``) and keep new ones out until the transaction ends."""
    if not connection.in_atomic_block:
        raise RuntimeError("district_amounts_write holds its lock until a transaction ends")
    if not locks_die_with_holder():
        return
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_advisory_xact_lock(%s)", [_district_amounts(district_code)])


def queue(task, *args) -> bool:
    """Send ``task``; False, with a warning, when the broker cannot be reached. Work that has
    a record waiting (a payroll generating, an export queued) is sent again later by
    ``queued_work_resend``; a caller without one tells the user to try again."""
    try:
        task.delay(*args)
    except BrokerUnreachable:
        log.warning("broker unreachable: %s%r not queued now", task.name, args)
        return False
    return True


def queue_on_commit(task, *args) -> None:
    """``queue`` once the current transaction commits (at once outside one)."""
    transaction.on_commit(lambda: queue(task, *args))


def heartbeat() -> None:
    """Tell the run log the current job is still alive (keeps its lock)."""
    run_id = _current.get()
    if run_id is not None:
        JobRun.objects.filter(pk=run_id).update(heartbeat_at=timezone.now())


def run_job(name: str, work: Callable[[], dict], *, raise_errors: bool = True) -> JobRun:
    """Run ``work`` under ``name``'s lock and record it. ``work`` returns counts of what it did
    (e.g. {"opened": 12}); it must be idempotent: run twice, the second run finds nothing.
    A failure is recorded (and re-raised unless ``raise_errors`` is False)."""
    with exclusive(f"job:{name}") as alone:
        if not alone:
            return _skipped(name)
        return _run(name, work, raise_errors, holders_dead=locks_die_with_holder())


def _skipped(name: str) -> JobRun:
    log.info("job %s already running; skipped", name)
    now = timezone.now()
    return JobRun.objects.create(
        job=name, status=JobRun.Status.SKIPPED, started_at=now, finished_at=now
    )


def _run(name: str, work: Callable[[], dict], raise_errors: bool, holders_dead: bool) -> JobRun:
    now = timezone.now()
    dead = Q(heartbeat_at__isnull=True, started_at__lt=now - STALE_AFTER)
    dead |= Q(heartbeat_at__lt=now - STALE_AFTER)
    if holders_dead:
        # Nobody holds the job's advisory lock, so a run that took it (every run starts with a
        # heartbeat) died with its worker. A row without one is left to time.
        dead |= Q(heartbeat_at__isnull=False)
    JobRun.objects.filter(job=name, status=JobRun.Status.RUNNING).filter(dead).update(
        status=JobRun.Status.FAILED, finished_at=now, error="stale: the worker died"
    )
    try:
        with transaction.atomic():
            run = JobRun.objects.create(
                job=name, status=JobRun.Status.RUNNING, started_at=now, heartbeat_at=now
            )
    except IntegrityError:
        return _skipped(name)
    token = _current.set(run.pk)
    try:
        counts = work()
    except Exception:
        run.status, run.error = JobRun.Status.FAILED, traceback.format_exc()[-4000:]
        run.finished_at = timezone.now()
        run.save(update_fields=["status", "error", "finished_at"])
        log.exception("job %s failed", name)
        if raise_errors:
            raise
        return run
    finally:
        _current.reset(token)
    run.status, run.counts, run.finished_at = JobRun.Status.DONE, counts, timezone.now()
    # Only a run still holding its lock records success (one declared dead stays failed).
    JobRun.objects.filter(pk=run.pk, status=JobRun.Status.RUNNING).update(
        status=run.status, counts=counts, finished_at=run.finished_at
    )
    return run
