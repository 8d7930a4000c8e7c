"""Celery tasks: thin, they call a service under the job log."""

from celery import shared_task

from core.jobs import run_job

from .deadlines import deadlines_recompute


@shared_task(ignore_result=True)
def deadlines_recount():
    """After the working-day calendar changed: count the running deadlines again."""
    run_job("deadlines_recompute", deadlines_recompute)
