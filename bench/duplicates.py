"""Benchmark of the nightly likely-duplicates job (``beneficiaries.duplicates``) on a
city-sized PostgreSQL database: the whole city's current members, ID numbers decrypted.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/chongqing_relief_bench_writes \\
        .venv/bin/python bench/duplicates.py --reuse [--runs 3]

The job replaces its table, so run it on a copy (``bench/run_all.py`` does). Prints each
run's seconds and the process's peak RSS, then the median.
"""

from __future__ import annotations

import argparse
import resource
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
sys.path.insert(0, str(Path(__file__).resolve().parent))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--households", type=int, default=1_000_000)
    parser.add_argument("--reuse", action="store_true", help="use an already-seeded database")
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    import os

    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "chongqing_relief.settings")
    from benchdb import prepare

    prepare(args.households, args.reuse)
    from beneficiaries.duplicates import duplicates_find

    times = []
    for n in range(1, args.runs + 1):
        started = time.perf_counter()
        counts = duplicates_find()
        times.append(time.perf_counter() - started)
        print(f"run {n}: {times[-1]:.1f} s {counts}")
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"duplicates_find median of {len(times)}: {statistics.median(times):.1f} s")
    print(f"process peak RSS {peak:.0f} MB")


if __name__ == "__main__":
    main()
