"""Work recorded as waiting that no worker has finished is sent again (every five minutes, by
beat): its message was never sent (the broker was down when it was asked for), or the worker
that took it died and its message is gone. Sending twice is harmless: a task finds its work
held by a live worker, or done, and does nothing."""

from __future__ import annotations

import datetime as dt

from django.utils import timezone

from beneficiaries import tasks as beneficiaries_tasks
from beneficiaries.models import ImportBatch
from core.jobs import queue
from eligibility import tasks as eligibility_tasks
from eligibility.models import VerificationRun
from payments import tasks as payments_tasks
from payments.models import Payroll
from reports import tasks as reports_tasks
from reports.models import Export

# Younger than this, the work may still be waiting its turn in the queue.
WAITING_FOR = dt.timedelta(minutes=10)
AT_MOST = 100  # of each kind a run; the next run sends the rest


def waiting_work(since: dt.datetime) -> dict:
    """Per kind of work: its task and the records asked for before ``since`` and not done."""
    batches = ImportBatch.objects.filter(created_at__lt=since)
    Batch = ImportBatch.Status
    return {
        "payrolls": (
            payments_tasks.payroll_generate,
            Payroll.objects.filter(status=Payroll.Status.GENERATING, created_at__lt=since),
        ),
        "exports": (
            reports_tasks.export_run,
            Export.objects.filter(
                status__in=[Export.Status.QUEUED, Export.Status.RUNNING], created_at__lt=since
            ),
        ),
        "verifications": (
            eligibility_tasks.verification_run_execute,
            VerificationRun.objects.filter(
                status__in=[VerificationRun.Status.QUEUED, VerificationRun.Status.RUNNING],
                created_at__lt=since,
            ),
        ),
        "import_checks": (
            beneficiaries_tasks.import_check,
            batches.filter(status__in=[Batch.UPLOADED, Batch.CHECKING]),
        ),
        # Confirmed files: imported in the name of their uploader (who confirmed is not kept).
        "imports": (beneficiaries_tasks.import_commit, batches.filter(status=Batch.COMMITTING)),
    }


def queued_work_resend() -> dict:
    """Send again what has waited longer than ``WAITING_FOR``; counts what was sent."""
    sent = {}
    for kind, (task, records) in waiting_work(timezone.now() - WAITING_FOR).items():
        ids = records.order_by("pk").values_list("pk", flat=True)[:AT_MOST]
        sent[kind] = sum(queue(task, pk) for pk in ids)
    return sent
