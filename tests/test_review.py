"""Tiered review and approval (DESIGN.md §4): the transition table, deadlines, objections,
the district's spot-check and the entitlement an approval creates."""

import datetime as dt
import threading
from decimal import Decimal

import pytest
from django.db import connections
from django.utils import timezone

from applications import flows, review, services, workflow
from applications.models import Application, Appraisal, HomeVisit, SpotCheckDraw
from beneficiaries.models import Entitlement
from core.exceptions import ConflictError, OutOfScopeError, ValidationFailed
from core.models import AuditEvent
from core.months import add_months
from core.services import calendar_seed_from_package
from notices import services as notices
from notices.models import Notice, Objection

from .factories import make_household, make_id, member_data

S = Application.Status
ROLES = ["clerk", "township_reviewer", "district_approver", "city_admin", "auditor"]
ROLES += ["village_worker"]
ALL = {"id_card", "hukou_book", "authorisation", "pledge", "income_proof", "medical_bills"}
_seq = iter(range(300, 999))


@pytest.fixture
def calendar(db):
    calendar_seed_from_package()


def new_case(cast, tree, programme="dibao", now=None, **member) -> Application:
    household = make_household(
        cast["clerk"],
        tree.village,
        members=[member_data("张小明", id_number=make_id(seq=next(_seq)), **member)],
    )
    return services.application_intake(
        actor=cast["clerk"],
        household=household,
        programmes=[programme],
        referrals=[],
        channel="window",
        materials_received=ALL,
        now=now,
    ).applications[0]


def act(actor, case, action, **kwargs) -> Application:
    case.refresh_from_db()
    return workflow.transition(
        actor=actor, application=case, action=action, expected_version=case.version, **kwargs
    )


def visit(actor, case, kind=HomeVisit.Kind.INVESTIGATION, second=None):
    from accounts.models import User

    return review.home_visit_record(
        actor=actor,
        application=case,
        kind=kind,
        visited_on=timezone.localdate(),
        second_staff=second or User.objects.get(username="village_worker"),
        findings="家中陈设简陋,无劳动能力",
    )


def investigated(cast, case) -> Application:
    """Investigation done by the clerk: home visit and assessment recorded."""
    act(cast["clerk"], case, "start_investigation")
    visit(cast["clerk"], case)
    return review.investigation_assess(actor=cast["clerk"], application=case)


def to_township_review(cast, case) -> Application:
    investigated(cast, case)
    return act(cast["clerk"], case, "complete_investigation")


def proposal(case) -> dict:
    case.refresh_from_db()
    return {"amount": workflow.assessed_amount(case), "klass": "A", "opinion": "同意"}


def to_notice(cast, case) -> Application:
    to_township_review(cast, case)
    return act(cast["township_reviewer"], case, "post_notice", **proposal(case))


def notice_over(case) -> None:
    past = timezone.localdate() - dt.timedelta(days=10)
    Notice.objects.filter(application=case).update(starts_on=past, ends_on=past)


def to_district(cast, case) -> Application:
    to_notice(cast, case)
    notice_over(case)
    return act(cast["township_reviewer"], case, "end_notice")


def drawn(cast, case, selected=False) -> Application:
    draw = SpotCheckDraw.objects.create(
        district_code="500103000000",
        seed=1,
        share=Decimal("0.30"),
        population=[case.pk],
        forced=[],
        selected=[case.pk] if selected else [],
        drawn_by=cast["district_approver"],
    )
    Application.objects.filter(pk=case.pk).update(spot_check_draw=draw, spot_checked=selected)
    case.refresh_from_db()
    return case


# --- The transition table: every action, every role ------------------------------------------


def prepare(cast, tree, state: str, action: str) -> tuple[Application, dict]:
    """A case in ``state`` with everything ``action`` needs, and the action's arguments."""
    # issue 13: the township refuses only 临时救助; 低保/特困 refusals are proposed to the district
    temporary = action in ("township_approve", "refer_to_district", "emergency_approve", "refuse")
    case = new_case(cast, tree, "temporary" if temporary else "dibao")
    kwargs: dict = {}
    if state == S.NEEDS_MATERIALS:
        case.materials.update(received=True)
        Application.objects.filter(pk=case.pk).update(status=S.NEEDS_MATERIALS)
    elif state == S.RECEIVED:
        if action == "mark_missing":
            case.materials.filter(material="pledge").update(received=False)
        if action == "emergency_approve":
            kwargs = {"amount": "800.00"}
    elif state == S.INVESTIGATING:
        investigated_case = (
            investigated(cast, case) if not temporary else _temporary_investigated(cast, case)
        )
        case = investigated_case
        if action == "send_to_appraisal":
            Application.objects.filter(pk=case.pk).update(needs_appraisal=True)
    elif state == S.APPRAISAL:
        investigated(cast, case)
        Application.objects.filter(pk=case.pk).update(needs_appraisal=True)
        act(cast["clerk"], case, "send_to_appraisal")
        Appraisal.objects.create(
            application=case,
            held_on=timezone.localdate(),
            panel_size=9,
            representatives=6,
            conclusion="agreed" if action == "appraisal_agreed" else "contested",
            recorded_by=cast["clerk"],
        )
    elif state == S.TOWNSHIP_REVIEW:
        if temporary:
            _temporary_investigated(cast, case)
            act(cast["clerk"], case, "complete_investigation")
            kwargs = {"amount": "500.00", "klass": ""}
            case.refresh_from_db()
            kwargs["amount"] = str(workflow.assessed_amount(case))
        else:
            to_township_review(cast, case)
            kwargs = proposal(case)
    elif state == S.NOTICED:
        to_notice(cast, case)
        if action == "reinvestigate":
            notice = case.notices.get()
            notices.objection_file(notice=notice, text="他家有车")
        else:
            notice_over(case)
    elif state == S.DISTRICT_REVIEW and action == "return_to_township":
        to_township_review(cast, case)
        act(cast["township_reviewer"], case, "propose_refusal", reason="存款超过规定")
    elif state == S.DISTRICT_REVIEW and action == "return_to_investigation":
        investigated(cast, case)
        act(cast["township_reviewer"], case, "propose_refusal", reason="存款超过规定")
    elif state == S.DISTRICT_REVIEW:
        to_district(cast, case)
        drawn(cast, case)
    elif state == S.REJECTED:
        investigated(cast, case)
        act(cast["township_reviewer"], case, "propose_refusal", reason="存款超过规定")
        act(cast["district_approver"], case, "reject")
    returns = ("return_to_township", "return_to_investigation")
    if action in ("refuse", "reject", "recheck", "propose_refusal", *returns):
        kwargs = {}
    reasoned = ("withdraw", "refuse", "reject", "recheck", "emergency_approve")
    if action in (*reasoned, "propose_refusal", *returns):
        kwargs["reason"] = "理由"
    case.refresh_from_db()
    return case, kwargs


def _temporary_investigated(cast, case):
    act(cast["clerk"], case, "start_investigation")
    visit(cast["clerk"], case)
    from eligibility.rules import Hardship

    return review.investigation_assess(
        actor=cast["clerk"],
        application=case,
        hardship=Hardship("other", "D", Decimal("800")),
    )


@pytest.mark.parametrize(
    ("state", "action"), list(flows.TRANSITIONS), ids=[f"{s}-{a}" for s, a in flows.TRANSITIONS]
)
def test_every_transition_for_every_role(cast, tree, calendar, state, action):
    step = flows.TRANSITIONS[state, action]
    for role in ROLES:
        case, kwargs = prepare(cast, tree, state, action)
        if role in step.roles:
            moved = workflow.transition(
                actor=cast[role],
                application=case,
                action=action,
                expected_version=case.version,
                **kwargs,
            )
            assert moved.status == step.to, role
            event = (
                AuditEvent.objects.filter(case_key=f"application:{case.pk}", action="transition")
                .order_by("id")
                .last()
            )
            assert (event.from_state, event.to_state) == (state, step.to)
            assert event.actor == cast[role]
        else:
            with pytest.raises(OutOfScopeError):
                workflow.transition(
                    actor=cast[role],
                    application=case,
                    action=action,
                    expected_version=case.version,
                    **kwargs,
                )
            case.refresh_from_db()
            assert case.status == state, role


@pytest.mark.parametrize("action", sorted({a for (_s, a) in flows.TRANSITIONS}))
def test_every_action_is_refused_in_the_wrong_state_and_outside_the_jurisdiction(
    cast, tree, calendar, action
):
    case = new_case(cast, tree)
    act(cast["clerk"], case, "withdraw", reason="不需要了")  # withdrawn: nothing applies
    case.refresh_from_db()
    role = flows.TRANSITIONS[next(k for k in flows.TRANSITIONS if k[1] == action)].roles[0]
    with pytest.raises(ConflictError):
        workflow.transition(
            actor=cast[role], application=case, action=action, expected_version=case.version
        )
    with pytest.raises(OutOfScopeError):
        workflow.transition(
            actor=cast["clerk_other"],
            application=case,
            action=action,
            expected_version=case.version,
        )


def test_the_investigator_cannot_approve(cast, tree, calendar, django_user_model):
    from tests.factories import UserFactory

    case = new_case(cast, tree, "temporary")
    _temporary_investigated(cast, case)
    case.refresh_from_db()
    # The township reviewer investigates, then tries to approve within the township's limit.
    Application.objects.filter(pk=case.pk).update(status=S.INVESTIGATING)
    act(cast["township_reviewer"], case, "complete_investigation")
    case.refresh_from_db()
    with pytest.raises(OutOfScopeError, match=r"另一名工作人员|another member"):
        act(
            cast["township_reviewer"],
            case,
            "township_approve",
            amount=str(workflow.assessed_amount(case)),
        )
    # A district approver who recorded the investigation's home visit may not approve either.
    case2 = new_case(cast, tree)
    to_district(cast, case2)
    drawn(cast, case2)
    HomeVisit.objects.create(
        application=case2,
        kind="investigation",
        visited_on=timezone.localdate(),
        recorded_by=cast["clerk"],
        second_staff=cast["district_approver"],
        second_visitor="张审批",
        findings="x",
    )
    with pytest.raises(OutOfScopeError):
        act(cast["district_approver"], case2, "approve")
    colleague = UserFactory(
        username="approver2", role="district_approver", jurisdiction=tree.yuzhong
    )
    assert act(colleague, case2, "approve").status == S.APPROVED


# --- The whole path, the entitlement and the letters --------------------------------------------


def test_the_whole_path_creates_the_entitlement_from_next_month(cast, tree, calendar):
    case = new_case(cast, tree)
    to_district(cast, case)
    draw = review.spot_check_draw(actor=cast["district_approver"], seed=7)
    case.refresh_from_db()
    assert case.spot_check_draw == draw
    if case.spot_checked:
        with pytest.raises(ValidationFailed):
            act(cast["district_approver"], case, "approve")
        visit(cast["district_approver"], case, HomeVisit.Kind.SPOT_CHECK)
    approved = act(cast["district_approver"], case, "approve", reason="符合条件")
    assert approved.status == S.APPROVED and approved.decided_by == cast["district_approver"]
    entitlement = Entitlement.objects.get(household=case.household)
    today = timezone.localdate()
    first = add_months(today.replace(day=1), 1)
    assert entitlement.start_month == first
    assert entitlement.next_review == add_months(first, 12)  # class A
    assert entitlement.monthly_amount == case.proposed_amount > 0
    assert entitlement.source == case.number
    states = list(
        AuditEvent.objects.filter(case_key=f"application:{case.pk}", action="transition")
        .order_by("id")
        .values_list("to_state", flat=True)
    )
    assert states == [
        "received",
        "investigating",
        "township_review",
        "noticed",
        "district_review",
        "approved",
    ]


def test_an_amount_different_from_the_assessment_needs_a_reason(cast, tree, calendar):
    case = new_case(cast, tree)
    to_township_review(cast, case)
    with pytest.raises(ValidationFailed) as refused:
        act(cast["township_reviewer"], case, "post_notice", amount="1.00", klass="B")
    assert refused.value.errors[0][0] == "override_reason"
    moved = act(
        cast["township_reviewer"],
        case,
        "post_notice",
        amount="1.00",
        klass="B",
        override_reason="按分档计发",
    )
    assert moved.proposed_amount == Decimal("1.00") and moved.amount_override_reason


def test_refusal_letter_and_recheck(client, cast, tree, calendar):
    case = new_case(cast, tree)
    investigated(cast, case)
    # issue 13: for 低保 the township proposes the refusal and the district decides it
    with pytest.raises(ValidationFailed):
        act(cast["township_reviewer"], case, "refuse", reason="名下有两套住房")
    with pytest.raises(ValidationFailed):
        act(cast["township_reviewer"], case, "propose_refusal")
    proposed = act(cast["township_reviewer"], case, "propose_refusal", reason="名下有两套住房")
    assert proposed.status == S.DISTRICT_REVIEW and proposed.letter_due is None
    refused = act(cast["district_approver"], case, "reject")
    assert refused.status == S.REJECTED and refused.letter_due is not None
    client.force_login(cast["clerk"])
    letter = client.get(f"/applications/{case.pk}/letter/").content.decode()
    assert "名下有两套住房" in letter and "行政复议" in letter and "行政诉讼" in letter
    rechecked = act(cast["township_reviewer"], case, "recheck", reason="申请人称房屋已出售")
    assert rechecked.status == S.INVESTIGATING and rechecked.letter_due is None


def test_a_district_rejection_cannot_be_rechecked_at_the_township(cast, tree, calendar):
    case = new_case(cast, tree)
    to_district(cast, case)
    drawn(cast, case)
    act(cast["district_approver"], case, "reject", reason="抽查发现有经营性收入")
    with pytest.raises(ValidationFailed):
        act(cast["township_reviewer"], case, "recheck", reason="x")


# --- Deadlines ----------------------------------------------------------------------------------


def test_step_deadlines_across_the_national_day_holiday(cast, tree, calendar):
    before = timezone.make_aware(dt.datetime(2025, 9, 30, 10))
    case = new_case(cast, tree, now=before)
    # The investigation runs 10 working days from acceptance, skipping 10-01…10-08.
    moved = workflow.transition(
        actor=cast["clerk"],
        application=case,
        action="start_investigation",
        expected_version=case.version,
        now=before,
    )
    assert moved.step_due == dt.date(2025, 10, 21)
    assert moved.decision_due == dt.date(2025, 11, 18)  # 30 working days
    # 特困 has its own limit: 15 working days for the township.
    tekun = new_case(cast, tree, "tekun", now=before)
    moved = workflow.transition(
        actor=cast["clerk"],
        application=tekun,
        action="start_investigation",
        expected_version=tekun.version,
        now=before,
    )
    assert moved.step_due == dt.date(2025, 10, 28)


def test_the_whole_process_is_extended_once_to_45_working_days(cast, tree, calendar):
    before = timezone.make_aware(dt.datetime(2025, 9, 30, 10))
    case = new_case(cast, tree, now=before)
    with pytest.raises(OutOfScopeError):
        review.application_extend(
            actor=cast["clerk"], application=case, expected_version=case.version, reason="x"
        )
    with pytest.raises(ValidationFailed):
        review.application_extend(
            actor=cast["township_reviewer"],
            application=case,
            expected_version=case.version,
            reason=" ",
        )
    extended = review.application_extend(
        actor=cast["township_reviewer"],
        application=case,
        expected_version=case.version,
        reason="需向外省核对存款",
    )
    assert extended.decision_due == dt.date(2025, 12, 9)  # 45 working days from 09-30
    with pytest.raises(ConflictError):
        review.application_extend(
            actor=cast["township_reviewer"],
            application=extended,
            expected_version=extended.version,
            reason="again",
        )


def test_overdue_steps_are_flagged_on_the_queues(client, cast, tree, calendar):
    long_ago = timezone.now() - dt.timedelta(days=60)
    case = new_case(cast, tree, now=long_ago)
    workflow.transition(
        actor=cast["clerk"],
        application=case,
        action="start_investigation",
        expected_version=case.version,
    )
    client.force_login(cast["township_reviewer"])
    home = client.get("/").content.decode()
    assert "待乡镇办理的案件(已超期1件)" in home and case.number in home
    page = client.get(f"/applications/{case.pk}/").content.decode()
    assert page.count("超期") >= 2  # the step and the whole process


# --- Objections ---------------------------------------------------------------------------------


def test_an_objection_blocks_approval_until_reinvestigated_and_noticed_again(cast, tree, calendar):
    case = new_case(cast, tree)
    to_notice(cast, case)
    notice = case.notices.get()
    objection = notices.objection_file(notice=notice, text="该户儿子在外地开公司", contact="")
    notice_over(case)
    with pytest.raises(ValidationFailed):
        act(cast["township_reviewer"], case, "end_notice")
    # Even if the case reached the district, an open objection stops the approval.
    Application.objects.filter(pk=case.pk).update(status=S.DISTRICT_REVIEW)
    drawn(cast, case)
    with pytest.raises(ValidationFailed, match=r"异议|objection"):
        act(cast["district_approver"], case, "approve")
    Application.objects.filter(pk=case.pk).update(status=S.NOTICED)
    moved = act(cast["township_reviewer"], case, "reinvestigate", reason="核查儿子经营情况")
    assert moved.status == S.INVESTIGATING and moved.needs_appraisal
    assert moved.step_due == workflow.step_deadline(
        moved, "reinvestigation_workdays", timezone.localdate()
    )
    objection.refresh_from_db()
    assert objection.status == Objection.Status.REINVESTIGATING
    assert case.notices.get().status == Notice.Status.WITHDRAWN
    # The re-investigation does its own work: the first visit and assessment do not count.
    with pytest.raises(ValidationFailed) as refused:
        act(cast["clerk"], case, "send_to_appraisal")
    assert {field for field, _m in refused.value.errors} == {"visit", "assessment"}
    visit(cast["clerk"], case)
    review.investigation_assess(actor=cast["clerk"], application=case)
    # After an objection the democratic appraisal is required.
    with pytest.raises(ValidationFailed):
        act(cast["clerk"], case, "complete_investigation")
    act(cast["clerk"], case, "send_to_appraisal")
    # Only the appraisal's record moves the case on, never a bare action.
    with pytest.raises(ValidationFailed):
        act(cast["clerk"], case, "appraisal_agreed")
    objection.refresh_from_db()
    assert objection.status == Objection.Status.RESOLVED
    case.refresh_from_db()
    with pytest.raises(ValidationFailed, match=r"2/3|三分之二|two thirds"):
        review.appraisal_record(
            actor=cast["clerk"],
            application=case,
            expected_version=case.version,
            held_on=timezone.localdate(),
            panel_size=9,
            representatives=5,
            conclusion="agreed",
        )
    review.appraisal_record(
        actor=cast["clerk"],
        application=case,
        expected_version=case.version,
        held_on=timezone.localdate(),
        panel_size=9,
        representatives=6,
        conclusion="agreed",
    )
    again = act(cast["township_reviewer"], case, "post_notice", **proposal(case))
    assert again.status == S.NOTICED and case.notices.filter(status="open").count() == 1


def test_a_contested_appraisal_sends_the_case_back(cast, tree, calendar):
    case = new_case(cast, tree)
    investigated(cast, case)
    Application.objects.filter(pk=case.pk).update(needs_appraisal=True)
    act(cast["clerk"], case, "send_to_appraisal")
    case.refresh_from_db()
    moved = review.appraisal_record(
        actor=cast["clerk"],
        application=case,
        expected_version=case.version,
        held_on=timezone.localdate(),
        panel_size=7,
        representatives=5,
        conclusion="contested",
        note="多数代表认为该户有隐性收入",
    )
    assert moved.status == S.INVESTIGATING


def test_an_unfounded_objection_is_recorded_and_the_case_goes_on(cast, tree, calendar):
    case = new_case(cast, tree)
    to_notice(cast, case)
    objection = notices.objection_file(notice=case.notices.get(), text="广告")
    with pytest.raises(OutOfScopeError):
        notices.objection_dismiss(actor=cast["clerk"], objection=objection, reason="x")
    notices.objection_dismiss(
        actor=cast["township_reviewer"], objection=objection, reason="与该户无关的广告"
    )
    notice_over(case)
    assert act(cast["township_reviewer"], case, "end_notice").status == S.DISTRICT_REVIEW


def test_objections_only_while_the_notice_is_up(cast, tree, calendar):
    case = new_case(cast, tree)
    to_notice(cast, case)
    notice_over(case)
    with pytest.raises(ConflictError):
        notices.objection_file(notice=case.notices.get(), text="迟到的异议")


# --- The spot-check -----------------------------------------------------------------------------


def test_spot_check_sample_is_at_least_30_percent_reproducible_and_includes_separate_cases(
    cast, tree, calendar
):
    cases = [new_case(cast, tree) for _ in range(10)]
    for case in cases:
        to_district(cast, case)
    separate = cases[3], cases[8]
    Application.objects.filter(pk__in=[c.pk for c in separate]).update(separately_registered=True)
    with pytest.raises(OutOfScopeError):
        review.spot_check_draw(actor=cast["township_reviewer"])
    draw = review.spot_check_draw(actor=cast["district_approver"])
    assert len(draw.selected) >= 3  # ceil(30% of 10)
    assert {c.pk for c in separate} <= set(draw.selected)
    again = workflow_sample(draw)
    assert again == draw.selected
    flagged = set(Application.objects.filter(spot_checked=True).values_list("pk", flat=True))
    assert flagged == set(draw.selected)
    assert review.spot_check_draw(actor=cast["district_approver"]) is None  # all drawn


def workflow_sample(draw: SpotCheckDraw) -> list[int]:
    return review.spot_check_sample(draw.population, draw.forced, draw.seed, draw.share)


def test_spot_check_sample_function():
    population = list(range(1, 21))
    sample = review.spot_check_sample(population, [5], 42, Decimal("0.30"))
    assert len(sample) == 6 and 5 in sample
    assert review.spot_check_sample(population, [5], 42, Decimal("0.30")) == sample
    assert review.spot_check_sample(population, [5], 43, Decimal("0.30")) != sample
    many_forced = review.spot_check_sample(population, list(range(1, 11)), 1, Decimal("0.30"))
    assert many_forced == list(range(1, 11))  # all forced ones, already above 30%
    assert review.spot_check_sample([1, 2], [], 1, Decimal("0.30")) in ([1], [2])


# --- 临时救助 ---------------------------------------------------------------------------------


def test_temporary_within_the_township_limit_and_the_emergency_path(cast, tree, calendar):
    case = new_case(cast, tree, "temporary")
    _temporary_investigated(cast, case)
    act(cast["clerk"], case, "complete_investigation")
    case.refresh_from_db()
    with pytest.raises(ValidationFailed):
        act(cast["township_reviewer"], case, "post_notice", amount="100", klass="A")
    with pytest.raises(ValidationFailed, match=r"权限"):
        act(cast["township_reviewer"], case, "township_approve", amount="5000", override_reason="x")
    approved = act(
        cast["township_reviewer"],
        case,
        "township_approve",
        amount=str(workflow.assessed_amount(case)),
    )
    assert approved.status == S.APPROVED
    assert not Entitlement.objects.filter(household=case.household).exists()  # one-off

    urgent = new_case(cast, tree, "temporary")
    with pytest.raises(ValidationFailed):  # above what the township may pay on its own
        act(cast["township_reviewer"], urgent, "emergency_approve", amount="2000", reason="火灾")
    with pytest.raises(ValidationFailed):
        act(cast["township_reviewer"], urgent, "emergency_approve", amount="NaN", reason="火灾")
    paid = act(cast["township_reviewer"], urgent, "emergency_approve", amount="800", reason="火灾")
    assert paid.status == S.APPROVED and paid.emergency
    assert paid.paperwork_due > timezone.localtime(paid.decided_at).date()
    assert "先行救助待补办手续" in _home(cast["township_reviewer"])
    visit(cast["clerk"], paid)  # the paperwork, after the payment
    assert "没有等待补办手续的先行救助" in _home(cast["township_reviewer"])


def _home(user) -> str:
    from django.test import Client

    client = Client()
    client.force_login(user)
    return client.get("/").content.decode()


# --- Concurrency (PostgreSQL) ---------------------------------------------------------------------


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_two_approvals_at_the_same_moment_change_the_state_once(cast, tree):
    from django.db import connection

    from tests.factories import UserFactory

    if connection.vendor != "postgresql":
        pytest.skip("needs PostgreSQL's concurrent transactions (CI runs it)")
    calendar_seed_from_package()
    case = new_case(cast, tree)
    to_district(cast, case)
    drawn(cast, case)
    approvers = [
        cast["district_approver"],
        UserFactory(username="approver2", role="district_approver", jurisdiction=tree.yuzhong),
    ]
    barrier = threading.Barrier(2)
    outcomes = []

    def approve(user):
        try:
            barrier.wait()
            workflow.transition(
                actor=user, application=case, action="approve", expected_version=case.version
            )
            outcomes.append("ok")
        except ConflictError:
            outcomes.append("conflict")
        except Exception as exc:  # pragma: no cover - reported below
            outcomes.append(repr(exc))
        finally:
            connections.close_all()

    threads = [threading.Thread(target=approve, args=(u,)) for u in approvers]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(outcomes) == ["conflict", "ok"]
    assert Entitlement.objects.filter(household=case.household).count() == 1
    assert (
        AuditEvent.objects.filter(case_key=f"application:{case.pk}", to_state="approved").count()
        == 1
    )


# --- Public pages -------------------------------------------------------------------------------


def _approved(cast, tree, name, **member):
    case = new_case(cast, tree, **member)
    household = case.household
    household.members.filter(relation="head").update(name=name)
    to_district(cast, case)
    drawn(cast, case)
    act(cast["district_approver"], case, "approve")
    return case


def test_public_pages_show_only_masked_public_fields(client, cast, tree, calendar):
    import re

    from beneficiaries.models import Member

    approved = _approved(cast, tree, "王小明")
    noticed = new_case(cast, tree)
    noticed.household.members.filter(relation="head").update(name="欧阳娜娜")
    to_notice(cast, noticed)
    pages = [
        client.get("/gongshi/"),
        client.get(f"/gongshi/{tree.yuzhong.code}/"),
        client.get(f"/gongshi/{tree.jiefangbei.code}/"),
        client.get(f"/gongshi/{tree.village.code}/"),
        client.get(f"/gongshi/notices/{noticed.notices.get().pk}/objection/"),
        client.get("/api/v1/public/notices/"),
    ]
    assert all(p.status_code == 200 for p in pages)
    village = pages[3].content.decode()
    assert "王*明" in village and "欧**娜" in village
    assert "王小明" not in village and "欧阳娜娜" not in village
    everything = "".join(p.content.decode() for p in pages)
    for member in Member.objects.select_related("household"):
        assert member.id_number not in everything
        assert member.name not in everything
    for household in (approved.household, noticed.household):
        assert household.address not in everything and household.phone not in everything
        assert household.bank_account_number not in everything
    assert not re.search(r"\b\d{15}(\d{2}[\dX])?\b", everything)  # no ID-shaped number
    assert not re.search(r"\b1[3-9]\d{9}\b", everything)  # no mobile number
    assert "渝中区解放碑街道民族路" not in everything


def test_name_masking():
    from beneficiaries.idnumber import mask_name

    assert mask_name("李") == "*"
    assert mask_name("张三") == "张*"
    assert mask_name("张小明") == "张*明"
    assert mask_name("欧阳娜娜") == "欧**娜"
    assert mask_name("") == ""


def test_public_objection_lands_on_the_township_queue_with_rate_limit_and_trap(
    client, cast, tree, calendar
):
    case = new_case(cast, tree)
    to_notice(cast, case)
    url = f"/gongshi/notices/{case.notices.get().pk}/objection/"
    assert client.post(url, {"text": ""}).status_code == 200  # the form again, nothing saved
    trapped = client.post(url, {"text": "买药广告", "website": "http://spam"})
    assert trapped.status_code == 302 and not Objection.objects.exists()
    sent = client.post(url, {"text": "该户有一辆货车", "name": "", "contact": ""})
    assert sent.status_code == 302
    objection = Objection.objects.get()
    assert objection.application == case and objection.status == "open"
    client.force_login(cast["township_reviewer"])
    home = client.get("/").content.decode()
    assert "待处理的异议" in home and case.number in home
    client.logout()
    for _ in range(4):
        client.post(url, {"text": "重复"})
    limited = client.post(url, {"text": "第六条"})
    assert limited.status_code == 429
    assert Objection.objects.count() == 5


def test_public_pages_are_cached_until_what_they_show_changes(
    client, cast, tree, calendar, django_assert_max_num_queries, django_capture_on_commit_callbacks
):
    url = f"/gongshi/{tree.village.code}/"
    first = client.get(url).content
    with django_assert_max_num_queries(0):
        assert client.get(url).content == first  # served from the cache
    case = new_case(cast, tree)
    with django_capture_on_commit_callbacks(execute=True):
        to_notice(cast, case)  # posting a notice makes the cached page stale at once
    assert "张*明" in client.get(url).content.decode()


# --- API ------------------------------------------------------------------------------------------


def test_api_transitions_and_events(client, cast, tree, calendar):
    case = new_case(cast, tree)
    client.force_login(cast["clerk"])
    url = f"/api/v1/applications/{case.pk}/actions/start_investigation/"
    response = client.post(url, {"version": case.version}, content_type="application/json")
    assert response.status_code == 200 and response.json()["status"] == "investigating"
    stale = client.post(url, {"version": case.version}, content_type="application/json")
    assert stale.status_code == 409
    wrong_role = client.post(
        f"/api/v1/applications/{case.pk}/actions/approve/",
        {"version": case.version + 1},
        content_type="application/json",
    )
    assert wrong_role.status_code in (403, 409)
    events = client.get(f"/api/v1/applications/{case.pk}/events/").json()
    assert [e["to_state"] for e in events] == ["received", "investigating"]
    assert events[1]["actor"] == "clerk"
    client.force_login(cast["clerk_other"])
    assert client.get(f"/api/v1/applications/{case.pk}/events/").status_code == 404
    assert (
        client.post(
            f"/api/v1/applications/{case.pk}/actions/complete_investigation/",
            {"version": case.version + 1},
            content_type="application/json",
        ).status_code
        == 404
    )


def test_the_documented_table_is_the_code():
    from pathlib import Path

    from django.conf import settings

    doc = (Path(settings.BASE_DIR) / "docs" / "workflow.md").read_text()
    for (state, action), step in flows.TRANSITIONS.items():
        row = (
            f"| {state} | `{action}` | {step.to} | {', '.join(step.roles)} | {step.clock or '—'} |"
        )
        assert row in doc, row


def test_separately_registered_temporary_cases_go_to_the_district(cast, tree, calendar):
    case = new_case(cast, tree, "temporary")
    Application.objects.filter(pk=case.pk).update(separately_registered=True)
    with pytest.raises(ValidationFailed):
        act(cast["township_reviewer"], case, "emergency_approve", amount="500", reason="火灾")
    _temporary_investigated(cast, case)
    act(cast["clerk"], case, "complete_investigation")
    case.refresh_from_db()
    amount = str(workflow.assessed_amount(case))
    with pytest.raises(ValidationFailed):
        act(cast["township_reviewer"], case, "township_approve", amount=amount)
    moved = act(cast["township_reviewer"], case, "refer_to_district", amount=amount)
    assert moved.status == S.DISTRICT_REVIEW


def test_an_ineligible_assessment_needs_a_reason_for_any_amount(cast, tree, calendar):
    case = new_case(cast, tree)
    investigated(cast, case)
    case.refresh_from_db()
    case.assessment.result = {**case.assessment.result, "eligible": False, "monthly_amount": None}
    case.assessment.save()
    act(cast["clerk"], case, "complete_investigation")
    with pytest.raises(ValidationFailed) as refused:
        act(cast["township_reviewer"], case, "post_notice", amount="5000", klass="A")
    assert refused.value.errors[0][0] == "override_reason"
    for bad in ("0", "-1", "NaN", "1e20", "abc"):
        with pytest.raises(ValidationFailed):
            act(
                cast["township_reviewer"],
                case,
                "post_notice",
                amount=bad,
                klass="A",
                override_reason="x",
            )


def test_objectors_name_and_contact_are_not_shown_to_village_workers(client, cast, tree, calendar):
    case = new_case(cast, tree)
    to_notice(cast, case)
    notices.objection_file(
        notice=case.notices.get(), text="有车", name="举报人甲", contact="13912345678"
    )
    url = f"/applications/{case.pk}/"
    client.force_login(cast["village_worker"])
    page = client.get(url).content.decode()
    assert "有车" in page and "举报人甲" not in page and "13912345678" not in page
    client.force_login(cast["township_reviewer"])
    assert "举报人甲" in client.get(url).content.decode()


def test_internal_actions_have_no_button_or_endpoint(client, cast, tree, calendar):
    case = new_case(cast, tree)
    client.force_login(cast["clerk"])
    for step in flows.INTERNAL:
        assert (
            client.post(f"/applications/{case.pk}/act/{step}/", {"version": 1}).status_code == 404
        )
        api = client.post(
            f"/api/v1/applications/{case.pk}/actions/{step}/",
            {"version": 1},
            content_type="application/json",
        )
        assert api.status_code == 404


def test_the_notice_is_up_seven_full_days_after_the_posting_day(cast, tree, calendar):
    case = new_case(cast, tree)
    to_notice(cast, case)
    notice = case.notices.get()
    assert notice.ends_on - notice.starts_on == dt.timedelta(days=7)


def test_public_cache_ignores_stray_query_strings(
    client, cast, tree, calendar, django_assert_max_num_queries
):
    url = f"/gongshi/{tree.village.code}/"
    client.get(url)
    with django_assert_max_num_queries(0):
        client.get(url + "?x=1")
        client.get(url + "?page=abc")
