"""Load test of the pages anyone may open (issue 18): the public notice pages with a warm and
with a cold cache, the residents' self-service pages and the login page, each under
``--clients`` concurrent clients for ``--seconds``, against gunicorn with Redis as the shared
cache, from locust in a second process. Prints requests per second, p50/p95/p99 and errors.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/chongqing_relief_bench \\
        .venv/bin/python bench/load.py [--clients 50] [--seconds 30] [--workers 4]

"Cold" is the working day the issue describes: the cache is emptied first, and an approval
somewhere in the city invalidates every public page once a second while the clients read.
The server runs as in production (DEBUG off), on plain HTTP on 127.0.0.1, with Redis db 9.
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import secrets
import signal
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "chongqing_relief.settings")
REDIS_URL = os.environ.get("LOAD_REDIS_URL", "redis://127.0.0.1:6379/9")


def paths() -> dict:
    """The city page, every district's, and a sample of townships' and villages' pages (a
    fixed sample, so that a warm cache holds them all)."""
    from regions.models import Region

    codes = list(Region.objects.filter(level="district").values_list("code", flat=True))
    for level, n in (("township", 50), ("village", 100)):
        codes += list(
            Region.objects.filter(level=level).order_by("code").values_list("code", flat=True)[:n]
        )
    return {
        "regions": ["/gongshi/"] + [f"/gongshi/{code}/" for code in codes],
        "residents": ["/chaxun/", "/chaxun/progress/", "/chaxun/payments/", "/chaxun/standards/"],
    }


def server_env(port: int) -> dict:
    from django.conf import settings

    return {
        **os.environ,
        "DJANGO_DEBUG": "0",
        "SECRET_KEY": secrets.token_urlsafe(50),
        "ALLOWED_HOSTS": "127.0.0.1",
        "SECURE_SSL_REDIRECT": "0",
        "REDIS_URL": REDIS_URL,
        "CELERY_BROKER_URL": os.environ.get("CELERY_BROKER_URL", "redis://127.0.0.1:6379/10"),
        # The keys the database was sealed with (the development keys of seed_scale).
        "ENCRYPTION_KEYS": ",".join(settings.ENCRYPTION_KEYS),
        "SEARCH_HASH_KEYS": ",".join(settings.SEARCH_HASH_KEYS),
        "GUNICORN_PORT": str(port),
    }


def start_server(port: int, workers: int) -> subprocess.Popen:
    env = server_env(port)
    # Production serves hashed static names from the manifest collectstatic writes.
    subprocess.run(
        [sys.executable, "manage.py", "collectstatic", "--noinput", "-v0"], cwd=ROOT, env=env
    ).check_returncode()
    server = subprocess.Popen(  # noqa: S603 (this interpreter, manage.py)
        [
            sys.executable,
            "-m",
            "gunicorn",
            "chongqing_relief.wsgi",
            f"--workers={workers}",
            f"--bind=127.0.0.1:{port}",
            "--timeout=30",
            "--log-level=warning",
        ],
        cwd=ROOT,
        env=env,
    )
    for _ in range(60):
        try:
            urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=2)
            return server
        except OSError:
            time.sleep(0.5)
    server.kill()
    raise RuntimeError("gunicorn did not start")


def flush_cache() -> None:
    import redis

    redis.Redis.from_url(REDIS_URL).flushdb()


def invalidate_every_second(stop: threading.Event) -> None:
    """An approval somewhere in the city, once a second (``public_changed``)."""
    from django.core.cache.backends.redis import RedisCache

    cache = RedisCache(REDIS_URL, {})  # the server's cache, its keys made the same way
    while not stop.wait(1.0):
        try:
            cache.incr("gongshi:generation")
        except ValueError:
            cache.set("gongshi:generation", 1, None)


def locust(user_class: str, port: int, clients: int, seconds: int, paths_file: str) -> dict:
    with tempfile.TemporaryDirectory() as out:
        prefix = f"{out}/run"
        subprocess.run(  # noqa: S603 (this interpreter, locust)
            [
                sys.executable,
                "-m",
                "locust",
                "-f",
                str(ROOT / "bench" / "locustfile.py"),
                "--headless",
                f"--users={clients}",
                f"--spawn-rate={clients}",
                f"--run-time={seconds}s",
                f"--host=http://127.0.0.1:{port}",
                f"--csv={prefix}",
                "--only-summary",
                "--loglevel=ERROR",
                user_class,
            ],
            env={**os.environ, "LOAD_PATHS": paths_file},
            check=False,
            stdout=subprocess.DEVNULL,
        )
        with open(f"{prefix}_stats.csv") as stats:
            total = next(r for r in csv.DictReader(stats) if r["Name"] == "Aggregated")
    return {
        "requests": int(total["Request Count"]),
        "errors": int(total["Failure Count"]),
        "rps": round(float(total["Requests/s"]), 1),
        "p50_ms": float(total["50%"]),
        "p95_ms": float(total["95%"]),
        "p99_ms": float(total["99%"]),
    }


SCENARIOS = [
    ("public notice pages, warm cache", "PublicReader", False),
    ("public notice pages, cold cache, invalidated every second", "PublicReader", True),
    ("residents' self-service pages", "Resident", False),
    ("login page", "LoginVisitor", False),
]


def run(clients: int = 50, seconds: int = 30, workers: int = 4, port: int = 8765) -> list[dict]:
    import django

    django.setup()
    rows = []
    with tempfile.NamedTemporaryFile("w", suffix=".json", delete=False) as f:
        json.dump(paths(), f)
    server = start_server(port, workers)
    try:
        for label, user_class, cold in SCENARIOS:
            stop = threading.Event()
            if cold:
                flush_cache()
                threading.Thread(target=invalidate_every_second, args=(stop,), daemon=True).start()
            else:  # warm: every page read once first
                flush_cache()
                locust(user_class, port, clients, max(5, seconds // 3), f.name)
            try:
                figures = locust(user_class, port, clients, seconds, f.name)
            finally:
                stop.set()
            row = {"scenario": label, "clients": clients, "seconds": seconds, **figures}
            rows.append(row)
            print(
                f"{label:58} {row['rps']:7.1f} req/s  p50 {row['p50_ms']:6.0f}  p95 "
                f"{row['p95_ms']:6.0f}  p99 {row['p99_ms']:6.0f} ms  errors {row['errors']}"
                f" of {row['requests']}",
                flush=True,
            )
    finally:
        server.send_signal(signal.SIGTERM)
        server.wait(timeout=30)
        os.unlink(f.name)
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--clients", type=int, default=50)
    parser.add_argument("--seconds", type=int, default=30)
    parser.add_argument("--workers", type=int, default=4)
    parser.add_argument("--port", type=int, default=8765)
    args = parser.parse_args()
    run(args.clients, args.seconds, args.workers, args.port)


if __name__ == "__main__":
    main()
