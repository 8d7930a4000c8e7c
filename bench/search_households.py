"""Benchmark of household search at city scale on PostgreSQL (DESIGN.md §11): 1,000,000
households and about 2,500,000 members over the real region tree, then the searches a clerk,
a district approver and the city make, through the same selector the search page uses.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/chongqing_relief_bench_search \\
        .venv/bin/python bench/search_households.py --households 1000000

The database's name must contain "bench": it is dropped and created again (with
--reuse, an already-filled database is searched again without rebuilding). Rows are written
by ``manage.py seed_scale`` (set-based SQL), not through the services: this measures reads.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from pathlib import Path
from urllib.parse import urlparse

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "chongqing_relief.settings")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--households", type=int, default=1_000_000)
    parser.add_argument("--reuse", action="store_true", help="search an existing database")
    args = parser.parse_args()
    name = urlparse(os.environ.get("DATABASE_URL", "")).path.lstrip("/")
    if "bench" not in name or not os.environ["DATABASE_URL"].startswith("postgres"):
        sys.exit("DATABASE_URL must name a PostgreSQL database whose name contains 'bench'.")
    if not args.reuse:
        recreate(name)
    import django

    django.setup()
    if not args.reuse:
        build(args.households)
    search()


def admin_connection(url):
    """An autocommit connection to the server's ``postgres`` database (to drop, create and
    copy the benchmark databases)."""
    import psycopg2

    conn = psycopg2.connect(
        host=url.hostname,
        port=url.port or 5432,
        user=url.username,
        password=url.password,
        dbname="postgres",
    )
    conn.autocommit = True
    return conn


def recreate(name: str) -> None:
    conn = admin_connection(urlparse(os.environ["DATABASE_URL"]))
    with conn.cursor() as cur:
        cur.execute(f'DROP DATABASE IF EXISTS "{name}"')
        cur.execute(f'CREATE DATABASE "{name}"')
    conn.close()


def build(n: int) -> None:
    from django.core.management import call_command

    t0 = time.perf_counter()
    call_command("migrate", verbosity=0)
    call_command("seed_scale", households=n, entitled_share=0)
    print(f"built in {time.perf_counter() - t0:.0f} s")


def search() -> None:
    from django.core.paginator import Paginator

    from accounts.models import Role, User
    from beneficiaries.models import Member
    from beneficiaries.selectors import household_list
    from regions.models import Region

    def user(role, region):
        return User(username=role, role=role, jurisdiction=region, is_active=True)

    city = Region.objects.get(level="city")
    district = Region.objects.get(code="500101000000")
    township = Region.objects.filter(parent=district).order_by("code").first()
    sample = Member.objects.filter(household__region__code__startswith=township.prefix).first()
    users = {
        "city auditor": user(Role.AUDITOR, city),
        "district approver": user(Role.DISTRICT_APPROVER, district),
        "township clerk": user(Role.CLERK, township),
    }
    searches = {
        "first page, no filter": {},
        "ID number (full)": {"id_number": sample.id_number},
        "name prefix (surname + 1)": {"name": sample.name[:2]},
        "full name": {"name": sample.name},
        "household number": {"number": sample.household.number},
        "phone": {"phone": sample.household.phone},
    }
    print(f"\n{'user':<18} {'search':<28} {'count':>9} {'median ms':>10} {'max ms':>8}")
    for who, u in users.items():
        for label, params in searches.items():
            times, count = [], 0
            for _ in range(5):
                t = time.perf_counter()
                page = Paginator(household_list(user=u, **params), 20).get_page(1)
                count = page.paginator.count
                list(page.object_list)
                times.append((time.perf_counter() - t) * 1000)
            print(
                f"{who:<18} {label:<28} {count:>9,} {statistics.median(times):>10.1f} "
                f"{max(times):>8.1f}"
            )


if __name__ == "__main__":
    main()
