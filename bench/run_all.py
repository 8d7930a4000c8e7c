"""One benchmark run (issue 18): seed (or reuse) a city-sized database, run the page, search,
nightly, recalculation, payroll, export, duplicates and load benchmarks against it, and write
one table, each figure beside its target, with the machine it ran on, as markdown and JSON.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/chongqing_relief_bench \\
        .venv/bin/python bench/run_all.py [--households 1000000] [--reuse] [--out var/bench]

Without --reuse the database (its name must contain "bench") is dropped, created, migrated,
given the demo data (``seed_demo``) and then the city (``seed_scale``). ``--smoke`` (CI) runs
every benchmark briefly on whatever N is given: it proves the benchmarks run, not the figures.
The benchmarks that change the data (the night, the recalculation, the payroll, the exports'
audit events, the duplicates table) run last, each on a copy of the database, so the page and
search figures are read from the seeded city.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import platform
import re
import statistics
import subprocess
import sys
import time
import traceback
from pathlib import Path
from urllib.parse import urlparse, urlunparse

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "chongqing_relief.settings")


def row(group, figure, value, unit, target=None, better="lower", note="") -> dict:
    met = None
    if target is not None and value is not None:
        met = value < target if better == "lower" else value > target
    return {
        "group": group,
        "figure": figure,
        "value": value,
        "unit": unit,
        "target": target,
        "met": met,
        "note": note,
    }


def machine() -> dict:
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("SHOW server_version")
        (pg,) = cursor.fetchone()
        cursor.execute("SELECT pg_size_pretty(pg_database_size(current_database()))")
        (size,) = cursor.fetchone()
    memory = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30
    commit = subprocess.run(
        ["git", "rev-parse", "--short", "HEAD"],  # noqa: S607 (git on PATH)
        cwd=ROOT,
        capture_output=True,
        text=True,
    ).stdout.strip()
    return {
        "date": dt.date.today().isoformat(),
        "commit": commit,
        "host": platform.node(),
        "cpus": os.cpu_count(),
        "memory_gib": round(memory, 1),
        "python": platform.python_version(),
        "postgresql": pg,
        "database_size": size,
        "load_average": os.getloadavg()[0],
    }


def database_rows() -> dict:
    from django.db import connection

    counts = {}
    with connection.cursor() as cursor:
        for table in (
            "beneficiaries_household",
            "beneficiaries_member",
            "beneficiaries_entitlement",
            "applications_application",
            "notices_notice",
            "notices_objection",
            "recertification_review",
            "payments_payroll",
            "payments_payrollline",
        ):
            cursor.execute(f"SELECT count(*) FROM {table}")  # noqa: S608 (names above)
            (counts[table],) = cursor.fetchone()
    return counts


# --- the benchmarks ------------------------------------------------------------------------------


def pages(smoke: bool) -> list[dict]:
    import pages as bench_pages

    rows = bench_pages.run(repeat=3 if smoke else 10)
    out = []
    for r in rows:
        out.append(
            row(
                "pages",
                f"{r['role']} ({r['level']}) {r['url']}",
                r["p95_ms"],
                "ms p95",
                bench_pages.TARGET_MS,
                note=f"p50 {r['p50_ms']} ms, {r['queries']} queries",
            )
        )
    return out


def _timed(work, repeat: int) -> tuple[float, float]:
    times = []
    for _ in range(repeat):
        started = time.perf_counter()
        work()
        times.append((time.perf_counter() - started) * 1000)
    times.sort()
    return statistics.median(times), times[max(0, round(len(times) * 0.95) - 1)]


def search(smoke: bool) -> list[dict]:
    """Name search (any part), through the search page's selector and paginator, at district
    and city level; the ID search by the whole number."""
    from django.db.models import Count

    from accounts.models import Role, User
    from beneficiaries.models import Member
    from beneficiaries.selectors import household_list
    from core.pagination import CappedPaginator
    from regions.models import Region

    repeat = 3 if smoke else 20
    city = Region.objects.get(level="city")
    district = (
        Region.objects.filter(level="district")
        .annotate(n=Count("children__children__households"))
        .order_by("-n")
        .first()
    )
    # Given names as people ask for them: the commonest two-character run, and a single
    # character; plus the commonest surname (the worst case of a one-character search).
    names = list(Member.objects.values_list("name", flat=True)[:20000])
    pairs: dict[str, int] = {}
    for name in names:
        if len(name) >= 3:
            pairs[name[1:3]] = pairs.get(name[1:3], 0) + 1
    given = max(pairs, key=pairs.get) if pairs else "秀英"
    surname = max({n[0] for n in names}, key=lambda s: sum(n[0] == s for n in names))
    out = []
    for level, region, role, target in (
        ("district", district, Role.DISTRICT_APPROVER, 200),
        ("city", city, Role.AUDITOR, 500),
    ):
        user = User(username=f"bench-{level}", role=role, jurisdiction=region)
        for label, query in (
            ("given name", given),
            ("one character of a given name", given[-1]),
            ("surname", surname),
        ):

            def page(query=query, user=user):
                found = CappedPaginator(household_list(user=user, name=query), 20).get_page(1)
                list(found.object_list)

            p50, p95 = _timed(page, repeat)
            out.append(
                row(
                    "name search",
                    f"{level}: {label} 「{query}」",
                    round(p95, 1),
                    "ms p95",
                    target,
                    note=f"p50 {p50:.1f} ms, first page and count",
                )
            )
    return out


def public(smoke: bool) -> list[dict]:
    """The public notice pages with the cache emptied before every request (what a resident
    meets after an approval): the city, its last page, and the biggest district, township and
    village."""
    import pages as bench_pages
    from django.core.cache import cache
    from django.db.models import Sum
    from django.test import Client

    from notices.models import StandingTally

    where = bench_pages.places()
    client = Client(HTTP_HOST="localhost")
    standing = StandingTally.objects.aggregate(n=Sum("households"))["n"] or 0
    last = max(1, -(-standing // 50))
    urls = ["/gongshi/", f"/gongshi/?page={last}"] + [
        f"/gongshi/{where[level].code}/" for level in ("district", "township", "village")
    ]
    out = []
    for url in urls:

        def uncached(url=url):
            cache.clear()
            response = client.get(url)
            if response.status_code != 200:
                raise RuntimeError(f"{url}: {response.status_code}")

        uncached()
        p50, p95 = _timed(uncached, 3 if smoke else 20)
        out.append(
            row(
                "public site",
                f"{url} uncached",
                round(p95, 1),
                "ms p95",
                200,
                note=f"p50 {p50:.1f} ms",
            )
        )
    return out


def night(smoke: bool, db_url: str) -> list[dict]:
    return _subprocess_bench(
        "nightly",
        [sys.executable, "bench/nightly.py", "--reuse", "--runs", "1" if smoke else "3"],
        db_url,
        [
            (r"classes_full_rederivation\s+([\d.]+) s", "full class re-derivation", "s", 60),
            (r"nightly_typical_night\s+([\d.]+) s", "a typical night, every job", "s", 60),
            (r"nightly_first_night\s+([\d.]+) s", "the first night after seeding", "s", None),
        ],
    )


def recalculation(smoke: bool, db_url: str) -> list[dict]:
    return _subprocess_bench(
        "recalculation",
        [sys.executable, "bench/recalculation.py", "--reuse", "--runs", "1" if smoke else "3"],
        db_url,
        [(r"median of \d+: ([\d.]+) s", "new standard, every live entitlement", "s", 300)],
    )


def payroll(smoke: bool, db_url: str) -> list[dict]:
    return _subprocess_bench(
        "payroll",
        [sys.executable, "bench/payroll.py", "--reuse", "--file-lines", "1000"],
        db_url,
        [(r"app generation[^:]*: ([\d.]+) s", "a month's payrolls for the city", "s", None)],
    )


def export(smoke: bool, db_url: str) -> list[dict]:
    """The city auditor's largest registers, each in a worker-like process (issue 15: under
    300 MB whatever the rows). Adds audit events to the copy first."""
    specs = ["entitlements:csv", "entitlements:xlsx", "entitlements:csv:person", "audit_events:csv"]
    events = "2000" if smoke else "1000000"
    patterns = []
    for spec in specs:
        where = re.escape(spec) + r": [\d,]+ rows in "
        patterns.append((where + r"([\d.]+) s", f"export {spec}", "s", None))
        patterns.append(
            (
                where + r"[\d.]+ s, process peak RSS ([\d.]+) MB",
                f"export {spec}: peak RSS",
                "MB",
                300,
            )
        )
    return _subprocess_bench(
        "export",
        [sys.executable, "bench/export.py", "--reuse", "--events", events, "--only", *specs],
        db_url,
        patterns,
    )


def duplicates(smoke: bool, db_url: str) -> list[dict]:
    return _subprocess_bench(
        "duplicates",
        [sys.executable, "bench/duplicates.py", "--reuse", "--runs", "1" if smoke else "3"],
        db_url,
        [
            (
                r"median of \d+: ([\d.]+) s",
                "likely duplicates, whole city (nightly job)",
                "s",
                None,
            ),
            (r"peak RSS ([\d.]+) MB", "likely duplicates: peak RSS", "MB", None),
        ],
    )


def load(smoke: bool) -> list[dict]:
    import load as bench_load

    out = []
    port = int(os.environ.get("LOAD_PORT", "8765"))
    for r in bench_load.run(clients=50, seconds=10 if smoke else 30, port=port):
        label = f"{r['scenario']}, {r['clients']} clients"
        out.append(row("load", f"{label}: errors", r["errors"], "errors", 1))
        out.append(
            row(
                "load",
                f"{label}: p95",
                r["p95_ms"],
                "ms p95",
                None,
                note=f"{r['rps']} req/s, p50 {r['p50_ms']:.0f} ms, p99 {r['p99_ms']:.0f} ms,"
                f" {r['requests']} requests",
            )
        )
    return out


def _subprocess_bench(group, command, db_url, patterns) -> list[dict]:
    """A benchmark that changes the data runs on the copy, in its own process; its printed
    figures are read back with ``patterns`` (regex, figure, unit, target)."""
    started = time.perf_counter()
    done = subprocess.run(  # noqa: S603 (this interpreter, a bench script)
        command,
        cwd=ROOT,
        env={**os.environ, "DATABASE_URL": db_url},
        capture_output=True,
        text=True,
    )
    output = done.stdout + done.stderr
    (Path(os.environ.get("BENCH_OUT", "var/bench")) / f"{group}.log").write_text(output)
    if done.returncode:
        return [row(group, f"{group} benchmark failed", None, "", note=output[-300:])]
    rows = []
    for pattern, figure, unit, target in patterns:
        match = re.search(pattern, output, re.IGNORECASE)
        value = float(match.group(1)) if match else None
        rows.append(row(group, figure, value, unit, target, note="" if match else "not printed"))
    rows.append(row(group, f"{group} benchmark, wall", round(time.perf_counter() - started), "s"))
    return rows


# --- the database --------------------------------------------------------------------------------


def seed(db_url: str, households: int) -> float:
    from search_households import recreate

    recreate(urlparse(db_url).path.lstrip("/"))
    started = time.perf_counter()
    for command in (
        ["migrate", "--no-input", "-v0"],
        ["seed_demo"],
        ["seed_scale", "--households", str(households)],
    ):
        subprocess.run(  # noqa: S603 (this interpreter, manage.py)
            [sys.executable, "manage.py", *command],
            cwd=ROOT,
            env={**os.environ, "DATABASE_URL": db_url},
            check=True,
        )
    return time.perf_counter() - started


def copy_of(db_url: str) -> str:
    """A copy of the seeded city for the benchmarks that write (CREATE DATABASE … TEMPLATE)."""
    from django.db import connections
    from search_households import admin_connection

    connections.close_all()
    url = urlparse(db_url)
    name = url.path.lstrip("/")
    copy = f"{name}_writes"
    conn = admin_connection(url)
    with conn.cursor() as cursor:
        cursor.execute(f'DROP DATABASE IF EXISTS "{copy}"')
        cursor.execute(f'CREATE DATABASE "{copy}" TEMPLATE "{name}"')
    conn.close()
    return urlunparse(url._replace(path=f"/{copy}"))


def drop(db_url: str) -> None:
    from search_households import admin_connection

    url = urlparse(db_url)
    conn = admin_connection(url)
    with conn.cursor() as cursor:
        cursor.execute(f'DROP DATABASE IF EXISTS "{url.path.lstrip("/")}"')
    conn.close()


# --- the table -----------------------------------------------------------------------------------


def markdown(result: dict) -> str:
    m = result["machine"]
    lines = [
        f"Run of {m['date']} at commit {m['commit']} on {m['cpus']} CPUs, {m['memory_gib']} GiB,"
        f" PostgreSQL {m['postgresql']}, Python {m['python']}; database {m['database_size']};"
        f" load average at the start {m['load_average']:.1f}.",
        "",
        "Rows: " + ", ".join(f"{k.split('_', 1)[1]} {v:,}" for k, v in result["rows"].items()),
        "",
        "| group | figure | value | target | met | note |",
        "|---|---|---|---|---|---|",
    ]
    for r in result["figures"]:
        value = "—" if r["value"] is None else f"{r['value']:g} {r['unit']}"
        target = "" if r["target"] is None else f"< {r['target']:g}"
        met = {True: "yes", False: "**no**", None: ""}[r["met"]]
        lines.append(f"| {r['group']} | {r['figure']} | {value} | {target} | {met} | {r['note']} |")
    return "\n".join(lines) + "\n"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--households", type=int, default=1_000_000)
    parser.add_argument("--reuse", action="store_true", help="use an already-seeded database")
    parser.add_argument("--smoke", action="store_true", help="brief runs (CI)")
    parser.add_argument("--out", default="var/bench", help="folder for the table and logs")
    parser.add_argument(
        "--only",
        help="comma-separated: pages,public,search,load,night,recalculation,payroll,export,"
        "duplicates",
    )
    args = parser.parse_args()
    db_url = os.environ.get("DATABASE_URL", "")
    if "bench" not in urlparse(db_url).path or not db_url.startswith("postgres"):
        sys.exit("DATABASE_URL must name a PostgreSQL database whose name contains 'bench'.")
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    os.environ["BENCH_OUT"] = str(out)
    figures = []
    if not args.reuse:
        seconds = seed(db_url, args.households)
        seeded = f"seed_demo + seed_scale {args.households:,}"
        figures.append(row("seed", seeded, round(seconds), "s"))
    import django

    django.setup()
    result = {"machine": machine(), "rows": database_rows(), "figures": figures}
    chosen = set(args.only.split(",")) if args.only else None
    reads = [("pages", pages), ("public", public), ("search", search), ("load", load)]
    writes = [
        ("night", night),
        ("recalculation", recalculation),
        ("payroll", payroll),
        ("export", export),
        ("duplicates", duplicates),
    ]
    for name, bench in reads:
        if chosen is None or name in chosen:
            figures += _safely(name, lambda bench=bench: bench(args.smoke))
    for name, bench in writes:
        if chosen is None or name in chosen:
            copy = copy_of(db_url)
            figures += _safely(name, lambda bench=bench, copy=copy: bench(args.smoke, copy))
            drop(copy)
    (out / "run_all.json").write_text(json.dumps(result, ensure_ascii=False, indent=1))
    (out / "run_all.md").write_text(markdown(result))
    print(markdown(result))
    missed = [f for f in figures if f["met"] is False]
    failed = [f for f in figures if f["figure"].endswith("benchmark failed")]
    print(f"{len(figures)} figures, {len(missed)} missed their target, {len(failed)} failed")
    if failed:
        sys.exit(1)


def _safely(name, work) -> list[dict]:
    try:
        return work()
    except Exception:
        return [row(name, f"{name} benchmark failed", None, "", note=traceback.format_exc()[-300:])]


if __name__ == "__main__":
    main()
