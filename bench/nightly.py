"""Benchmark of the nightly dynamic-management jobs (DESIGN.md §7, §11) on PostgreSQL:
1,000,000 households with 500,000 active entitlements (``manage.py seed_scale``), then the
night's jobs (classes, reviews due, expired notices, overdue alerts) timed one by one, a
second time to show the idempotent rerun, and once more on the next day.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/chongqing_relief_bench_nightly \\
        .venv/bin/python bench/nightly.py --households 1000000

The database's name must contain "bench": it is dropped and created again (with --reuse an
already-seeded database is reset to what seed_scale left and used again). Target: the whole
night under 60 seconds.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import sys
import time
from pathlib import Path
from urllib.parse import urlparse

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "chongqing_relief.settings")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--households", type=int, default=1_000_000)
    parser.add_argument("--reuse", action="store_true", help="use an already-seeded database")
    args = parser.parse_args()
    name = urlparse(os.environ.get("DATABASE_URL", "")).path.lstrip("/")
    if "bench" not in name or not os.environ["DATABASE_URL"].startswith("postgres"):
        sys.exit("DATABASE_URL must name a PostgreSQL database whose name contains 'bench'.")
    if not args.reuse:
        from search_households import recreate

        recreate(name)
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)
    if not args.reuse:
        t0 = time.perf_counter()
        call_command("seed_scale", households=args.households)
        print(f"seeded in {time.perf_counter() - t0:.0f} s")
    from django.utils import timezone

    from recertification import nightly

    if args.reuse:  # back to the state seed_scale left: every class still to derive
        from django.db import connection

        with connection.cursor() as cur:
            cur.execute(
                "TRUNCATE recertification_review, recertification_historicalreview, "
                "beneficiaries_entitlementchange, core_alert, core_jobrun CASCADE"
            )
            cur.execute(
                "UPDATE beneficiaries_entitlement SET klass = 'C', class_overridden = false, "
                "next_review = (date_trunc('month', now()) "
                "+ ((household_id / 2) % 12) * interval '1 month')::date"
            )

    today = timezone.localdate()
    for label, day in (
        ("first night (every class derived from scratch)", today),
        ("same night again (idempotent rerun)", today),
        ("next night (a typical night)", today + dt.timedelta(days=1)),
    ):
        t0 = time.perf_counter()
        runs = nightly.nightly(day)
        total = time.perf_counter() - t0
        print(f"\n{label}: {total:.1f} s")
        for run in runs:
            print(f"  {run.job:<24} {run.seconds:>6.1f} s  {run.status:<8} {run.counts}")


if __name__ == "__main__":
    main()
