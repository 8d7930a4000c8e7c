"""Scheduled jobs: each run takes the job's lock, records what it did, and never runs twice
at once. The lock is the JobRun row itself (a partial unique index on running rows), so it
holds across processes and machines, not only inside one worker."""

from __future__ import annotations

import contextvars
import datetime as dt
import logging
import traceback
from collections.abc import Callable

from django.db import IntegrityError, transaction
from django.db.models import Q
from django.utils import timezone

from .models import JobRun

log = logging.getLogger(__name__)
# A run whose last sign of life (its start, or its latest heartbeat) is older than this died
# with its worker; its lock is released. Long jobs call ``heartbeat()`` as they go.
STALE_AFTER = dt.timedelta(minutes=30)
_current: contextvars.ContextVar[int | None] = contextvars.ContextVar("job_run", default=None)


def heartbeat() -> None:
    """Tell the run log the current job is still alive (keeps its lock)."""
    run_id = _current.get()
    if run_id is not None:
        JobRun.objects.filter(pk=run_id).update(heartbeat_at=timezone.now())


def run_job(name: str, work: Callable[[], dict], *, raise_errors: bool = True) -> JobRun:
    """Run ``work`` under ``name``'s lock and record it. ``work`` returns counts of what it did
    (e.g. {"opened": 12}); it must be idempotent: run twice, the second run finds nothing.
    A failure is recorded (and re-raised unless ``raise_errors`` is False)."""
    now = timezone.now()
    cutoff = now - STALE_AFTER
    JobRun.objects.filter(job=name, status=JobRun.Status.RUNNING).filter(
        Q(heartbeat_at__isnull=True, started_at__lt=cutoff) | Q(heartbeat_at__lt=cutoff)
    ).update(status=JobRun.Status.FAILED, finished_at=now, error="stale: the worker died")
    try:
        with transaction.atomic():
            run = JobRun.objects.create(job=name, status=JobRun.Status.RUNNING, started_at=now)
    except IntegrityError:
        log.info("job %s already running; skipped", name)
        return JobRun.objects.create(
            job=name, status=JobRun.Status.SKIPPED, started_at=now, finished_at=now
        )
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
