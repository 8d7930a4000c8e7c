"""The one-stop window (一门受理): one visit, several kinds of help; receipts; missing
materials; referrals with working-day due dates."""

import datetime as dt
import threading

import pytest
from django.db import connection, connections
from django.urls import reverse
from django.utils import timezone

from applications import services
from applications.models import Application, Referral
from core.exceptions import ConflictError, OutOfScopeError, ValidationFailed
from core.models import AuditEvent
from core.services import calendar_seed_from_package

from .factories import make_household, make_id, member_data

ALL_MATERIALS = {
    "id_card",
    "hukou_book",
    "authorisation",
    "pledge",
    "income_proof",
    "medical_bills",
}
# 2025-09-30 (Tuesday), the day before the National Day holiday (10-01 to 10-08).
BEFORE_HOLIDAY = timezone.make_aware(dt.datetime(2025, 9, 30, 10, 0))


@pytest.fixture
def household(cast, tree):
    calendar_seed_from_package()
    return make_household(cast["clerk"], tree.village, members=[member_data()])


def intake(
    cast,
    household,
    programmes=("dibao",),
    referrals=(),
    materials=ALL_MATERIALS,
    now=BEFORE_HOLIDAY,
    who="clerk",
):
    return services.application_intake(
        actor=cast[who],
        household=household,
        programmes=list(programmes),
        referrals=list(referrals),
        channel="window",
        materials_received=set(materials),
        now=now,
    )


def test_one_visit_creates_applications_and_referrals_with_due_dates_across_a_holiday(
    cast, household
):
    result = intake(
        cast, household, programmes=["dibao", "temporary"], referrals=["medical", "education"]
    )
    dibao, temporary = result.applications
    assert (dibao.programme, temporary.programme) == ("dibao", "temporary")
    assert dibao.number == "500103001-2025-00001" and temporary.number == "500103001-2025-00002"
    assert {r.kind for r in result.referrals} == {"medical", "education"}
    # 10 working days from 09-30: 10-09, 10-10, 10-11 (adjusted Saturday), 10-13 … 10-17,
    # 10-20, 10-21 → 2025-10-21; the eight holiday days do not count.
    assert {r.due for r in result.referrals} == {dt.date(2025, 10, 21)}
    assert (
        result.referrals[0].department.name == "区县医疗保障局"
        or result.referrals[1].department.name == "区县医疗保障局"
    )
    # 30 working days for the decision
    assert dibao.decision_due == dt.date(2025, 11, 18)
    assert all(a.status == "received" for a in result.applications)
    assert AuditEvent.objects.filter(action="transition", to_state="received").count() == 2


def test_missing_materials_round_trip(client, cast, household):
    (application,) = intake(
        cast, household, materials=ALL_MATERIALS - {"income_proof", "pledge"}
    ).applications
    assert application.status == Application.Status.NEEDS_MATERIALS
    client.force_login(cast["clerk"])
    notice = client.get(reverse("applications:notice", args=[application.pk])).content.decode()
    assert "一次性告知书" in notice and "收入证明" in notice and "承诺书" in notice
    assert "户口簿" not in notice
    response = client.post(
        reverse("applications:detail", args=[application.pk]),
        {
            "version": application.version,
            "received": ["id_card", "hukou_book", "authorisation", "pledge", "income_proof"],
        },
    )
    assert response.status_code == 302
    application.refresh_from_db()
    assert application.status == Application.Status.RECEIVED
    assert AuditEvent.objects.filter(
        action="transition", from_state="needs_materials", to_state="received"
    ).exists()


def test_receipt_page(client, cast, household):
    (application,) = intake(cast, household).applications
    client.force_login(cast["clerk"])
    page = client.get(reverse("applications:receipt", args=[application.pk])).content.decode()
    assert "受理回执" in page and application.number in page and "2025年11月18日" in page


def test_only_the_households_window_accepts_and_others_see_404(client, cast, household):
    with pytest.raises(OutOfScopeError):
        intake(cast, household, who="clerk_other")
    with pytest.raises(OutOfScopeError):
        intake(cast, household, who="district_approver")
    with pytest.raises(ValidationFailed):
        intake(cast, household, programmes=[])
    (application,) = intake(cast, household).applications
    client.force_login(cast["clerk_other"])
    assert client.get(reverse("applications:detail", args=[application.pk])).status_code == 404
    assert client.get(reverse("applications:receipt", args=[application.pk])).status_code == 404


def test_numbers_restart_each_year_and_per_township(cast, household, tree):
    intake(cast, household)
    next_year = intake(
        cast, household, ["tekun"], now=timezone.make_aware(dt.datetime(2026, 1, 5, 9))
    )
    assert next_year.applications[0].number == "500103001-2026-00001"


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_receipt_numbers_are_unique_and_gap_free_under_concurrent_acceptance(cast, tree):
    if connection.vendor != "postgresql":
        pytest.skip("needs PostgreSQL's concurrent transactions (CI runs it)")
    calendar_seed_from_package()
    households = [
        make_household(
            cast["clerk"], tree.village, members=[member_data(id_number=make_id(seq=200 + i))]
        )
        for i in range(6)
    ]
    barrier = threading.Barrier(len(households))
    errors = []

    def accept(household):
        try:
            barrier.wait()
            intake(cast, household)
        except Exception as exc:
            errors.append(exc)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=accept, args=(h,)) for h in households]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors
    numbers = sorted(Application.objects.values_list("number", flat=True))
    assert numbers == [f"500103001-2025-{i:05d}" for i in range(1, 7)]


def test_household_page_lists_its_applications(client, cast, household):
    (application,) = intake(cast, household).applications
    client.force_login(cast["village_worker"])
    page = client.get(reverse("beneficiaries:detail", args=[household.pk])).content.decode()
    assert application.number in page


def test_referral_goes_to_the_districts_own_department_when_set(cast, household):
    from applications.models import Department

    Department.objects.create(kind="housing", district_code="500103", name="渝中区住房城乡建委")
    (referral,) = intake(cast, household, programmes=[], referrals=["housing"]).referrals
    assert referral.department.name == "渝中区住房城乡建委"
    assert Referral.objects.count() == 1


# --- Referrals, leads, API ------------------------------------------------------------------


def test_referral_reply_is_recorded_once(client, cast, household):
    (referral,) = intake(cast, household, programmes=[], referrals=["medical"]).referrals
    client.force_login(cast["clerk"])
    url = reverse("applications:referral_reply", args=[referral.pk])
    assert client.post(url, {"reply": "已纳入医疗救助"}).status_code == 302
    referral.refresh_from_db()
    assert (referral.status, referral.reply) == ("replied", "已纳入医疗救助")
    with pytest.raises(ConflictError):
        services.referral_reply(actor=cast["clerk"], referral=referral, reply="again")


def test_a_lead_becomes_an_application(cast, household, tree):
    from applications.models import Lead

    lead = services.lead_report(
        actor=cast["village_worker"],
        village=tree.village,
        person_name="孤寡老人李某",
        location="大井巷3号",
        situation="独居,无收入,生病",
        urgency="urgent",
        now=BEFORE_HOLIDAY,
    )
    # 3 working days after 09-30: 10-09, 10-10, 10-11 (the adjusted Saturday)
    assert lead.contact_due == dt.date(2025, 10, 11)
    result = services.lead_convert(
        actor=cast["clerk"], lead=lead, household=household, programmes=["tekun"]
    )
    lead.refresh_from_db()
    assert lead.status == Lead.Status.CONVERTED and lead.application == result.applications[0]
    assert result.applications[0].channel == "discovery"
    with pytest.raises(ConflictError):
        services.lead_convert(
            actor=cast["clerk"], lead=lead, household=household, programmes=["tekun"]
        )


def test_an_overdue_lead_is_flagged_on_the_queue(client, cast, household, tree):
    services.lead_report(
        actor=cast["village_worker"],
        village=tree.village,
        person_name="王某",
        location="x",
        situation="y",
        urgency="normal",
        now=timezone.now() - dt.timedelta(days=30),
    )
    client.force_login(cast["clerk"])
    home = client.get("/").content.decode()
    assert "待联系的急难对象(已超期1项)" in home
    page = client.get(reverse("applications:leads")).content.decode()
    assert "超期" in page and "王某" in page
    client.force_login(cast["clerk_other"])
    assert "王某" not in client.get(reverse("applications:leads")).content.decode()


def test_village_worker_reports_only_in_their_village(cast, tree):
    with pytest.raises(OutOfScopeError):
        services.lead_report(
            actor=cast["village_worker"],
            village=tree.other_village,
            person_name="a",
            location="b",
            situation="c",
            urgency="normal",
        )


def test_api_lists_and_creates(client, cast, household):
    client.force_login(cast["clerk"])
    response = client.post(
        "/api/v1/applications/",
        {
            "household": household.pk,
            "programmes": ["dibao"],
            "referrals": ["housing"],
            "materials_received": ["id_card"],
        },
        content_type="application/json",
    )
    assert response.status_code == 201, response.json()
    body = response.json()
    assert body["applications"][0]["status"] == "needs_materials"
    assert "income_proof" in body["applications"][0]["missing_materials"]
    assert body["referrals"][0]["kind"] == "housing"
    listed = client.get("/api/v1/applications/", {"status": "needs_materials"}).json()
    assert listed["count"] == 1
    assert client.get("/api/v1/referrals/", {"kind": "housing"}).json()["count"] == 1
    client.force_login(cast["clerk_other"])
    assert client.get("/api/v1/applications/").json()["count"] == 0
    denied = client.post(
        "/api/v1/applications/",
        {"household": household.pk, "programmes": ["dibao"]},
        content_type="application/json",
    )
    assert denied.status_code == 404


# --- Scans ------------------------------------------------------------------------------------


def _png() -> bytes:
    import io

    from PIL import Image

    out = io.BytesIO()
    Image.new("RGB", (8, 8), "white").save(out, "PNG")
    return out.getvalue()


PNG = _png()


@pytest.fixture
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    return tmp_path


def _upload(client, application, content=PNG, name="id.png"):
    from django.core.files.uploadedfile import SimpleUploadedFile

    return client.post(
        reverse("applications:scan_upload", args=[application.pk]),
        {"material": "id_card", "file": SimpleUploadedFile(name, content)},
    )


def test_scan_upload_limits_names_and_scoped_download(client, cast, household, media):
    from applications.models import Scan

    (application,) = intake(cast, household).applications
    client.force_login(cast["clerk"])
    assert _upload(client, application).status_code == 302
    scan = Scan.objects.get()
    assert scan.file.name.startswith("scans/") and "id" not in scan.file.name[6:]
    assert len(scan.file.name) == len("scans/") + 32 + len(".png")
    _upload(client, application, b"MZ\x90\x00not a picture", "virus.png")  # content mismatch
    _upload(client, application, PNG, "notes.docx")  # type
    _upload(client, application, b"%PDF" + b"0" * (10 * 1024 * 1024), "big.pdf")  # size
    assert Scan.objects.count() == 1

    url = reverse("applications:scan_download", args=[application.pk, scan.pk])
    response = client.get(url)
    assert response.status_code == 200 and b"".join(response.streaming_content) == PNG
    assert AuditEvent.objects.filter(action="view", object_type="applications.scan").exists()
    client.force_login(cast["clerk_other"])
    assert client.get(url).status_code == 404


def test_relatives_of_staff_are_registered_separately(cast, household):
    from accounts.models import StaffRelative

    (plain,) = intake(cast, household).applications
    assert plain.separately_registered is False
    (declared,) = intake(cast, household, programmes=["tekun"]).applications
    assert declared.separately_registered is False
    StaffRelative.objects.create(
        staff=cast["township_reviewer"],
        name=household.head.name,
        id_number=household.head.id_number,
        relation="parent",
    )
    (matched,) = intake(cast, household, programmes=["temporary"]).applications
    assert matched.separately_registered is True
    StaffRelative.objects.all().delete()
    # 低保 and 支出型 are never open together (issue 12): the 低保 application is withdrawn.
    services.application_withdraw(
        actor=cast["clerk"],
        application=plain,
        expected_version=plain.version,
        reason="改申请支出型",
    )
    ticked = services.application_intake(
        actor=cast["clerk"],
        household=household,
        programmes=["expenditure"],
        referrals=[],
        channel="window",
        materials_received=set(),
        close_relative_declared=True,
        now=BEFORE_HOLIDAY,
    ).applications[0]
    assert ticked.separately_registered is True


def test_staff_declare_relatives_on_their_own_page_and_the_match_is_automatic(
    client, cast, household
):
    client.force_login(cast["village_worker"])
    page = reverse("applications:relatives")
    bad = client.post(page, {"name": "某", "id_number": "123", "relation": "parent"})
    assert bad.status_code == 200 and "18" in bad.content.decode()
    response = client.post(
        page,
        {"name": household.head.name, "id_number": household.head.id_number, "relation": "parent"},
    )
    assert response.status_code == 302
    listing = client.get(page).content.decode()
    assert household.head.id_number not in listing  # shown masked
    assert household.head.id_number[:6] in listing
    duplicate = client.post(
        page,
        {"name": household.head.name, "id_number": household.head.id_number, "relation": "child"},
    )
    assert "已申报" in duplicate.content.decode()
    (application,) = intake(cast, household).applications
    assert application.separately_registered is True
    relative = cast["village_worker"].relatives.get()
    # Another member of staff cannot remove it.
    client.force_login(cast["clerk"])
    assert (
        client.post(reverse("applications:relative_remove", args=[relative.pk])).status_code == 404
    )
    client.force_login(cast["village_worker"])
    client.post(reverse("applications:relative_remove", args=[relative.pk]))
    assert not cast["village_worker"].relatives.exists()


def test_withdrawal_needs_a_reason_and_confirmation_and_is_final(client, cast, household):
    (application,) = intake(cast, household).applications
    client.force_login(cast["clerk"])
    url = reverse("applications:withdraw", args=[application.pk])
    unconfirmed = client.post(url, {"version": application.version, "reason": "家庭收入已改善"})
    assert unconfirmed.status_code == 200
    application.refresh_from_db()
    assert application.status == Application.Status.RECEIVED
    response = client.post(
        url, {"version": application.version, "reason": "家庭收入已改善", "confirm": "on"}
    )
    assert response.status_code == 302
    application.refresh_from_db()
    assert application.status == Application.Status.WITHDRAWN
    event = AuditEvent.objects.get(case_key=f"application:{application.pk}", to_state="withdrawn")
    assert event.reason == "家庭收入已改善" and event.from_state == "received"
    detail = client.get(reverse("applications:detail", args=[application.pk])).content.decode()
    assert "家庭收入已改善" in detail and "已撤回" in detail
    # A second click (stale version) and a later attempt change nothing.
    with pytest.raises(ConflictError):
        services.application_withdraw(
            actor=cast["clerk"], application=application, expected_version=1, reason="x"
        )
    with pytest.raises(ConflictError):
        services.application_withdraw(
            actor=cast["clerk"],
            application=application,
            expected_version=application.version,
            reason="x",
        )
    with pytest.raises(OutOfScopeError):
        services.application_withdraw(
            actor=cast["clerk_other"],
            application=application,
            expected_version=application.version,
            reason="x",
        )


def test_application_list_filters_and_scopes(client, cast, household, tree):
    intake(cast, household, programmes=["dibao", "temporary"])
    intake(cast, household, programmes=["tekun"], materials=set())
    client.force_login(cast["clerk"])
    url = reverse("applications:list")
    page = client.get(url).content.decode()
    assert page.count("500103001-2025-0000") == 3
    waiting = client.get(url, {"status": "needs_materials"}).content.decode()
    assert "500103001-2025-00003" in waiting and "500103001-2025-00001" not in waiting
    by_programme = client.get(url, {"programme": "temporary"}).content.decode()
    assert "500103001-2025-00002" in by_programme and "500103001-2025-00001" not in by_programme
    by_number = client.get(url, {"q": household.number}).content.decode()
    assert by_number.count("500103001-2025-0000") == 3
    later = client.get(url, {"received_from": "2025-10-01"}).content.decode()
    assert "没有符合条件的申请" in later
    client.force_login(cast["clerk_other"])
    assert "500103001-2025" not in client.get(url).content.decode()


def test_township_records_contact_with_a_lead(client, cast, tree):
    from applications.models import Lead

    lead = services.lead_report(
        actor=cast["village_worker"],
        village=tree.village,
        person_name="王某",
        location="x",
        situation="y",
        urgency="normal",
    )
    with pytest.raises(ValidationFailed):
        services.lead_contact(actor=cast["clerk"], lead=lead, outcome="contacted", note=" ")
    with pytest.raises(OutOfScopeError):
        services.lead_contact(actor=cast["village_worker"], lead=lead, outcome="closed", note="x")
    client.force_login(cast["clerk"])
    client.post(
        reverse("applications:lead_contact", args=[lead.pk]),
        {"outcome": "contacted", "note": "已上门,家属在外地"},
    )
    lead.refresh_from_db()
    assert lead.status == Lead.Status.CONTACTED and lead.contacted_at is not None
    assert not lead.is_overdue
    services.lead_contact(actor=cast["clerk"], lead=lead, outcome="closed", note="已由子女接走")
    with pytest.raises(ConflictError):
        services.lead_contact(actor=cast["clerk"], lead=lead, outcome="contacted", note="x")


def test_a_second_open_application_for_the_same_help_is_refused(cast, household):
    intake(cast, household)
    with pytest.raises(ValidationFailed, match="已有"):
        intake(cast, household)
    intake(cast, household, ["temporary"])  # other help: fine
