"""Periodic reviews (复核) as a city in its steady state has them: every review of the past year
decided (continue, now and then a class change), the ones coming due open in every state (some
overdue, some with a termination noticed or waiting for the district), and the terminations
of the year decided, with their notices.

Each live entitlement reviews every P months of its class from its start month: its next
review is the first such date from next month on. Of those due within the nightly job's
horizon, about 60% are open now and 40% were decided early (their next review is one period
later); of those whose last review was due this month or last, 8% are overdue (that review
still open)."""

from __future__ import annotations

from .base import Run, due

OPEN_SHARE = 60  # of 100, among entitlements due within the horizon
OVERDUE_SHARE = 8  # of 100, among those whose last review was due this month or last
# Open reviews by quota (per 1000, cumulative, over their hash order, so that a small N has
# each): not started, visited, visited and assessed, termination noticed, termination waiting
# for the district. The last two as many as the year's terminations leave at a time (seven
# days of notice, ten working days at the district).
OPEN_STATES = (
    (500, "open"),
    (750, "visited"),
    (989, "assessed"),
    (993, "noticed"),
    (1000, "district"),
)
ADJUST_SHARE = 5  # of 100 decided reviews: the class changed


def plan_create(run: Run, months: dict[str, int], horizon_days: int) -> None:
    """``seed_plan``: per live entitlement (roles kept and new) its review period, next review
    and the state of its open review, if any. Before the incomes and assessments are
    written: a termination in progress has the income behind it."""
    period = "CASE h.klass " + " ".join(f"WHEN '{k}' THEN {m}" for k, m in months.items()) + " END"
    # The first few open reviews in hash order take one state each, so that every state is
    # there however few open reviews the day's window holds (quotas alone left a small N
    # without a termination notice on some days); the rest by quota.
    firsts = " ".join(f"WHEN rank = {i} THEN '{state}'" for i, (_, state) in enumerate(OPEN_STATES))
    quotas = " ".join(f"WHEN quota < {limit} THEN '{state}'" for limit, state in OPEN_STATES)
    states = f"{firsts} {quotas}"
    run.sql(
        f"""
        CREATE TEMP TABLE seed_plan ON COMMIT DROP AS
        WITH p AS (
            SELECT h.g, h.id AS household_id, h.start_month, {period} AS period,
                   (pg_temp.seed_mix(h.g, 12) %% 100)::int AS r,
                   (pg_temp.seed_mix(h.g, 13) %% 100)::int AS r2,
                   (extract(year FROM %(next)s::date) - extract(year FROM h.start_month)) * 12
                   + extract(month FROM %(next)s::date) - extract(month FROM h.start_month)
                     AS months_to_next
            FROM seed_house h WHERE h.role IN ('kept', 'new')
        ), c AS (
            SELECT p.*, GREATEST(1, ceil(months_to_next / period))::int AS cycles FROM p
        ), n AS (
            SELECT c.*, (start_month + cycles * period * interval '1 month')::date AS first_due
            FROM c
        ), s AS (
            SELECT n.*,
                   -- overdue: last period's review, due this month or last, still open
                   r < {OVERDUE_SHARE} AND cycles >= 2
                     AND first_due - period * interval '1 month' >= %(last)s::date AS overdue,
                   first_due <= %(horizon)s::date AS in_window
            FROM n
        ), o AS (
            SELECT s.*, overdue OR (in_window AND r < {OPEN_SHARE}) AS is_open FROM s
        ), q AS (
            SELECT o.*, rank * 1000 / count(*) OVER (PARTITION BY is_open) AS quota
            FROM (
                SELECT o.*, row_number() OVER (PARTITION BY is_open
                                               ORDER BY pg_temp.seed_mix(g, 13), g) - 1 AS rank
                FROM o
            ) AS o
        )
        SELECT q.g, q.household_id, q.start_month, q.period,
               (CASE WHEN overdue THEN first_due - period * interval '1 month'
                     WHEN in_window AND r >= {OPEN_SHARE}
                       THEN first_due + period * interval '1 month'
                     ELSE first_due END)::date AS next_review,
               CASE WHEN is_open THEN CASE {states} END ELSE '' END AS open_state, r2
        FROM q
        """,
        {
            "next": run.months_back(-1),
            "last": run.months_back(1),
            "horizon": run.today + _days(horizon_days),
        },
    )
    run.sql(
        """
        ALTER TABLE seed_plan ADD COLUMN opened_on date, ADD COLUMN visited_on date,
            ADD COLUMN notice_start date, ADD COLUMN assessment_id bigint
        """
    )
    # Opened by the night 30 days before the due date; the visit a few days later; a
    # termination noticed this week, or noticed and over (waiting for the district).
    run.sql(
        """
        UPDATE seed_plan SET
          opened_on = LEAST(next_review - 30, %(today)s::date - 25),
          notice_start = CASE open_state WHEN 'noticed' THEN %(today)s::date - r2 %% 7
                                         WHEN 'district' THEN %(today)s::date - 8 - r2 %% 5 END
        WHERE open_state <> ''
        """,
        {"today": run.today},
    )
    run.sql(
        """
        UPDATE seed_plan SET visited_on = opened_on + 3 + r2 %% 8
        WHERE open_state IN ('visited', 'assessed', 'noticed', 'district')
        """
    )
    run.sql("CREATE UNIQUE INDEX ON seed_plan (g)")
    run.sql("ANALYZE seed_plan")


def _days(n: int):
    import datetime as dt

    return dt.timedelta(days=n)


REASON_CONTINUE = "复核:家庭收入和人口无明显变化,继续保障"
REASON_ADJUST = "复核:家庭成员情况变化,调整分类"
REASON_TERMINATE = "复核:家庭人均收入超过低保标准"
FINDINGS = "入户核查:家庭情况与申报一致"


def reviews_create(run: Run) -> int:
    """``seed_review`` (ids reserved, so notices can point at them) and the reviews: the year's
    decided ones, the open ones, and the decided terminations of the households that left."""
    run.sql(
        """
        CREATE TEMP TABLE seed_review ON COMMIT DROP AS
        WITH decided AS (
            SELECT p.g, h.id AS household_id, 'decided' AS state,
                   (p.next_review - j * p.period * interval '1 month')::date AS due_on, j
            FROM seed_plan p JOIN seed_house h ON h.g = p.g
            CROSS JOIN generate_series(1, 12) AS j
            WHERE p.next_review - j * p.period * interval '1 month'
                  >= p.start_month + p.period * interval '1 month'
              AND p.next_review - j * p.period * interval '1 month' > %(year_ago)s::date
        ), open AS (
            SELECT p.g, p.household_id, p.open_state, p.next_review, 0
            FROM seed_plan p WHERE p.open_state <> ''
        ), ended AS (
            SELECT h.g, h.id, 'terminated', h.decided_on - 20, 0
            FROM seed_house h WHERE h.role = 'left'
        ), every AS (
            SELECT * FROM decided UNION ALL SELECT * FROM open UNION ALL SELECT * FROM ended
        )
        SELECT %(base)s + row_number() OVER (ORDER BY g, due_on) AS id, e.*,
               (pg_temp.seed_mix(e.g * 16 + e.j, 17) %% 100)::int AS r3
        FROM every AS e
        """,
        {"year_ago": run.today - _days(365), "base": 0},
    )
    from .base import ids_reserve

    count = run.value("SELECT count(*) FROM seed_review")
    base = ids_reserve(run, "recertification_review", count)
    run.sql("UPDATE seed_review SET id = id + %(base)s", {"base": base})
    run.sql("CREATE UNIQUE INDEX ON seed_review (id)")
    run.sql("ANALYZE seed_review")
    return run.sql(
        f"""
        INSERT INTO recertification_review
          (id, entitlement_id, township_id, kind, opened_at, due, reported_change, status,
           assessment_id, visited_on, findings, visit_recorded_by_id, outcome, new_amount,
           new_class, reason, decided_at, decided_by_id, version)
        SELECT r.id, e.id, h.township_id, 'periodic',
               (x.opened_on + time '02:00') AT TIME ZONE %(tz)s,
               CASE WHEN r.state = 'district'
                    THEN {due("district_review_workdays", "p.notice_start + 8")}
                    ELSE r.due_on END,
               '',
               CASE r.state WHEN 'decided' THEN 'decided' WHEN 'terminated' THEN 'decided'
                            WHEN 'noticed' THEN 'noticed' WHEN 'district' THEN 'district'
                            ELSE 'open' END,
               CASE WHEN r.state IN ('assessed', 'noticed', 'district') THEN p.assessment_id END,
               x.visited_on, CASE WHEN x.visited_on IS NULL THEN '' ELSE '{FINDINGS}' END,
               CASE WHEN x.visited_on IS NULL THEN NULL ELSE h.clerk_id END,
               CASE WHEN r.state = 'decided' AND r.r3 < {ADJUST_SHARE} THEN 'adjust'
                    WHEN r.state = 'decided' THEN 'continue'
                    WHEN r.state IN ('noticed', 'district', 'terminated') THEN 'terminate'
                    ELSE '' END,
               NULL,
               CASE WHEN r.state = 'decided' AND r.r3 < {ADJUST_SHARE} THEN h.klass ELSE '' END,
               CASE WHEN r.state = 'decided' AND r.r3 < {ADJUST_SHARE} THEN '{REASON_ADJUST}'
                    WHEN r.state = 'decided' THEN '{REASON_CONTINUE}'
                    WHEN r.state IN ('noticed', 'district', 'terminated')
                      THEN '{REASON_TERMINATE}'
                    ELSE '' END,
               (x.decided_on + time '15:00') AT TIME ZONE %(tz)s,
               CASE WHEN x.decided_on IS NULL THEN NULL ELSE h.reviewer_id END,
               CASE r.state WHEN 'open' THEN 1 WHEN 'visited' THEN 2 WHEN 'assessed' THEN 3
                            WHEN 'noticed' THEN 4 ELSE 5 END
        FROM seed_review r
        JOIN seed_house h ON h.g = r.g JOIN seed_entitlement e ON e.g = r.g
        LEFT JOIN seed_plan p ON p.g = r.g
        CROSS JOIN LATERAL (
            SELECT CASE WHEN r.state = 'decided' THEN r.due_on - 30
                        WHEN r.state = 'terminated' THEN h.decided_on - 45
                        ELSE p.opened_on END AS opened_on,
                   CASE WHEN r.state = 'decided'
                          THEN LEAST(r.due_on - 1 - r.r3 %% 20, %(today)s::date) - 2
                        WHEN r.state = 'terminated' THEN h.decided_on - 25
                        ELSE p.visited_on END AS visited_on,
                   CASE WHEN r.state = 'decided'
                          THEN LEAST(r.due_on - 1 - r.r3 %% 20, %(today)s::date)
                        -- a termination is decided by the township when it is noticed
                        WHEN r.state = 'terminated' THEN h.decided_on - 20
                        WHEN r.state IN ('noticed', 'district') THEN p.notice_start
                   END AS decided_on
        ) AS x
        """,
        {"tz": "Asia/Shanghai", "today": run.today},
    )


def changes_create(run: Run) -> int:
    """The timeline rows the payroll reads: terminations (paid through the month they were
    confirmed in) and the class changes of adjusting reviews."""
    count = run.sql(
        f"""
        INSERT INTO beneficiaries_entitlementchange
          (entitlement_id, kind, effective_month, old_value, new_value, cause, source,
           superseded, created_at, created_by_id)
        SELECT e.id, 'status', (h.end_month + interval '1 month')::date, 'active', 'terminated',
               '{REASON_TERMINATE}', 'review:' || r.id, false,
               (h.decided_on + time '16:00') AT TIME ZONE %(tz)s, h.approver_id
        FROM seed_review r JOIN seed_house h ON h.g = r.g JOIN seed_entitlement e ON e.g = r.g
        WHERE r.state = 'terminated'
        """,
        {"tz": "Asia/Shanghai"},
    )
    count += run.sql(
        f"""
        INSERT INTO beneficiaries_entitlementchange
          (entitlement_id, kind, effective_month, old_value, new_value, cause, source,
           superseded, created_at, created_by_id)
        SELECT v.entitlement_id, 'class', date_trunc('month', v.decided_at + interval '1 month'),
               CASE WHEN v.new_class = 'C' THEN 'B' ELSE 'C' END, v.new_class,
               '{REASON_ADJUST}', 'review:' || v.id, false, v.decided_at, v.decided_by_id
        FROM recertification_review v JOIN seed_review r ON r.id = v.id
        WHERE v.outcome = 'adjust'
        """
    )
    return count
