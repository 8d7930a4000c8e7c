"""Celery tasks: thin, they take ids and call a service."""

import datetime as dt

from celery import shared_task

from core.jobs import run_job

from . import services


@shared_task(ignore_result=True)
def export_run(export_id: int):
    """Write a requested export (queued when the request commits)."""
    services.export_run(export_id=export_id)


@shared_task(ignore_result=True)
def exports_purge():
    """Every hour (beat): delete the files of expired exports."""
    run_job("exports_purge", services.exports_purge)


@shared_task(ignore_result=True)
def statistics_refresh(month: str | None = None):
    """Every night (beat), or when the city asks for a month: the statistics return."""
    months = [dt.date.fromisoformat(month)] if month else None
    run_job("statistics_refresh", lambda: services.statistics_refresh(months=months))
