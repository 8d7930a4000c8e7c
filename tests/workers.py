"""Real Celery workers for the tests that need them (PostgreSQL and Redis; CI runs them)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.db import connection

ROOT = Path(__file__).resolve().parent.parent
CELERY = [sys.executable, "-m", "celery", "-A", "chongqing_relief"]


def skip_without_postgres_and_redis() -> None:
    if connection.vendor != "postgresql" or not os.environ.get("CELERY_BROKER_URL", "").startswith(
        "redis"
    ):
        pytest.skip("needs PostgreSQL and Redis (CI runs it)")


def url_of_test_database() -> str:
    settings = connection.settings_dict
    user = settings.get("USER") or "postgres"
    password = f":{settings['PASSWORD']}" if settings.get("PASSWORD") else ""
    host = settings.get("HOST") or "127.0.0.1"
    port = settings.get("PORT") or 5432
    return f"postgres://{user}{password}@{host}:{port}/{settings['NAME']}"


def environment(broker: str, **extra: str) -> dict[str, str]:
    """What a worker started by a test runs with: the test's database and ``broker``, emptied
    of any message left by an earlier run."""
    env = {
        **os.environ,
        "DATABASE_URL": url_of_test_database(),
        "CELERY_BROKER_URL": broker,
        "CELERY_TASK_ALWAYS_EAGER": "0",
        "DJANGO_SETTINGS_MODULE": "chongqing_relief.settings",
        **extra,
    }
    subprocess.run(  # noqa: S603 (our own interpreter and module)
        [*CELERY, "purge", "-f"], cwd=ROOT, env=env, check=True, capture_output=True
    )
    if broker.startswith("redis://"):
        # ``purge`` empties the queues only: messages a killed worker (an earlier run cut
        # short) had taken wait in kombu's unacked set, to be delivered again to this test's
        # workers. Taken away too, so each test starts from an empty broker.
        import redis

        redis.Redis.from_url(broker).delete("unacked", "unacked_index", "unacked_mutex")
    return env


def start(env: dict[str, str], *arguments: str) -> subprocess.Popen:
    """``celery worker …`` or ``celery beat …``, in a process group of its own (so that a test
    can kill it with its pool's processes)."""
    return subprocess.Popen(  # noqa: S603
        [*CELERY, *arguments],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )


def stop(*processes: subprocess.Popen) -> str:
    """Stop them (warm shutdown) and return the end of their logs."""
    for process in processes:
        if process.poll() is None:
            process.terminate()
    return "\n".join(
        p.communicate(timeout=30)[0].decode(errors="replace")[-3000:] for p in processes
    )
