"""Benchmark of the statistics return, the dashboard and the 绩效评价 (issue 15) at city scale.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/chongqing_relief_bench_payroll \\
        .venv/bin/python bench/statistics_return.py

Uses the payroll bench's database after ``bench/payroll.py`` has run (1,000,000 households,
500,000 entitlements, the month's 40 district payrolls of 500,000 lines). Approves that
month's drafts (as the district approvers would), then times, each the median of --repeat:

1. ``statistics.compute`` for the month, city-wide (the nightly job's work for one month);
2. the return (the API's answer) of the city, of a district and of a township;
3. the XLSX return of the city (a sheet of 40 districts, a sheet of every township);
4. the indicator table of the year, computed afresh (then cached for every user);
5. the dashboard of the city and of a district (indicators cached, as after the first user);
6. the drill-down of a district's persons: the first page and the tenth.
"""

from __future__ import annotations

import os
import statistics as stats
import sys
import time
from pathlib import Path
from urllib.parse import urlparse

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "chongqing_relief.settings")


def _time(what: str, work, repeat: int):
    runs, result = [], None
    for _ in range(repeat):
        t0 = time.perf_counter()
        result = work()
        runs.append(time.perf_counter() - t0)
    print(f"{what}: median {stats.median(runs):.2f} s ({', '.join(f'{r:.2f}' for r in runs)})")
    return result


def main() -> None:
    import argparse

    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    name = urlparse(os.environ.get("DATABASE_URL", "")).path.lstrip("/")
    if "bench" not in name or not os.environ["DATABASE_URL"].startswith("postgres"):
        sys.exit("DATABASE_URL must name a PostgreSQL database whose name contains 'bench'.")
    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connection
    from django.db.models import Count

    from accounts.models import Role, User
    from payments.generation import payroll_totals
    from payments.models import COMMITTED_PAYROLL, Payroll
    from regions.models import Region
    from reports import dashboard, indicators, statistics
    from reports.models import MonthlyFigure
    from reports.statistics_xlsx import workbook

    call_command("migrate", verbosity=0)
    month = Payroll.objects.order_by("-month").values_list("month", flat=True).first()
    if month is None:
        sys.exit("Run bench/payroll.py on this database first (it makes the month's payrolls).")
    city = Region.objects.get(level=Region.Level.CITY)
    approver, _ = User.objects.get_or_create(
        username="bench_approver",
        defaults={"role": Role.DISTRICT_APPROVER, "jurisdiction": city},
    )
    auditor, _ = User.objects.get_or_create(
        username="bench_auditor", defaults={"role": Role.AUDITOR, "jurisdiction": city}
    )
    with connection.cursor() as cur:
        # bench/payroll.py's bank-file step moved other districts' lines into one payroll;
        # the app never does (a payroll is its district's): they go back first.
        cur.execute(
            """
            UPDATE payments_payrollline l SET payroll_id = p.id
            FROM beneficiaries_household h, regions_region v, regions_region d, payments_payroll p
            WHERE l.household_id = h.id AND v.id = h.region_id
              AND d.code = substr(v.code, 1, 6) || '000000' AND p.district_id = d.id
              AND p.month = %(month)s AND p.programme = 'dibao' AND p.status <> 'cancelled'
              AND l.month = %(month)s AND l.payroll_id <> p.id
            """,
            {"month": month},
        )
        moved = cur.rowcount
    for payroll in Payroll.objects.filter(month=month).exclude(status="cancelled"):
        totals = payroll_totals(payroll)
        Payroll.objects.filter(pk=payroll.pk).update(
            line_count=totals["count"], total_amount=totals["amount"]
        )
    print(f"{moved:,} lines moved back to their district's payroll")
    with connection.cursor() as cur:
        cur.execute(
            "UPDATE payments_payroll SET status = 'approved', approved_by_id = %s, "
            "approved_at = now() WHERE month = %s AND status = 'draft' AND generated_by_id <> %s",
            [approver.pk, month, approver.pk],
        )
    payrolls = Payroll.objects.filter(month=month, status__in=COMMITTED_PAYROLL)
    print(
        f"month {month:%Y-%m}: {payrolls.count()} committed payrolls, "
        f"{sum(p.line_count for p in payrolls):,} lines"
    )

    rows = _time(
        "compute the month city-wide", lambda: statistics.compute(month=month), args.repeat
    )
    print(f"  {rows:,} figure rows written")
    district = (
        Region.objects.filter(level=Region.Level.DISTRICT)
        .annotate(n=Count("children"))
        .order_by("-n")
        .first()
    )
    busiest = (
        MonthlyFigure.objects.filter(month=month, region_code__startswith=district.code[:6])
        .order_by("-persons")
        .values_list("township", flat=True)
        .first()
    )
    township = Region.objects.get(pk=busiest)
    city_return = _time(
        "return of the city (API)", lambda: statistics.return_for(city, month), args.repeat
    )
    dibao = city_return["dibao"]
    persons = dibao["urban"]["persons"] + dibao["rural"]["persons"]
    amount = dibao["urban"]["amount"] + dibao["rural"]["amount"]
    print(f"  city 低保: {persons:,} persons, {amount} yuan")
    _time(
        f"return of a district ({district.name})",
        lambda: statistics.return_for(district, month),
        args.repeat,
    )
    _time(
        f"return of a township ({township.name})",
        lambda: statistics.return_for(township, month),
        args.repeat,
    )
    content = _time("XLSX return of the city", lambda: workbook(city, month), args.repeat)
    print(f"  {len(content):,} bytes")
    _time(
        f"indicator table {month.year} (fresh)",
        lambda: indicators.indicator_table(month.year, fresh=True),
        args.repeat,
    )
    _time("dashboard of the city", lambda: dashboard.panels(city, month), args.repeat)
    _time(
        f"dashboard of a district ({district.name})",
        lambda: dashboard.panels(district, month),
        args.repeat,
    )
    for region in (district, township):
        for figure in ("persons", "households", "amount"):

            def drill(region=region, figure=figure, page=1):
                rows = statistics.rows_behind(
                    user=auditor,
                    region=region,
                    month=month,
                    programme="dibao",
                    residence="",
                    figure=figure,
                )
                return list(rows[(page - 1) * 50 : page * 50])

            _time(f"drill-down of {region.name}'s 低保 {figure}, page 1", drill, args.repeat)
    for page in (10,):

        def drill(page=page):
            rows = statistics.rows_behind(
                user=auditor,
                region=district,
                month=month,
                programme="dibao",
                residence="",
                figure="persons",
            )
            return list(rows[(page - 1) * 50 : page * 50])

        _time(f"drill-down of {district.name}'s 低保 persons, page {page}", drill, args.repeat)


if __name__ == "__main__":
    main()
