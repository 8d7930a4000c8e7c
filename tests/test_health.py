from unittest import mock

import pytest
from django.db.utils import OperationalError

from core.models import Heartbeat
from core.tasks import heartbeat

from .conftest import make_tree
from .factories import UserFactory


@pytest.fixture
def client(client, db):
    """The details are for staff (anonymous callers learn up or down: tests/test_security.py)."""
    tree = make_tree()
    client.force_login(UserFactory(username="admin", role="city_admin", jurisdiction=tree.city))
    return client


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
    # The session's user cannot be read either: the answer is the anonymous one.
    assert response.json() == {"status": "down"}


def test_healthz_reports_broken_broker_but_stays_up(client, db, settings):
    settings.CELERY_BROKER_URL = "redis://127.0.0.1:1/0"  # nothing listens on port 1
    settings.CELERY_BROKER_TRANSPORT_OPTIONS = {}
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json()["broker"].startswith("error:")
