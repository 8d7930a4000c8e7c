"""Benchmark of the monthly payroll (issue 14) on PostgreSQL at city scale.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/chongqing_relief_bench_payroll \\
        .venv/bin/python bench/payroll.py --households 1000000

The database's name must contain "bench": it is dropped, created and seeded with
``seed_scale`` (half the households receive 低保: 500,000 payable entitlements; with --reuse an
already-seeded one is used and only this script's payrolls are replaced). Every household
with an entitlement gets a passbook account (15 digits, no card check digit).

Printed:
1. one hand-written ``INSERT … SELECT`` making the month's lines for the whole city (the same
   amounts and snapshot as the app's), timed, then removed;
2. the app's generation: one payroll per district, requested and generated (every step:
   monthly lines, re-issues, arrears and overpayments, one-offs, account checks), timed in
   all, with the ratio to (1) and a check that both made the same lines and total;
   With ``--workers N``, N payrolls are generated at once (threads with their own database
   connections, as a Celery worker of concurrency N would);
3. a bank file of ``--file-lines`` lines (CSV and XLSX) made by a separate process, with its
   time and that process's peak memory (max RSS).
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import resource
import subprocess
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
    parser.add_argument("--file-lines", type=int, default=100_000)
    parser.add_argument(
        "--workers",
        type=int,
        default=1,
        help="payrolls generated at once, as a Celery worker with this concurrency would",
    )
    parser.add_argument("--reuse", action="store_true", help="use an already-seeded database")
    parser.add_argument("--export", type=str, help=argparse.SUPPRESS)  # child: "id:format"
    args = parser.parse_args()
    if args.export:
        _export_child(args.export)
        return
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
    month, users = _prepare()
    hand = _hand_written(month, users["finance"])
    app = _app(month, users, args.workers)
    print(
        f"app generation ({args.workers} worker(s)): {app['seconds']:.1f} s for "
        f"{app['payrolls']} payrolls, "
        f"{app['lines']:,} lines, {app['total']} yuan; hand-written INSERT … SELECT: "
        f"{hand['seconds']:.1f} s ({hand['lines']:,} lines, {hand['total']} yuan); "
        f"ratio {app['seconds'] / hand['seconds']:.2f}"
    )
    if (app["lines"], app["total"]) != (hand["lines"], hand["total"]):
        sys.exit("the app's lines differ from the hand-written statement's")
    _pages(month, users)
    payroll_id = _file_payroll(month, users, args.file_lines)
    for fmt in ("csv", "xlsx"):
        t0 = time.perf_counter()
        subprocess.run(  # noqa: S603 (this interpreter, this script)
            [sys.executable, __file__, "--export", f"{payroll_id}:{fmt}"], check=True
        )
        seconds = time.perf_counter() - t0
        peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
        print(f"bank file {fmt}: {seconds:.1f} s (process included), peak RSS so far {peak:.0f} MB")


def _prepare():
    """Accounts for the entitled households, the bench users, this script's payrolls gone."""
    from django.db import connection, transaction
    from django.utils import timezone

    from accounts.models import Role, User
    from regions.models import Region

    city = Region.objects.get(level=Region.Level.CITY)
    users = {}
    for username, role in (
        ("bench_finance", Role.DISTRICT_FINANCE),
        ("bench_approver", Role.DISTRICT_APPROVER),
    ):
        users[username.split("_")[1]], _ = User.objects.get_or_create(
            username=username, defaults={"role": role, "jurisdiction": city}
        )
    with transaction.atomic(), connection.cursor() as cur:
        cur.execute(
            "DELETE FROM payments_paymentcheck; DELETE FROM payments_paymentcheckdraw; "
            "DELETE FROM payments_bankfile; DELETE FROM payments_bankresult; "
            "DELETE FROM payments_overpayment; DELETE FROM payments_payrollline; "
            "DELETE FROM payments_payroll;"
        )
        cur.execute(
            """
            UPDATE beneficiaries_household h
            SET bank_name = '重庆农村商业银行', bank_account_name = '户主',
                bank_account_number = '4' || lpad(h.id::text, 14, '0')
            WHERE h.bank_account_number = '' AND EXISTS (
                SELECT 1 FROM beneficiaries_entitlement e WHERE e.household_id = h.id)
            """
        )
    cur = connection.cursor()
    cur.execute("ANALYZE")
    today = timezone.localdate()
    return dt.date(today.year, today.month, 1), users


def _hand_written(month, finance) -> dict:
    """The month's regular lines for the whole city in one statement written by hand."""
    from django.db import connection

    from payments.models import Payroll, PayrollLine
    from regions.models import Region

    district = Region.objects.filter(level=Region.Level.DISTRICT).order_by("code").first()
    payroll = Payroll.objects.create(
        district=district, programme="dibao", month=month, status="cancelled", generated_by=finance
    )
    sql = """
        INSERT INTO payments_payrollline (payroll_id, reference, entitlement_id, household_id,
            month, kind, amount, status, payee_member_id, payee_name, bank_name, account_number,
            basis, hold_reason, failure_reason)
        SELECT %(payroll)s, 'R' || to_char(%(month)s::date, 'YYYYMM') || '-' || e.id, e.id,
               e.household_id, %(month)s, 'regular', t.pay, 'pending',
               coalesce(e.member_id, h.head_id),
               coalesce(nullif(h.bank_account_name, ''), m.name, ''),
               h.bank_name, h.bank_account_number,
               jsonb_build_object('decision', t.decision, 'class', e.klass,
                   'components', e.components, 'assessment', a.id,
                   'standard', a.result ->> 'standard',
                   'household_size', a.result ->> 'household_size',
                   'income_per_capita', a.result ->> 'counted_income_per_capita'),
               '', ''
        FROM beneficiaries_entitlement e
        JOIN beneficiaries_household h ON h.id = e.household_id
        LEFT JOIN beneficiaries_member m ON m.id = h.head_id
        LEFT JOIN LATERAL (
            SELECT c.new_value, c.source FROM beneficiaries_entitlementchange c
            WHERE c.entitlement_id = e.id AND NOT c.superseded AND c.kind = 'amount'
              AND c.effective_month <= %(month)s
            ORDER BY c.effective_month DESC, c.id DESC LIMIT 1) am ON true
        LEFT JOIN LATERAL (
            SELECT c.old_value FROM beneficiaries_entitlementchange c
            WHERE c.entitlement_id = e.id AND c.kind = 'amount' ORDER BY c.id LIMIT 1) f ON true
        LEFT JOIN LATERAL (
            SELECT c.new_value FROM beneficiaries_entitlementchange c
            WHERE c.entitlement_id = e.id AND NOT c.superseded AND c.kind = 'status'
              AND c.effective_month <= %(month)s
            ORDER BY c.effective_month DESC, c.id DESC LIMIT 1) st ON true
        CROSS JOIN LATERAL (
            SELECT coalesce(am.new_value::numeric, nullif(f.old_value, '')::numeric,
                            e.monthly_amount) AS pay,
                   coalesce(nullif(am.source, ''), e.source) AS decision) t
        LEFT JOIN applications_application ap ON ap.number = e.source
        LEFT JOIN eligibility_assessment a ON a.id = ap.assessment_id
        WHERE e.programme = 'dibao' AND e.start_month <= %(month)s
          AND (e.end_month IS NULL OR e.end_month >= %(month)s)
          AND coalesce(st.new_value, 'active') = 'active' AND t.pay > 0
    """
    t0 = time.perf_counter()
    with connection.cursor() as cur:
        cur.execute(sql, {"payroll": payroll.pk, "month": month})
    seconds = time.perf_counter() - t0
    lines = PayrollLine.objects.filter(payroll=payroll)
    count, total = lines.count(), _total(lines)
    with connection.cursor() as cur:
        cur.execute("DELETE FROM payments_payrollline WHERE payroll_id = %s", [payroll.pk])
        # As autovacuum would before the next month: statistics that count 500,000 dead rows
        # as live would mislead the planner for the app's run.
        cur.execute("VACUUM ANALYZE payments_payrollline")
    return {"seconds": seconds, "lines": count, "total": total}


def _total(lines):
    from django.db.models import Sum

    return lines.aggregate(total=Sum("amount"))["total"]


def _app(month, users, workers: int) -> dict:
    from concurrent.futures import ThreadPoolExecutor

    from django.db import connections

    from payments import services
    from payments.models import PayrollLine
    from regions.models import Region

    districts = list(Region.objects.filter(level=Region.Level.DISTRICT).order_by("code"))
    t0 = time.perf_counter()
    payrolls = [
        services.payroll_request(
            actor=users["finance"], district=district, programme="dibao", month=month
        )
        for district in districts
    ]

    def generate(pk):
        try:
            return services.payroll_generate(payroll_id=pk).status
        finally:
            connections.close_all()  # each thread has its own connection, as a worker would

    with ThreadPoolExecutor(max_workers=workers) as pool:
        statuses = list(pool.map(generate, [p.pk for p in payrolls]))
    if set(statuses) != {"draft"}:
        sys.exit(f"generation did not finish: {statuses}")
    seconds = time.perf_counter() - t0
    lines = PayrollLine.objects.filter(payroll__in=payrolls)
    return {
        "seconds": seconds,
        "payrolls": len(payrolls),
        "lines": lines.count(),
        "total": _total(lines),
    }


def _pages(month, users) -> None:
    """The payment pages and endpoints as a township clerk and as a city-wide auditor would
    open them (median of five GETs each, rendering included)."""
    import statistics

    from django.test import Client

    from accounts.models import Role, User
    from beneficiaries.models import Household
    from payments.models import Payroll, PayrollLine
    from regions.models import Region

    biggest = Payroll.objects.filter(month=month).order_by("-line_count").first()
    # The biggest payroll approved and sent, 1% of its lines failed: the township's queue.
    Payroll.objects.filter(pk=biggest.pk).update(status="exported", approved_by=users["approver"])
    PayrollLine.objects.filter(
        pk__in=PayrollLine.objects.filter(payroll=biggest).values("pk")[
            : max(1, biggest.line_count // 100)
        ]
    ).update(status="failed", failure_reason="账户已销户")
    line = (
        PayrollLine.objects.filter(payroll=biggest, status="failed")
        .select_related("household__region__parent")
        .first()
    )
    township = line.household.region.parent
    city = Region.objects.get(level=Region.Level.CITY)
    clerk, _ = User.objects.get_or_create(
        username="bench_clerk", defaults={"role": Role.CLERK, "jurisdiction": township}
    )
    auditor, _ = User.objects.get_or_create(
        username="bench_auditor", defaults={"role": Role.AUDITOR, "jurisdiction": city}
    )
    household = Household.objects.get(pk=line.household_id)
    cases = [
        (auditor, "payrolls", "/payments/"),
        (auditor, "payroll (biggest district)", f"/payments/{biggest.pk}/"),
        (auditor, "its lines, API page 1", f"/api/v1/payrolls/{biggest.pk}/lines/"),
        (auditor, "line search by household", f"/payments/{biggest.pk}/?q={household.number}"),
        (auditor, "failed and held (city)", "/payments/to-fix/"),
        (auditor, "fund execution (city)", "/payments/funds/"),
        (auditor, "payment checks (city)", "/payments/checks/"),
        (clerk, "home (with payment panels)", "/"),
        (clerk, "failed and held (township)", "/payments/to-fix/"),
        (clerk, "household's payments", f"/payments/households/{household.pk}/"),
        (clerk, "household's payments, API", f"/api/v1/households/{household.pk}/payments/"),
    ]
    print("pages (median of 5, ms):")
    for user, label, url in cases:
        client = Client(HTTP_HOST="localhost")
        client.force_login(user)
        times = []
        for _ in range(5):
            t0 = time.perf_counter()
            response = client.get(url)
            times.append((time.perf_counter() - t0) * 1000)
            if response.status_code != 200:
                sys.exit(f"{url} as {user.username}: {response.status_code}")
        print(f"  {user.get_role_display():<8} {label:<32} {statistics.median(times):7.0f}")


def _file_payroll(month, users, n: int) -> int:
    """A payroll of ``n`` lines, approved: the largest district's, topped up with other
    districts' lines moved into it (bench only)."""
    from django.db import connection

    from payments.generation import payroll_totals
    from payments.models import Payroll

    payrolls = (
        Payroll.objects.filter(month=month).exclude(status="cancelled").order_by("-line_count")
    )
    target = payrolls.first()
    with connection.cursor() as cur:
        cur.execute(
            """
            UPDATE payments_payrollline SET payroll_id = %s
            WHERE id IN (SELECT id FROM payments_payrollline WHERE payroll_id <> %s
                         AND payroll_id IN %s ORDER BY id LIMIT %s)
            """,
            [target.pk, target.pk, tuple(p.pk for p in payrolls), max(0, n - target.line_count)],
        )
    totals = payroll_totals(target)
    Payroll.objects.filter(pk=target.pk).update(
        status="approved",
        approved_by=users["approver"],
        line_count=totals["count"],
        total_amount=totals["amount"],
    )
    print(f"bank file payroll: {totals['count']:,} lines, {totals['amount']} yuan")
    return target.pk


def _export_child(spec: str) -> None:
    import django

    django.setup()
    from accounts.models import User
    from payments import services
    from payments.models import Payroll

    payroll_id, fmt = spec.split(":")
    payroll = Payroll.objects.get(pk=int(payroll_id))
    t0 = time.perf_counter()
    bank_file = services.payroll_export(
        actor=User.objects.get(username="bench_finance"), payroll=payroll, fmt=fmt
    )
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(
        f"  {fmt}: {bank_file.line_count:,} lines written in {time.perf_counter() - t0:.1f} s, "
        f"this process's peak RSS {peak:.0f} MB, sha256 {bank_file.sha256[:16]}…"
    )


if __name__ == "__main__":
    main()
