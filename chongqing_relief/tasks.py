"""Background jobs that gather work from several apps."""

from celery import shared_task

from core.jobs import run_job

from .requeue import queued_work_resend as resend


@shared_task(ignore_result=True)
def queued_work_resend():
    """Every five minutes (beat): send again the work no worker has finished."""
    run_job("queued_work_resend", resend)
