"""End to end with a real Celery worker and beat (django-celery-beat's database scheduler)
against Redis and PostgreSQL: a due entitlement gets its review opened by the scheduled job,
without any direct call."""

import datetime as dt
import time
from decimal import Decimal

import pytest
from django.utils import timezone

from beneficiaries.models import Entitlement
from core.models import JobRun
from core.services import calendar_seed_from_package
from recertification.models import Review

from . import workers
from .factories import make_household, make_id, member_data

BROKER = "redis://127.0.0.1:6379/14"  # a database of its own: nothing else's tasks


@pytest.mark.celery
@pytest.mark.postgres
# One real worker on the shared broker at a time: a worker started by a test on another xdist
# process would take this test's messages (and find their rows missing from its database).
@pytest.mark.xdist_group("broker")
@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_beat_and_worker_open_a_due_review_on_their_own(cast, tree):
    workers.skip_without_postgres_and_redis()
    from django_celery_beat.models import IntervalSchedule, PeriodicTask

    calendar_seed_from_package()
    household = make_household(
        cast["clerk"], tree.village, members=[member_data(id_number=make_id(seq=777))]
    )
    Entitlement.objects.create(
        household=household,
        programme="dibao",
        monthly_amount=Decimal("500.00"),
        klass="C",
        start_month=dt.date(2026, 1, 1),
        next_review=timezone.localdate() + dt.timedelta(days=5),
        source="e2e",
        approved_at=timezone.now(),
        approved_by=cast["district_approver"],
    )
    every, _ = IntervalSchedule.objects.get_or_create(every=2, period=IntervalSchedule.SECONDS)
    PeriodicTask.objects.update(enabled=False)
    PeriodicTask.objects.create(
        name="e2e nightly", task="recertification.tasks.nightly", interval=every
    )
    env = workers.environment(BROKER)
    worker = workers.start(
        env, "worker", "--pool=solo", "--without-gossip", "--without-mingle", "-l", "INFO"
    )
    beat = workers.start(env, "beat", "-l", "INFO", "--max-interval", "1")
    try:
        deadline = time.monotonic() + 90
        while time.monotonic() < deadline and not Review.objects.exists():
            time.sleep(1)
    finally:
        logs = workers.stop(beat, worker)
    assert Review.objects.count() == 1, logs
    review = Review.objects.get()
    assert review.entitlement.household == household and review.kind == "periodic"
    assert JobRun.objects.filter(job="reviews_open_due", status="done").exists()
