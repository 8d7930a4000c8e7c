"""Casework: every household that receives or received 低保 came through an approved
application (the entitlement's source); this year's applications stand in every state of
the workflow, in the proportions of ``register.CASE_STATES``, with the rows each state has
in the app (materials, the investigation's visit and assessment, the public notice, the
district's spot-check draw, the decision) and deadlines counted on the working-day calendar.

Assessments are the means test's own results: ``eligibility.rules.assess`` run on the members
and declared income as written, so an assessment replays to what it says, and an approved
amount is what the test gave."""

from __future__ import annotations

import json

from .base import Run, due, due_of, ids_reserve

TZ = "Asia/Shanghai"
OPINION = "经入户调查和家庭经济状况核对,符合条件,建议批准"
REFUSAL = "家庭人均收入高于当地低保标准"
TEMPORARY_REFUSAL = "家庭困难情形不属于临时救助范围"
VISIT = "入户调查:家庭居住条件简陋,收入来源不稳定"
OBJECTIONS = (
    "该户家中有人在外地打工,收入不低",
    "该户去年新买了一辆面包车",
    "该户子女有赡养能力,不应纳入",
    "该户实际不在本村居住",
)
# 临时救助's hardship types, drawn per case.
HARDSHIPS = ("medical", "disaster", "education", "other")


def plan_create(run: Run) -> None:
    """``seed_case``: one application per household that has a role, with its state, dates,
    actors and receipt number (the township's counter of the year it was received, continued,
    and moved on). Historical ones (``kept``, ``left``) were approved about a month before the
    entitlement started; this year's (``new``, ``case``) are dated by their state."""
    n_cases = run.value("SELECT count(*) FROM seed_house WHERE role <> ''")
    app_base = ids_reserve(run, "applications_application", n_cases)
    today = "%(today)s::date"
    run.sql(
        f"""
        CREATE TEMP TABLE seed_case ON COMMIT DROP AS
        WITH a AS (
            SELECT h.g, h.id AS household_id, h.role, h.township_id, h.township_code,
                   h.district_id, h.district6, h.clerk_id, h.reviewer_id, h.approver_id,
                   h.village_code, h.head_name, h.size, h.klass, h.amount, h.start_month,
                   CASE WHEN h.role = 'case' AND h.state <> 'temporary' THEN h.state
                        ELSE 'approved' END AS status,
                   -- Variants by their rank within the state (so a small N has each): one in
                   -- five early cases is 临时救助, three in ten refusals; the first of every ten
                   -- investigations is a re-investigation after an objection to its notice.
                   h.state = 'temporary'
                     OR (h.state IN ('received', 'needs_materials', 'investigating',
                                     'township_review', 'district_review') AND h.nth %% 5 = 1)
                     OR (h.state = 'rejected' AND h.nth %% 10 IN (1, 4, 7)) AS temporary,
                   h.state = 'investigating' AND h.nth %% 10 = 0 AS reinvestigated,
                   h.c,
                   CASE WHEN h.role IN ('kept', 'left') THEN h.start_month - 10
                        WHEN h.role = 'new' THEN h.decided_on
                        WHEN h.state = 'rejected' THEN {today} - 5 - (h.c / 10 %% 340)::int
                        WHEN h.state = 'temporary' THEN {today} - (h.c / 10 %% 360)::int
                   END AS decided_on
            FROM (SELECT h.*, pg_temp.seed_mix(h.g, 6) AS c,
                         row_number() OVER (PARTITION BY h.role, h.state
                                            ORDER BY pg_temp.seed_mix(h.g, 6), h.g) - 1 AS nth
                  FROM seed_house h WHERE h.role <> '') AS h
        ), b AS (
            SELECT a.*, CASE WHEN temporary THEN 'temporary' ELSE 'dibao' END AS programme,
                   CASE WHEN status = 'noticed' THEN {today} - (c / 10 %% 7)::int
                        WHEN status = 'district_review' AND NOT temporary
                          THEN {today} - 8 - (c / 10 %% 8)::int
                        WHEN reinvestigated THEN {today} - 14 - (c / 10 %% 10)::int
                        WHEN role <> 'case' THEN decided_on - 12
                   END AS notice_start
            FROM a
        ), c AS (
            SELECT b.*,
                   CASE WHEN notice_start IS NOT NULL THEN notice_start - 3
                        WHEN status IN ('appraisal', 'township_review')
                          THEN {today} - (c / 100 %% 5)::int
                        WHEN status = 'district_review' THEN {today} - 1 - (c / 100 %% 6)::int
                        WHEN status = 'rejected' AND temporary THEN decided_on - 3
                        WHEN status = 'rejected' THEN decided_on - 8
                        WHEN status = 'approved' THEN decided_on - 4
                   END AS investigated_on
            FROM b
        ), d AS (
            SELECT c.*,
                   CASE WHEN notice_start IS NOT NULL THEN notice_start - 16
                        WHEN status = 'received' THEN {today} - (c / 100 %% 3)::int
                        WHEN status = 'needs_materials' THEN {today} - (c / 100 %% 12)::int
                        WHEN status = 'investigating' THEN {today} - (c / 100 %% 14)::int
                        WHEN status = 'withdrawn' THEN {today} - 3 - (c / 100 %% 350)::int
                        WHEN status = 'rejected' THEN decided_on - 20
                        WHEN status = 'approved' THEN decided_on - 10
                        ELSE investigated_on - 8 - (c / 1000 %% 6)::int
                   END AS received_on
            FROM c
        )
        SELECT d.*, %(base)s + row_number() OVER (ORDER BY d.g) AS app_id,
               left(d.township_code, 9) || '-' || extract(year FROM d.received_on) || '-'
                 || lpad((COALESCE(q.last_value, 0) + row_number() OVER (
                        PARTITION BY d.township_code, extract(year FROM d.received_on)
                        ORDER BY d.received_on, d.g))::text, 5, '0') AS number,
               NULL::bigint AS assessment_id, NULL::numeric(10, 2) AS assessed,
               NULL::int AS counted
        FROM d LEFT JOIN core_sequence q
             ON q.name = 'receipt:' || left(d.township_code, 9) || ':'
                         || extract(year FROM d.received_on)
        """,
        {"base": app_base, "today": run.today},
    )
    run.sql("CREATE UNIQUE INDEX ON seed_case (g)")
    run.sql("ANALYZE seed_case")
    run.sql(
        """
        INSERT INTO core_sequence (name, last_value)
        SELECT 'receipt:' || left(township_code, 9) || ':' || extract(year FROM received_on),
               max(split_part(number, '-', 3)::bigint)
        FROM seed_case GROUP BY 1
        ON CONFLICT (name) DO UPDATE
        SET last_value = GREATEST(core_sequence.last_value, EXCLUDED.last_value)
        """
    )


def by_district(limit) -> str:
    """SQL over ``seed_case c``: decided by the district (低保 always, 临时救助 above the
    township's delegated limit)."""
    return f"(c.status = 'approved' AND (NOT c.temporary OR c.assessed > {limit}))"


# --- assessments ----------------------------------------------------------------------------------


def assessments_create(run: Run) -> int:
    """The means test run on each case the investigation has assessed, and on each open review
    that has got as far, from the members and income as written (ID numbers still plain)."""
    from django.utils.translation import get_language

    from eligibility import rules, snapshot
    from eligibility.selectors import policy_for

    run.cursor.execute(
        """
        SELECT 'case', c.g, h.id, c.programme, c.investigated_on, h.residence, h.district6,
               c.c FROM seed_case c JOIN seed_house h ON h.g = c.g
        WHERE c.investigated_on IS NOT NULL AND c.role IN ('new', 'case')
        UNION ALL
        SELECT 'review', p.g, h.id, 'dibao', p.visited_on + 1, h.residence, h.district6, 0
        FROM seed_plan p JOIN seed_house h ON h.g = p.g
        WHERE p.open_state IN ('assessed', 'noticed', 'district')
        ORDER BY 1, 2
        """
    )
    wanted = run.cursor.fetchall()
    if not wanted:
        return 0
    people = _people(run)
    language = get_language()
    policies: dict = {}
    rows = []
    for kind, g, household, programme, as_of, residence, district, c in wanted:
        key = (programme, as_of.replace(day=1), residence)
        if key not in policies:
            policy, sources = policy_for(
                as_of=as_of, residence=residence, district_code=district, programme=programme
            )
            policies[key] = (
                policy,
                {**snapshot.policy_to_json(policy, sources), "language": language},
            )
        policy, stored = policies[key]
        members = _persons(people[household], as_of)
        hardship = None
        if programme == "temporary":
            # The applicant class staff enter: A below the 低保 standard, else C.
            income = sum(i.monthly_amount for m in members for i in m.incomes)
            below = income / len(members) < policy.get("dibao_standard")
            hardship = rules.Hardship(HARDSHIPS[c % len(HARDSHIPS)], "A" if below else "C")
        case = rules.Case(
            programme=programme,
            residence=residence,
            as_of=as_of,
            members=tuple(members),
            hardship=hardship,
            district_code=district,
        )
        result = rules.assess(case, policy).as_json()
        rows.append((kind, g, household, programme, as_of, case, stored, result))
    base = ids_reserve(run, "eligibility_assessment", len(rows))
    _assessments_insert(run, base, rows)
    return len(rows)


def _people(run: Run) -> dict:
    """Every household to assess: its members with their income items (one query)."""
    from collections import defaultdict

    run.cursor.execute(
        """
        SELECT m.household_id, m.id, m.id_number, m.relation, m.labour_capacity, m.employment,
               i.type, i.monthly_amount, i.period_start, i.period_end
        FROM seed_member_plain m
        LEFT JOIN beneficiaries_incomeitem i ON i.member_id = m.id
        WHERE m.household_id IN (
            SELECT h.id FROM seed_house h JOIN seed_case c ON c.g = h.g
            WHERE c.investigated_on IS NOT NULL AND c.role IN ('new', 'case')
            UNION SELECT h.id FROM seed_house h JOIN seed_plan p ON p.g = h.g
            WHERE p.open_state IN ('assessed', 'noticed', 'district'))
        ORDER BY m.household_id, m.id, i.id
        """
    )
    members: dict = defaultdict(dict)
    for household, member, id_number, relation, labour, employment, *income in run.cursor:
        person = members[household].setdefault(
            member,
            [
                {
                    "id_number": id_number,
                    "relation": relation,
                    "labour_capacity": labour,
                    "employment": employment,
                },
                [],
            ],
        )
        if income[0]:
            person[1].append(income)
    return members


def _persons(members: dict, as_of) -> list:
    """The rules' persons with the income in force on ``as_of`` (as ``household_case``)."""
    from decimal import Decimal

    from eligibility import rules

    return [
        rules.Person(
            **fields,
            incomes=tuple(
                rules.Income(kind, Decimal(amount))
                for kind, amount, start, end in incomes
                if (start is None or start <= as_of) and (end is None or end >= as_of)
            ),
        )
        for fields, incomes in members.values()
    ]


def _assessments_insert(run: Run, base: int, rows: list) -> None:
    from eligibility import snapshot

    chunk = 2000
    for start in range(0, len(rows), chunk):
        part = rows[start : start + chunk]
        run.sql(
            """
            INSERT INTO eligibility_assessment
              (id, household_id, programme, as_of, inputs, policy, result, created_at,
               created_by_id)
            SELECT a.id, a.household, a.programme, a.as_of, a.inputs::jsonb, a.policy::jsonb,
                   a.result::jsonb, (a.as_of + time '16:00') AT TIME ZONE %(tz)s, h.clerk_id
            FROM unnest(%(id)s::bigint[], %(household)s::bigint[], %(programme)s::text[],
                        %(as_of)s::date[], %(inputs)s::text[], %(policy)s::text[],
                        %(result)s::text[])
                 AS a(id, household, programme, as_of, inputs, policy, result)
            JOIN seed_house h ON h.id = a.household
            """,
            {
                "tz": TZ,
                "id": [base + start + i + 1 for i in range(len(part))],
                "household": [r[2] for r in part],
                "programme": [r[3] for r in part],
                "as_of": [r[4] for r in part],
                "inputs": [
                    json.dumps(snapshot.case_to_json(r[5]), ensure_ascii=False) for r in part
                ],
                "policy": [json.dumps(r[6], ensure_ascii=False) for r in part],
                "result": [json.dumps(r[7], ensure_ascii=False) for r in part],
            },
        )
    for kind, table in (("case", "seed_case"), ("review", "seed_plan")):
        picked = [(base + i + 1, r) for i, r in enumerate(rows) if r[0] == kind]
        if not picked:
            continue
        run.sql(
            f"""
            UPDATE {table} t SET assessment_id = a.id
            {", assessed = a.amount, counted = a.counted" if kind == "case" else ""}
            FROM unnest(%(g)s::bigint[], %(id)s::bigint[], %(amount)s::numeric[], %(size)s::int[])
                 AS a(g, id, amount, counted)
            WHERE t.g = a.g
            """,
            {
                "g": [r[1] for _i, r in picked],
                "id": [i for i, _r in picked],
                "amount": [
                    r[7]["monthly_amount"] or r[7]["one_off_amount"] if r[7]["eligible"] else None
                    for _i, r in picked
                ],
                "size": [r[7]["household_size"] for _i, r in picked],
            },
        )


# --- applications ---------------------------------------------------------------------------------


def applications_create(run: Run, township_limit) -> int:
    """The applications, with the fields each state has in the app."""
    at = "(({d}) + time '{t}') AT TIME ZONE %(tz)s"
    step = (
        "CASE WHEN c.reinvestigated THEN 'reinvestigation_workdays' "
        "WHEN c.status = 'investigating' THEN 'investigation_workdays' "
        "WHEN c.status = 'appraisal' THEN 'appraisal_workdays' "
        "WHEN c.status = 'township_review' THEN 'township_review_workdays' "
        "WHEN c.status = 'noticed' THEN 'notice_days' "
        "WHEN c.status = 'district_review' THEN 'district_review_workdays' "
        "WHEN c.status = 'rejected' THEN 'letter_workdays' ELSE '' END"
    )
    step_from = (
        "CASE WHEN c.reinvestigated THEN c.notice_start + 3 "
        "WHEN c.status = 'investigating' THEN c.received_on "
        "WHEN c.status IN ('appraisal', 'township_review') THEN c.investigated_on "
        "WHEN c.status = 'noticed' THEN c.notice_start "
        "WHEN c.status = 'district_review' AND c.temporary THEN c.investigated_on + 1 "
        "WHEN c.status = 'district_review' THEN c.notice_start + 8 "
        "WHEN c.status = 'rejected' THEN c.decided_on END"
    )
    past_township = (
        "(c.status IN ('noticed', 'district_review', 'approved') "
        "OR (c.status = 'investigating' AND c.reinvestigated))"
    )
    district = by_district(township_limit)
    return run.sql(
        f"""
        INSERT INTO applications_application
          (id, number, household_id, programme, channel, township_id, received_by_id,
           received_at, accepted_on, materials_due, decision_due, status,
           separately_registered, single_member_id, step_due, step_started_at, step_clock,
           step_from, extended_reason, needs_appraisal, investigated_by_id, assessment_id,
           proposed_amount, amount_override_reason, proposed_class, township_opinion,
           emergency, paperwork_due, spot_check_draw_id, spot_checked, decided_at,
           decided_by_id, decision_reason, rejected_at_step, refusal_proposed_at,
           refusal_reason, letter_due, version)
        SELECT c.app_id, c.number, c.household_id, c.programme,
               CASE WHEN c.c %% 10 = 9 THEN 'village' ELSE 'window' END,
               c.township_id, c.clerk_id,
               {at.format(d="c.received_on", t="09:00")} + (c.c %% 480) * interval '1 minute',
               CASE WHEN c.status <> 'needs_materials' THEN c.received_on END,
               CASE WHEN c.status = 'needs_materials'
                    THEN {due("materials_workdays", "c.received_on")} END,
               CASE WHEN c.status <> 'needs_materials'
                    THEN {due("process", "c.received_on")} END,
               c.status, false, NULL,
               CASE WHEN s.clock <> '' AND c.status <> 'rejected' THEN
                    {due_of("s.clock", "s.start")} END,
               CASE WHEN c.status IN ('approved', 'rejected')
                      THEN {at.format(d="c.decided_on", t="15:00")}
                    WHEN c.status = 'withdrawn' THEN {at.format(d="c.received_on + 4", t="10:00")}
                    WHEN s.start IS NOT NULL THEN {at.format(d="s.start", t="10:00")} END,
               s.clock, s.start, '', c.status = 'appraisal' OR c.reinvestigated,
               -- a refusal proposed on the findings closes no investigation
               CASE WHEN c.investigated_on IS NOT NULL
                         AND NOT (c.status = 'rejected' AND NOT c.temporary)
                    THEN c.clerk_id END,
               c.assessment_id,
               CASE WHEN c.role IN ('kept', 'left') THEN c.amount
                    WHEN {past_township} OR (c.status = 'district_review' AND c.temporary)
                      THEN c.assessed END,
               '',
               CASE WHEN {past_township} AND NOT c.temporary THEN c.klass ELSE '' END,
               CASE WHEN {past_township} OR (c.status = 'district_review' AND c.temporary)
                    THEN '{OPINION}' ELSE '' END,
               false, NULL, NULL, false,
               CASE WHEN c.status IN ('approved', 'rejected')
                    THEN {at.format(d="c.decided_on", t="15:00")} END,
               CASE WHEN c.status = 'approved' AND NOT {district} THEN c.reviewer_id
                    WHEN c.status = 'rejected' AND c.temporary THEN c.reviewer_id
                    WHEN c.status IN ('approved', 'rejected') THEN c.approver_id END,
               CASE WHEN c.status = 'rejected' AND c.temporary THEN '{TEMPORARY_REFUSAL}'
                    WHEN c.status = 'rejected' THEN '{REFUSAL}' ELSE '' END,
               CASE WHEN c.status = 'rejected' AND c.temporary THEN 'township_review'
                    WHEN c.status = 'rejected' THEN 'investigating' ELSE '' END,
               CASE WHEN c.status = 'rejected' AND NOT c.temporary THEN 'investigating'
                    ELSE '' END,
               CASE WHEN c.status = 'rejected' AND NOT c.temporary THEN '{REFUSAL}' ELSE '' END,
               CASE WHEN c.status = 'rejected' THEN {due("letter_workdays", "c.decided_on")} END,
               CASE c.status WHEN 'received' THEN 1 WHEN 'needs_materials' THEN 2
                             WHEN 'withdrawn' THEN 2 WHEN 'investigating' THEN 2
                             WHEN 'appraisal' THEN 3 WHEN 'township_review' THEN 3
                             WHEN 'noticed' THEN 4 WHEN 'district_review' THEN 5
                             WHEN 'rejected' THEN 5 ELSE 7 END
                 + CASE WHEN c.reinvestigated THEN 3 ELSE 0 END
        FROM seed_case c
        CROSS JOIN LATERAL (SELECT {step} AS clock, {step_from} AS start) AS s
        """,
        {"today": run.today, "tz": TZ},
    )


def materials_create(run: Run) -> int:
    """This year's applications: the programme's required materials, handed in at the window
    (one still missing while a case waits for materials)."""
    return run.sql(
        """
        INSERT INTO applications_applicationmaterial
          (application_id, material, required, received, received_at)
        SELECT c.app_id, r.material, true, NOT r.missing,
               CASE WHEN NOT r.missing
                    THEN ((c.received_on + time '09:00') AT TIME ZONE %(tz)s) END
        FROM seed_case c
        JOIN (SELECT programme, material,
                     material = min(material) OVER (PARTITION BY programme) AS first
              FROM applications_materialrequirement) AS q ON q.programme = c.programme
        CROSS JOIN LATERAL (SELECT q.material, c.status = 'needs_materials' AND q.first AS missing)
             AS r
        WHERE c.role IN ('new', 'case')
        """,
        {"tz": TZ},
    )


def visits_create(run: Run) -> int:
    """The investigation's home visit (two staff: the clerk and a village cadre) of every case
    investigated this year."""
    return run.sql(
        f"""
        INSERT INTO applications_homevisit
          (application_id, kind, visited_on, recorded_by_id, second_staff_id, second_visitor,
           findings, recorded_at)
        SELECT c.app_id, 'investigation', c.investigated_on - 2, c.clerk_id, NULL,
               '村(社区)干部', '{VISIT}',
               ((c.investigated_on - 2 + time '17:00') AT TIME ZONE %(tz)s)
        FROM seed_case c
        WHERE c.investigated_on IS NOT NULL AND c.role IN ('new', 'case')
        """,
        {"tz": TZ},
    )


def spot_checks_create(run: Run, township_limit) -> int:
    """The district's draws (抽查): per district and month, the cases it decided that month, 30%
    drawn for a home check, which it recorded before approving."""
    district = by_district(township_limit)
    run.sql(
        f"""
        CREATE TEMP TABLE seed_draw ON COMMIT DROP AS
        SELECT row_number() OVER (ORDER BY c.district6, date_trunc('month', c.decided_on))
                 AS n, c.district6, date_trunc('month', c.decided_on)::date AS month,
               min(c.approver_id) AS approver_id, min(c.decided_on) - 1 AS drawn_on,
               jsonb_agg(c.app_id ORDER BY c.app_id) AS population,
               COALESCE(jsonb_agg(c.app_id ORDER BY c.app_id)
                        FILTER (WHERE pg_temp.seed_mix(c.g, 15) %% 100 < 30), '[]') AS selected
        FROM seed_case c WHERE c.role IN ('new', 'case') AND {district}
        GROUP BY c.district6, date_trunc('month', c.decided_on)
        """
    )
    count = run.value("SELECT count(*) FROM seed_draw")
    if not count:
        return 0
    base = ids_reserve(run, "applications_spotcheckdraw", count)
    run.sql(
        """
        INSERT INTO applications_spotcheckdraw
          (id, district_code, seed, share, population, forced, selected, drawn_at, drawn_by_id)
        SELECT %(base)s + d.n, d.district6 || '000000', pg_temp.seed_mix(d.n, 16), 0.30,
               d.population, '[]', d.selected,
               (d.drawn_on + time '09:00') AT TIME ZONE %(tz)s, d.approver_id
        FROM seed_draw d
        """,
        {"base": base, "tz": TZ},
    )
    run.sql(
        f"""
        UPDATE applications_application a
        SET spot_check_draw_id = %(base)s + d.n, spot_checked = d.selected @> to_jsonb(a.id)
        FROM seed_case c JOIN seed_draw d
             ON d.district6 = c.district6 AND d.month = date_trunc('month', c.decided_on)
        WHERE a.id = c.app_id AND c.role IN ('new', 'case') AND {district}
        """,
        {"base": base},
    )
    return run.sql(
        f"""
        INSERT INTO applications_homevisit
          (application_id, kind, visited_on, recorded_by_id, second_staff_id, second_visitor,
           findings, recorded_at)
        SELECT c.app_id, 'spot_check', c.decided_on - 1, c.approver_id, c.reviewer_id,
               '', '区县抽查:入户情况与调查一致',
               ((c.decided_on - 1 + time '16:00') AT TIME ZONE %(tz)s)
        FROM seed_case c JOIN applications_application a ON a.id = c.app_id
        WHERE c.role IN ('new', 'case') AND {district} AND a.spot_checked
        """,
        {"tz": TZ},
    )


def entitlements_create(run: Run) -> int:
    """One 低保 entitlement per approved 低保 application: live for ``kept`` and ``new`` (next
    review from ``seed_plan``), terminated for ``left`` (paid through its last month)."""
    count = run.value("SELECT count(*) FROM seed_house WHERE role IN ('kept', 'new', 'left')")
    base = ids_reserve(run, "beneficiaries_entitlement", count)
    run.sql(
        """
        CREATE TEMP TABLE seed_entitlement ON COMMIT DROP AS
        SELECT %(base)s + row_number() OVER (ORDER BY h.g) AS id, h.g
        FROM seed_house h WHERE h.role IN ('kept', 'new', 'left')
        """,
        {"base": base},
    )
    run.sql("CREATE UNIQUE INDEX ON seed_entitlement (g)")
    return run.sql(
        """
        INSERT INTO beneficiaries_entitlement
          (id, household_id, programme, member_id, monthly_amount, components, klass,
           start_month, end_month, next_review, status, source, approved_at, approved_by_id,
           class_overridden)
        SELECT e.id, h.id, 'dibao', NULL, a.proposed_amount,
               jsonb_build_array(jsonb_build_object('code', 'dibao',
                                                    'amount', a.proposed_amount::text)),
               h.klass, h.start_month, h.end_month,
               COALESCE(p.next_review, h.end_month),
               CASE WHEN h.role = 'left' THEN 'terminated' ELSE 'active' END,
               a.number, a.decided_at, a.decided_by_id, false
        FROM seed_entitlement e JOIN seed_house h ON h.g = e.g
        JOIN seed_case c ON c.g = e.g JOIN applications_application a ON a.id = c.app_id
        LEFT JOIN seed_plan p ON p.g = e.g
        """,
        {"base": base},
    )


# --- notices and objections -----------------------------------------------------------------------

MASK = (
    "CASE WHEN char_length({n}) <= 1 THEN '*' WHEN char_length({n}) = 2 THEN left({n}, 1) || '*' "
    "ELSE left({n}, 1) || repeat('*', char_length({n}) - 2) || right({n}, 1) END"
)
REFERENCE_ALPHABET = "23456789ABCDEFGHJKLMNPQRSTUVWXYZ"


def notices_create(run: Run) -> int:
    """Pre-approval notices of every 低保 case that reached one (closed once over, open this
    week, taken down for a re-investigation) and the termination notices of the reviews.
    What the public sees is copied, the name masked as ``beneficiaries.idnumber.mask_name``."""
    run.sql(
        """
        CREATE TEMP TABLE seed_notice ON COMMIT DROP AS
        SELECT row_number() OVER (ORDER BY x.g, x.kind) AS n, x.* FROM (
            SELECT c.g, 'approval' AS kind, c.app_id, NULL::bigint AS review_id, c.notice_start,
                   CASE WHEN c.status = 'noticed' THEN 'open'
                        WHEN c.reinvestigated THEN 'withdrawn' ELSE 'closed' END AS status,
                   c.village_code, c.head_name, c.size, c.amount AS kept_amount,
                   c.assessment_id
            FROM seed_case c WHERE c.notice_start IS NOT NULL
            UNION ALL
            SELECT r.g, 'termination', NULL, r.id,
                   CASE WHEN r.state = 'terminated' THEN h.decided_on - 20 ELSE p.notice_start END,
                   CASE WHEN r.state = 'noticed' THEN 'open' ELSE 'closed' END,
                   h.village_code, h.head_name, h.size, h.amount, NULL
            FROM seed_review r JOIN seed_house h ON h.g = r.g LEFT JOIN seed_plan p ON p.g = r.g
            WHERE r.state IN ('noticed', 'district', 'terminated')
        ) AS x
        """
    )
    count = run.value("SELECT count(*) FROM seed_notice")
    base = ids_reserve(run, "notices_notice", count)
    run.sql("UPDATE seed_notice SET n = n + %(base)s", {"base": base})
    return run.sql(
        f"""
        INSERT INTO notices_notice
          (id, application_id, review_id, kind, status, starts_on, ends_on, village_code,
           masked_name, household_size, programme, amount)
        SELECT s.n, s.app_id, s.review_id, s.kind, s.status, s.notice_start,
               {due("notice_days", "s.notice_start")}, s.village_code,
               {MASK.format(n="s.head_name")}, COALESCE(c.counted, s.size), 'dibao',
               COALESCE(a.proposed_amount, s.kept_amount)
        FROM seed_notice s LEFT JOIN seed_case c ON c.app_id = s.app_id
        LEFT JOIN applications_application a ON a.id = s.app_id
        """
    )


def objections_create(run: Run) -> int:
    """Objections (异议): on one in five notices up this week (two in three still open, the rest
    dismissed after checking), one per case re-investigated after an objection, and one in a
    hundred notices long closed (dismissed)."""
    chars = " || ".join(
        f"substr('{REFERENCE_ALPHABET}', 1 + ((x >> {5 * i}) & 31)::int, 1)" for i in range(8)
    )
    return run.sql(
        f"""
        INSERT INTO notices_objection
          (notice_id, application_id, reference, text, name, contact, received_at, status,
           resolution, reinvestigated, resolved_at, resolved_by_id)
        SELECT o.n, o.app_id, 'YY' || {chars}, (%(texts)s)[1 + o.draw %% {len(OBJECTIONS)}],
               '', '', ((o.notice_start + 1 + o.draw %% 3 + time '10:00') AT TIME ZONE %(tz)s),
               o.verdict,
               CASE WHEN o.verdict = 'resolved' THEN '经入户核实,异议反映情况不属实' ELSE '' END,
               o.verdict = 'reinvestigating',
               CASE WHEN o.verdict = 'resolved'
                    THEN ((o.notice_start + 5 + time '16:00') AT TIME ZONE %(tz)s) END,
               CASE WHEN o.verdict = 'resolved' THEN o.reviewer_id END
        FROM (
            SELECT s.*, h.reviewer_id, (pg_temp.seed_mix(s.g, 14) %% 100)::int AS draw,
                   ((row_number() OVER (ORDER BY s.n)) * 1103515245 + 12345)
                     %% 1099511627776 AS x,
                   CASE WHEN s.status = 'withdrawn' THEN 'reinvestigating'
                        WHEN s.status = 'open' AND s.nth %% 15 < 10 THEN 'open'
                        ELSE 'resolved' END AS verdict
            FROM (SELECT s.*, row_number() OVER (PARTITION BY s.status
                                                 ORDER BY pg_temp.seed_mix(s.g, 14), s.n) - 1
                                AS nth
                  FROM seed_notice s) AS s
            JOIN seed_house h ON h.g = s.g
            -- every fifth open notice (by hash), one in a hundred closed ones
            WHERE s.status = 'withdrawn' OR (s.status = 'open' AND s.nth %% 5 = 0)
               OR (s.status = 'closed' AND s.nth %% 100 = 0)
        ) AS o
        """,
        {"texts": list(OBJECTIONS), "tz": TZ},
    )


def date_span(run: Run) -> int:
    """Days back the deadline table must reach: the oldest application received."""
    oldest = run.value("SELECT min(start_month) FROM seed_house")
    if oldest is None:
        return 400
    return max(400, (run.today - oldest).days + 60)
