"""A city-sized synthetic dataset for benchmarks (PostgreSQL only): N households over the real
region tree (about 90 per village; a smaller N fills fewer villages, spread over the city),
1–4 members each (mean 2.5) with valid ID numbers, and the casework a city has at any moment:

- 低保 for the share ``--entitled-share`` of households (default half), spread over every
  village (each village has some households receiving it and some not), with its class
  (A/B/C), amount (the means test's, from the declared income) and next review; every
  entitlement came from an approved application (2% of households were approved this year);
- this year's other applications (1% of households) in every state of the workflow, with
  their materials, visits, assessments (the means test's own results), public notices (open
  ones up today), objections (open and resolved), spot-check draws, decisions and deadlines
  on the working-day calendar; 1.5% of households had their 低保 terminated this year;
- periodic reviews: those of the past year decided, those coming due open in every state
  (some overdue, some terminations noticed or waiting for the district);
- a year of payrolls (per district and month, 低保 and 临时救助) approved, exported and
  reconciled, with a line per live entitlement, one-offs and re-issued failed payments,
  and the funds allocated for them;
- the staff who did it: per township a clerk and a reviewer, per district an approver and a
  funds officer (``scale_<role>_<region code>``, active, no usable password).

Not written: history and audit tables, the monthly statistics return (the nightly refresh
computes it: 24 s for one month at 1,000,000 households), payment checks, leads, referrals.

It runs on an empty migrated database or next to other data: before or after ``seed_demo``
(which then still works), so the demo users can be measured at scale. It writes only its
own rows, numbers households and receipts after the existing counters and moves them on.
Deterministic: the same N gives the same rows (dates relative to the day it runs). Bulk:
set-based SQL, with each big table's indexes and foreign keys rebuilt after it is filled, and
personal numbers sealed on the way in; one transaction (the tables it fills are locked
against other writers meanwhile). Each step prints its time; 1,000,000 households take about
8 minutes on the 2-core machine. It runs once per database: a second run is refused.

    DATABASE_URL=postgres://…/chongqing_relief_bench .venv/bin/python manage.py seed_scale \\
        --households 1000000

``--entitled-share 0`` writes the register only (households and members), as the search
benchmark wants."""

from __future__ import annotations

import time

from django.core.management.base import BaseCommand, CommandError
from django.db import connection, transaction
from django.utils import timezone

from chongqing_relief.scale import cases, payrolls, register, reviews
from chongqing_relief.scale.base import Run, bulk_load, deadlines_create, session_prepare
from notices.services import public_changed, standing_refresh

SEEDER = "seed_scale"
# Tables whose rows are counted at the end.
COUNTED = (
    "accounts_user",
    "beneficiaries_household",
    "beneficiaries_member",
    "beneficiaries_incomeitem",
    "beneficiaries_entitlement",
    "beneficiaries_entitlementchange",
    "eligibility_assessment",
    "applications_application",
    "applications_applicationmaterial",
    "applications_homevisit",
    "applications_spotcheckdraw",
    "notices_notice",
    "notices_objection",
    "recertification_review",
    "payments_payroll",
    "payments_payrollline",
    "payments_fundallocation",
    "notices_standingrow",
)


class Command(BaseCommand):
    help = __doc__.split("\n\n")[0]

    def add_arguments(self, parser):
        parser.add_argument("--households", type=int, required=True)
        parser.add_argument(
            "--entitled-share",
            type=float,
            default=0.5,
            help="share of households with an active 低保 entitlement (default 0.5; 0: the "
            "register only)",
        )

    def handle(self, *args, households, entitled_share, **options):
        if connection.vendor != "postgresql":
            raise CommandError("seed_scale writes with PostgreSQL's generate_series.")
        if not 1 <= households <= register.MAX_HOUSEHOLDS:
            raise CommandError(f"--households: from 1 to {register.MAX_HOUSEHOLDS:,}.")
        if not 0 <= entitled_share <= 1:
            raise CommandError("--entitled-share: from 0 to 1.")
        from accounts.models import User
        from core.services import calendar_seed_from_package
        from regions.services import regions_seed

        if User.objects.filter(username=SEEDER).exists():
            raise CommandError(
                "seed_scale has already run on this database (its user exists); it runs "
                "once per database: use a fresh one."
            )
        started = time.perf_counter()
        regions_seed()
        # Deadlines are counted on the working-day calendar, as the app counts them.
        calendar_seed_from_package()
        with transaction.atomic(), connection.cursor() as cursor:
            run = Run(
                cursor=cursor,
                households=households,
                share=entitled_share,
                today=timezone.localdate(),
                now=timezone.now(),
                write=self.stdout.write,
            )
            self._build(run)
        with connection.cursor() as cursor, _timed(self, "vacuum and analyze"):
            # Fresh rows need the visibility map for index-only scans, and statistics. Inside
            # a caller's transaction (a test) only the statistics can be had.
            cursor.execute("ANALYZE" if connection.in_atomic_block else "VACUUM (ANALYZE)")
        public_changed()  # public pages cached before the seed are stale
        self._report(time.perf_counter() - started)

    def _build(self, run: Run) -> None:
        from accounts.models import Role, User
        from regions.models import Region

        casework = run.share > 0
        figures = _figures(run)
        User.objects.create(
            username=SEEDER,
            password="!seed_scale",  # noqa: S106 (unusable: nobody logs in as the seeder)
            role=Role.CITY_ADMIN,
            full_name=SEEDER,
            is_active=False,
            jurisdiction=Region.objects.get(level=Region.Level.CITY),
        )
        run.sql("SET CONSTRAINTS ALL IMMEDIATE")
        session_prepare(run)
        with run.step("staff of every township and district"):
            register.staff_create(run)
            villages = register.villages_choose(run)
        with run.step(f"plan: {run.households:,} households over {villages:,} villages"):
            register.house_create(run, figures["standards"], villages, casework)
            if casework:
                reviews.plan_create(run, figures["review_months"], figures["review_open_days"])
        with run.step("deadlines counted on the calendar"):
            deadlines_create(run, cases.date_span(run))
        with register.register_load(run):
            with run.step("households and members"):
                register.households_create(run)
            with run.step("declared income"):
                register.incomes_create(run, casework)
            if casework:
                with run.step("application plan and receipt numbers"):
                    cases.plan_create(run)
                with run.step("assessments (the means test, in Python)"):
                    cases.assessments_create(run)
            with run.step("sealing ID numbers, phones and bank accounts"):
                register.register_seal(run)
        if not casework:
            return
        self._casework(run, figures)

    def _casework(self, run: Run, figures: dict) -> None:
        with bulk_load(
            run,
            "applications_application",
            "applications_applicationmaterial",
            "applications_homevisit",
        ):
            with run.step("applications"):
                cases.applications_create(run, figures["township_limit"])
            with run.step("materials and investigation visits"):
                cases.materials_create(run)
                cases.visits_create(run)
        with run.step("spot-check draws and visits"):
            cases.spot_checks_create(run, figures["township_limit"])
        with bulk_load(run, "beneficiaries_entitlement"), run.step("entitlements"):
            cases.entitlements_create(run)
        with bulk_load(run, "recertification_review"), run.step("periodic reviews"):
            reviews.reviews_create(run)
        with run.step("entitlement changes"):
            reviews.changes_create(run)
        with bulk_load(run, "notices_notice"), run.step("notices and objections"):
            cases.notices_create(run)
            cases.objections_create(run)
        with run.step("payrolls"):
            payrolls.payrolls_create(run)
        with bulk_load(run, "payments_payrollline"), run.step("payroll lines"):
            payrolls.lines_create(run)
        with run.step("fund allocations"):
            payrolls.allocations_create(run)
        with run.step("public standing list (notices.standing_refresh)"):
            # The public pages list the standing households from summary rows the services
            # keep; the seed's entitlements went in by SQL, so the list is rebuilt once.
            standing_refresh()

    def _report(self, seconds: float) -> None:
        with connection.cursor() as cursor:
            for table in COUNTED:
                cursor.execute(f"SELECT count(*) FROM {table}")  # noqa: S608 (names above)
                self.stdout.write(f"  {table:<36} {cursor.fetchone()[0]:>12,}")
            cursor.execute("SELECT pg_size_pretty(pg_database_size(current_database()))")
            self.stdout.write(f"  database size {cursor.fetchone()[0]}")
        self.stdout.write(f"seed_scale: done in {seconds:.0f} s")


class _timed:
    def __init__(self, command, label):
        self.command, self.label = command, label

    def __enter__(self):
        self.started = time.perf_counter()

    def __exit__(self, *exc):
        seconds = time.perf_counter() - self.started
        self.command.stdout.write(f"  {self.label:<52} {seconds:7.1f} s")


def _figures(run: Run) -> dict:
    """The policy figures the seed follows, in force today."""
    from eligibility.selectors import policy_figure

    return {
        "standards": {
            residence: policy_figure("dibao_standard", run.today, residence=residence)
            for residence in ("urban", "rural")
        },
        "review_months": {
            klass: int(policy_figure(f"review_months_{klass.lower()}", run.today))
            for klass in "ABC"
        },
        "review_open_days": int(policy_figure("review_open_days", run.today)),
        "township_limit": policy_figure("township_temporary_limit", run.today),
    }
