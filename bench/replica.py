"""Benchmark of the reports on a read replica (issue 18) with real PostgreSQL streaming
replication.

    DATABASE_URL=postgres://postgres@primary:5432/chongqing_relief_bench_replica \\
    DATABASE_REPLICA_URL=postgres://postgres@standby:5432/chongqing_relief_bench_replica \\
        .venv/bin/python bench/replica.py --households 100000

The replica must be a hot standby of the primary (docs/operations.md: pg_basebackup -R). An
empty primary is seeded with ``seed_scale --households N`` first. Then, each the median of
--repeat, and each on the replica (reports routed by core.dbrouters) and on the primary alone
(no router, as without DATABASE_REPLICA_URL):

1. replication lag: from the commit of a write on the primary until the standby has replayed
   it, for one row and for every entitlement rewritten in one transaction;
2. the city-wide recipients register (CSV export) and the statements each database ran;
3. the report computations of the city: the statistics return, the dashboard and the
   indicator table (computed afresh, not from the cache);
4. the fallback: the dashboard while the replica refuses connections, and while it does not
   answer at all (the first report waits for the connection timeout, the next ones do not).
"""

from __future__ import annotations

import argparse
import os
import socket
import statistics as stats
import sys
import time
from contextlib import contextmanager, nullcontext
from pathlib import Path
from urllib.parse import urlparse

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "chongqing_relief.settings")


def _median(what: str, runs: list[float], unit: str = "s") -> None:
    shown = ", ".join(f"{r:.3f}" for r in runs)
    print(f"{what}: median {stats.median(runs):.3f} {unit} ({shown})")


@contextmanager
def _statements():
    """How many statements each database ran in the block."""
    from django.db import connections

    seen = {"default": 0, "replica": 0}

    def counter(alias):
        def count(execute, sql, params, many, context):
            seen[alias] += 1
            return execute(sql, params, many, context)

        return count

    with (
        connections["default"].execute_wrapper(counter("default")),
        connections["replica"].execute_wrapper(counter("replica")),
    ):
        yield seen


@contextmanager
def _primary_only():
    """As without DATABASE_REPLICA_URL: no router, every query on the primary."""
    from django.test.utils import override_settings

    with override_settings(DATABASE_ROUTERS=[]):
        yield


def _replayed(lsn: str, timeout: float = 120.0) -> float:
    """Seconds until the standby has replayed the primary's WAL up to ``lsn``."""
    from django.db import connections

    t0 = time.perf_counter()
    with connections["replica"].cursor() as cur:
        while time.perf_counter() - t0 < timeout:
            cur.execute("SELECT pg_last_wal_replay_lsn() >= %s::pg_lsn", [lsn])
            if cur.fetchone()[0]:
                return time.perf_counter() - t0
            time.sleep(0.002)
    raise SystemExit(f"the standby did not replay {lsn} within {timeout:.0f} s")


def _lag(sql: str, params=()) -> float:
    """Replication lag of one statement, committed on its own (autocommit)."""
    from django.db import connections

    with connections["default"].cursor() as cur:
        cur.execute(sql, params)
        cur.execute("SELECT pg_current_wal_lsn()::text")
        lsn = cur.fetchone()[0]
    return _replayed(lsn)


def _seed(households: int) -> None:
    from django.core.management import call_command
    from django.db import connections

    from beneficiaries.models import Household

    call_command("migrate", verbosity=0)
    if not Household.objects.exists():
        call_command("seed_scale", households=households)
    with connections["default"].cursor() as cur:
        cur.execute("SELECT pg_current_wal_lsn()::text")
        lsn = cur.fetchone()[0]
    print(f"standby caught up with the seed in {_replayed(lsn, 600):.1f} s")


def _export(auditor, city) -> tuple[float, int, dict]:
    from reports import services

    with _statements() as seen:
        t0 = time.perf_counter()
        export = services.export_request(
            actor=auditor, register="entitlements", fmt="csv", region=city
        )
        export = services.export_run(export_id=export.pk)
        seconds = time.perf_counter() - t0
    return seconds, export.rows, dict(seen)


def _reports(city, month, year) -> float:
    from core.dbrouters import reading_from_replica
    from reports import dashboard, indicators, statistics

    t0 = time.perf_counter()
    with reading_from_replica():
        statistics.level_returns(city, dashboard.rows_level(city), month)
        indicators.indicators_for(city, year, fresh=True)
        dashboard.panels(city, month)
    return time.perf_counter() - t0


def _fallback(city, month, host: str, port: str, repeat: int) -> list[float]:
    """The dashboard, ``repeat`` times, with the replica's address replaced."""
    from django.core.cache import cache
    from django.db import connections

    from core import dbrouters
    from reports import dashboard

    replica = connections["replica"]
    saved = dict(replica.settings_dict)
    replica.close()
    replica.settings_dict.update(HOST=host, PORT=port)
    dbrouters._down_until = 0.0
    runs = []
    try:
        for _ in range(repeat):
            cache.clear()
            t0 = time.perf_counter()
            with dbrouters.reading_from_replica():
                dashboard.panels(city, month)
            runs.append(time.perf_counter() - t0)
    finally:
        replica.settings_dict.update(saved)
        replica.close()
        dbrouters._down_until = 0.0
    return runs


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--households", type=int, default=100_000)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    name = urlparse(os.environ.get("DATABASE_URL", "")).path.lstrip("/")
    if "bench" not in name or not os.environ["DATABASE_URL"].startswith("postgres"):
        sys.exit("DATABASE_URL must name a PostgreSQL database whose name contains 'bench'.")
    if not os.environ.get("DATABASE_REPLICA_URL"):
        sys.exit("DATABASE_REPLICA_URL must name the same database on a hot standby.")
    import django

    django.setup()
    from django.core.cache import cache
    from django.db import connections
    from django.utils import timezone

    from accounts.models import Role, User
    from regions.models import Region

    with connections["replica"].cursor() as cur:
        cur.execute("SELECT pg_is_in_recovery()")
        if not cur.fetchone()[0]:
            sys.exit("DATABASE_REPLICA_URL is not a standby (pg_is_in_recovery() is false).")
    _seed(args.households)
    city = Region.objects.get(level=Region.Level.CITY)
    auditor, _ = User.objects.get_or_create(
        username="bench_auditor", defaults={"role": Role.AUDITOR, "jurisdiction": city}
    )
    today = timezone.localdate()
    month, year = today.replace(day=1), today.year

    one_row = "UPDATE accounts_user SET last_login = now() WHERE id = %s"
    _median("lag, one row", [_lag(one_row, [auditor.pk]) for _ in range(args.repeat)])
    every = "UPDATE beneficiaries_entitlement SET next_review = next_review"
    _median("lag, every entitlement in one transaction", [_lag(every) for _ in range(args.repeat)])

    for label, scope in (("replica", nullcontext), ("primary", _primary_only)):
        runs, seen, rows = [], {}, 0
        for _ in range(args.repeat):
            with scope():
                seconds, rows, seen = _export(auditor, city)
            runs.append(seconds)
        _median(f"export, city recipients CSV ({rows:,} rows) on the {label}", runs)
        print(f"  statements: primary {seen['default']}, replica {seen['replica']}")
        runs = []
        for _ in range(args.repeat):
            cache.clear()
            with scope():
                runs.append(_reports(city, month, year))
        _median(f"statistics return + indicators + dashboard of the city on the {label}", runs)

    _median("dashboard, replica refusing connections", _fallback(city, month, "127.0.0.1", "1", 3))
    # A port whose connections the kernel completes but nobody ever answers: a hung standby.
    with socket.socket() as silent:
        silent.bind(("127.0.0.1", 0))
        silent.listen(8)
        port = str(silent.getsockname()[1])
        _median(
            "dashboard, replica not answering (the first run waits for the connect timeout)",
            _fallback(city, month, "127.0.0.1", port, 3),
        )


if __name__ == "__main__":
    main()
