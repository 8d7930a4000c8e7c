"""The state of what the application depends on, for /healthz and the admin home page."""

from __future__ import annotations

import datetime as dt

from django.conf import settings
from django.db import DatabaseError, connection
from django.utils import timezone
from kombu import Connection

BROKER_TIMEOUT_SECONDS = 2


def database_state() -> str:
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            cursor.fetchone()
    except Exception as exc:  # any driver error means "down"
        return f"error: {exc.__class__.__name__}"
    return "ok"


def broker_state() -> str:
    try:
        with Connection(
            settings.CELERY_BROKER_URL,
            transport_options=settings.CELERY_BROKER_TRANSPORT_OPTIONS,
            connect_timeout=BROKER_TIMEOUT_SECONDS,
        ) as conn:
            conn.ensure_connection(max_retries=0, timeout=BROKER_TIMEOUT_SECONDS)
    except Exception as exc:
        return f"error: {exc.__class__.__name__}"
    return "ok"


def heartbeat_ages() -> dict[str, int | None]:
    """Seconds since the worker last ran the heartbeat task (None: never seen)."""
    from .models import Heartbeat

    now = timezone.now()
    try:
        seen = dict(Heartbeat.objects.values_list("name", "seen_at"))
    except DatabaseError:  # e.g. before the first migrate
        seen = {}
    return {
        name: int((now - seen[name]) / dt.timedelta(seconds=1)) if name in seen else None
        for name in ("worker",)
    }


def worker_state() -> str:
    """ok, stale (no beat for longer than the threshold in settings) or never seen."""
    age = heartbeat_ages()["worker"]
    if age is None:
        return "never seen"
    return "ok" if age <= settings.WORKER_HEARTBEAT_STALE_SECONDS else "stale"
