"""Benchmark of counting the running deadlines again (issue 13) on PostgreSQL at city scale:
the job that runs after every calendar edit and every night.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/chongqing_relief_bench_deadlines \\
        .venv/bin/python bench/deadlines.py --households 1000000 --cases 30000

The database's name must contain "bench": it is dropped, created and seeded with
``seed_scale`` (with --reuse an already-seeded one is used and only this script's rows are
replaced). On top come ``--cases`` open cases (investigating, each counted from a day of the
last four weeks), a third as many open referrals and a tenth as many open leads, all with a
deadline that does not match the calendar. Timed: the first count (every deadline moves:
every row updated and recorded in the audit log, the worst case of a calendar edit), then a
second one (nothing moves: a typical night).
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
BENCH_PREFIX = "BENCH-DL-"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--households", type=int, default=1_000_000)
    parser.add_argument("--cases", type=int, default=30_000)
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
    from core.services import calendar_seed_from_package

    calendar_seed_from_package()
    t0 = time.perf_counter()
    _rows(args.cases)
    print(
        f"{args.cases} cases, {args.cases // 3} referrals, {args.cases // 10} leads added "
        f"in {time.perf_counter() - t0:.0f} s"
    )

    from applications.deadlines import deadlines_recompute
    from core.models import AuditEvent

    for label in ("first count (every deadline moves)", "second count (nothing moves)"):
        events = AuditEvent.objects.count()
        t0 = time.perf_counter()
        counts = deadlines_recompute()
        seconds = time.perf_counter() - t0
        print(
            f"{label}: {seconds:.1f} s  {counts}  "
            f"audit events +{AuditEvent.objects.count() - events}"
        )


def _rows(n: int) -> None:
    """This script's cases, referrals and leads (earlier ones removed first)."""
    from django.db import connection, transaction
    from django.db.models import Exists, OuterRef
    from django.utils import timezone

    from accounts.models import User
    from applications.models import OPEN_STATUSES, Application, Department, Lead, Referral
    from beneficiaries.models import Household

    with transaction.atomic(), connection.cursor() as cur:
        # Nothing refers to these rows; plain SQL spares the ORM's cascade collection.
        cur.execute("DELETE FROM applications_lead WHERE person_name LIKE %s", [BENCH_PREFIX + "%"])
        cur.execute("DELETE FROM applications_referral WHERE reply = %s", [BENCH_PREFIX])
        cur.execute(
            "DELETE FROM applications_application WHERE number LIKE %s", [BENCH_PREFIX + "%"]
        )
    user = User.objects.get(username="seed_scale")
    today = timezone.localdate()
    now = timezone.now()
    # Households without an open 低保 case of their own (the realistic seed has some): one
    # open application per household and programme is a constraint.
    open_cases = Application.objects.filter(
        household=OuterRef("pk"), programme="dibao", status__in=OPEN_STATUSES
    )
    households = list(
        Household.objects.filter(~Exists(open_cases))
        .order_by("id")
        .values_list("id", "region_id", "region__parent_id")[:n]
    )
    departments = {d.kind: d for d in Department.objects.filter(kind="medical")}
    department = departments.get("medical") or Department.objects.first()
    cases, referrals, leads = [], [], []
    for i, (household, village, township) in enumerate(households):
        start = today - dt.timedelta(days=i % 28)
        cases.append(
            Application(
                number=f"{BENCH_PREFIX}{i:08d}",
                household_id=household,
                programme="dibao",
                channel="window",
                township_id=township,
                received_by=user,
                received_at=now,
                accepted_on=start,
                decision_due=today,
                status="investigating",
                step_due=today,
                step_started_at=now,
                step_clock="investigation_workdays",
                step_from=start,
            )
        )
        if i % 3 == 0 and department is not None:
            referrals.append(
                Referral(
                    household_id=household,
                    kind=department.kind,
                    department=department,
                    township_id=township,
                    created_by=user,
                    created_at=now - dt.timedelta(days=i % 14),
                    due=today,
                    reply=BENCH_PREFIX,
                )
            )
        if i % 10 == 0:
            leads.append(
                Lead(
                    village_id=village,
                    person_name=f"{BENCH_PREFIX}{i}",
                    location="-",
                    situation="-",
                    reported_by=user,
                    reported_at=now - dt.timedelta(days=i % 7),
                    contact_due=today,
                )
            )
    with transaction.atomic():
        Application.objects.bulk_create(cases, batch_size=5000)
        Referral.objects.bulk_create(referrals, batch_size=5000)
        Lead.objects.bulk_create(leads, batch_size=5000)
    with connection.cursor() as cur:
        cur.execute("ANALYZE applications_application, applications_referral, applications_lead")


if __name__ == "__main__":
    main()
