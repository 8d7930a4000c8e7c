from celery import shared_task

from . import verification


@shared_task(ignore_result=True)
def verification_run_execute(run_id: int):
    """Check a region's households against the shared data (large regions take minutes)."""
    verification.verification_run_execute(run_id=run_id)
