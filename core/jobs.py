"""Scheduled jobs: each run takes the job's lock, records what it did, and never runs twice
at once. The lock is the JobRun row itself (a partial unique index on running rows), so it
holds across processes and machines, not only inside one worker."""

from __future__ import annotations

import datetime as dt
import logging
import traceback
from collections.abc import Callable

from django.db import IntegrityError, transaction
from django.utils import timezone

from .models import JobRun

log = logging.getLogger(__name__)
# A run still marked running after this long died with its worker; its lock is released.
STALE_AFTER = dt.timedelta(hours=2)


def run_job(name: str, work: Callable[[], dict]) -> JobRun:
    """Run ``work`` under ``name``'s lock and record it. ``work`` returns counts of what it did
    (e.g. {"opened": 12}); it must be idempotent: run twice, the second run finds nothing."""
    now = timezone.now()
    JobRun.objects.filter(
        job=name, status=JobRun.Status.RUNNING, started_at__lt=now - STALE_AFTER
    ).update(status=JobRun.Status.FAILED, finished_at=now, error="stale: the worker died")
    try:
        with transaction.atomic():
            run = JobRun.objects.create(job=name, status=JobRun.Status.RUNNING, started_at=now)
    except IntegrityError:
        log.info("job %s already running; skipped", name)
        return JobRun.objects.create(
            job=name, status=JobRun.Status.SKIPPED, started_at=now, finished_at=now
        )
    try:
        counts = work()
    except Exception:
        run.status, run.error = JobRun.Status.FAILED, traceback.format_exc()[-4000:]
        run.finished_at = timezone.now()
        run.save(update_fields=["status", "error", "finished_at"])
        log.exception("job %s failed", name)
        raise
    run.status, run.counts, run.finished_at = JobRun.Status.DONE, counts, timezone.now()
    run.save(update_fields=["status", "counts", "finished_at"])
    return run
