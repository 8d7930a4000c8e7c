from celery import shared_task

from . import services


@shared_task(ignore_result=True)
def heartbeat():
    """Scheduled every minute by beat; proves worker and beat are alive (shown in /healthz)."""
    services.heartbeat_record(name="worker")
