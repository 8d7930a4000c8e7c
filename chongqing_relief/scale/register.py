"""The register: staff for the casework, N households over the real region tree with 1–4
members each (mean 2.5), valid ID numbers, a declared income for the households that receive
or asked for help, and the personal numbers sealed as the app stores them.

``seed_house`` (a temporary table, one row per household) carries what later steps need: the
household's role in the year's casework, its dates, amounts and the staff of its township."""

from __future__ import annotations

from .base import Run, bulk_load, copy_sealed, ids_reserve

SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘蒋蔡余杜叶程"
GIVEN = "国建华明秀英军平志强芳红丽勇敏静伟杰娟玉兰桂春海林云涛鹏飞燕萍德福贵成兴文武光小"
BANKS = ["重庆农村商业银行", "中国工商银行", "中国建设银行", "中国农业银行", "中国邮政储蓄银行"]
# Chongqing villages and communities average about 90 registered low-income households
# here; a smaller N fills fewer villages (spread over the city) so each still has many.
HOUSEHOLDS_PER_VILLAGE = 90
# Shares (per 10,000) of the casework roles, see ``house_create``.
NEW_PER_10K_ENTITLED = 400  # approved this year (≈ 2% of households at the default share)
LEFT_PER_10K_OTHERS = 300  # terminated this year after a review
CASES_PER_10K_OTHERS = 200  # applied this year without (yet) receiving 低保
# The states of this year's other applications, by quota (per 1000, cumulative).
CASE_STATES = (
    (40, "received"),
    (90, "needs_materials"),
    (210, "investigating"),
    (250, "appraisal"),
    (310, "township_review"),
    (390, "noticed"),
    (450, "district_review"),
    (680, "rejected"),
    (800, "withdrawn"),
    (1000, "temporary"),  # 临时救助 approved (and paid once)
)
# Largest N the ID numbers stay unique for (birth day × sequence within each district).
MAX_HOUSEHOLDS = 2_500_000


def name_sql(g: str, k: str) -> str:
    """SQL: member k's name in household g. Children carry the head's surname; about a
    quarter of the names have one given character, the rest two."""
    person = f"({g}::bigint * 4 + {k})"
    surname_of = f"({g}::bigint * 4 + CASE WHEN {k} = 2 THEN 2 ELSE 1 END)"
    return (
        f"((%(surnames)s)[1 + pg_temp.seed_mix({surname_of}, 7) %% {len(SURNAMES)}]"
        f" || (%(given)s)[1 + pg_temp.seed_mix({person}, 8) %% {len(GIVEN)}]"
        f" || CASE WHEN pg_temp.seed_mix({person}, 9) %% 4 <> 0"
        f" THEN (%(given)s)[1 + pg_temp.seed_mix({person}, 10) %% {len(GIVEN)}] ELSE '' END)"
    )


NAMES = {"surnames": list(SURNAMES), "given": list(GIVEN)}


def staff_create(run: Run) -> None:
    """Per township a clerk and a reviewer, per district an approver and a funds officer: the
    actors of the seeded casework, active as staff are (the night's alerts reach them, a
    benchmark may act as them) but with no usable password: nobody logs in as them.
    ``seed_township`` maps each township to them."""
    run.sql(
        f"""
        INSERT INTO accounts_user (password, is_superuser, username, first_name, last_name,
            email, is_staff, is_active, date_joined, full_name, role, phone, jurisdiction_id,
            must_change_password)
        SELECT '!seed_scale', false, 'scale_' || r.role || '_' || g.code, '', '', '', false,
               true, %(now)s,
               (%(surnames)s)[1 + pg_temp.seed_mix(g.id * 8 + r.n, 11) %% {len(SURNAMES)}]
                 || r.word,
               r.role, '', g.id, false
        FROM regions_region g
        JOIN (VALUES ('township', 'clerk', '窗口', 1), ('township', 'township_reviewer', '审核', 2),
                     ('district', 'district_approver', '审批', 3),
                     ('district', 'district_finance', '资金', 4)) AS r(level, role, word, n)
          ON r.level = g.level
        WHERE g.is_active
        """,
        {"now": run.now, **NAMES},
    )
    run.sql(
        """
        CREATE TEMP TABLE seed_township ON COMMIT DROP AS
        SELECT t.id AS township_id, t.code AS township_code, d.id AS district_id,
               left(d.code, 6) AS district6, c.id AS clerk_id, r.id AS reviewer_id,
               a.id AS approver_id, f.id AS finance_id
        FROM regions_region t
        JOIN regions_region d ON d.id = t.parent_id AND d.level = 'district' AND d.is_active
        JOIN accounts_user c ON c.username = 'scale_clerk_' || t.code
        JOIN accounts_user r ON r.username = 'scale_township_reviewer_' || t.code
        JOIN accounts_user a ON a.username = 'scale_district_approver_' || d.code
        JOIN accounts_user f ON f.username = 'scale_district_finance_' || d.code
        WHERE t.level = 'township' AND t.is_active
        """
    )


def villages_choose(run: Run) -> int:
    """``seed_village``: every active village, or at small N an even spread of them."""
    total = run.value(
        "SELECT count(*) FROM regions_region v JOIN seed_township t ON t.township_id = v.parent_id "
        "WHERE v.level = 'village' AND v.is_active"
    )
    wanted = min(total, max(1, round(run.households / HOUSEHOLDS_PER_VILLAGE)))
    run.sql(
        f"""
        CREATE TEMP TABLE seed_village ON COMMIT DROP AS
        WITH v AS (
            SELECT v.id, v.code, v.name, t.*, row_number() OVER (ORDER BY v.code) AS i
            FROM regions_region v JOIN seed_township t ON t.township_id = v.parent_id
            WHERE v.level = 'village' AND v.is_active
        )
        SELECT row_number() OVER (ORDER BY i) AS idx, id AS village_id, code AS village_code,
               name AS village_name, township_id, township_code, district_id, district6,
               clerk_id, reviewer_id, approver_id, finance_id,
               {_district_sum()} AS district_sum,
               -- Community (居委会) codes end in 0xx-1xx, village (村委会) codes in 2xx.
               CASE WHEN right(code, 3) < '200' THEN 'urban' ELSE 'rural' END AS residence
        FROM v WHERE i = 1 OR ((i - 1) * %(k)s) / %(total)s <> ((i - 2) * %(k)s) / %(total)s
        """,
        {"k": wanted, "total": total},
    )
    return wanted


# GB 11643's check digit: the weighted sum of the 17 digits, mod 11, read in "10X98765432".
# The seed adds it up from the parts (the district code's share once per village).
WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)


def _district_sum() -> str:
    return " + ".join(f"substr(district6, {i + 1}, 1)::int * {WEIGHTS[i]}" for i in range(6))


def _check_sum() -> str:
    """SQL over ``q`` (district_sum, birth, seq3): the weighted digit sum."""
    y, m, d = (f"extract({part} FROM q.birth)::int" for part in ("year", "month", "day"))
    digits = [
        (f"{y} / 1000", 6),
        (f"{y} / 100 %% 10", 7),
        (f"{y} / 10 %% 10", 8),
        (f"{y} %% 10", 9),
        (f"{m} / 10", 10),
        (f"{m} %% 10", 11),
        (f"{d} / 10", 12),
        (f"{d} %% 10", 13),
        ("q.seq3 / 100", 14),
        ("q.seq3 / 10 %% 10", 15),
        ("q.seq3 %% 10", 16),
    ]
    return "q.district_sum + " + " + ".join(f"({e}) * {WEIGHTS[i]}" for e, i in digits)


def _case_state_sql(t: str) -> str:
    whens = " ".join(f"WHEN {t}.quota < {limit} THEN '{state}'" for limit, state in CASE_STATES)
    return f"CASE WHEN {t}.role = 'case' THEN CASE {whens} END ELSE '' END"


def house_create(run: Run, standards: dict, villages: int, casework: bool) -> None:
    """``seed_house``. The households receiving 低保 are the share of all with the lowest hash
    of their ordinal: spread over every village (each has some, none has all). Roles:
    ``kept`` (receiving since before this year), ``new`` (approved this year), ``left``
    (terminated this year after a review), ``case`` (applied this year, in any other state),
    "" (registered only)."""
    n = run.households
    entitled = round(n * run.share)
    household_base = ids_reserve(run, "beneficiaries_household", n)
    member_base = ids_reserve(run, "beneficiaries_member", n * 10 // 4 + 10)
    run.sql(
        f"""
        CREATE TEMP TABLE seed_house ON COMMIT DROP AS
        WITH h AS (
            SELECT g, v.*, (pg_temp.seed_mix(g, 2) %% 10000)::int AS draw2,
                   (pg_temp.seed_mix(g, 3) %% 1000)::int AS draw3, pg_temp.seed_mix(g, 4) AS a,
                   (pg_temp.seed_mix(g, 5) %% 100)::int AS draw5,
                   row_number() OVER (ORDER BY pg_temp.seed_mix(g, 1), g) <= %(entitled)s
                       AS entitled
            FROM generate_series(1, %(n)s) AS g
            JOIN seed_village v ON v.idx = 1 + (g::bigint * 7919) %% %(villages)s
        ), r AS (
            SELECT h.*,
                   CASE WHEN NOT %(casework)s THEN ''
                        WHEN entitled AND draw2 < {NEW_PER_10K_ENTITLED} THEN 'new'
                        WHEN entitled THEN 'kept'
                        WHEN draw2 < {LEFT_PER_10K_OTHERS} THEN 'left'
                        WHEN draw2 < {LEFT_PER_10K_OTHERS + CASES_PER_10K_OTHERS} THEN 'case'
                        ELSE '' END AS role,
                   CASE (g %% 4) WHEN 0 THEN 3 WHEN 1 THEN 2 WHEN 2 THEN 1 ELSE 4 END AS size,
                   CASE residence WHEN 'urban' THEN %(urban)s ELSE %(rural)s END AS std
            FROM h
        ), s AS (
            -- The year's other cases take their states by quota over their hash order, so
            -- that even a small N has each state.
            SELECT r.*, ((row_number() OVER (PARTITION BY role ORDER BY draw3, g) - 1) * 1000
                         / count(*) OVER (PARTITION BY role))::int AS quota
            FROM r
        ), t AS (
            SELECT s.*, {_case_state_sql("s")} AS state,
                   CASE WHEN role = 'new' THEN %(today)s::date - ((a / 7) %% 330)::int
                        -- ``left``: the day the district confirmed the termination
                        WHEN role = 'left' THEN %(today)s::date - 10 - ((a / 7) %% 340)::int
                   END AS decided_on
            FROM s
        ), u AS (
            SELECT t.*,
                   -- the head's declared income (whole yuan): below the standard for those
                   -- receiving or asking, above it for refusals and terminations
                   CASE WHEN role IN ('kept', 'new') OR (role = 'case' AND state <> 'rejected')
                          THEN floor(std * (5 + a %% 55) / 100)
                        WHEN role = 'left' THEN std * size + 100 + a %% 400
                        WHEN role = 'case' THEN std * size + 200 + a %% 800
                   END AS income,
                   CASE WHEN role IN ('kept', 'left')
                          THEN (%(m0)s::date - (12 + a %% 84) * interval '1 month')::date
                        WHEN role = 'new'
                          THEN (date_trunc('month', decided_on) + interval '1 month')::date
                   END AS start_month
            FROM t
        )
        SELECT h.g, %(hbase)s + h.g AS id, h.village_id, h.village_code, h.village_name,
               h.township_id, h.township_code, h.district_id, h.district6, h.district_sum,
               h.clerk_id, h.reviewer_id, h.approver_id, h.finance_id, h.residence, h.size,
               h.std, h.role,
               h.state, h.a, h.draw5,
               CASE WHEN h.draw5 < 35 THEN 'A' WHEN h.draw5 < 50 THEN 'B' ELSE 'C' END AS klass,
               -- members are numbered in ordinal order: 10 per 4 households (sizes 2,1,4,3)
               %(mbase)s + ((h.g - 1) / 4) * 10
                 + (ARRAY[0, 2, 3, 7])[1 + (h.g - 1) %% 4] + 1 AS head_id,
               {name_sql("h.g", "1")} AS head_name,
               h.std * h.size AS full_amount, h.income::numeric(10, 2) AS income,
               -- the amount the income leaves ('left' was paid with a quarter of the standard)
               (CASE WHEN h.role IN ('kept', 'new') THEN h.std * h.size - h.income
                     WHEN h.role = 'left' THEN h.std * h.size - floor(h.std / 4)
                END)::numeric(10, 2) AS amount,
               h.start_month, h.decided_on,
               CASE WHEN h.role = 'left' THEN date_trunc('month', h.decided_on)::date
                 END AS end_month,
               (CASE WHEN h.role IN ('kept', 'left') THEN h.start_month - 60 - (h.a %% 1500)::int
                     WHEN h.role = 'new' THEN h.decided_on - 60 - (h.a %% 1000)::int
                     WHEN h.role = 'case' THEN %(today)s::date - 400 - (h.a %% 1000)::int
                     ELSE %(today)s::date - (h.a %% 3000)::int
                END + time '09:00' + (h.a %% 480) * interval '1 minute') AT TIME ZONE %(tz)s
                 AS registered_at,
               row_number() OVER (PARTITION BY h.district6 ORDER BY h.g)
                 + COALESCE(q.last_value, 0) AS counter
        FROM u AS h LEFT JOIN core_sequence q ON q.name = 'household:' || h.district6
        """,
        {
            "n": n,
            "entitled": entitled,
            "villages": villages,
            "hbase": household_base,
            "mbase": member_base,
            "urban": standards["urban"],
            "rural": standards["rural"],
            "casework": casework,
            "today": run.today,
            "m0": run.month,
            "tz": "Asia/Shanghai",
            **NAMES,
        },
    )
    run.sql("CREATE UNIQUE INDEX ON seed_house (g)")
    run.sql("CREATE UNIQUE INDEX ON seed_house (id)")
    run.sql("ANALYZE seed_house")


def households_create(run: Run) -> None:
    """Households and members in two statements, with their ids reserved beforehand (the
    household's head is known before the members exist). Members' ID numbers are valid
    (district code, birth date, sequence, check digit): adults born 1935–1999, children
    2000–2023, the sequence in 500–999 (odd for men), unique by construction. Written plain
    to temporary tables first (``register_seal`` seals them on the way into the register)."""
    for table in ("beneficiaries_household", "beneficiaries_member"):
        plain = "seed_" + table.split("_")[1] + "_plain"
        run.sql(f"CREATE TEMP TABLE {plain} (LIKE {table}) ON COMMIT DROP")
    run.sql(
        f"""
        INSERT INTO seed_household_plain
          (id, number, region_id, address, residence_type, phone, bank_name,
           bank_account_name, bank_account_number, poverty_registered, marginal,
           employs_others, separately_registered, separate_registration_reason, version,
           created_at, updated_at, created_by_id, head_id, phone_digest)
        SELECT h.id, h.district6 || lpad(h.counter::text, 8, '0'), h.village_id,
               h.village_name || (1 + h.a %% 300) || '号',
               h.residence, '13' || lpad(h.g::text, 9, '0'),
               CASE WHEN h.role <> '' THEN (%(banks)s)[1 + h.a %% {len(BANKS)}] ELSE '' END,
               CASE WHEN h.role <> '' THEN h.head_name ELSE '' END,
               CASE WHEN h.role <> '' THEN '4' || lpad(h.g::text, 14, '0') ELSE '' END,
               h.g %% 10 = 0, h.role = '' AND h.g %% 15 = 0, false, false, '', 1,
               h.registered_at, h.registered_at, h.clerk_id, h.head_id, ''
        FROM seed_house h
        """,
        {"banks": BANKS},
    )
    run.sql(
        """
        INSERT INTO core_sequence (name, last_value)
        SELECT 'household:' || district6, max(counter) FROM seed_house GROUP BY district6
        ON CONFLICT (name) DO UPDATE
        SET last_value = GREATEST(core_sequence.last_value, EXCLUDED.last_value)
        """
    )
    run.sql(
        f"""
        INSERT INTO seed_member_plain
          (id, household_id, name, id_number, sex, birth_date, relation,
           lives_with_household, absence_reason, absence_decision, hukou_local,
           labour_capacity, labour_capacity_reason, disability_type, disability_grade,
           serious_illness, studying_abroad_self_funded, works_without_income_proof,
           can_eat, can_dress, can_transfer, can_toilet, can_walk_indoors, can_bathe,
           self_care, schooling, employment, is_current, leave_reason, id_number_digest)
        SELECT p.id, p.household_id, p.name,
               p.body || p.check_digit,
               CASE WHEN p.male THEN 'M' ELSE 'F' END, p.birth,
               CASE WHEN p.k = 1 THEN 'head' WHEN p.k = 2 THEN 'spouse' ELSE 'child' END,
               true, '', '', true,
               CASE WHEN p.k <= 2 AND (p.g * 3 + p.k) %% 7 = 0 THEN 'none' ELSE '' END,
               CASE WHEN p.k <= 2 AND (p.g * 3 + p.k) %% 7 = 0
                    THEN '长期患病(生成数据)' ELSE '' END,
               '', NULL, false, false, false, true, true, true, true, true, true, 'capable',
               CASE WHEN p.age < 6 THEN 'preschool' WHEN p.age < 15 THEN 'compulsory'
                    WHEN p.age < 18 THEN 'high_school' ELSE 'not_in_school' END,
               CASE WHEN p.age < 16 THEN '' WHEN p.age >= 60 THEN 'retired'
                    WHEN (p.g + p.k) %% 5 = 0 THEN 'employed' ELSE 'unemployed' END,
               true, '', 'seed:' || p.id
        FROM (
            SELECT q.*,
                   q.district6 || to_char(q.birth, 'YYYYMMDD') || q.seq3::text AS body,
                   substr('10X98765432', 1 + ({_check_sum()}) %% 11, 1) AS check_digit,
                   extract(year FROM age(%(today)s::date, q.birth))::int AS age
            FROM (
                SELECT h.g, k, h.district6, h.district_sum, h.head_id - 1 + k AS id,
                       h.id AS household_id, {name_sql("h.g", "k")} AS name, b.male, b.birth,
                       500 + 2 * b.seq + CASE WHEN b.male THEN 1 ELSE 0 END AS seq3
                FROM seed_house h CROSS JOIN generate_series(1, 4) AS k
                CROSS JOIN LATERAL (
                    SELECT (h.g / 4) * 3 + CASE WHEN h.g %% 4 = 0 THEN 0 WHEN k = 3 THEN 1
                                                ELSE 2 END AS o) AS c
                CROSS JOIN LATERAL (
                    SELECT CASE WHEN k = 2 THEN h.g %% 2 = 1 WHEN k = 1 THEN h.g %% 2 = 0
                                ELSE (h.g + k) %% 2 = 0 END AS male,
                           CASE WHEN k <= 2
                                  THEN date '1935-01-01' + ((2 * h.g + k - 1) %% 23741)::int
                                ELSE date '2000-01-01' + (c.o %% 8766)::int END AS birth,
                           CASE WHEN k <= 2 THEN (2 * h.g + k - 1) / 23741
                                ELSE c.o / 8766 END AS seq) AS b
                WHERE k <= h.size
                OFFSET 0  -- each member's values once, not once per use above
            ) AS q
            OFFSET 0
        ) AS p
        """,
        {"today": run.today, **NAMES},
    )


def incomes_create(run: Run, casework: bool) -> int:
    """The head's declared income of every household that receives, received or asked for
    help: a pension from 60, wages when employed, else support from relatives. A household
    whose 低保 was terminated this year, or whose termination is under way, has a wage on top
    since shortly before the review's visit (why it ends)."""
    if not casework:
        return 0
    count = run.sql(
        """
        INSERT INTO beneficiaries_incomeitem
          (member_id, type, monthly_amount, source, period_start, period_end, note)
        SELECT h.head_id, CASE WHEN m.employment = 'retired' THEN 'pension'
                               WHEN m.employment = 'employed' THEN 'wage' ELSE 'support' END,
               CASE WHEN h.role = 'left' THEN floor(h.std / 4) ELSE h.income END,
               'declared', NULL, NULL, ''
        FROM seed_house h JOIN seed_member_plain m ON m.id = h.head_id
        WHERE h.role <> '' AND h.income > 0
        """
    )
    count += run.sql(
        """
        INSERT INTO beneficiaries_incomeitem
          (member_id, type, monthly_amount, source, period_start, period_end, note)
        SELECT h.head_id, 'wage', h.income - floor(h.std / 4), 'verified',
               h.decided_on - 30, NULL, '复核核实:新增工资收入'
        FROM seed_house h WHERE h.role = 'left'
        """
    )
    count += run.sql(
        """
        INSERT INTO beneficiaries_incomeitem
          (member_id, type, monthly_amount, source, period_start, period_end, note)
        SELECT h.head_id, 'wage', h.full_amount, 'verified', p.visited_on - 10, NULL,
               '复核核实:新增工资收入'
        FROM seed_plan p JOIN seed_house h ON h.g = p.g
        WHERE p.open_state IN ('noticed', 'district')
        """
    )
    return count


def register_seal(run: Run) -> None:
    """The plain rows into the register, sealed on the way: every ID number, the phone of
    every household, the bank account of those that have one."""
    copy_sealed(
        run,
        "seed_household_plain",
        "beneficiaries_household",
        {"phone": "phone_digest", "bank_account_number": None},
    )
    copy_sealed(run, "seed_member_plain", "beneficiaries_member", {"id_number": "id_number_digest"})


def register_load(run: Run):
    """The tables filled before the register is sealed into place, with their indexes and
    foreign keys set aside (the assessments point at households still in staging)."""
    return bulk_load(
        run,
        "beneficiaries_household",
        "beneficiaries_member",
        "beneficiaries_incomeitem",
        "eligibility_assessment",
    )
