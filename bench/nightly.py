"""Benchmark of the nightly dynamic-management jobs (DESIGN.md §7, §11) on PostgreSQL:
1,000,000 households with 500,000 live entitlements (``manage.py seed_scale``).

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/chongqing_relief_bench_nightly \\
        .venv/bin/python bench/nightly.py --households 1000000

The database's name must contain "bench": it is dropped, created and seeded (with --reuse an
already-seeded one is used). Timed, each --runs times (median reported):

- the full re-derivation of classes, as after a rule change: every live class is first set to
  a wrong one (A→B, B→C, C→A from the derived class, next reviews as they were), then
  ``classes_rederive`` alone moves all of them back. Target: under 60 s. The classes, review
  dates and change records are put back as found afterwards;
- the whole night's jobs on the dataset as found (after ``seed_scale``: the first night,
  every class still to derive and a month of reviews to open), then typical nights on the
  following days. These are left in the database, as a real night leaves them.

``run(households, reuse)`` returns the figures for ``bench/run_all.py``.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "chongqing_relief.settings")
# Where the classes, review dates and last change record as found are kept meanwhile.
SAVE = """
DROP TABLE IF EXISTS bench_nightly_saved;
CREATE TABLE bench_nightly_saved AS
SELECT id, klass, class_overridden, next_review,
       (SELECT COALESCE(MAX(id), 0) FROM beneficiaries_entitlementchange) AS last_change
FROM beneficiaries_entitlement
"""
# Every live derived class turned into another (A→B, B→C, C→A), review dates as found, and
# the change records of earlier runs deleted.
MAKE_WRONG = """
UPDATE beneficiaries_entitlement e
SET klass = CASE e.klass WHEN 'A' THEN 'B' WHEN 'B' THEN 'C' ELSE 'A' END,
    next_review = s.next_review
FROM bench_nightly_saved s
WHERE s.id = e.id AND e.status IN ('active', 'suspended') AND NOT e.class_overridden
"""
FORGET_CHANGES = """
DELETE FROM beneficiaries_entitlementchange
WHERE id > (SELECT COALESCE(MAX(last_change), 0) FROM bench_nightly_saved)
"""
PUT_BACK = """
UPDATE beneficiaries_entitlement e
SET klass = s.klass, class_overridden = s.class_overridden, next_review = s.next_review
FROM bench_nightly_saved s WHERE s.id = e.id
"""


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--households", type=int, default=1_000_000)
    parser.add_argument("--reuse", action="store_true", help="use an already-seeded database")
    parser.add_argument("--runs", type=int, default=3, help="runs of each timing (median)")
    args = parser.parse_args()
    figures = run(args.households, args.reuse, runs=args.runs)
    print()
    for name, seconds in figures.items():
        print(f"{name:<34} {seconds:>7.1f} s")


def run(households: int, reuse: bool, runs: int = 3) -> dict:
    """Seed (unless ``reuse``), then time the full re-derivation and the nights; returns the
    medians in seconds."""
    from benchdb import prepare

    prepare(households, reuse)
    full = full_rederivation(runs)
    first, typical = nights(runs)
    return {
        "classes_full_rederivation": statistics.median(full),
        "nightly_first_night": first,
        "nightly_typical_night": statistics.median(typical),
    }


def full_rederivation(runs: int) -> list[float]:
    """Every live class wrong, then ``classes_rederive``: the seconds of each run."""
    from django.db import connection
    from django.utils import timezone

    from recertification.classes import classes_rederive

    today = timezone.localdate()
    with connection.cursor() as cur:
        cur.execute(SAVE)
    t0 = time.perf_counter()
    counts = classes_rederive(today)  # every class as derived, so that each can be made wrong
    print(f"classes derived as found: {time.perf_counter() - t0:.1f} s {counts}")
    times = []
    try:
        for number in range(1, runs + 1):
            wrong = _make_every_class_wrong()
            t0 = time.perf_counter()
            counts = classes_rederive(today)
            times.append(time.perf_counter() - t0)
            print(f"full re-derivation {number}: {times[-1]:.1f} s  ({wrong:,} wrong) {counts}")
            if counts["changed"] != wrong:
                raise RuntimeError("every class made wrong is to move back")
    finally:
        _put_back()
    return times


def _make_every_class_wrong() -> int:
    """Turn every live derived class into another and give back the review dates as found;
    then vacuum, so that each run starts from the same kind of table (dead rows cleared)."""
    from django.db import connection

    with connection.cursor() as cur:
        cur.execute(MAKE_WRONG)
        wrong = cur.rowcount
        cur.execute(FORGET_CHANGES)
    _vacuum()
    return wrong


def _put_back() -> None:
    from django.db import connection

    with connection.cursor() as cur:
        cur.execute(PUT_BACK)
        cur.execute(FORGET_CHANGES)
        cur.execute("DROP TABLE bench_nightly_saved")
    _vacuum()


def _vacuum() -> None:
    from django.db import connection

    with connection.cursor() as cur:
        for table in ("beneficiaries_entitlement", "beneficiaries_entitlementchange"):
            cur.execute(f"VACUUM ANALYZE {table}")


def nights(runs: int) -> tuple[float, list[float]]:
    """The night's jobs on the dataset as found, then ``runs`` typical nights after it."""
    from django.utils import timezone

    from recertification import nightly

    today = timezone.localdate()
    totals = []
    for offset in range(runs + 1):
        label = "first night (the dataset as found)" if offset == 0 else f"night {offset} after"
        t0 = time.perf_counter()
        done = nightly.nightly(today + dt.timedelta(days=offset))
        totals.append(time.perf_counter() - t0)
        print(f"\n{label}: {totals[-1]:.1f} s")
        for job in done:
            print(f"  {job.job:<24} {job.seconds:>6.1f} s  {job.status:<8} {job.counts}")
    return totals[0], totals[1:]


if __name__ == "__main__":
    main()
