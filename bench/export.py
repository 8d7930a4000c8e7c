"""Benchmark of the register exports (issue 15) on PostgreSQL at city scale.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/chongqing_relief_bench_payroll \\
        .venv/bin/python bench/export.py --reuse

Uses a ``seed_scale`` database (the payroll bench's will do: 1,000,000 households, 500,000
entitlements); without --reuse it is dropped, created and seeded. Adds ``--events`` audit
events (default 1,000,000) spread over the city's villages, if fewer are there. Then, each in
a separate worker-like process whose peak RSS is read: the city-wide recipients register
(500,000 rows; by person, every counted member: about 1,250,000 rows) and the city-wide audit
log (1,000,000 rows), as CSV and as XLSX, as the city auditor would ask for them. Prints
rows, seconds and peak RSS.
"""

from __future__ import annotations

import argparse
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


SPECS = [
    "entitlements:csv",
    "entitlements:xlsx",
    "entitlements:csv:person",
    "audit_events:csv",
    "audit_events:xlsx",
]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--households", type=int, default=1_000_000)
    parser.add_argument("--events", type=int, default=1_000_000)
    parser.add_argument("--reuse", action="store_true", help="use an already-seeded database")
    parser.add_argument(
        "--only",
        nargs="*",
        default=SPECS,
        help="which exports, as register:format[:person] (default: all)",
    )
    parser.add_argument("--run", type=str, help=argparse.SUPPRESS)  # child: one of --only
    args = parser.parse_args()
    if args.run:
        _child(args.run)
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
        call_command("seed_scale", households=args.households)
    _events(args.events)
    for spec in args.only:
        subprocess.run(  # noqa: S603 (this interpreter, this script)
            [sys.executable, __file__, "--run", spec], check=True
        )


def _events(n: int) -> None:
    from django.db import connection

    from core.models import AuditEvent

    have = AuditEvent.objects.count()
    if have >= n:
        print(f"{have:,} audit events already there")
        return
    with connection.cursor() as cur:
        cur.execute(
            "SELECT array_agg(code ORDER BY code) FROM regions_region WHERE level = 'village'"
        )
        (codes,) = cur.fetchone()
        cur.execute(
            """
            INSERT INTO core_auditevent (occurred_at, actor_name, action, object_type,
                object_id, object_repr, region_code, case_key, from_state, to_state, reason,
                changes, seal)
            SELECT now() - (g || ' seconds')::interval, 'clerk' || (g %% 500), 'update',
                   'beneficiaries.household', g::text, '户' || g,
                   (%(codes)s)[1 + (g::bigint * 7919) %% %(n_codes)s], '', '', '',
                   CASE WHEN g %% 1000 = 0 THEN '=HYPERLINK("x")' ELSE '修改地址' END,
                   jsonb_build_object('address', jsonb_build_array('旧址' || g, '新址' || g)),
                   ''
            FROM generate_series(1, %(n)s) AS g
            """,
            {"codes": codes, "n_codes": len(codes), "n": n - have},
        )
        cur.execute("ANALYZE core_auditevent")
    print(f"added {n - have:,} audit events")


def _child(spec: str) -> None:
    import django

    django.setup()
    from accounts.models import Role, User
    from regions.models import Region
    from reports import services

    register, fmt, *person = spec.split(":")
    city = Region.objects.get(level=Region.Level.CITY)
    auditor, _ = User.objects.get_or_create(
        username="bench_auditor", defaults={"role": Role.AUDITOR, "jurisdiction": city}
    )
    t0 = time.perf_counter()
    export = services.export_request(
        actor=auditor, register=register, fmt=fmt, region=city, per_member=bool(person)
    )
    export = services.export_run(export_id=export.pk)
    seconds = time.perf_counter() - t0
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"{spec}: {export.rows:,} rows in {seconds:.0f} s, process peak RSS {peak:.0f} MB")


if __name__ == "__main__":
    main()
