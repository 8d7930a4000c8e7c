"""A city-sized synthetic dataset for benchmarks (PostgreSQL only): N households over the real
region tree with 1–4 members each (mean 2.5), half of them receiving 低保 with their class,
amount and next review spread over the year. Bulk and deterministic: the same N gives the
same rows, written with set-based SQL in a few statements.

    DATABASE_URL=postgres://…/chongqing_relief_bench .venv/bin/python manage.py seed_scale \\
        --households 1000000

Refuses to run on a database that already has households."""

import time

from django.core.management.base import BaseCommand, CommandError
from django.db import connection, transaction

from core.fields import seal_table

SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘蒋蔡余杜叶程"
GIVEN = "国建华明秀英军平志强芳红丽勇敏静伟杰娟玉兰桂春海林云涛鹏飞燕萍德福贵成兴文武光小"


class Command(BaseCommand):
    help = __doc__.split("\n\n")[0]

    def add_arguments(self, parser):
        parser.add_argument("--households", type=int, required=True)
        parser.add_argument(
            "--entitled-share",
            type=float,
            default=0.5,
            help="share of households with an active 低保 entitlement (default 0.5)",
        )

    def handle(self, *args, households, entitled_share, **options):
        if connection.vendor != "postgresql":
            raise CommandError("seed_scale writes with PostgreSQL's generate_series.")
        from beneficiaries.models import Household
        from regions.services import regions_seed

        if Household.objects.exists():
            raise CommandError("The database already has households; use an empty one.")
        t0 = time.perf_counter()
        regions_seed()
        with transaction.atomic():
            self._build(households, max(1, round(1 / entitled_share)) if entitled_share else 0)
        with connection.cursor() as cur:
            cur.execute("ANALYZE")
        self.stdout.write(f"seed_scale: done in {time.perf_counter() - t0:.0f} s")

    def _build(self, n: int, every: int) -> None:
        from accounts.models import Role, User
        from regions.models import Region

        seeder, _ = User.objects.get_or_create(
            username="seed_scale",
            defaults={
                "role": Role.CITY_ADMIN,
                "full_name": "seed_scale",
                "is_active": False,
                "jurisdiction": Region.objects.get(level=Region.Level.CITY),
            },
        )
        with connection.cursor() as cur:
            cur.execute(
                "SELECT array_agg(id ORDER BY code) FROM regions_region "
                "WHERE level = 'village' AND is_active"
            )
            (villages,) = cur.fetchone()
            cur.execute(
                """
                INSERT INTO beneficiaries_household
                  (number, region_id, address, residence_type, phone, bank_name,
                   bank_account_name, bank_account_number, poverty_registered, marginal,
                   employs_others, separately_registered, separate_registration_reason, version,
                   created_at, updated_at, phone_digest)
                SELECT lpad(g::text, 14, '0'), (%(villages)s)[1 + (g::bigint * 7919) %% %(nv)s],
                       '某路' || g || '号', CASE WHEN g %% 3 = 0 THEN 'urban' ELSE 'rural' END,
                       '13' || lpad(g::text, 9, '0'), '', '', '', g %% 10 = 0, g %% 15 = 0,
                       false, false, '', 1, now(), now(), ''
                FROM generate_series(1, %(n)s) AS g
                """,
                {"villages": villages, "nv": len(villages), "n": n},
            )
            # ID numbers and phones go in plain and are sealed below (seal_table); until then
            # each member's digest is a distinct placeholder, for the one-per-person index.
            # 1–4 members (mean 2.5): member k exists when (h + k) % 4 >= k - 1. Ages from
            # about 8 to 76; one in seven without labour capacity; one in five employed.
            cur.execute(
                """
                INSERT INTO beneficiaries_member
                  (household_id, name, id_number, sex, birth_date, relation,
                   lives_with_household, absence_reason, absence_decision, hukou_local,
                   labour_capacity, labour_capacity_reason, disability_type, disability_grade,
                   serious_illness, studying_abroad_self_funded, works_without_income_proof,
                   can_eat, can_dress, can_transfer, can_toilet, can_walk_indoors, can_bathe,
                   self_care, schooling, employment, is_current, leave_reason, id_number_digest)
                SELECT h.id,
                       (%(s)s)[1 + (h.id * 31 + k) %% %(ns)s]
                         || (%(g)s)[1 + (h.id * 17 + k) %% %(ng)s]
                         || CASE WHEN k %% 2 = 0 THEN (%(g)s)[1 + (h.id + k) %% %(ng)s]
                            ELSE '' END,
                       '5001' || lpad((h.id * 4 + k)::text, 13, '0') || 'X',
                       CASE WHEN k %% 2 = 1 THEN 'M' ELSE 'F' END,
                       date '1950-01-01' + ((h.id * 7919 + k * 97) %% 25000)::int,
                       CASE WHEN k = 1 THEN 'head' WHEN k = 2 THEN 'spouse' ELSE 'child' END,
                       true, '', '', true,
                       CASE WHEN (h.id * 3 + k) %% 7 = 0 THEN 'none' ELSE '' END,
                       CASE WHEN (h.id * 3 + k) %% 7 = 0 THEN '长期患病(生成数据)' ELSE '' END,
                       '', NULL, false, false, false, true, true, true, true, true, true,
                       'capable',
                       'not_in_school',
                       CASE WHEN (h.id + k) %% 5 = 0 THEN 'employed' ELSE 'unemployed' END,
                       true, '', 'seed:' || (h.id * 4 + k)
                FROM beneficiaries_household h CROSS JOIN generate_series(1, 4) AS k
                WHERE k = 1 OR (h.id + k) %% 4 >= k - 1
                """,
                {"s": list(SURNAMES), "ns": len(SURNAMES), "g": list(GIVEN), "ng": len(GIVEN)},
            )
            cur.execute(
                """
                UPDATE beneficiaries_household h SET head_id = m.id
                FROM beneficiaries_member m
                WHERE m.household_id = h.id AND m.relation = 'head'
                """
            )
            # Written plain by SQL above, sealed in place as the migration seals old rows.
            seal_table(connection, "beneficiaries_member", {"id_number": "id_number_digest"})
            seal_table(
                connection,
                "beneficiaries_household",
                {"phone": "phone_digest", "bank_account_number": None},
            )
            if not every:
                return
            # Every ``every``-th household receives 低保 since January, next review spread
            # over the coming year; the class starts as C and the first night derives it.
            cur.execute(
                """
                INSERT INTO beneficiaries_entitlement
                  (household_id, programme, monthly_amount, components, klass, start_month,
                   end_month, next_review, status, source, approved_at, approved_by_id,
                   class_overridden)
                SELECT h.id, 'dibao', 100 + (h.id %% 40) * 10, '[]'::jsonb, 'C',
                       date_trunc('year', now())::date, NULL,
                       (date_trunc('month', now())
                        + ((h.id / %(every)s) %% 12) * interval '1 month')::date,
                       'active', 'seed_scale', now(), %(seeder)s, false
                FROM beneficiaries_household h
                WHERE h.id %% %(every)s = 0
                """,
                {"every": every, "seeder": seeder.pk},
            )
            cur.execute("SELECT count(*) FROM beneficiaries_household")
            (hh,) = cur.fetchone()
            cur.execute("SELECT count(*) FROM beneficiaries_member")
            (mm,) = cur.fetchone()
            cur.execute("SELECT count(*) FROM beneficiaries_entitlement")
            (ee,) = cur.fetchone()
        self.stdout.write(f"seed_scale: {hh:,} households, {mm:,} members, {ee:,} entitlements")
