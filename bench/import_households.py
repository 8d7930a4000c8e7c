"""Benchmark of the household import on PostgreSQL: generate a realistic file, then time the
check (dry run) and the commit separately, as the Celery worker runs them.

    createdb -h 127.0.0.1 -U postgres chongqing_relief_bench   # optional: created if missing
    DATABASE_URL=postgres://postgres@127.0.0.1:5432/chongqing_relief_bench \\
        .venv/bin/python bench/import_households.py --rows 100000

The database named in DATABASE_URL must contain "bench": it is dropped and created again on
every run (then migrated and seeded with the regions), so figures start from an empty register.
"""

from __future__ import annotations

import argparse
import csv
import os
import random
import sys
import tempfile
import time
from pathlib import Path
from unittest import mock
from urllib.parse import urlparse

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "chongqing_relief.settings")

SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘蒋蔡余杜叶程"
GIVEN = "国建华明秀英军平志强芳红丽勇敏静伟杰娟玉兰桂春海林云涛鹏飞燕萍德福贵成兴文武光小"
SIZES, SIZE_WEIGHTS = (1, 2, 3, 4, 5, 6), (20, 25, 25, 15, 10, 5)  # mean 2.85 members
BANKS = ("中国农业银行", "重庆农村商业银行", "中国邮政储蓄银行", "中国建设银行")


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rows", type=int, default=100_000, help="member rows in the file")
    parser.add_argument("--district", default="500101", help="6-digit district code (万州区)")
    parser.add_argument("--seed", type=int, default=2024)
    parser.add_argument("--format", choices=("csv", "xlsx"), default="csv")
    return parser.parse_args()


def database_name() -> str:
    url = os.environ.get("DATABASE_URL", "")
    if urlparse(url).scheme not in ("postgres", "postgresql"):
        sys.exit(
            "Set DATABASE_URL to PostgreSQL, e.g. "
            "postgres://postgres@127.0.0.1:5432/chongqing_relief_bench"
        )
    name = urlparse(url).path.lstrip("/")
    if "bench" not in name:
        sys.exit(f"Refusing to drop {name!r}: the benchmark database's name must contain 'bench'.")
    return name


def recreate_database(name: str) -> None:
    import psycopg2

    url = urlparse(os.environ["DATABASE_URL"])
    server = psycopg2.connect(
        host=url.hostname, port=url.port or 5432, user=url.username, password=url.password,
        dbname="postgres",
    )  # fmt: skip
    server.autocommit = True
    with server.cursor() as cursor:
        cursor.execute(f'DROP DATABASE IF EXISTS "{name}"')
        cursor.execute(f'CREATE DATABASE "{name}"')
    server.close()


def setup_django() -> None:
    os.environ["MEDIA_ROOT"] = tempfile.mkdtemp(prefix="import-bench-")
    os.environ["CELERY_TASK_ALWAYS_EAGER"] = "0"
    import django

    django.setup()


def prepare(district: str):
    """Migrate, seed the regions, and create the district approver who uploads the file."""
    from django.core.management import call_command

    from accounts.models import Role, User
    from regions.models import Region
    from regions.services import regions_seed

    call_command("migrate", verbosity=0)
    regions_seed()
    region = Region.objects.get(code=f"{district}000000")
    user = User.objects.create_user(
        username="bench_approver", role=Role.DISTRICT_APPROVER, jurisdiction=region
    )
    villages = list(
        Region.objects.filter(level="village", is_active=True, code__startswith=district)
        .values_list("code", flat=True)
        .order_by("code")
    )
    return user, villages


class People:
    """Valid, unique ID numbers and plausible names."""

    def __init__(self, rng: random.Random, district: str):
        self.rng, self.district, self.used = rng, district, set()

    def id_number(self, age: int, sex: str) -> str:
        from stdnum.cn import ric

        while True:
            year = 2025 - age
            body = (
                f"{self.district}{year}{self.rng.randint(1, 12):02d}{self.rng.randint(1, 28):02d}"
            )
            body += f"{self.rng.randrange(1 if sex == 'M' else 0, 1000, 2):03d}"  # odd: men
            number = body + ric.calc_check_digit(body + "0")
            if number not in self.used:
                self.used.add(number)
                return number

    def name(self, surname: str | None = None) -> str:
        given = "".join(self.rng.choices(GIVEN, k=self.rng.choice((1, 2, 2))))
        return (surname or self.rng.choice(SURNAMES)) + given


def household_rows(ref: str, size: int, village: str, people: People, rng: random.Random):
    """A head of 25–88 with spouse, children or parents; household columns on the head's row
    and, as many district exports do, repeated on some other rows."""
    head_age, head_sex, surname = rng.randint(25, 88), rng.choice("MF"), rng.choice(SURNAMES)
    members = [("户主", head_age, head_sex, surname)]
    if size > 1:
        members.append(("配偶", head_age + rng.randint(-5, 5), "MF"[head_sex == "M"], None))
    while len(members) < size:
        if head_age > 70 or rng.random() < 0.8:
            members.append(("子女", max(1, head_age - rng.randint(20, 35)), "", surname))
        else:
            members.append(("父母", min(100, head_age + rng.randint(20, 30)), "", None))
    names = [people.name(family) for _relation, _age, _sex, family in members]
    banked = rng.random() < 0.7
    household = {
        "village_code": village,
        "address": f"{rng.randint(1, 12)}组{rng.randint(1, 200)}号",
        "residence_type": rng.choice(("城镇", "农村", "农村")),
        "phone": f"1{rng.choice('3589')}{rng.randint(0, 999_999_999):09d}",
        "bank_name": rng.choice(BANKS) if banked else "",
        "bank_account_name": names[0] if banked else "",
        "bank_account_number": f"62{rng.randint(0, 10**17 - 1):017d}" if banked else "",
        "poverty_registered": rng.choice(("是", "否", "否", "否")),
        "marginal": rng.choice(("否", "否", "否", "是")),
        "employs_others": "否",
        "separately_registered": "否",
    }
    for index, (relation, age, sex, _family) in enumerate(members):
        cells = household if index == 0 or rng.random() < 0.3 else {}
        number = people.id_number(age, sex or rng.choice("MF"))
        row = {"household_ref": ref, **cells, **member_cells(names[index], number, relation, rng)}
        yield row


def member_cells(name: str, number: str, relation: str, rng: random.Random) -> dict:
    """One member's columns by key; labour capacity left to be derived from age and
    disability, as a clerk leaves it."""
    absent = rng.random() < 0.02
    disabled = rng.random() < 0.06
    return {
        "name": name,
        "id_number": number,
        "relation": relation,
        "lives_with_household": "否" if absent else "是",
        "absence_reason": rng.choice(("服刑", "失踪", "其他")) if absent else "",
        "hukou_local": "是" if rng.random() < 0.95 else "否",
        "disability_type": rng.choice(("肢体", "视力", "智力", "精神")) if disabled else "",
        "disability_grade": rng.choice(("一级", "二级", "三级", "四级")) if disabled else "",
        "serious_illness": "是" if rng.random() < 0.03 else "否",
    }


def generate(rows: int, villages: list[str], district: str, seed: int):
    """The header, then member rows household by household."""
    from beneficiaries.import_format import COLUMNS

    keys = [c.key for c in COLUMNS]
    rng = random.Random(seed)
    people = People(rng, district)
    yield [c.header for c in COLUMNS]
    written, households = 0, 0
    while written < rows:
        size = min(rng.choices(SIZES, SIZE_WEIGHTS)[0], rows - written)
        households += 1
        for row in household_rows(f"WZ{households:07d}", size, rng.choice(villages), people, rng):
            yield [row.get(key, "") for key in keys]  # in import_format's column order
        written += size


def write_file(path: Path, rows) -> int:
    """Write the rows as CSV (UTF-8 with BOM) or XLSX; returns the number of households."""
    refs = set()
    if path.suffix == ".xlsx":
        import openpyxl

        workbook = openpyxl.Workbook(write_only=True)
        sheet = workbook.create_sheet()
        for values in rows:
            refs.add(values[0])
            sheet.append(values)
        workbook.save(path)
    else:
        with path.open("w", encoding="utf-8-sig", newline="") as handle:
            writer = csv.writer(handle)
            for values in rows:
                refs.add(values[0])
                writer.writerow(values)
    return len(refs) - 1  # the header


def timed(label: str, rows: int, function) -> float:
    started = time.perf_counter()
    function()
    seconds = time.perf_counter() - started
    print(f"{label:<8} {seconds:8.1f} s  {rows / seconds:10,.0f} rows/s", flush=True)
    return seconds


def main() -> None:
    args = parse_args()
    name = database_name()
    recreate_database(name)
    setup_django()
    from django.core.files import File

    from beneficiaries import imports
    from beneficiaries.models import Household, ImportBatch, Member

    user, villages = prepare(args.district)
    path = Path(os.environ["MEDIA_ROOT"]) / f"bench.{args.format}"
    households = write_file(path, generate(args.rows, villages, args.district, args.seed))
    size_mb = path.stat().st_size / 1e6
    print(f"file     {args.rows:,} rows, {households:,} households, {len(villages)} villages, "
          f"{size_mb:.1f} MB")  # fmt: skip
    with mock.patch("beneficiaries.tasks.import_check.delay"), path.open("rb") as handle:
        batch = imports.import_batch_create(actor=user, uploaded_file=File(handle, path.name))
    check = timed("check", args.rows, lambda: imports.import_batch_check(batch_id=batch.pk))
    batch.refresh_from_db()
    if batch.status != ImportBatch.Status.VALID:
        sys.exit(f"check failed: {batch.error_count} errors, first: {batch.errors[:3]}")
    with mock.patch("beneficiaries.tasks.import_commit.delay"):
        imports.import_batch_commit(actor=user, batch_id=batch.pk)
    commit = timed("commit", args.rows, lambda: imports.import_batch_apply(batch_id=batch.pk))
    batch.refresh_from_db()
    if batch.status != ImportBatch.Status.COMMITTED:
        sys.exit(f"commit failed: {batch.errors[:3]}")
    counts = (Household.objects.count(), Member.objects.count())
    if counts != (households, args.rows):
        sys.exit(f"expected {households} households and {args.rows} members, found {counts}")
    print(f"total    {check + commit:8.1f} s  (target: under 300 s); status {batch.status}")


if __name__ == "__main__":
    main()
