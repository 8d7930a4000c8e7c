"""Issue 13: casework as the regulations and the people at the window expect. Each test failed
before its fix."""

import datetime as dt
import threading

import pytest
from django.db import IntegrityError, connection, connections, transaction
from django.utils import timezone

from applications import services
from applications.models import Application
from core.exceptions import OutOfScopeError
from core.models import Alert, AuditEvent, Heartbeat

from .factories import UserFactory, make_household, make_id, member_data
from .test_review import ALL, act, calendar, new_case, to_notice, visit  # noqa: F401

pytestmark = pytest.mark.django_db


def intake(cast, household, programmes=("dibao",), materials=ALL, who="clerk"):
    return services.application_intake(
        actor=cast[who],
        household=household,
        programmes=list(programmes),
        referrals=[],
        channel="window",
        materials_received=set(materials),
    ).applications


# --- Duplicates under concurrency -----------------------------------------------------------


def test_the_database_refuses_a_second_open_application(cast, tree, calendar):  # noqa: F811
    (case,) = intake(cast, make_household(cast["clerk"], tree.village))
    twin = Application.objects.get(pk=case.pk)
    twin.pk, twin.number = None, "500103001-2026-99999"
    with pytest.raises(IntegrityError), transaction.atomic():
        twin.save()
    Application.objects.filter(pk=case.pk).update(status="withdrawn")
    twin.save()  # once the first is closed, a new one may open


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_eight_windows_at_once_open_one_case(cast, tree):
    if connection.vendor != "postgresql":
        pytest.skip("needs PostgreSQL's concurrent transactions (CI runs it)")
    from core.services import calendar_seed_from_package

    calendar_seed_from_package()
    household = make_household(cast["clerk"], tree.village)
    barrier, outcomes = threading.Barrier(8), []

    def accept():
        try:
            barrier.wait()
            intake(cast, household)
            outcomes.append("ok")
        except Exception as exc:
            outcomes.append(type(exc).__name__)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=accept) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert outcomes.count("ok") == 1, outcomes
    assert Application.objects.filter(household=household, status__in=["received"]).count() == 1


# --- Separation of duties -------------------------------------------------------------------


def _temporary_in_review(cast, tree, *, starter, assessor):
    from applications import review, workflow
    from eligibility import rules

    case = new_case(cast, tree, programme="temporary")
    act(cast[starter], case, "start_investigation")
    visit(cast["clerk"], case)
    review.investigation_assess(
        actor=cast[assessor],
        application=case,
        hardship=rules.Hardship("medical", "B", None),
    )
    case = act(cast["clerk"], case, "complete_investigation")
    assert workflow.investigators(case)
    return case


def test_who_started_the_investigation_does_not_approve(cast, tree, calendar):  # noqa: F811
    case = _temporary_in_review(cast, tree, starter="township_reviewer", assessor="clerk")
    with pytest.raises(OutOfScopeError):
        act(
            cast["township_reviewer"],
            case,
            "township_approve",
            amount="500",
            klass="",
            override_reason="按实际支出",
        )


def test_who_ran_the_assessment_does_not_approve(cast, tree, calendar):  # noqa: F811
    case = _temporary_in_review(cast, tree, starter="clerk", assessor="township_reviewer")
    with pytest.raises(OutOfScopeError):
        act(
            cast["township_reviewer"],
            case,
            "township_approve",
            amount="500",
            klass="",
            override_reason="按实际支出",
        )
    other = UserFactory(
        username="reviewer_two", role="township_reviewer", jurisdiction=tree.jiefangbei
    )
    case = act(
        other, case, "township_approve", amount="500", klass="", override_reason="按实际支出"
    )
    assert case.status == "approved"


# --- Materials and scans --------------------------------------------------------------------


def test_a_material_ticked_at_intake_is_kept_and_printed(client, cast, tree, calendar):  # noqa: F811
    household = make_household(cast["clerk"], tree.village)
    (case,) = intake(cast, household)  # ALL includes medical bills, not required for 低保
    assert case.materials.filter(material="medical_bills", received=True).exists()
    assert case.status == "received"
    client.force_login(cast["clerk"])
    receipt = client.get(f"/applications/{case.pk}/receipt/").content.decode()
    assert "医疗费用票据" in receipt
    page = client.get(f"/applications/{case.pk}/").content.decode()
    assert "医疗费用票据" in page


def test_village_workers_do_not_open_scans(client, cast, tree, calendar):  # noqa: F811
    from django.core.files.base import ContentFile

    from applications.models import Scan

    (case,) = intake(cast, make_household(cast["clerk"], tree.village))
    scan = Scan.objects.create(
        application=case,
        material="id_card",
        file=ContentFile(b"%PDF-1.4 x", name="id.pdf"),
        original_name="id.pdf",
        size=10,
        uploaded_by=cast["clerk"],
    )
    url = f"/applications/{case.pk}/scans/{scan.pk}/"
    client.force_login(cast["village_worker"])
    assert client.get(url).status_code == 403
    page = client.get(f"/applications/{case.pk}/").content.decode()
    assert url not in page  # the name is shown, not the link
    client.force_login(cast["clerk"])
    assert client.get(url).status_code == 200


# --- The worker's heartbeat ------------------------------------------------------------------


def test_a_stopped_worker_is_flagged(client, cast, settings):
    settings.WORKER_HEARTBEAT_STALE_SECONDS = 300
    Heartbeat.objects.create(name="worker", seen_at=timezone.now() - dt.timedelta(days=8))
    assert client.get("/healthz").status_code == 200  # pages still work without it
    assert client.get("/healthz?strict=1").status_code == 503  # monitoring sees it
    client.force_login(cast["city_admin"])
    body = client.get("/healthz").json()
    assert (body["worker"], body["status"]) == ("stale", "degraded")
    page = client.get("/").content.decode()
    assert "已停止" in page and "691391" not in page
    Heartbeat.objects.filter(name="worker").update(seen_at=timezone.now())
    assert client.get("/healthz?strict=1").json()["worker"] == "ok"


# --- Objections and periodic reviews ---------------------------------------------------------


def test_a_new_objection_reaches_the_township_reviewers_inbox(cast, tree, calendar):  # noqa: F811
    from notices import services as notices

    case = to_notice(cast, new_case(cast, tree))
    notices.objection_file(notice=case.notices.get(), text="该户有车")
    alert = Alert.objects.get(user=cast["township_reviewer"])
    assert alert.url == f"/applications/{case.pk}/" and "*" in alert.message
    assert not Alert.objects.filter(user=cast["clerk"]).exists()


def test_a_review_whose_visit_the_reviewer_recorded_is_decided_by_another(client, cast, tree):
    from recertification import services as dynamic
    from recertification.models import Review

    from .test_dynamic import ADULT, entitle, household_of

    household = household_of(cast, tree, ("钟一", "19800101", ADULT))
    entitlement = entitle(household, next_review=timezone.localdate() + dt.timedelta(days=10))
    from recertification import nightly

    nightly.reviews_open_due(entitlement.next_review)
    review = Review.objects.get(entitlement=entitlement)
    dynamic.review_record_visit(
        actor=cast["township_reviewer"],
        review=review,
        visited_on=timezone.localdate(),
        findings="入户",
    )
    dynamic.review_assess(actor=cast["township_reviewer"], review=review)
    client.force_login(cast["township_reviewer"])
    page = client.get(f"/applications/reviews/{review.pk}/").content.decode()
    assert "另一名乡镇审核人员或区县审批人员" in page
    review.refresh_from_db()
    with pytest.raises(OutOfScopeError):
        dynamic.review_decide(
            actor=cast["township_reviewer"],
            review=review,
            expected_version=review.version,
            outcome="continue",
        )
    client.force_login(cast["district_approver"])
    response = client.post(
        f"/applications/reviews/{review.pk}/decide/",
        {"version": review.version, "outcome": "continue"},
    )
    assert response.status_code == 302
    review.refresh_from_db()
    assert review.status == "decided" and review.decided_by == cast["district_approver"]


def test_demo_has_two_township_reviewers(db):
    from accounts.models import User
    from chongqing_relief.demo import demo_seed

    demo_seed()
    reviewers = User.objects.filter(role="township_reviewer")
    assert reviewers.count() == 2
    assert len({r.jurisdiction_id for r in reviewers}) == 1


# --- Refusal is the district's ------------------------------------------------------------


def test_the_township_proposes_and_the_district_decides_a_refusal(client, cast, tree, calendar):  # noqa: F811
    from core.exceptions import ValidationFailed

    from .test_review import drawn, to_township_review

    case = to_township_review(cast, new_case(cast, tree))
    with pytest.raises(ValidationFailed):  # not the township's to refuse
        act(cast["township_reviewer"], case, "refuse", reason="有车")
    case = act(cast["township_reviewer"], case, "propose_refusal", reason="家庭拥有小汽车一辆")
    assert (case.status, case.refusal_proposed_at) == ("district_review", "township_review")
    assert case.step_due is not None  # the district's own deadline runs
    drawn(cast, case)
    with pytest.raises(ValidationFailed):  # a proposed refusal is not approved
        act(cast["district_approver"], case, "approve")
    client.force_login(cast["district_approver"])
    page = client.get(f"/applications/{case.pk}/").content.decode()
    assert "家庭拥有小汽车一辆" in page and "确认不予批准" in page
    returned = act(
        cast["district_approver"], case, "return_to_township", reason="车辆已报废,请核实"
    )
    assert returned.status == "township_review" and not returned.refusal_proposed_at
    case = act(cast["township_reviewer"], returned, "propose_refusal", reason="车辆仍在使用")
    refused = act(cast["district_approver"], case, "reject")
    assert refused.status == "rejected" and refused.decision_reason == "车辆仍在使用"
    assert refused.decided_by == cast["district_approver"] and refused.letter_due


def test_the_township_still_refuses_temporary_assistance(cast, tree, calendar):  # noqa: F811
    from core.exceptions import ValidationFailed

    case = _temporary_in_review(cast, tree, starter="clerk", assessor="clerk")
    with pytest.raises(ValidationFailed):
        act(cast["township_reviewer"], case, "propose_refusal", reason="x")
    refused = act(cast["township_reviewer"], case, "refuse", reason="困难已解决")
    assert refused.status == "rejected"


# --- Wording a first-time user understands ---------------------------------------------------


def test_change_history_names_references_and_components(client, cast, tree):

    household = make_household(cast["clerk"], tree.village)
    client.force_login(cast["clerk"])
    page = client.get(f"/households/{household.pk}/").content.decode()
    head = household.head.name
    assert f"→ {head}" in page  # "户主: ∅ → 张三", never the member's id
    event = AuditEvent.objects.filter(changes__has_key="head_id").latest("id")
    assert event.changes["head_id__label"][1] == head


def test_components_in_words_in_histories():
    from beneficiaries.templatetags.privacy import mask_sensitive

    shown = mask_sensitive("components", [{"code": "dibao", "amount": "600.00"}])
    assert shown == "低保 600.00"


def test_receipt_with_missing_materials_promises_no_date(client, cast, tree, calendar):  # noqa: F811
    household = make_household(cast["clerk"], tree.village)
    (case,) = intake(cast, household, materials=ALL - {"income_proof"})
    client.force_login(cast["clerk"])
    receipt = client.get(f"/applications/{case.pk}/receipt/").content.decode()
    assert "自补齐所缺材料之日起计算办理时限" in receipt
    assert case.decision_due is None and case.accepted_on is None  # the clock has not started
    assert "(盖章)" in receipt and "申请人(签名)" in receipt


def test_the_letter_is_issued_by_who_decided(client, cast, tree, calendar):  # noqa: F811
    from .test_review import drawn, to_district

    case = new_case(cast, tree)
    to_district(cast, case)
    drawn(cast, case)
    act(cast["district_approver"], case, "approve")
    client.force_login(cast["clerk"])
    letter = client.get(f"/applications/{case.pk}/letter/").content.decode()
    assert "渝中区民政局(盖章)" in letter and "签收人(签名)" in letter


def test_resume_is_not_offered_on_a_running_payment(client, cast, tree):
    from recertification import nightly
    from recertification.models import Review

    from .test_dynamic import ADULT, entitle, household_of

    entitlement = entitle(
        household_of(cast, tree, ("韩一", "19800101", ADULT)),
        next_review=timezone.localdate() + dt.timedelta(days=10),
    )
    nightly.reviews_open_due(entitlement.next_review)
    review = Review.objects.get(entitlement=entitlement)
    client.force_login(cast["township_reviewer"])
    page = client.get(f"/applications/reviews/{review.pk}/").content.decode()
    assert 'value="resume"' not in page and 'value="suspend"' in page


def test_an_unknown_address_gets_the_plain_404_even_in_the_demo(client, cast, settings):
    settings.DEBUG = True
    client.force_login(cast["clerk"])
    response = client.get("/no-such-page/")
    assert response.status_code == 404
    body = response.content.decode()
    assert "返回我的首页" in body and "URLconf" not in body and "gongshi/" not in body


def test_the_public_objection_form_does_not_ask_which_household(client, cast, tree, calendar):  # noqa: F811
    case = to_notice(cast, new_case(cast, tree))
    page = client.get(f"/gongshi/notices/{case.notices.get().pk}/objection/").content.decode()
    assert "哪一户" not in page and "这条公示" in page


# --- Registered changes open reviews; nobody is paid for nobody -------------------------------


def _entitled_household(cast, tree, *people, village=None):
    from .test_dynamic import entitle

    members = [
        member_data(name, id_number=make_id(birth, seq=seq), relation=relation)
        for name, birth, seq, relation in people
    ]
    household = make_household(cast["clerk"], village or tree.village, members=members)
    return household, entitle(household, next_review=dt.date(2027, 6, 1))


def _remove(cast, household, name, reason):
    from beneficiaries.services import household_update

    household.refresh_from_db()
    keep = [{"id": m.pk} for m in household.members.filter(is_current=True) if m.name != name]
    gone = household.members.get(name=name)
    household_update(
        actor=cast["clerk"],
        household=household,
        expected_version=household.version,
        region=household.region,
        fields={},
        members=keep,
        removals={gone.pk: reason},
    )


def test_the_only_members_death_suspends_payment_and_opens_a_review(cast, tree):
    from recertification.changes import household_events_process
    from recertification.models import Review

    household, entitlement = _entitled_household(cast, tree, ("孤老", "19400101", 11, "head"))
    _remove(cast, household, "孤老", "died")  # the only member died
    counts = household_events_process(dt.date(2026, 11, 30))
    assert counts["suspended"] == 1 and counts["reviews_opened"] == 1
    entitlement.refresh_from_db()
    assert entitlement.status == "suspended"
    assert entitlement.amount_for(dt.date(2026, 12, 1)) is None
    review = Review.objects.get(entitlement=entitlement)
    assert "死亡" in review.reported_change and review.kind == "reported"
    assert household_events_process(dt.date(2026, 11, 30))["changes"] == 0  # done once


def test_a_member_leaving_opens_a_review_without_suspending(cast, tree):
    from recertification.changes import household_events_process
    from recertification.models import Review

    household, entitlement = _entitled_household(
        cast, tree, ("父亲", "19700101", 21, "head"), ("儿子", "19990101", 23, "child")
    )
    _remove(cast, household, "儿子", "separate")
    counts = household_events_process(dt.date(2026, 11, 30))
    assert (counts["reviews_opened"], counts["suspended"]) == (1, 0)
    entitlement.refresh_from_db()
    assert entitlement.status == "active"
    assert "儿子" in Review.objects.get(entitlement=entitlement).reported_change
    # A second change adds to the open review rather than opening another.
    from beneficiaries.economics_services import household_economics_update
    from beneficiaries.models import IncomeItem

    household.refresh_from_db()
    household_economics_update(
        actor=cast["clerk"],
        household=household,
        expected_version=household.version,
        incomes=[{"member": household.head, "type": "wage", "monthly_amount": 1800}],
        assets=[],
        expenditures=[],
    )
    assert IncomeItem.objects.filter(member__household=household).exists()
    household_events_process(dt.date(2026, 11, 30))
    review = Review.objects.get(entitlement=entitlement)
    assert "收入、财产或支出有变化" in review.reported_change


def test_moving_the_last_member_away_suspends_and_tells_the_losing_township(cast, tree):
    from beneficiaries.services import member_move
    from core.models import Alert
    from recertification.changes import household_events_process

    household, entitlement = _entitled_household(cast, tree, ("独居", "19800101", 31, "head"))
    target = make_household(
        cast["clerk_other"],
        tree.wanzhou_village,
        members=[member_data("亲属", id_number=make_id("19750101", seq=33))],
    )
    member_move(
        actor=cast["clerk_other"],
        member=household.members.get(),
        to_household=target,
        relation="parent",
        reason="迁往万州投靠亲属",
    )
    counts = household_events_process(dt.date(2026, 11, 30))
    assert counts["suspended"] == 1
    entitlement.refresh_from_db()
    assert entitlement.status == "suspended"
    assert Alert.objects.filter(
        user=cast["township_reviewer"], key__startswith="moved-out"
    ).exists()
    assert Alert.objects.filter(user=cast["clerk"], key__startswith="moved-out").exists()


def test_the_head_does_not_leave_a_household_without_a_head(cast, tree):
    from beneficiaries.services import member_move
    from core.exceptions import ValidationFailed

    household, _entitlement = _entitled_household(
        cast, tree, ("户主甲", "19700101", 41, "head"), ("成员乙", "19720101", 43, "spouse")
    )
    target = make_household(
        cast["clerk"], tree.village, members=[member_data("他人", id_number=make_id(seq=45))]
    )
    with pytest.raises(ValidationFailed):
        member_move(
            actor=cast["clerk"],
            member=household.head,
            to_household=target,
            relation="spouse",
            reason="再婚",
        )


def test_a_verification_finding_opens_a_review(cast, tree):
    from beneficiaries.models import HouseholdEvent
    from eligibility.models import VerificationFinding, VerificationRun
    from eligibility.verification import _events_for_findings
    from recertification.changes import household_events_process
    from recertification.models import Review

    household, entitlement = _entitled_household(cast, tree, ("核对", "19800101", 51, "head"))
    run = VerificationRun.objects.create(
        region_code=tree.village.code, requested_by=cast["city_admin"]
    )
    VerificationFinding.objects.create(
        run=run,
        household=household,
        code="vehicle_found",
        disqualifying=True,
        message="车辆管理部门登记有小汽车一辆",
    )
    _events_for_findings(run)
    assert HouseholdEvent.objects.get(household=household).kind == "verification"
    household_events_process(dt.date(2026, 11, 30))
    assert "小汽车" in Review.objects.get(entitlement=entitlement).reported_change


# --- Papers a window and a township print -------------------------------------------------------


def test_the_papers_print_prefilled_with_signature_lines(client, cast, tree, calendar):  # noqa: F811
    from .test_review import investigated

    case = new_case(cast, tree)
    client.force_login(cast["clerk"])
    form = client.get(f"/applications/{case.pk}/form/").content.decode()
    head = case.household.head
    assert head.name in form and head.id_number in form and "申请人(签名)" in form
    assert "0.00 元 · 计入1人" in form  # the counted income and size from the register
    printed = AuditEvent.objects.get(action="view", object_id=str(case.household_id))
    assert printed.actor == cast["clerk"] and case.number in printed.reason
    assert client.get(f"/applications/{case.pk}/visit-record/").status_code == 404
    investigated(cast, case)
    record = client.get(f"/applications/{case.pk}/visit-record/").content.decode()
    assert "入户调查表" in record and record.count("被调查人(签名)") == 1
    assert record.count("调查人(签名)") == 3  # both staff, and the person interviewed
    client.force_login(cast["village_worker"])
    assert client.get(f"/applications/{case.pk}/form/").status_code == 403


def test_the_notice_board_sheet_is_landscape_and_masked(client, cast, tree, calendar):  # noqa: F811
    case = to_notice(cast, new_case(cast, tree))
    sheet = client.get(f"/gongshi/{tree.village.code}/board/").content.decode()
    notice = case.notices.get()
    assert notice.masked_name in sheet and case.household.head.name not in sheet
    assert "size: A4 landscape" in sheet
    assert (
        "size: A3 landscape"
        in client.get(f"/gongshi/{tree.village.code}/board/?size=A3").content.decode()
    )
    assert case.household.head.id_number not in sheet


# --- Clocks ------------------------------------------------------------------------------------


def test_the_clocks_start_when_the_materials_are_complete(client, cast, tree, calendar):  # noqa: F811
    from applications.services import application_materials_update

    received = timezone.make_aware(dt.datetime(2025, 9, 30, 10))
    household = make_household(cast["clerk"], tree.village)
    (case,) = services.application_intake(
        actor=cast["clerk"],
        household=household,
        programmes=["dibao"],
        referrals=[],
        channel="window",
        materials_received=ALL - {"income_proof"},
        now=received,
    ).applications
    assert case.decision_due is None and case.materials_due == dt.date(2025, 10, 21)
    client.force_login(cast["clerk"])
    notice = client.get(f"/applications/{case.pk}/notice/").content.decode()
    assert ("2025年10月21日" in notice and "023" not in notice) or "电话" in notice
    case = application_materials_update(
        actor=cast["clerk"], application=case, expected_version=case.version, received=ALL
    )
    today = timezone.localdate()
    assert case.accepted_on == today and case.materials_due is None
    assert case.decision_due > today  # 30 working days from today, not from 2025-09-30


def test_tekun_has_its_own_whole_process_limit(cast, tree, calendar):  # noqa: F811
    from applications.services import process_due

    accepted = dt.date(2025, 9, 1)  # a Monday
    # 15 working days → 2025-09-22; + 7 days → 09-29; + 15 working days over the National Day
    # holiday (10-01…10-08 off; Saturday 10-11 an adjusted working day) → 2025-10-27
    assert process_due("tekun", accepted) == dt.date(2025, 10, 27)
    # 低保: 30 working days (Sunday 09-28 and Saturday 10-11 worked) → 2025-10-17
    assert process_due("dibao", accepted) == dt.date(2025, 10, 17)


def test_the_district_has_ten_working_days_and_the_township_review_a_deadline(
    cast,
    tree,
    calendar,  # noqa: F811
):
    from .test_review import to_district, to_township_review

    case = to_township_review(cast, new_case(cast, tree))
    assert case.step_due is not None  # the township review's own deadline
    case = to_district(cast, new_case(cast, tree))
    from core.workdays import WorkdayCalendar

    today = timezone.localdate()
    expected = WorkdayCalendar.load(today.year, today.year + 1).add_workdays(today, 10)
    assert case.step_due == expected


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_dibao_and_expenditure_at_two_windows_at_once_open_one(cast, tree):
    """Nobody is paid the 低保 formula twice: 低保 and 支出型 for one household, asked for at
    two windows in the same instant, open one case (intakes are serialised per household)."""
    if connection.vendor != "postgresql":
        pytest.skip("needs PostgreSQL's concurrent transactions (CI runs it)")
    from core.services import calendar_seed_from_package

    calendar_seed_from_package()
    household = make_household(cast["clerk"], tree.village)
    barrier, outcomes = threading.Barrier(2), []

    def accept(programme):
        try:
            barrier.wait()
            intake(cast, household, programmes=(programme,))
            outcomes.append("ok")
        except Exception as exc:
            outcomes.append(type(exc).__name__)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=accept, args=(p,)) for p in ("dibao", "expenditure")]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(outcomes) == ["ValidationFailed", "ok"], outcomes
    assert Application.objects.filter(household=household).count() == 1


def test_a_missing_calendar_year_is_flagged_from_november(client, cast, tree, calendar):  # noqa: F811
    from core.models import CalendarDay
    from recertification import nightly

    year = timezone.localdate().year + 1
    CalendarDay.objects.filter(date__year=year).delete()
    assert nightly.calendar_check(dt.date(year - 1, 10, 31))["alerts"] == 0
    assert nightly.calendar_check(dt.date(year - 1, 11, 1))["alerts"] == 1
    assert Alert.objects.get(user=cast["city_admin"]).url == "/admin/core/calendarday/"
    # A deadline in that year is marked provisional wherever the case shows it.
    case = new_case(cast, tree)
    Application.objects.filter(pk=case.pk).update(decision_due=dt.date(year, 2, 1))
    client.force_login(cast["clerk"])
    page = client.get(f"/applications/{case.pk}/").content.decode()
    assert "暂定" in page
    listing = client.get("/applications/").content.decode()
    assert "暂定" in listing


# --- A returned refusal, the spot-check and reopening ---------------------------------------


def test_a_refusal_proposed_during_the_investigation_goes_back_to_it(client, cast, tree, calendar):  # noqa: F811
    from core.exceptions import ValidationFailed

    from .test_review import investigated, proposal, to_district, visit

    case = new_case(cast, tree)
    act(cast["clerk"], case, "start_investigation")  # no visit, no assessment yet
    case = act(cast["township_reviewer"], case, "propose_refusal", reason="存款超过规定")
    assert case.refusal_proposed_at == "investigating"
    client.force_login(cast["district_approver"])
    page = client.get(f"/applications/{case.pk}/").content.decode()
    assert "退回乡镇重新调查" in page and "return_to_township/" not in page
    with pytest.raises(ValidationFailed):  # not past the investigation it never finished
        act(cast["district_approver"], case, "return_to_township", reason="请核实")
    case = act(cast["district_approver"], case, "return_to_investigation", reason="存款已用于治病")
    assert case.status == "investigating" and not case.refusal_proposed_at
    with pytest.raises(ValidationFailed) as raised:  # its own visit and assessment again
        act(cast["clerk"], case, "complete_investigation")
    assert {field for field, _m in raised.value.errors} == {"visit", "assessment"}
    visit(cast["clerk"], case)
    from applications import review

    review.investigation_assess(actor=cast["clerk"], application=case)
    assert act(cast["clerk"], case, "complete_investigation").status == "township_review"
    # A case never proposed for refusal is not returned: the district decides it.
    other = to_district(cast, new_case(cast, tree))
    for action in ("return_to_township", "return_to_investigation"):
        with pytest.raises(ValidationFailed):
            act(cast["district_approver"], other, action, reason="x")
    assert investigated and proposal  # (helpers used by the other tests of this section)


def test_a_returned_case_is_drawn_again_and_an_objection_forces_its_check(cast, tree, calendar):  # noqa: F811
    from applications import review
    from core.exceptions import ValidationFailed
    from notices import services as notices

    from .test_review import notice_over, proposal, to_township_review

    refused = act(
        cast["township_reviewer"],
        to_township_review(cast, new_case(cast, tree)),
        "propose_refusal",
        reason="家庭拥有小汽车一辆",
    )
    assert review.spot_check_draw(actor=cast["district_approver"]) is None  # not in the sample
    refused.refresh_from_db()
    assert refused.spot_check_draw_id is None
    case = act(cast["district_approver"], refused, "return_to_township", reason="车辆已报废")
    case = act(cast["township_reviewer"], case, "post_notice", **proposal(case))
    notices.objection_file(notice=case.notices.get(), text="他家有车")
    objection = case.objections.get()
    notices.objection_dismiss(actor=cast["township_reviewer"], objection=objection, reason="已核实")
    notice_over(case)
    case = act(cast["township_reviewer"], case, "end_notice")
    with pytest.raises(ValidationFailed):  # the sample first
        act(cast["district_approver"], case, "approve")
    draw = review.spot_check_draw(actor=cast["district_approver"])
    case.refresh_from_db()
    assert case.pk in draw.forced and case.spot_checked  # objected: always checked
    with pytest.raises(ValidationFailed):  # the home check first
        act(cast["district_approver"], case, "approve")


def test_a_refusal_is_not_reopened_over_a_new_application(client, cast, tree, calendar):  # noqa: F811
    from core.exceptions import ConflictError

    case = new_case(cast, tree)
    act(cast["clerk"], case, "start_investigation")
    act(cast["township_reviewer"], case, "propose_refusal", reason="存款超过规定")
    refused = act(cast["district_approver"], case, "reject")
    services.application_intake(
        actor=cast["clerk"],
        household=refused.household,
        programmes=["dibao"],
        referrals=[],
        channel="window",
        materials_received=ALL,
    )
    with pytest.raises(ConflictError):
        act(cast["township_reviewer"], refused, "recheck", reason="申请人对核对结果有异议")
    client.force_login(cast["township_reviewer"])
    response = client.post(
        f"/applications/{refused.pk}/act/recheck/",
        {"version": refused.version, "reason": "申请人对核对结果有异议"},
    )
    assert response.status_code in (302, 409)  # a message, never a server error
    refused.refresh_from_db()
    assert refused.status == "rejected"


# --- Changes that reach the review outbox, and those that do not ----------------------------


def _events(household) -> list[str]:
    from beneficiaries.models import HouseholdEvent

    return list(HouseholdEvent.objects.filter(household=household).values_list("kind", flat=True))


def test_a_death_reported_through_the_api_alone_is_recorded(client, cast, tree):
    household, _entitlement = _entitled_household(
        cast, tree, ("户主甲", "19600101", 61, "head"), ("成员乙", "19620101", 62, "spouse")
    )
    spouse = household.members.get(name="成员乙")
    client.force_login(cast["clerk"])
    response = client.patch(
        f"/api/v1/households/{household.pk}/",
        {"version": household.version, "removed_members": [{"id": spouse.pk, "reason": "died"}]},
        content_type="application/json",
    )
    assert response.status_code == 200, response.content
    spouse.refresh_from_db()
    assert not spouse.is_current and spouse.leave_reason == "died"
    assert _events(household) == ["member_died"]
    household.refresh_from_db()
    head = household.head
    response = client.patch(  # kept and removed at once: refused, nothing changes
        f"/api/v1/households/{household.pk}/",
        {
            "version": household.version,
            "members": [{"id": head.pk}],
            "removed_members": [{"id": head.pk, "reason": "died"}],
        },
        content_type="application/json",
    )
    assert response.status_code == 400
    head.refresh_from_db()
    assert head.is_current


def test_absence_decisions_job_refusals_and_moves_of_residence_are_reviewed(cast, tree):
    from beneficiaries import services as registry

    household, _entitlement = _entitled_household(
        cast, tree, ("户主甲", "19700101", 63, "head"), ("成员乙", "19950101", 64, "child")
    )
    child = household.members.get(name="成员乙")
    child.lives_with_household, child.absence_reason = False, "other"
    child.save()
    registry.member_absence_decide(
        actor=cast["township_reviewer"], member=child, counted=True, reason="在外照料老人"
    )
    registry.job_referral_record(
        actor=cast["clerk"],
        member=household.head,
        offered_on=timezone.localdate(),
        job="保洁员",
        outcome="refused",
    )
    registry.job_referral_record(
        actor=cast["clerk"],
        member=household.head,
        offered_on=timezone.localdate(),
        job="保安",
        outcome="justified",
    )
    household.refresh_from_db()
    registry.household_update(
        actor=cast["clerk"],
        household=household,
        expected_version=household.version,
        region=household.region,
        fields={"residence_type": "rural" if household.residence_type == "urban" else "urban"},
        members=[{"id": m.pk} for m in household.members.filter(is_current=True)],
    )
    assert _events(household) == ["counted", "job_refused", "residence"]


def test_changes_that_change_nothing_open_no_review(cast, tree):
    from beneficiaries import economics_services
    from beneficiaries import services as registry
    from beneficiaries.models import HouseholdEvent
    from eligibility.models import VerificationFinding, VerificationRun
    from eligibility.verification import _events_for_findings

    household, _entitlement = _entitled_household(cast, tree, ("户主甲", "19700101", 65, "head"))
    household.refresh_from_db()
    economics_services.household_economics_update(  # the form saved as it was
        actor=cast["clerk"],
        household=household,
        expected_version=household.version,
        incomes=[],
        assets=[],
        expenditures=[],
    )
    assert _events(household) == []

    def run_with_car(**fields):
        run = VerificationRun.objects.create(
            region_code=tree.jiefangbei.code,
            requested_by=cast["city_admin"],
            status="done",
            **fields,
        )
        VerificationFinding.objects.create(
            run=run,
            household=household,
            code="vehicle_found",
            disqualifying=True,
            message="车辆管理部门登记有小汽车一辆",
        )
        return run

    _events_for_findings(run_with_car())
    _events_for_findings(run_with_car())  # the same finding again: already reviewed
    assert _events(household) == ["verification"]
    VerificationRun.objects.create(  # a later run that found nothing
        region_code=tree.village.code, requested_by=cast["city_admin"], status="done"
    )
    _events_for_findings(run_with_car())  # found again after a clean run: new
    assert _events(household) == ["verification", "verification"]
    HouseholdEvent.objects.all().delete()
    # A member coming back home is not recorded as leaving.
    member = household.head
    member.lives_with_household, member.absence_reason = False, "work"
    member.save()
    household.refresh_from_db()
    data = {"id": member.pk, "lives_with_household": True, "absence_reason": ""}
    registry.household_update(
        actor=cast["clerk"],
        household=household,
        expected_version=household.version,
        region=household.region,
        fields={},
        members=[data],
    )
    event = HouseholdEvent.objects.get(household=household)
    assert (
        event.kind == "counted"
        and "共同生活" in event.detail
        and "离开" not in str(event.get_kind_display())
    )


# --- Clocks while materials are missing, and 特困's ----------------------------------------


def test_a_material_found_missing_after_acceptance_keeps_the_clock(client, cast, tree, calendar):  # noqa: F811
    import importlib

    from django.apps import apps

    from applications import review
    from applications.services import application_materials_update
    from core.exceptions import ConflictError

    case = new_case(cast, tree)
    due = case.decision_due
    case = application_materials_update(
        actor=cast["clerk"],
        application=case,
        expected_version=case.version,
        received=ALL - {"income_proof"},
    )
    assert case.status == "needs_materials" and case.decision_due == due
    assert case.materials_due is not None  # the family is told by when
    client.force_login(cast["clerk"])
    receipt = client.get(f"/applications/{case.pk}/receipt/").content.decode()
    assert due.strftime("%Y年%-m月%-d日") in receipt
    # Waiting for materials before acceptance: no extension is offered, none is possible.
    waiting = services.application_intake(
        actor=cast["clerk"],
        household=make_household(
            cast["clerk"], tree.village, members=[member_data(id_number=make_id(seq=66))]
        ),
        programmes=["dibao"],
        referrals=[],
        channel="window",
        materials_received=ALL - {"income_proof"},
    ).applications[0]
    client.force_login(cast["township_reviewer"])
    assert "延长" not in client.get(f"/applications/{waiting.pk}/").content.decode()
    with pytest.raises(ConflictError):
        review.application_extend(
            actor=cast["township_reviewer"],
            application=waiting,
            expected_version=waiting.version,
            reason="材料复杂",
        )
    # Cases that waited for materials before the upgrade lose the deadline of a clock that
    # has not started, and get the day their materials are expected by.
    Application.objects.filter(pk=waiting.pk).update(decision_due=due, materials_due=None)
    importlib.import_module("applications.migrations.0022_materials_clock").materials_clock(
        apps, None
    )
    waiting.refresh_from_db()
    assert waiting.decision_due is None and waiting.materials_due is not None


def test_tekun_township_steps_share_its_fifteen_days_and_are_not_extended(cast, tree, calendar):  # noqa: F811
    from applications import review
    from core.exceptions import ConflictError
    from core.workdays import WorkdayCalendar

    from .test_review import to_township_review

    case = to_township_review(cast, new_case(cast, tree, programme="tekun"))
    township_end = WorkdayCalendar.load(
        case.accepted_on.year, case.accepted_on.year + 1
    ).add_workdays(case.accepted_on, 15)
    assert case.step_due == township_end
    with pytest.raises(ConflictError):
        review.application_extend(
            actor=cast["township_reviewer"],
            application=case,
            expected_version=case.version,
            reason="情况复杂",
        )


# --- Deadlines counted again when the calendar is entered or edited --------------------------


def test_deadlines_are_counted_again_when_the_calendar_changes(
    cast,
    tree,
    calendar,  # noqa: F811
    django_capture_on_commit_callbacks,
):
    from applications.deadlines import deadlines_recompute
    from core.models import CalendarDay, JobRun

    monday = timezone.make_aware(dt.datetime(2026, 11, 30, 10))
    household = make_household(cast["clerk"], tree.village)
    intake = services.application_intake(
        actor=cast["clerk"],
        household=household,
        programmes=["dibao"],
        referrals=["medical"],
        channel="window",
        materials_received=ALL,
        now=monday,
    )
    case = act(cast["clerk"], intake.applications[0], "start_investigation", now=monday)
    lead = services.lead_report(
        actor=cast["village_worker"],
        village=tree.village,
        person_name="王某",
        location="村口",
        situation="独居老人无人照料",
        urgency="urgent",
        now=monday,
    )
    referral = intake.referrals[0]
    refused = new_case(cast, tree, now=monday)
    act(cast["clerk"], refused, "start_investigation", now=monday)
    act(cast["township_reviewer"], refused, "propose_refusal", reason="存款超标", now=monday)
    refused = act(cast["district_approver"], refused, "reject", now=monday)
    before = {
        "letter": refused.letter_due,
        "step": case.step_due,
        "decision": case.decision_due,
        "referral": referral.due,
        "lead": lead.contact_due,
    }
    assert deadlines_recompute() == {
        "case_deadlines": 0,
        "referral_deadlines": 0,
        "lead_deadlines": 0,
    }  # nothing changed, nothing moves

    # The city admin enters a holiday inside every one of these windows (Tuesday 1 December).
    with django_capture_on_commit_callbacks(execute=True):
        CalendarDay.objects.create(date=dt.date(2026, 12, 1), kind="holiday", name="测试假日")
    case.refresh_from_db()
    referral.refresh_from_db()
    lead.refresh_from_db()
    one_day = dt.timedelta(days=1)
    assert case.step_due == before["step"] + one_day
    assert case.decision_due > before["decision"]
    assert referral.due == before["referral"] + one_day
    assert lead.contact_due == before["lead"] + one_day
    refused.refresh_from_db()
    assert refused.letter_due == before["letter"] + one_day  # the letter still to deliver
    run = JobRun.objects.filter(job="deadlines_recompute").latest("id")
    assert run.status == "done" and run.counts["case_deadlines"] == 2
    event = AuditEvent.objects.filter(case_key=f"application:{case.pk}", action="update").latest(
        "id"
    )
    assert "工作日历" in event.reason
    assert event.changes["step_due"] == [str(before["step"]), str(case.step_due)]

    # Taking the day out again counts them back.
    with django_capture_on_commit_callbacks(execute=True):
        CalendarDay.objects.get(date=dt.date(2026, 12, 1)).delete()
    case.refresh_from_db()
    assert (case.step_due, case.decision_due) == (before["step"], before["decision"])


def test_deadlines_in_a_year_without_a_calendar_are_provisional_on_home_and_lists(
    client,
    cast,
    tree,
    calendar,  # noqa: F811
):
    from core.models import CalendarDay

    CalendarDay.objects.filter(date__year=2027).delete()
    late = timezone.make_aware(dt.datetime(2026, 12, 30, 10))  # both due in 2027
    household = make_household(cast["clerk"], tree.village)
    services.application_intake(
        actor=cast["clerk"],
        household=household,
        programmes=[],
        referrals=["medical"],
        channel="window",
        materials_received=ALL,
        now=late,
    )
    services.lead_report(
        actor=cast["village_worker"],
        village=tree.village,
        person_name="王某",
        location="村口",
        situation="独居老人无人照料",
        urgency="urgent",
        now=late,
    )
    client.force_login(cast["clerk"])
    home = client.get("/").content.decode()
    assert "暂定" in home  # the lead's 2027 date on the queue
    assert "暂定" in client.get("/applications/leads/").content.decode()
    assert "暂定" in client.get(f"/households/{household.pk}/").content.decode()


def test_the_process_log_names_people_and_the_system(client, cast, tree, calendar):  # noqa: F811
    from core.audit import audit_record

    case = new_case(cast, tree)
    audit_record(  # a step the nightly job takes
        actor=None,
        action="transition",
        obj=case,
        from_state="noticed",
        to_state="district_review",
        reason="公示期满",
    )
    client.force_login(cast["clerk"])
    page = client.get(f"/applications/{case.pk}/").content.decode()
    log = page[page.index("办理记录") :]
    assert cast["clerk"].full_name in log and " · clerk · " not in log
    assert "系统" in log and "None" not in log
