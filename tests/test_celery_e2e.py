"""End to end with a real Celery worker and beat (django-celery-beat's database scheduler)
against Redis and PostgreSQL: a due entitlement gets its review opened by the scheduled job,
without any direct call."""

import datetime as dt
import os
import subprocess
import sys
import time
from decimal import Decimal
from pathlib import Path

import pytest
from django.db import connection
from django.utils import timezone

from beneficiaries.models import Entitlement
from core.models import JobRun
from core.services import calendar_seed_from_package
from recertification.models import Review

from .factories import make_household, make_id, member_data

ROOT = Path(__file__).resolve().parent.parent
BROKER = "redis://127.0.0.1:6379/14"  # a database of its own: nothing else's tasks


@pytest.mark.celery
@pytest.mark.postgres
@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_beat_and_worker_open_a_due_review_on_their_own(cast, tree):
    if connection.vendor != "postgresql" or not os.environ.get("CELERY_BROKER_URL", "").startswith(
        "redis"
    ):
        pytest.skip("needs PostgreSQL and Redis (CI runs it)")
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
    env = {
        **os.environ,
        "DATABASE_URL": _url_of_test_database(),
        "CELERY_BROKER_URL": BROKER,
        "CELERY_TASK_ALWAYS_EAGER": "0",
        "DJANGO_SETTINGS_MODULE": "chongqing_relief.settings",
    }
    celery = [sys.executable, "-m", "celery", "-A", "chongqing_relief"]
    subprocess.run(  # noqa: S603 (our own interpreter and module)
        [*celery, "purge", "-f"], cwd=ROOT, env=env, check=True, capture_output=True
    )
    worker = subprocess.Popen(  # noqa: S603
        [*celery, "worker", "--pool=solo", "--without-gossip", "--without-mingle", "-l", "INFO"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )
    beat = subprocess.Popen(  # noqa: S603
        [*celery, "beat", "-l", "INFO", "--max-interval", "1"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )
    try:
        deadline = time.monotonic() + 90
        while time.monotonic() < deadline and not Review.objects.exists():
            time.sleep(1)
    finally:
        for process in (beat, worker):
            process.terminate()
        logs = [
            p.communicate(timeout=30)[0].decode(errors="replace")[-3000:] for p in (beat, worker)
        ]
    assert Review.objects.count() == 1, "\n".join(logs)
    review = Review.objects.get()
    assert review.entitlement.household == household and review.kind == "periodic"
    assert JobRun.objects.filter(job="reviews_open_due", status="done").exists()


def _url_of_test_database() -> str:
    settings = connection.settings_dict
    user = settings.get("USER") or "postgres"
    password = f":{settings['PASSWORD']}" if settings.get("PASSWORD") else ""
    host = settings.get("HOST") or "127.0.0.1"
    port = settings.get("PORT") or 5432
    return f"postgres://{user}{password}@{host}:{port}/{settings['NAME']}"
