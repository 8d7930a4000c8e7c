"""Faults (issue 17, 等保 level 3): a worker killed mid-task runs the task again with the same
result; with Redis down the clerks' pages still answer and queued work is sent once it is
back; a database connection dropped in the middle of a service leaves nothing half-written."""

import datetime as dt
import os
import signal
import socket
import time
from contextlib import contextmanager, suppress

import psycopg2
import pytest
from django.core.files.storage import default_storage
from django.db import Error, InterfaceError, OperationalError, connection, connections
from django.test import override_settings
from django.urls import reverse
from django.utils import timezone

from applications import services as applications
from applications.models import Application, ApplicationMaterial
from chongqing_relief.celery import app as celery_app
from chongqing_relief.requeue import WAITING_FOR
from chongqing_relief.tasks import queued_work_resend
from core.jobs import BACKGROUND_UNREACHABLE, queue, run_job
from core.models import AuditEvent, JobRun, Sequence
from eligibility import verification
from eligibility.models import VerificationFinding, VerificationRun
from payments import generation, tasks
from payments import services as payments
from payments.models import Payroll, PayrollLine
from reports import services as reports
from reports.models import Export

from . import workers
from .factories import TEST_PASSWORD, make_household, make_id, member_data
from .test_payments import JAN, entitle, household

# --- What a clean run makes -------------------------------------------------------------------


def _requested(cast, tree) -> Payroll:
    """Three families to pay in January, one without a bank account (its line is held)."""
    entitle(cast, household(cast, tree, 301))
    entitle(cast, household(cast, tree, 302, bank_account_number=""))
    entitle(cast, household(cast, tree, 303), amount="420.00")
    return payments.payroll_request(
        actor=cast["finance"], district=tree.yuzhong, programme="dibao", month=JAN
    )


def _outcome(payroll: Payroll) -> tuple:
    """All a payroll run decides: its state, totals, lines, and the one event saying so."""
    payroll.refresh_from_db()
    lines = PayrollLine.objects.filter(payroll=payroll).order_by("entitlement_id", "kind")
    drafted = AuditEvent.objects.filter(
        object_type="payments.payroll", object_id=str(payroll.pk), to_state="draft"
    )
    return (
        payroll.status,
        payroll.line_count,
        payroll.total_amount,
        list(lines.values_list("entitlement_id", "kind", "amount", "status", "hold_reason")),
        drafted.count(),
    )


def _clean_run(cast, tree, payroll: Payroll) -> tuple:
    """The same month generated from scratch in one go, after cancelling ``payroll``."""
    payments.payroll_cancel(actor=cast["finance"], payroll=payroll, reason="对照")
    again = payments.payroll_request(
        actor=cast["finance"], district=tree.yuzhong, programme="dibao", month=JAN
    )
    return _outcome(payments.payroll_generate(payroll_id=again.pk))


# --- Work cut short is finished by the next delivery --------------------------------------------


def test_a_payroll_cut_short_after_its_first_step_is_finished_by_the_next_delivery(cast, tree):
    payroll = _requested(cast, tree)
    # The worker made the month's lines and died before holding back the unpayable one.
    generation._regular_lines(payroll)
    Payroll.objects.filter(pk=payroll.pk).update(progress=16)
    payments.payroll_generate(payroll_id=payroll.pk)  # the re-delivered task
    finished = _outcome(payroll)
    assert finished[0] == "draft" and finished[1] == 3 and finished[4] == 1
    assert [line[3] for line in finished[3]].count("held") == 1
    payments.payroll_generate(payroll_id=payroll.pk)  # and once more: nothing changes
    assert _outcome(payroll) == finished == _clean_run(cast, tree, payroll)


def test_an_export_cut_short_is_written_again_and_leaves_one_file(cast, tree, settings):
    entitle(cast, household(cast, tree, 311))
    export = reports.export_request(
        actor=cast["auditor"], register="entitlements", fmt="csv", region=tree.yuzhong
    )
    # The worker had saved its file and died before recording it.
    folder = settings.MEDIA_ROOT / "exports"
    folder.mkdir(parents=True)
    (folder / f"{export.pk}-entitlements.csv").write_bytes(b"half")
    Export.objects.filter(pk=export.pk).update(status=Export.Status.RUNNING)
    export = reports.export_run(export_id=export.pk)
    assert export.status == "done" and export.rows == 1
    assert [p.name for p in folder.iterdir()] == [f"{export.pk}-entitlements.csv"]
    with default_storage.open(export.path, "rb") as handle:  # sealed on disk, read plain
        assert handle.read().count(b"\n") == 2


def test_a_verification_run_cut_short_is_run_again_without_doubled_findings(cast, tree):
    home = make_household(cast["clerk"], tree.village, members=[member_data(id_number=make_id())])
    verification.shared_import_create(
        actor=cast["city_admin"],
        source="vehicle",
        uploaded_file=_csv(f"身份证号,车辆类型,号牌,价值\n{make_id()},car,渝A12345,30000\n"),
    )
    run = verification.verification_run_start(
        actor=cast["district_approver"], region_code=tree.yuzhong.code
    )
    # The worker wrote its first batch's findings and died.
    VerificationRun.objects.filter(pk=run.pk).update(status=VerificationRun.Status.RUNNING)
    source, today = verification.FileImportData(), timezone.localdate()
    verification._check_batch(run, [home.pk], source, verification._policy_cache(today))
    verification.verification_run_execute(run_id=run.pk)
    run.refresh_from_db()
    assert run.status == "done" and run.household_count == 1
    assert run.finding_count == VerificationFinding.objects.filter(run=run).count() == 1


def _csv(text: str):
    from django.core.files.uploadedfile import SimpleUploadedFile

    return SimpleUploadedFile("data.csv", text.encode("utf-8-sig"), content_type="text/csv")


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_a_job_whose_worker_died_runs_again_at_once(db):
    """PostgreSQL knows the run's holder is gone with its connection: the next run does not
    wait the half hour after which a silent run counts as dead."""
    import threading

    if connection.vendor != "postgresql":
        pytest.skip("needs PostgreSQL's advisory locks (CI runs it)")
    started, backend = threading.Event(), []

    def dies_midway():
        try:
            with connection.cursor() as cursor:
                cursor.execute("SELECT pg_backend_pid()")
                backend.append(cursor.fetchone()[0])
            started.set()
            time.sleep(3)  # its connection is cut meanwhile
            return {"n": JobRun.objects.count()}
        finally:
            started.set()

    def worker():
        try:
            run_job("statistics_refresh", dies_midway, raise_errors=False)
        except Error:
            pass  # its connection was cut: it cannot even record its failure
        finally:
            connections.close_all()

    thread = threading.Thread(target=worker)
    thread.start()
    started.wait(30)
    assert run_job("statistics_refresh", lambda: {"n": 1}).status == "skipped"  # alive: held
    _terminate(backend[0])
    thread.join(30)
    assert run_job("statistics_refresh", lambda: {"n": 1}).status == "done"
    died = JobRun.objects.get(job="statistics_refresh", status="failed")
    assert "the worker died" in died.error


# --- A real worker killed mid-task (PostgreSQL and Redis) ---------------------------------------

PAUSING_WORKER = (
    "worker",
    "--pool=prefork",
    "--concurrency=1",
    "--without-gossip",
    "--without-mingle",
    "-l",
    "INFO",
    "-I",
    "tests.fault_hooks",  # the first generation stops at its second step until killed
)


@pytest.fixture
def broker_sending(monkeypatch):
    """This process sends to the real broker (the tests otherwise run tasks eagerly)."""
    workers.skip_without_postgres_and_redis()
    monkeypatch.setitem(celery_app.conf, "task_always_eager", False)


def _wait_for(condition, what: str, process, seconds: float = 90):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        if process.poll() is not None:
            break
        time.sleep(0.3)
    pytest.fail(f"{what} did not happen:\n{workers.stop(process)}")


def _paused_pid(directory):
    paused = directory / "paused"
    return paused.exists() and paused.read_text().strip().isdigit() and int(paused.read_text())


def _generated(payroll) -> bool:
    return Payroll.objects.filter(pk=payroll.pk, status=Payroll.Status.DRAFT).exists()


def _stopped_midway(payroll) -> None:
    """The kill came after the month's lines were made, before the unpayable one was held."""
    payroll.refresh_from_db()
    assert payroll.status == "generating"
    assert PayrollLine.objects.filter(payroll=payroll).count() == 3
    assert not PayrollLine.objects.filter(payroll=payroll, status="held").exists()


@pytest.mark.celery
@pytest.mark.postgres
@pytest.mark.xdist_group("broker")
@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_a_worker_process_killed_mid_task_runs_it_again_to_the_same_end(
    cast, tree, broker_sending, tmp_path
):
    """The OOM killer takes the pool process running the task: the worker sends the task
    again (task_retry_on_worker_lost) and a new pool process finishes it."""
    env = workers.environment(
        os.environ["CELERY_BROKER_URL"],
        FAULT_DIR=str(tmp_path),
        CELERY_WORKER_LOST_RETRY_SECONDS="1",
    )
    payroll = _requested(cast, tree)
    worker = workers.start(env, *PAUSING_WORKER)
    try:
        assert queue(tasks.payroll_generate, payroll.pk)
        pid = _wait_for(lambda: _paused_pid(tmp_path), "the generation's pause", worker)
        _stopped_midway(payroll)
        os.kill(pid, signal.SIGKILL)
        _wait_for(lambda: _generated(payroll), "the generation run again", worker)
    finally:
        logs = workers.stop(worker)
    entered = (tmp_path / "entered").read_text().split()
    assert len(entered) == 2 and entered[0] == str(pid) != entered[1], logs
    faulty = _outcome(payroll)
    assert faulty == _clean_run(cast, tree, payroll), logs


@pytest.mark.celery
@pytest.mark.postgres
@pytest.mark.xdist_group("broker")
@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_a_whole_worker_killed_mid_task_leaves_it_to_the_next_worker(
    cast, tree, broker_sending, tmp_path
):
    """The machine goes down with the worker: the message was never acknowledged, and the
    worker started next takes it again once its visibility timeout is over."""
    env = workers.environment(os.environ["CELERY_BROKER_URL"], FAULT_DIR=str(tmp_path))
    payroll = _requested(cast, tree)
    first = workers.start(env, *PAUSING_WORKER)
    try:
        assert queue(tasks.payroll_generate, payroll.pk)
        _wait_for(lambda: _paused_pid(tmp_path), "the generation's pause", first)
        _stopped_midway(payroll)
    finally:
        with suppress(ProcessLookupError):
            os.killpg(first.pid, signal.SIGKILL)  # the worker and its pool, at once
        first.wait(timeout=30)
    # Its lock went with its database connection; its message waits for the timeout.
    assert Payroll.objects.get(pk=payroll.pk).status == "generating"
    second = workers.start(
        {**env, "CELERY_VISIBILITY_TIMEOUT": "1", "CELERY_UNACKED_RESTORE_SECONDS": "1"},
        *PAUSING_WORKER,
    )
    try:
        _wait_for(lambda: _generated(payroll), "the generation run again", second)
    finally:
        logs = workers.stop(second)
    assert len((tmp_path / "entered").read_text().split()) == 2, logs
    assert _outcome(payroll) == _clean_run(cast, tree, payroll), logs


# --- Redis down --------------------------------------------------------------------------------


def _closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@contextmanager
def redis_down(monkeypatch):
    """Cache and broker on a port nobody listens on, as when Redis has stopped."""
    url = f"redis://127.0.0.1:{_closed_port()}/0"
    cache = {"BACKEND": "core.cache.FailOpenRedisCache", "LOCATION": url}
    with monkeypatch.context() as patch, override_settings(CACHES={"default": cache}):
        patch.setitem(celery_app.conf, "task_always_eager", False)
        patch.setenv("CELERY_BROKER_URL", url)  # Celery reads it before its settings
        patch.setitem(celery_app.conf, "broker_url", url)
        patch.setattr(celery_app.amqp, "_producer_pool", None)
        yield


def test_with_redis_down_a_clerk_logs_in_finds_a_household_and_takes_an_application(
    client, cast, tree, monkeypatch
):
    from .test_applications import ALL_MATERIALS

    home = make_household(cast["clerk"], tree.village, members=[member_data(id_number=make_id())])
    with redis_down(monkeypatch):
        assert client.get(reverse("accounts:login")).status_code == 200
        login = client.post(
            reverse("accounts:login"), {"username": "clerk", "password": TEST_PASSWORD}
        )
        assert login.status_code == 302
        assert client.get(reverse("workbench:home")).status_code == 200
        assert client.get(reverse("beneficiaries:search")).status_code == 200
        assert client.get(reverse("beneficiaries:detail", args=[home.pk])).status_code == 200
        intake_url = reverse("applications:intake", args=[home.pk])
        assert client.get(intake_url).status_code == 200
        taken = client.post(
            intake_url,
            {"programmes": ["dibao"], "channel": "window", "materials": sorted(ALL_MATERIALS)},
        )
        assert taken.status_code == 302
        assert Application.objects.filter(household=home).count() == 1


def test_with_redis_down_repeated_wrong_passwords_still_lock_the_login(client, cast, monkeypatch):
    """The lockout is counted in the database (django-axes' database handler), not in Redis;
    the API token's throttle, counted in the cache, lets a right password through."""
    url = reverse("accounts:login")
    with redis_down(monkeypatch):
        token = client.post(
            "/api/v1/auth/token/",
            {"username": "clerk", "password": TEST_PASSWORD},
            content_type="application/json",
        )
        assert token.status_code == 200
        codes = [
            client.post(url, {"username": "clerk", "password": "wrong"}).status_code
            for _ in range(5)
        ]
        locked = client.post(url, {"username": "clerk", "password": TEST_PASSWORD})
    assert codes == [200, 200, 200, 200, 429] and locked.status_code == 429


def test_with_redis_down_public_pages_answer_and_lookups_are_refused(
    client, cast, tree, monkeypatch, caplog
):
    """Pages are computed without their cache; a lookup limit that cannot be counted refuses
    rather than lets an ID-number search run uncounted."""
    from notices.services import public_changed

    with redis_down(monkeypatch):
        assert client.get("/gongshi/").status_code == 200
        public_changed()  # a clerk's change to what the public sees does not fail on it
        page = client.post(
            "/chaxun/progress/", {"receipt_number": "500103001-2026-00001", "id_tail": "12345X"}
        )
    assert page.status_code == 200 and "请一小时后再试" in page.content.decode()
    assert AuditEvent.objects.get(action="view", actor=None).reason.endswith("127.0.0.1")
    assert "not counted, attempt refused" in caplog.text


def test_with_the_broker_down_requested_work_waits_and_is_sent_when_it_is_back(
    client, cast, tree, monkeypatch, django_capture_on_commit_callbacks, caplog
):
    entitle(cast, household(cast, tree, 321))
    client.force_login(cast["auditor"])
    with redis_down(monkeypatch):
        with django_capture_on_commit_callbacks(execute=True):
            asked = client.post(
                reverse("reports:exports"),
                {"register": "entitlements", "format": "csv", "region": tree.yuzhong.pk},
            )
        client.force_login(cast["city_admin"])
        month = timezone.localdate().strftime("%Y-%m")
        refused = client.post(reverse("recertification:recalculate"), {"month": month})
    # The export is asked for and recorded; its task could not be sent.
    export = Export.objects.get()
    assert asked.status_code == 302 and export.status == "queued"
    assert f"reports.tasks.export_run({export.pk},) not queued now" in caplog.text
    # A recalculation keeps no record to send later: the city admin is told to try again.
    assert str(BACKGROUND_UNREACHABLE) in _messages(refused) and not JobRun.objects.exists()
    # Redis is back: the next resend run sends what has waited long enough.
    queued_work_resend()
    assert Export.objects.get().status == "queued"  # too young: it may be in the queue still
    Export.objects.update(created_at=timezone.now() - WAITING_FOR - dt.timedelta(minutes=1))
    queued_work_resend()
    export.refresh_from_db()
    assert export.status == "done" and export.rows == 1
    resent = JobRun.objects.filter(job="queued_work_resend", status="done").latest("id")
    assert resent.counts["exports"] == 1


def _messages(response) -> list[str]:
    from django.contrib.messages import get_messages

    return [str(m) for m in get_messages(response.wsgi_request)]


# --- A database connection dropped mid-service (PostgreSQL) ------------------------------------


def _terminate(backend_pid: int) -> None:
    """Cut a connection from the server's side, as a network failure or a restart would."""
    params = connection.settings_dict
    killer = psycopg2.connect(
        dbname=params["NAME"],
        user=params.get("USER") or "postgres",
        password=params.get("PASSWORD") or None,
        host=params.get("HOST") or "127.0.0.1",
        port=params.get("PORT") or 5432,
    )
    try:
        with killer.cursor() as cursor:
            cursor.execute("SELECT pg_terminate_backend(%s)", [backend_pid])
    finally:
        killer.close()


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_a_connection_dropped_mid_intake_leaves_nothing_written(cast, tree, monkeypatch):
    from core.services import calendar_seed_from_package

    if connection.vendor != "postgresql":
        pytest.skip("needs PostgreSQL (CI runs it)")
    calendar_seed_from_package()
    home = make_household(cast["clerk"], tree.village, members=[member_data(id_number=make_id())])
    events_before = AuditEvent.objects.count()
    write_application = applications._application
    written = []

    def cut_before_the_second(*args, **kwargs):
        if written:  # the first application, its materials and its event are written
            with connection.cursor() as cursor:
                cursor.execute("SELECT pg_backend_pid()")
                _terminate(cursor.fetchone()[0])
        written.append(write_application(*args, **kwargs))
        return written[-1]

    monkeypatch.setattr(applications, "_application", cut_before_the_second)
    with pytest.raises((OperationalError, InterfaceError)):
        _intake(cast, home)
    assert len(written) == 1  # it was cut in the middle
    connection.close()  # as the end of the request does
    assert not Application.objects.filter(household=home).exists()
    assert not ApplicationMaterial.objects.exists()
    assert AuditEvent.objects.count() == events_before
    assert not Sequence.objects.filter(name__startswith="receipt:").exists()
    monkeypatch.undo()
    # Done again, it takes the first receipt number: the dropped one took none.
    first, second = _intake(cast, home).applications
    assert first.number.endswith("-00001") and second.number.endswith("-00002")


def _intake(cast, home):
    from .test_applications import ALL_MATERIALS

    return applications.application_intake(
        actor=cast["clerk"],
        household=home,
        programmes=["dibao", "temporary"],
        referrals=[],
        channel="window",
        materials_received=set(ALL_MATERIALS),
    )
