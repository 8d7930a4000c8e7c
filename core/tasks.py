from celery import shared_task

from . import services
from .jobs import run_job


@shared_task(ignore_result=True)
def heartbeat():
    """Scheduled every minute by beat; proves worker and beat are alive (shown in /healthz)."""
    services.heartbeat_record(name="worker")


@shared_task(ignore_result=True)
def audit_seal():
    """Every minute (beat): seal the new audit events into the hash chain."""
    from .auditchain import seal_pending

    run_job("audit_seal", seal_pending)
