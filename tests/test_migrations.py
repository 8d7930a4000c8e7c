"""The split of ``applications`` (DESIGN.md §12) moves notices, objections and periodic
reviews to their own apps by renaming their tables. Checked on PostgreSQL with data: a
database at the old layout, holding rows written there, migrates to the new one with every
row, every foreign key (as a database constraint) and the names that point at the models."""

import datetime as dt
from decimal import Decimal

import pytest
from django.contrib.auth.models import Permission
from django.contrib.contenttypes.models import ContentType
from django.db import IntegrityError, connection, transaction
from django.db.migrations.executor import MigrationExecutor
from django.utils import timezone
from django_celery_beat.models import PeriodicTask

from applications import services as intake
from beneficiaries.models import Entitlement
from core.models import AuditEvent
from notices import services as notices
from notices.models import Notice, Objection
from recertification.models import Review

from .factories import make_household, make_id, member_data

OLD = [
    ("applications", "0015_review_visit_recorder"),
    ("notices", None),
    ("recertification", None),
]
MOVED_TABLES = {
    "applications_notice": "notices_notice",
    "applications_objection": "notices_objection",
    "applications_review": "recertification_review",
    "applications_historicalreview": "recertification_historicalreview",
}
# (table, column) → the table its database foreign key must point at after the move
FOREIGN_KEYS = {
    ("notices_notice", "application_id"): "applications_application",
    ("notices_notice", "review_id"): "recertification_review",
    ("notices_objection", "notice_id"): "notices_notice",
    ("notices_objection", "application_id"): "applications_application",
    ("recertification_review", "entitlement_id"): "beneficiaries_entitlement",
    ("recertification_review", "township_id"): "regions_region",
}


def _tables() -> set[str]:
    with connection.cursor() as cursor:
        return set(connection.introspection.table_names(cursor))


def _count(table: str) -> int:
    with connection.cursor() as cursor:
        cursor.execute(f'SELECT count(*) FROM "{table}"')  # noqa: S608 (names from this file)
        return cursor.fetchone()[0]


def _foreign_keys(table: str) -> dict[str, str]:
    with connection.cursor() as cursor:
        constraints = connection.introspection.get_constraints(cursor, table)
    return {
        c["columns"][0]: c["foreign_key"][0]
        for c in constraints.values()
        if c["foreign_key"] and len(c["columns"]) == 1
    }


def _cases(cast, tree):
    """An application on notice with an objection, and a review proposing a termination on
    notice, written through the services of today's layout."""
    household = make_household(cast["clerk"], tree.village, members=[member_data()])
    (application,) = intake.application_intake(
        actor=cast["clerk"],
        household=household,
        programmes=["dibao"],
        referrals=[],
        channel="window",
        materials_received={"id_card", "hukou_book", "income_proof", "authorisation", "pledge"},
    ).applications
    today = timezone.localdate()
    notice = notices.notice_post(
        application=application,
        kind=Notice.Kind.APPROVAL,
        village_code=tree.village.code,
        head_name="张三",
        household_size=1,
        programme="dibao",
        amount=Decimal("300.00"),
        starts_on=today,
        ends_on=today + dt.timedelta(days=7),
    )
    notices.objection_file(notice=notice, text="他家有车")
    other = make_household(
        cast["clerk"], tree.village, members=[member_data(name="李四", id_number=make_id(seq=9))]
    )
    entitlement = Entitlement.objects.create(
        household=other,
        programme="dibao",
        monthly_amount=Decimal("500.00"),
        klass="C",
        start_month=dt.date(2026, 1, 1),
        next_review=dt.date(2027, 1, 1),
        source="500103001-2025-00001",
        approved_at=timezone.now(),
        approved_by=cast["district_approver"],
    )
    review = Review.objects.create(
        entitlement=entitlement,
        township=tree.jiefangbei,
        kind=Review.Kind.PERIODIC,
        opened_at=timezone.now(),
        due=today,
        status=Review.Status.NOTICED,
    )
    review.save()  # a second historical row
    notices.notice_post(
        review=review,
        kind=Notice.Kind.TERMINATION,
        village_code=tree.village.code,
        head_name="李四",
        household_size=1,
        programme="dibao",
        amount=Decimal("500.00"),
        starts_on=today,
        ends_on=today + dt.timedelta(days=7),
    )
    return application, review


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_the_split_keeps_every_row_foreign_key_and_name(cast, tree):
    if connection.vendor != "postgresql":
        pytest.skip("the move is checked on PostgreSQL (CI runs it)")
    application, review = _cases(cast, tree)
    AuditEvent.objects.create(
        action=AuditEvent.Action.UPDATE, object_type="recertification.review", object_id="1"
    )

    executor = MigrationExecutor(connection)
    try:
        executor.migrate(OLD)
        _check_the_move(executor, application, review)
    finally:  # whatever happened, leave the database at today's layout for the next test
        executor = MigrationExecutor(connection)
        executor.migrate(executor.loader.graph.leaf_nodes())


def _check_the_move(executor, application, review):
    # The old layout: the rows sit in the applications app's tables, under its names.
    assert set(MOVED_TABLES) <= _tables() and not set(MOVED_TABLES.values()) & _tables()
    old_apps = executor.loader.project_state([OLD[0]]).apps
    OldObjection = old_apps.get_model("applications", "Objection")
    OldObjection.objects.create(
        notice_id=old_apps.get_model("applications", "Notice").objects.order_by("pk")[0].pk,
        application_id=application.pk,
        text="旧版本中提交的异议",
        received_at=timezone.now(),
        status="open",
    )
    before = {table: _count(table) for table in MOVED_TABLES}
    assert before == {
        "applications_notice": 2,
        "applications_objection": 2,
        "applications_review": 1,
        "applications_historicalreview": 2,
    }
    assert ContentType.objects.filter(app_label="applications", model="review").exists()
    review_type = ContentType.objects.get(app_label="applications", model="review")
    permissions = set(Permission.objects.filter(content_type=review_type).values_list("pk"))
    assert permissions  # add/change/delete/view
    assert AuditEvent.objects.filter(object_type="applications.review").exists()
    assert PeriodicTask.objects.filter(task="applications.tasks.nightly").exists()

    executor = MigrationExecutor(connection)
    executor.migrate(executor.loader.graph.leaf_nodes())

    assert {MOVED_TABLES[t]: n for t, n in before.items()} == {
        t: _count(t) for t in MOVED_TABLES.values()
    }
    assert not set(MOVED_TABLES) & _tables()
    for (table, column), target in FOREIGN_KEYS.items():
        assert _foreign_keys(table).get(column) == target, (table, column)
    # Every row still joins up through the ORM of the new layout.
    assert Notice.objects.filter(application=application).count() == 1
    assert Notice.objects.get(review=review).review.entitlement.household.head.name == "李四"
    assert application.objections.count() == 2
    assert (
        Objection.objects.filter(text="旧版本中提交的异议").get().notice.application == application
    )
    assert Review.history.filter(id=review.pk).count() == 2
    # The database still refuses a dangling reference.
    with pytest.raises(IntegrityError), transaction.atomic():
        Objection.objects.create(notice_id=10**9, text="x")
    # What named the models outside their tables follows them.
    moved_type = ContentType.objects.get(app_label="recertification", model="review")
    assert moved_type.pk == review_type.pk
    assert set(Permission.objects.filter(content_type=moved_type).values_list("pk")) == permissions
    assert not ContentType.objects.filter(app_label="applications", model__in=["notice", "review"])
    assert not AuditEvent.objects.filter(object_type__startswith="applications.review").exists()
    assert AuditEvent.objects.filter(object_type="recertification.review").exists()
    assert PeriodicTask.objects.filter(task="recertification.tasks.nightly").exists()
    assert not PeriodicTask.objects.filter(task="applications.tasks.nightly").exists()


# --- One open case per household and programme (applications 0019) --------------------------

BEFORE_ONE_OPEN = [("applications", "0018_material_required"), ("notices", "0001_initial")]


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_duplicate_open_cases_are_withdrawn_keeping_the_one_furthest_along(cast, tree):
    """Concurrent intakes had opened the same case more than once, some with a notice up. The
    upgrade keeps the case furthest along (the oldest among equals), for a household's own
    cases and for a member's alone; the others are withdrawn, their notices come down and their
    objections are closed, so the constraints can be added."""
    if connection.vendor != "postgresql":
        pytest.skip("the migration is checked on PostgreSQL (CI runs it)")
    household = make_household(cast["clerk"], tree.village, members=[member_data()])
    (first,) = intake.application_intake(
        actor=cast["clerk"],
        household=household,
        programmes=["dibao"],
        referrals=[],
        channel="window",
        materials_received={"id_card", "hukou_book", "income_proof", "authorisation", "pledge"},
    ).applications
    member = household.head
    executor = MigrationExecutor(connection)
    try:
        executor.migrate(BEFORE_ONE_OPEN)
        old = executor.loader.project_state(BEFORE_ONE_OPEN).apps
        Old = old.get_model("applications", "Application")
        OldNotice = old.get_model("notices", "Notice")
        OldObjection = old.get_model("notices", "Objection")

        def copy(status, n, minutes, **fields):
            case = Old.objects.get(pk=first.pk)
            case.pk = case.id = None
            case.number = f"{first.number[:-5]}9{n:04d}"
            case.status = status
            case.received_at = first.received_at + dt.timedelta(minutes=minutes)
            for name, value in fields.items():
                setattr(case, name, value)
            case.save()
            return case

        def noticed(case):
            notice = OldNotice.objects.create(
                application_id=case.pk,
                kind="approval",
                status="open",
                starts_on=dt.date(2026, 11, 20),
                ends_on=dt.date(2026, 11, 27),
                village_code=tree.village.code,
                masked_name="张*",
                household_size=1,
                programme="dibao",
                amount=Decimal("300.00"),
            )
            OldObjection.objects.create(
                notice_id=notice.pk,
                application_id=case.pk,
                text="他家有车",
                received_at=timezone.now(),
                status="open",
            )
            return notice

        kept = copy("noticed", 1, 10)
        later = copy("noticed", 2, 20)
        kept_notice, later_notice = noticed(kept), noticed(later)
        alone = copy("investigating", 3, 30, single_member_id=member.pk)
        alone_again = copy("received", 4, 40, single_member_id=member.pk)

        executor = MigrationExecutor(connection)
        executor.migrate(executor.loader.graph.leaf_nodes())
    finally:
        executor = MigrationExecutor(connection)
        executor.migrate(executor.loader.graph.leaf_nodes())

    from applications.models import Application

    status = dict(Application.objects.values_list("pk", "status"))
    assert status[kept.pk] == "noticed" and status[alone.pk] == "investigating"
    assert {status[first.pk], status[later.pk], status[alone_again.pk]} == {"withdrawn"}
    assert Notice.objects.get(pk=kept_notice.pk).status == "open"
    assert Notice.objects.get(pk=later_notice.pk).status == "withdrawn"
    assert Objection.objects.get(notice_id=kept_notice.pk).status == "open"
    assert Objection.objects.get(notice_id=later_notice.pk).status == "resolved"
    withdrawn = AuditEvent.objects.filter(case_key=f"application:{later.pk}", to_state="withdrawn")
    assert withdrawn.get().from_state == "noticed"
