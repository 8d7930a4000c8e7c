from unittest import mock

from django.db.utils import OperationalError

from core.models import Heartbeat
from core.tasks import heartbeat


def test_healthz_ok(client, db):
    response = client.get("/healthz")
    assert response.status_code == 200
    body = response.json()
    assert body["database"] == "ok"
    assert body["broker"] == "ok"  # the filesystem broker in tests, Redis in CI
    assert body["worker_heartbeat_age_seconds"] is None


def test_heartbeat_task_is_reported(client, db):
    heartbeat.delay()
    assert Heartbeat.objects.filter(name="worker").exists()
    assert client.get("/healthz").json()["worker_heartbeat_age_seconds"] <= 5


def test_healthz_503_when_database_down(client, db):
    with mock.patch(
        "django.db.backends.utils.CursorWrapper.execute",
        side_effect=OperationalError("connection refused"),
    ):
        response = client.get("/healthz")
    assert response.status_code == 503
    assert response.json()["database"] == "error: OperationalError"


def test_healthz_reports_broken_broker_but_stays_up(client, db, settings):
    settings.CELERY_BROKER_URL = "redis://127.0.0.1:1/0"  # nothing listens on port 1
    settings.CELERY_BROKER_TRANSPORT_OPTIONS = {}
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json()["broker"].startswith("error:")
