"""The database a benchmark runs on: DATABASE_URL must name a PostgreSQL database whose name
contains "bench"; without ``reuse`` it is dropped, created and seeded with ``seed_scale``."""

from __future__ import annotations

import os
import sys
import time
from urllib.parse import urlparse


def prepare(households: int, reuse: bool) -> None:
    """Check the database's name, (re)create and seed it unless ``reuse``, set Django up and
    migrate."""
    name = urlparse(os.environ.get("DATABASE_URL", "")).path.lstrip("/")
    if "bench" not in name or not os.environ["DATABASE_URL"].startswith("postgres"):
        sys.exit("DATABASE_URL must name a PostgreSQL database whose name contains 'bench'.")
    if not reuse:
        from search_households import recreate

        recreate(name)
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)
    if not reuse:
        started = time.perf_counter()
        call_command("seed_scale", households=households)
        print(f"seeded in {time.perf_counter() - started:.0f} s")
