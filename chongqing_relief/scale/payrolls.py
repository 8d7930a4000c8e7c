"""A year of payments: per district and month of the last twelve (this one included), a 低保
payroll with a line for every seeded entitlement live that month and a 临时救助 payroll with
the one-offs decided the month before, each generated on the 20th of the month before,
approved by the district's approver (not its generator), exported and reconciled on the
10th. One payment in 500 failed at the bank; the township fixed the account and the next
month's payroll re-issued it (this month's failures wait in the township's queue).

Lines copy the household's sealed account number as stored (the ciphertext carries no
reference to its row), so nothing is sealed again here."""

from __future__ import annotations

from .base import Run, ids_reserve

FAILED_PER_1000 = 2
MONTHS = 12
# The year's funds: what the district's payrolls paid, plus a margin, by source.
SOURCES = {
    "dibao": (("central", "0.55"), ("city", "0.25"), ("district", "0.15"), ("lottery", "0.05")),
    "temporary": (("district", "1.00"),),
}
FUND_MARGIN = "1.10"
TZ = "Asia/Shanghai"


def payrolls_create(run: Run) -> int:
    """``seed_payroll`` and the payrolls, skipping a district, programme and month that has
    one already (the demo's first payroll)."""
    months = [run.months_back(i) for i in range(MONTHS)]
    run.sql(
        """
        CREATE TEMP TABLE seed_payroll ON COMMIT DROP AS
        SELECT row_number() OVER (ORDER BY d.district6, p.programme, m.month) AS n,
               d.district_id, d.district6, d.finance_id, d.approver_id, p.programme, m.month
        FROM (SELECT DISTINCT district_id, district6, finance_id, approver_id
              FROM seed_township) AS d
        CROSS JOIN (VALUES ('dibao'), ('temporary')) AS p(programme)
        CROSS JOIN unnest(%(months)s::date[]) AS m(month)
        WHERE NOT EXISTS (
            SELECT 1 FROM payments_payroll x
            WHERE x.district_id = d.district_id AND x.programme = p.programme
              AND x.month = m.month AND x.status NOT IN ('cancelled', 'failed'))
        """,
        {"months": months},
    )
    base = ids_reserve(run, "payments_payroll", run.value("SELECT count(*) FROM seed_payroll"))
    run.sql(
        """
        ALTER TABLE seed_payroll ADD COLUMN id bigint, ADD COLUMN generated_at timestamptz,
            ADD COLUMN approved_at timestamptz, ADD COLUMN exported_at timestamptz,
            ADD COLUMN reconciled_at timestamptz
        """
    )
    run.sql(
        """
        UPDATE seed_payroll SET id = %(base)s + n,
          generated_at = ((month - interval '1 month' + interval '19 days')::date
                          + time '10:00') AT TIME ZONE %(tz)s,
          approved_at = ((month - interval '1 month' + interval '21 days')::date
                         + time '15:00') AT TIME ZONE %(tz)s,
          exported_at = ((month - interval '1 month' + interval '22 days')::date
                         + time '10:00') AT TIME ZONE %(tz)s,
          reconciled_at = CASE WHEN month + 9 < %(today)s::date
                               THEN ((month + 9)::date + time '16:00') AT TIME ZONE %(tz)s END
        """,
        {"base": base, "tz": TZ, "today": run.today},
    )
    run.sql("CREATE UNIQUE INDEX ON seed_payroll (district6, programme, month)")
    return run.sql(
        """
        INSERT INTO payments_payroll
          (id, district_id, programme, month, status, progress, generated_by_id, created_at,
           generated_at, line_count, total_amount, approved_by_id, approved_at,
           fund_override_reason, exported_at, reconciled_at, cancelled_reason, error, version)
        SELECT p.id, p.district_id, p.programme, p.month,
               CASE WHEN p.reconciled_at IS NULL THEN 'exported' ELSE 'reconciled' END, 100,
               p.finance_id, p.generated_at, p.generated_at, 0, 0, p.approver_id, p.approved_at,
               '', p.exported_at, p.reconciled_at, '', '',
               CASE WHEN p.reconciled_at IS NULL THEN 3 ELSE 4 END
        FROM seed_payroll p
        """
    )


def lines_create(run: Run) -> int:
    """The regular lines (set-based: every live entitlement × month), the one-offs, the
    re-issues of failed payments; then each payroll's count and total."""
    # What a line copies from its entitlement and household, built once per entitlement
    # rather than once per month.
    run.sql(
        """
        CREATE TEMP TABLE seed_payee ON COMMIT DROP AS
        SELECT e.id AS entitlement_id, h.id AS household_id, h.district6, h.start_month,
               h.end_month, c.amount, h.head_id, h.head_name, hh.bank_name,
               hh.bank_account_number,
               jsonb_build_object(
                 'decision', c.number, 'class', h.klass,
                 'components', jsonb_build_array(jsonb_build_object(
                     'code', 'dibao', 'amount', c.amount::text)),
                 'assessment', c.assessment_id, 'standard', h.std::text,
                 'household_size', h.size::text,
                 'income_per_capita', round((h.full_amount - c.amount) / h.size, 2)::text)
                 AS basis
        FROM seed_entitlement e JOIN seed_house h ON h.g = e.g JOIN seed_case c ON c.g = e.g
        JOIN beneficiaries_household hh ON hh.id = h.id
        """
    )
    run.sql("ANALYZE seed_payee")
    run.sql("ANALYZE seed_payroll")
    count = run.sql(
        """
        INSERT INTO payments_payrollline
          (payroll_id, reference, entitlement_id, application_id, household_id, month, kind,
           amount, status, payee_member_id, payee_name, bank_name, account_number, basis,
           reissued_from_id, hold_reason, failure_reason, settled_at, reissue_requested_at,
           reissue_requested_by_id)
        SELECT p.id, 'R' || to_char(p.month, 'YYYYMM') || '-' || e.entitlement_id,
               e.entitlement_id, NULL, e.household_id, p.month, 'regular', e.amount, x.status,
               e.head_id, e.head_name, e.bank_name, e.bank_account_number, e.basis, NULL, '',
               CASE WHEN x.status = 'failed' THEN '账户已销户' ELSE '' END,
               CASE WHEN x.status <> 'pending' THEN p.reconciled_at END, NULL, NULL
        FROM seed_payee e
        JOIN seed_payroll p ON p.district6 = e.district6 AND p.programme = 'dibao'
             AND p.month >= e.start_month AND (e.end_month IS NULL OR p.month <= e.end_month)
        CROSS JOIN LATERAL (
            SELECT CASE WHEN p.reconciled_at IS NULL THEN 'pending'
                        WHEN pg_temp.seed_mix(e.entitlement_id * 100
                                              + extract(month FROM p.month)::int, 18)
                             %% 1000 < %(failed)s THEN 'failed'
                        ELSE 'paid' END AS status) AS x
        """,
        {"failed": FAILED_PER_1000},
    )
    count += run.sql(
        """
        INSERT INTO payments_payrollline
          (payroll_id, reference, entitlement_id, application_id, household_id, month, kind,
           amount, status, payee_member_id, payee_name, bank_name, account_number, basis,
           reissued_from_id, hold_reason, failure_reason, settled_at, reissue_requested_at,
           reissue_requested_by_id)
        SELECT p.id, 'T' || c.app_id, NULL, c.app_id, h.id, p.month, 'one_off', c.assessed,
               CASE WHEN p.reconciled_at IS NULL THEN 'pending' ELSE 'paid' END, h.head_id,
               h.head_name, hh.bank_name, hh.bank_account_number,
               jsonb_build_object(
                 'decision', c.number, 'assessment', c.assessment_id, 'standard', h.std::text,
                 'household_size', c.counted,
                 'income_per_capita', round(h.income / h.size, 2)::text, 'emergency', false),
               NULL, '', '', p.reconciled_at, NULL, NULL
        FROM seed_case c JOIN seed_house h ON h.g = c.g
        JOIN beneficiaries_household hh ON hh.id = h.id
        JOIN seed_payroll p ON p.district6 = h.district6 AND p.programme = 'temporary'
             AND p.month = (date_trunc('month', c.decided_on) + interval '1 month')::date
        WHERE c.role = 'case' AND c.status = 'approved' AND c.assessed > 0
        """
    )
    count += _reissues(run)
    run.sql(
        """
        UPDATE payments_payroll p SET line_count = t.n, total_amount = t.total
        FROM (SELECT l.payroll_id, count(*) AS n, sum(l.amount) AS total
              FROM payments_payrollline l JOIN seed_payroll s ON s.id = l.payroll_id
              GROUP BY l.payroll_id) AS t
        WHERE p.id = t.payroll_id
        """
    )
    return count


def _reissues(run: Run) -> int:
    """A failed payment of an earlier month: the township confirmed the account two days
    after the bank's result, and the next month's payroll paid it again."""
    run.sql(
        """
        CREATE TEMP TABLE seed_failed ON COMMIT DROP AS
        SELECT l.id, l.entitlement_id, l.household_id, l.month, l.amount, l.reference,
               l.payee_member_id, l.payee_name, l.bank_name, l.account_number, l.basis,
               p.district6, p.programme, p.reconciled_at, h.clerk_id
        FROM payments_payrollline l JOIN seed_payroll p ON p.id = l.payroll_id
        JOIN seed_house h ON h.id = l.household_id
        WHERE l.status = 'failed'
        """
    )
    run.sql(
        """
        UPDATE payments_payrollline l
        SET reissue_requested_at = f.reconciled_at + interval '2 days',
            reissue_requested_by_id = f.clerk_id
        FROM seed_failed f JOIN seed_payroll n ON n.district6 = f.district6
             AND n.programme = f.programme AND n.month = f.month + interval '1 month'
        WHERE l.id = f.id
        """
    )
    return run.sql(
        """
        INSERT INTO payments_payrollline
          (payroll_id, reference, entitlement_id, application_id, household_id, month, kind,
           amount, status, payee_member_id, payee_name, bank_name, account_number, basis,
           reissued_from_id, hold_reason, failure_reason, settled_at, reissue_requested_at,
           reissue_requested_by_id)
        SELECT n.id, 'F' || f.id, f.entitlement_id, NULL, f.household_id, f.month, 'reissue',
               f.amount, CASE WHEN n.reconciled_at IS NULL THEN 'pending' ELSE 'paid' END,
               f.payee_member_id, f.payee_name, f.bank_name, f.account_number,
               f.basis || jsonb_build_object('reissue_of', f.reference), f.id, '', '',
               n.reconciled_at, NULL, NULL
        FROM seed_failed f JOIN seed_payroll n ON n.district6 = f.district6
             AND n.programme = f.programme AND n.month = f.month + interval '1 month'
        """
    )


def allocations_create(run: Run) -> int:
    """资金统筹: per district, programme and year of the payrolls, a year of what they paid a
    month on average, plus a margin, by source (a district that entered its own, as the
    demo's, keeps it; one that paid nothing gets nothing)."""
    values = [(p, s, share) for p, sources in SOURCES.items() for s, share in sources]
    return run.sql(
        f"""
        INSERT INTO payments_fundallocation
          (year, district_id, programme, source, amount, note, created_by_id, created_at)
        SELECT extract(year FROM p.month)::int, p.district_id, p.programme, v.source,
               round(avg(x.total_amount) * 12 * {FUND_MARGIN} * v.share, -3),
               '资金文件(生成数据)', min(p.finance_id), min(p.generated_at)
        FROM seed_payroll p JOIN payments_payroll x ON x.id = p.id
        JOIN unnest(%(programmes)s::text[], %(sources)s::text[], %(shares)s::numeric[])
             AS v(programme, source, share) ON v.programme = p.programme
        GROUP BY 1, 2, 3, 4, v.share
        HAVING round(avg(x.total_amount) * 12 * {FUND_MARGIN} * v.share, -3) > 0
        ON CONFLICT DO NOTHING
        """,
        {
            "programmes": [v[0] for v in values],
            "sources": [v[1] for v in values],
            "shares": [v[2] for v in values],
        },
    )
