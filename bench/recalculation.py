"""Benchmark of the new-standard recalculation (DESIGN.md §7, §11) on PostgreSQL: 1,000,000
households with 500,000 active entitlements (``manage.py seed_scale``), a new 低保 standard put
in force from next month, then ``entitlements_recalculate`` timed as the job runs it
(``run_job``), several times from the same starting state.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/chongqing_relief_bench_recalc \\
        .venv/bin/python bench/recalculation.py --households 1000000 [--reuse] [--runs 3]

The database's name must contain "bench": it is dropped, created again and seeded, unless
--reuse names one already seeded. Before each run the database is put back as it was before
the first (amounts and components from a baseline table kept in the database, and what a
previous run wrote removed, but for its audit events, which the log keeps), so every run
recalculates the same 500,000 entitlements.
Target: under 5 minutes. ``run(households, reuse)`` is what ``bench/run_all.py`` calls.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from decimal import Decimal
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "chongqing_relief.settings")

SOURCE = "bench/recalculation.py: a new standard"
RAISE = {"urban": Decimal("60"), "rural": Decimal("50")}  # on the standard in force
TARGET_S = 300


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--households", type=int, default=1_000_000)
    parser.add_argument("--reuse", action="store_true", help="use an already-seeded database")
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    figures = run(args.households, args.reuse, runs=args.runs)
    print(f"\nmedian of {args.runs}: {figures['recalculation_s']:.1f} s (target < {TARGET_S} s)")


def run(households: int, reuse: bool, runs: int = 3) -> dict:
    """Seed (unless ``reuse``), then recalculate ``runs`` times; the median wall time."""
    from benchdb import prepare

    prepare(households, reuse)
    month = new_standard()
    seconds = []
    for number in range(1, runs + 1):
        reset()
        seconds.append(recalculate(month, number))
    return {"recalculation_s": statistics.median(seconds)}


def new_standard():
    """From next month, the 低保 standard in force today plus ``RAISE``, as the city admin
    enters it (a ``PolicyValue`` row per residence type, city-wide)."""
    from django.utils import timezone

    from core.months import next_month
    from eligibility.models import PolicyValue
    from eligibility.selectors import policy_figure

    today = timezone.localdate()
    month = next_month(today)
    for residence, rise in RAISE.items():
        if not PolicyValue.objects.filter(
            kind="dibao_standard", residence=residence, effective_from=month, source=SOURCE
        ).exists():
            PolicyValue.objects.create(
                kind="dibao_standard",
                residence=residence,
                district_code="",
                effective_from=month,
                value=policy_figure("dibao_standard", today, residence=residence) + rise,
                source=SOURCE,
                is_assumption=True,
            )
    return month


def reset() -> None:
    """Back to the state before the first run: the amounts and components kept in a baseline
    table the first time, and what any run wrote (changes, reviews, history rows, job runs)
    removed; then VACUUM ANALYZE, so no run pays for another's dead rows. The audit events
    stay (the log is append-only for six months, a database trigger): each run adds to them."""
    from django.db import connection

    t0 = time.perf_counter()
    with connection.cursor() as cur:
        cur.execute(
            "CREATE TABLE IF NOT EXISTS bench_recalc_baseline AS "
            "SELECT id, monthly_amount, components FROM beneficiaries_entitlement"
        )
        cur.execute(
            "UPDATE beneficiaries_entitlement e SET monthly_amount = b.monthly_amount, "
            "components = b.components FROM bench_recalc_baseline b "
            "WHERE b.id = e.id AND (e.monthly_amount, e.components) "
            "IS DISTINCT FROM (b.monthly_amount, b.components)"
        )
        cur.execute("DELETE FROM beneficiaries_entitlementchange WHERE source LIKE 'standard:%%'")
        cur.execute(
            "DELETE FROM beneficiaries_historicalentitlement WHERE history_change_reason LIKE "
            "'%%' || %s || '%%'",
            [_label()],
        )
        cur.execute(
            "DELETE FROM recertification_historicalreview WHERE id IN (SELECT id FROM "
            "recertification_review WHERE kind = 'reported' AND reported_change LIKE "
            "'%%' || %s || '%%')",
            [_label()],
        )
        cur.execute(
            "DELETE FROM recertification_review WHERE kind = 'reported' AND reported_change "
            "LIKE '%%' || %s || '%%'",
            [_label()],
        )
        cur.execute("DELETE FROM core_jobrun WHERE job = 'entitlements_recalculate'")
    connection.close()  # VACUUM runs outside a transaction, on a connection of its own
    with connection.cursor() as cur:
        for table in (
            "beneficiaries_entitlement",
            "beneficiaries_entitlementchange",
            "beneficiaries_historicalentitlement",
            "recertification_review",
            "recertification_historicalreview",
        ):
            cur.execute(f"VACUUM ANALYZE {table}")
    print(f"reset in {time.perf_counter() - t0:.0f} s")


def _label() -> str:
    from django.utils import timezone

    from core.months import next_month

    return f"{next_month(timezone.localdate()):%Y-%m}"


def recalculate(month, number: int) -> float:
    """One run as the job runs it; its wall time."""
    from core.jobs import run_job
    from recertification.recalculation import entitlements_recalculate

    t0 = time.perf_counter()
    job = run_job("entitlements_recalculate", lambda: entitlements_recalculate(month))
    seconds = time.perf_counter() - t0
    counts = job.counts
    rate = counts["checked"] / seconds if seconds else 0
    print(
        f"run {number}: {seconds:.1f} s  {job.status}  checked {counts['checked']:,}  "
        f"changed {counts['changed']:,}  reviews {counts['reviews']:,}  ({rate:,.0f}/s)"
    )
    return seconds


if __name__ == "__main__":
    main()
