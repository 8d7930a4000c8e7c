"""Reports on a read replica (issue 18): with ``DATABASE_REPLICA_URL`` set, the statistics
return, the dashboard, the indicators and the exports read from the ``replica`` database, and
everything else, every write above all, from the primary.

The ``replica`` alias here is a second connection to the test database (TEST MIRROR,
tests/conftest.py), so each test sees which connection ran each statement. The tests commit
(``transaction=True``): a second connection cannot see a test's uncommitted rows."""

import csv
import datetime as dt
import io
import logging
import re
from contextlib import contextmanager
from decimal import Decimal

import pytest
from django.core.files.storage import default_storage
from django.db import DEFAULT_DB_ALIAS, connections
from django.utils import timezone

from applications.services import application_intake
from beneficiaries.models import Entitlement, Household
from beneficiaries.services import household_update
from core import dbrouters
from core.audit import audit_record
from core.dbrouters import REPLICA, ReplicaRouter, reading_from_replica
from core.models import AuditEvent
from payments import services as payments
from reports import statistics
from reports.models import Export

from .factories import make_household, make_id, member_data
from .test_settings import PROD, load_settings

pytestmark = pytest.mark.django_db(
    transaction=True, serialized_rollback=True, databases=[DEFAULT_DB_ALIAS, REPLICA]
)

JAN = dt.date(2027, 1, 1)
ROUTER = "core.dbrouters.ReplicaRouter"


@pytest.fixture
def replica(settings, monkeypatch):
    """Reports read from the replica, which answers (no failure remembered from another test)."""
    settings.DATABASE_ROUTERS = [ROUTER]
    monkeypatch.setattr(dbrouters, "_down_until", 0.0)
    yield
    connections[REPLICA].close()


@contextmanager
def statements():
    """The SQL each connection ran in the block: {"default": [...], "replica": [...]}."""
    seen = {DEFAULT_DB_ALIAS: [], REPLICA: []}

    def recorder(alias):
        def record(execute, sql, params, many, context):
            seen[alias].append(sql)
            return execute(sql, params, many, context)

        return record

    with (
        connections[DEFAULT_DB_ALIAS].execute_wrapper(recorder(DEFAULT_DB_ALIAS)),
        connections[REPLICA].execute_wrapper(recorder(REPLICA)),
    ):
        yield seen


def tables(sql_list, verb="SELECT") -> set[str]:
    """The tables the statements of one kind read from or write to."""
    found = set()
    for sql in sql_list:
        if sql.lstrip().upper().startswith(verb):
            found |= set(re.findall(r'(?:FROM|JOIN|INTO|UPDATE)\s+"(\w+)"', sql))
    return found


def writes(sql_list) -> list[str]:
    return [s for s in sql_list if s.lstrip().split(None, 1)[0].upper() != "SELECT"]


@pytest.fixture
def paid(cast, tree):
    """One urban 低保 household of 600 a month, paid in January 2027, the month's figures
    computed."""
    home = make_household(
        cast["clerk"], tree.village, members=[member_data("王一", id_number=make_id(seq=11))]
    )
    Entitlement.objects.create(
        household=home,
        programme="dibao",
        monthly_amount=Decimal("600.00"),
        klass="A",
        start_month=JAN,
        next_review=dt.date(2027, 12, 1),
        source="500103001-2027-00001",
        approved_at=timezone.now(),
        approved_by=cast["district_approver"],
    )
    payroll = payments.payroll_request(
        actor=cast["finance"], district=tree.yuzhong, programme="dibao", month=JAN
    )
    payroll = payments.payroll_generate(payroll_id=payroll.pk)
    payments.payroll_approve(
        actor=cast["district_approver"], payroll=payroll, override_reason="测试"
    )
    statistics.compute(month=JAN)
    return home


# The tables the login, the session and the second factor read before a view runs: the only
# reads of a report page left on the primary.
REQUEST_TABLES = {"django_session", "accounts_user", "otp_totp_totpdevice"}


@pytest.mark.parametrize(
    ("url", "query", "report_table", "shown"),
    [
        ("/reports/statistics/", {"month": "2027-01"}, "reports_monthlyfigure", "600.00"),
        ("/reports/dashboard/", {"month": "2027-01"}, "reports_monthlyfigure", "600"),
        ("/reports/indicators/", {"year": "2027"}, "applications_application", "渝中区"),
        (
            "/api/v1/reports/statistics/",
            {"month": "2027-01"},
            "reports_monthlyfigure",
            '"amount":600.0,',
        ),
    ],
)
def test_report_pages_read_from_the_replica(
    client, cast, paid, replica, url, query, report_table, shown
):
    client.force_login(cast["auditor"])
    with statements() as seen:
        response = client.get(url, query)
    assert response.status_code == 200
    assert shown in response.content.decode()
    assert report_table in tables(seen[REPLICA])
    assert writes(seen[REPLICA]) == []
    assert tables(seen[DEFAULT_DB_ALIAS]) <= REQUEST_TABLES, seen[DEFAULT_DB_ALIAS]


def test_the_report_pages_say_they_may_be_a_few_seconds_behind(client, cast, paid, settings):
    client.force_login(cast["auditor"])
    assert b"replica-note" not in client.get("/reports/statistics/").content
    settings.DATABASE_ROUTERS = [ROUTER]
    assert b"replica-note" in client.get("/reports/statistics/").content


def test_without_a_replica_every_query_goes_to_the_primary(client, cast, paid):
    """DATABASE_REPLICA_URL unset: no router, the reports read from the primary as before."""
    client.force_login(cast["auditor"])
    with statements() as seen:
        response = client.get("/reports/statistics/", {"month": "2027-01"})
    assert response.status_code == 200 and "600.00" in response.content.decode()
    assert seen[REPLICA] == []
    assert "reports_monthlyfigure" in tables(seen[DEFAULT_DB_ALIAS])


def test_an_export_reads_its_rows_from_the_replica_and_writes_its_records_to_the_primary(
    client, cast, tree, paid, replica
):
    """The Celery task (eager here) streams the register from the replica; the export's record,
    its progress and the audit events of who exported what are written to the primary."""
    client.force_login(cast["auditor"])
    body = {"register": "entitlements", "format": "csv", "region": tree.yuzhong.code}
    with statements() as seen:
        response = client.post("/api/v1/exports/", body, content_type="application/json")
    assert response.status_code == 202
    export = Export.objects.get(pk=response.json()["id"])
    assert (export.status, export.rows) == (Export.Status.DONE, 1)
    with default_storage.open(export.path, "rb") as handle:
        rows = list(csv.reader(io.StringIO(handle.read().decode("utf-8-sig"))))
    assert paid.number in rows[1]

    assert "beneficiaries_entitlement" in tables(seen[REPLICA])
    assert writes(seen[REPLICA]) == []
    assert "beneficiaries_entitlement" not in tables(seen[DEFAULT_DB_ALIAS])
    assert {"reports_export", "core_auditevent"} <= tables(seen[DEFAULT_DB_ALIAS], "INSERT")
    assert "reports_export" in tables(seen[DEFAULT_DB_ALIAS], "UPDATE")
    logged = AuditEvent.objects.filter(object_type="reports.export", object_id=str(export.pk))
    assert logged.count() == 2  # asked for, then written


def test_writes_go_to_the_primary_even_inside_a_report(cast, tree, replica):
    """A household saved, an application taken and an audit event written while reading from
    the replica: every statement on the primary, the reads inside their transactions too (every
    write is a service's transaction; a bare ``save()`` here would read its history record,
    for the audit log, from the replica)."""
    with statements() as seen, reading_from_replica():
        home = make_household(
            cast["clerk"], tree.village, members=[member_data("李二", id_number=make_id(seq=21))]
        )
        members = [{"id": m.pk} for m in home.members.using(DEFAULT_DB_ALIAS)]  # just written
        household_update(
            actor=cast["clerk"],
            household=home,
            expected_version=home.version,
            region=home.region,
            fields={"address": "渝中区解放碑街道民族路2号"},
            members=members,
        )
        Household.objects.filter(pk=home.pk).update(marginal=True)
        application_intake(
            actor=cast["clerk"],
            household=home,
            programmes=["dibao"],
            referrals=[],
            channel="window",
            materials_received={"id_card", "hukou_book", "authorisation", "pledge"},
        )
        audit_record(actor=cast["auditor"], action=AuditEvent.Action.VIEW, obj=home)
    assert seen[REPLICA] == []
    assert {
        "beneficiaries_household",
        "beneficiaries_member",
        "applications_application",
        "core_auditevent",
    } <= tables(seen[DEFAULT_DB_ALIAS], "INSERT")
    assert "beneficiaries_household" in tables(seen[DEFAULT_DB_ALIAS], "UPDATE")
    home = Household.objects.get(pk=home.pk)
    assert (home.address, home.marginal) == ("渝中区解放碑街道民族路2号", True)


def test_outside_a_report_even_rows_a_report_loaded_are_read_from_the_primary(paid, replica):
    with statements() as seen:
        with reading_from_replica():
            home = Household.objects.get(pk=paid.pk)
        village = home.region  # read after the report: the primary's
    assert home._state.db == REPLICA
    assert tables(seen[REPLICA]) == {"beneficiaries_household"}
    assert tables(seen[DEFAULT_DB_ALIAS]) == {"regions_region"}
    assert village.pk == paid.region_id


def test_an_unreachable_replica_leaves_the_reports_on_the_primary(
    client, cast, paid, replica, monkeypatch, tmp_path, caplog
):
    down = connections[REPLICA]
    if down.vendor == "postgresql":
        monkeypatch.setitem(down.settings_dict, "HOST", "127.0.0.1")
        monkeypatch.setitem(down.settings_dict, "PORT", "1")  # nothing listens: refused
    else:
        monkeypatch.setitem(down.settings_dict, "NAME", str(tmp_path / "gone" / "db.sqlite3"))
    down.close()  # after: SQLite keeps an in-memory database's connection open
    client.force_login(cast["auditor"])
    with caplog.at_level(logging.WARNING, logger="core.dbrouters"), statements() as seen:
        response = client.get("/reports/statistics/", {"month": "2027-01"})
        again = client.get("/reports/dashboard/", {"month": "2027-01"})
    assert response.status_code == again.status_code == 200
    assert "600.00" in response.content.decode()
    assert "reports_monthlyfigure" in tables(seen[DEFAULT_DB_ALIAS])
    assert seen[REPLICA] == []
    # One warning: the second report did not wait for the replica again.
    warnings = [r.getMessage() for r in caplog.records if r.name == "core.dbrouters"]
    assert len(warnings) == 1 and "read replica unreachable" in warnings[0]

    # Back, and the pause over: the reports read from it again.
    monkeypatch.undo()
    down.close()
    monkeypatch.setattr(dbrouters, "_down_until", 0.0)
    with statements() as seen:
        assert client.get("/reports/statistics/", {"month": "2027-01"}).status_code == 200
    assert "reports_monthlyfigure" in tables(seen[REPLICA])


@pytest.mark.django_db(databases=[])
def test_migrations_run_on_the_primary_only():
    router = ReplicaRouter()
    assert router.allow_migrate(DEFAULT_DB_ALIAS, "beneficiaries") is True
    assert router.allow_migrate(REPLICA, "beneficiaries") is False
    assert router.db_for_write(Household) == DEFAULT_DB_ALIAS


SHOW = (
    "import django; django.setup(); from django.conf import settings; "
    "r = settings.DATABASES.get('replica'); "
    "print(settings.DATABASE_ROUTERS, r and (r['HOST'], r['NAME'], r['TEST']['MIRROR']))"
)


@pytest.mark.django_db(databases=[])
def test_the_replica_is_configured_from_its_url_only():
    standby = {**PROD, "DATABASE_REPLICA_URL": "postgres://reader@standby.example:5432/relief"}
    result = load_settings(standby, "-c", SHOW)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == (f"['{ROUTER}'] ('standby.example', 'relief', 'default')")
    result = load_settings({**PROD, "DATABASE_REPLICA_URL": ""}, "-c", SHOW)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "[] None"  # as before: no second database, no router


@pytest.mark.django_db(databases=[])
@pytest.mark.parametrize(
    ("env", "message"),
    [
        ({"DATABASE_REPLICA_URL": "postgres://reader@standby.example/relief"}, "PostgreSQL"),
        ({**PROD, "DATABASE_REPLICA_URL": "sqlite:///var/copy.sqlite3"}, "PostgreSQL"),
        ({**PROD, "DATABASE_REPLICA_URL": "nonsense://x"}, "not a valid database URL"),
    ],
)
def test_a_replica_that_cannot_be_one_is_refused(env, message):
    result = load_settings(env)
    assert result.returncode != 0
    assert "DATABASE_REPLICA_URL" in result.stderr and message in result.stderr
