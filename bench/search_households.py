"""Benchmark of household search at city scale on PostgreSQL (DESIGN.md §11): 1,000,000
households and about 2,500,000 members over the real region tree, then the searches a clerk,
a district approver and the city make, through the same selector the search page uses.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/chongqing_relief_bench_search \\
        .venv/bin/python bench/search_households.py --households 1000000

The database's name must contain "bench": it is dropped and created again (with
--reuse, an already-filled database is searched again without rebuilding). Rows are written
with set-based SQL (generate_series), not through the services: this measures reads.
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

SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘蒋蔡余杜叶程"
GIVEN = "国建华明秀英军平志强芳红丽勇敏静伟杰娟玉兰桂春海林云涛鹏飞燕萍德福贵成兴文武光小"


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


def recreate(name: str) -> None:
    import psycopg2

    url = urlparse(os.environ["DATABASE_URL"])
    conn = psycopg2.connect(
        host=url.hostname,
        port=url.port or 5432,
        user=url.username,
        password=url.password,
        dbname="postgres",
    )
    conn.autocommit = True
    with conn.cursor() as cur:
        cur.execute(f'DROP DATABASE IF EXISTS "{name}"')
        cur.execute(f'CREATE DATABASE "{name}"')
    conn.close()


def build(n: int) -> None:
    from django.core.management import call_command
    from django.db import connection

    from regions.services import regions_seed

    t0 = time.perf_counter()
    call_command("migrate", verbosity=0)
    regions_seed()
    surnames, given = list(SURNAMES), list(GIVEN)
    with connection.cursor() as cur:
        cur.execute(
            "SELECT array_agg(id ORDER BY code), array_agg(code ORDER BY code) "
            "FROM regions_region WHERE level = 'village'"
        )
        village_ids, _codes = cur.fetchone()
        cur.execute(
            """
            INSERT INTO beneficiaries_household
              (number, region_id, address, residence_type, phone, bank_name, bank_account_name,
               bank_account_number, poverty_registered, marginal, separately_registered,
               separate_registration_reason, version, created_at, updated_at)
            SELECT lpad(g::text, 14, '0'), (%(villages)s)[1 + (g::bigint * 7919) %% %(nv)s],
                   '某路' || g || '号', CASE WHEN g %% 3 = 0 THEN 'urban' ELSE 'rural' END,
                   '13' || lpad(g::text, 9, '0'), '', '', '', g %% 10 = 0, g %% 15 = 0, false, '',
                   1, now(), now()
            FROM generate_series(1, %(n)s) AS g
        """,
            {"villages": village_ids, "nv": len(village_ids), "n": n},
        )
        # 1–4 members per household (mean 2.5): member k exists when (h + k) %% 4 >= k - 1.
        cur.execute(
            """
            INSERT INTO beneficiaries_member
              (household_id, name, id_number, sex, birth_date, relation, lives_with_household,
               absence_reason, hukou_local, labour_capacity, disability_type, disability_grade,
               serious_illness, can_eat, can_dress, can_transfer, can_toilet, can_walk_indoors,
               can_bathe, self_care, schooling, employment, is_current)
            SELECT h.id,
                   (%(s)s)[1 + (h.id * 31 + k) %% %(ns)s] || (%(g)s)[1 + (h.id * 17 + k) %% %(ng)s]
                     || CASE WHEN k %% 2 = 0 THEN (%(g)s)[1 + (h.id + k) %% %(ng)s] ELSE '' END,
                   '5001' || lpad((h.id * 4 + k)::text, 13, '0') || 'X',
                   CASE WHEN k %% 2 = 1 THEN 'M' ELSE 'F' END,
                   date '1950-01-01' + ((h.id * 13 + k * 97) %% 25000)::int,
                   CASE WHEN k = 1 THEN 'head' WHEN k = 2 THEN 'spouse' ELSE 'child' END,
                   true, '', true, 'full', '', NULL, false, true, true, true, true, true, true,
                   'capable', 'not_in_school', '', true
            FROM beneficiaries_household h CROSS JOIN generate_series(1, 4) AS k
            WHERE k = 1 OR (h.id + k) %% 4 >= k - 1
        """,
            {"s": surnames, "ns": len(surnames), "g": given, "ng": len(given)},
        )
        cur.execute("""
            UPDATE beneficiaries_household h SET head_id = m.id
            FROM beneficiaries_member m WHERE m.household_id = h.id AND m.relation = 'head'
        """)
        cur.execute("ANALYZE")
        cur.execute("SELECT count(*) FROM beneficiaries_household")
        households = cur.fetchone()[0]
        cur.execute("SELECT count(*) FROM beneficiaries_member")
        members = cur.fetchone()[0]
    print(
        f"built {households:,} households, {members:,} members in {time.perf_counter() - t0:.0f} s"
    )


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
