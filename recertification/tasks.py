"""Celery tasks: thin, they take ids or dates and call a service."""

import datetime as dt

from celery import shared_task

from core.jobs import run_job

from . import nightly as jobs
from .changes import household_events_process
from .recalculation import entitlements_recalculate


@shared_task(ignore_result=True)
def nightly():
    """Scheduled by beat (django-celery-beat, editable in the admin): classes, reviews due,
    expired notices, overdue alerts. Safe to run twice or from two schedulers at once."""
    jobs.nightly()


@shared_task(ignore_result=True)
def recalculate(effective_month: str):
    """A new standard: recompute every active entitlement from that month, a district at a
    time (``recalculation.entitlements_recalculate``); the job's lock keeps it to one run."""
    month = dt.date.fromisoformat(effective_month)
    run_job("entitlements_recalculate", lambda: entitlements_recalculate(month))


@shared_task(ignore_result=True)
def household_changes():
    """Every minute (beat): open reviews for what changed on households with assistance."""
    run_job("household_events_process", household_events_process)
