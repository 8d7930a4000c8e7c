"""Benchmark of every list, queue and home page and every list endpoint of the API, for every
role at every level, on a city-sized PostgreSQL database (issue 18: under 200 ms p95 at
1,000,000 households, with a fixed number of queries).

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/chongqing_relief_bench \\
        .venv/bin/python bench/pages.py [--repeat 10] [--json out.json]

The database must already hold the data (``manage.py seed_scale``, before or after
``seed_demo``); this script only adds one user per role and level, in the district and the
township with the most households (the worst case for a district or township user). Each
page is fetched through Django's test client (server time, no network): two warm-ups, then
``--repeat`` timed requests; pages a role may not open (403, 404, a redirect) are skipped.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "chongqing_relief.settings")

TARGET_MS = 200
PAGES = [
    "/",
    "/inbox/",
    "/households/",
    "/households/?name=王",
    "/households/?name=秀英",
    "/households/duplicates/",
    "/households/import/",
    "/eligibility/verification/",
    "/eligibility/verification/runs/",
    "/applications/",
    "/applications/leads/",
    "/applications/relatives/",
    "/applications/reviews/",
    "/payments/",
    "/payments/to-fix/",
    "/payments/overpayments/",
    "/payments/checks/",
    "/payments/funds/",
    "/reports/audit/",
    "/reports/jobs/",
    "/reports/exports/",
    "/reports/statistics/",
    "/reports/statistics/rows/",
    "/reports/dashboard/",
    "/reports/indicators/",
    "/reports/figures/",
    "/security/events/",
    "/api/v1/me/",
    "/api/v1/regions/",
    "/api/v1/households/",
    "/api/v1/applications/",
    "/api/v1/referrals/",
    "/api/v1/reviews/",
    "/api/v1/entitlements/",
    "/api/v1/payrolls/",
    "/api/v1/exports/",
    "/api/v1/audit-events/",
    "/api/v1/security-events/",
    "/api/v1/reports/indicators/",
    "/api/v1/reports/statistics/",
]
# (role, level of the jurisdiction)
ACTORS = [
    ("village_worker", "village"),
    ("clerk", "township"),
    ("township_reviewer", "township"),
    ("district_approver", "district"),
    ("district_finance", "district"),
    ("auditor", "district"),
    ("auditor", "city"),
    ("city_admin", "city"),
    ("account_admin", "city"),
    ("security_admin", "city"),
]


def places():
    """The city, the district and township with the most households, a village in it."""
    from django.db.models import Count

    from beneficiaries.models import Household
    from regions.models import Region

    city = Region.objects.get(level="city")
    by_village = dict(Household.objects.values_list("region_id").annotate(n=Count("id")).order_by())
    villages = Region.objects.filter(level="village").select_related("parent__parent")
    townships: dict = {}
    for village in villages:
        townships.setdefault(village.parent, []).append(village)
    township = max(townships, key=lambda t: sum(by_village.get(v.pk, 0) for v in townships[t]))
    village = max(townships[township], key=lambda v: by_village.get(v.pk, 0))
    return {"city": city, "district": township.parent, "township": township, "village": village}


def actor(role: str, region):
    from django_otp.plugins.otp_totp.models import TOTPDevice

    from accounts.models import User

    user, _ = User.objects.update_or_create(
        username=f"bench_{role}_{region.level}",
        defaults={"role": role, "jurisdiction": region, "full_name": f"bench {role}"},
    )
    if user.requires_second_factor and not TOTPDevice.objects.filter(user=user).exists():
        TOTPDevice.objects.create(user=user, name="bench", confirmed=True)
    return user


def client_for(user):
    import django_otp
    from django.test import Client
    from django_otp.plugins.otp_totp.models import TOTPDevice

    client = Client(HTTP_HOST="localhost")
    client.force_login(user)
    if user.requires_second_factor:
        session = client.session
        session[django_otp.DEVICE_ID_SESSION_KEY] = TOTPDevice.objects.get(user=user).persistent_id
        session.save()
    return client


def p95(samples: list[float]) -> float:
    return statistics.quantiles(samples, n=20, method="inclusive")[18]


def measure(client, url: str, repeat: int) -> dict | None:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    for _ in range(2):
        if client.get(url).status_code != 200:
            return None
    times = []
    for _ in range(repeat):
        with CaptureQueriesContext(connection) as queries:
            started = time.perf_counter()
            response = client.get(url)
            times.append((time.perf_counter() - started) * 1000)
        if response.status_code != 200:
            raise RuntimeError(f"{url}: {response.status_code} after two good answers")
    return {
        "p50_ms": round(statistics.median(times), 1),
        "p95_ms": round(p95(times), 1),
        "queries": len(queries),
    }


def run(repeat: int = 10, pages=PAGES, actors=ACTORS) -> list[dict]:
    import django

    django.setup()
    where = places()
    rows = []
    for role, level in actors:
        client = client_for(actor(role, where[level]))
        for url in pages:
            figures = measure(client, url, repeat)
            if figures is None:
                continue
            row = {"role": role, "level": level, "url": url, **figures}
            row["met"] = row["p95_ms"] < TARGET_MS
            rows.append(row)
            print(
                f"{role:18} {level:9} {url:34} p50 {row['p50_ms']:7.1f}  p95 {row['p95_ms']:7.1f}"
                f" ms  {row['queries']:3} queries {'' if row['met'] else '  MISSED'}",
                flush=True,
            )
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--repeat", type=int, default=10)
    parser.add_argument("--json", help="write the rows to this file")
    parser.add_argument("--only", help="only URLs containing this text")
    args = parser.parse_args()
    pages = [p for p in PAGES if not args.only or args.only in p]
    rows = run(args.repeat, pages)
    missed = [r for r in rows if not r["met"]]
    print(f"{len(rows)} pages measured, {len(missed)} over {TARGET_MS} ms p95")
    if args.json:
        Path(args.json).write_text(json.dumps(rows, ensure_ascii=False, indent=1))


if __name__ == "__main__":
    main()
