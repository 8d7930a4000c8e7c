"""Dynamic management (DESIGN.md §7): classes, periodic reviews, their outcomes, the nightly
jobs (idempotent, locked, logged) and a new standard."""

import datetime as dt
import io
from decimal import Decimal

import pytest
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.models import User
from beneficiaries.models import Entitlement, EntitlementChange, IncomeItem
from core.exceptions import ConflictError, OutOfScopeError, ValidationFailed
from core.jobs import run_job
from core.models import Alert, JobRun
from core.months import add_months, next_month
from core.services import calendar_seed_from_package
from eligibility import classes as classes_rule
from notices import services as records
from notices.models import Notice
from recertification import classes, nightly, recalculation
from recertification import services as dynamic
from recertification.models import Review

from .factories import make_household, make_id, member_data

_seq = iter(range(400, 999))
TODAY = dt.date(2026, 11, 28)


@pytest.fixture(autouse=True)
def _calendar(db):
    calendar_seed_from_package()


def household_of(cast, tree, *people):
    """people: (name, birth YYYYMMDD, overrides); the first is the head."""
    members = []
    for index, (name, birth, extra) in enumerate(people):
        members.append(
            member_data(
                name,
                relation="head" if index == 0 else "child",
                id_number=make_id(birth=birth, seq=next(_seq)),
                **extra,
            )
        )
    return make_household(cast["clerk"], tree.village, members=members)


def entitle(household, klass="C", amount="500.00", next_review=None, approver=None):
    return Entitlement.objects.create(
        household=household,
        programme="dibao",
        monthly_amount=Decimal(amount),
        klass=klass,
        start_month=dt.date(2026, 1, 1),
        next_review=next_review or dt.date(2027, 1, 1),
        source="500103001-2025-00001",
        approved_at=timezone.now(),
        approved_by=approver or User.objects.get(username="district_approver"),
    )


# --- The class rule -----------------------------------------------------------------------------

ADULT = {"employment": "unemployed"}
CLASS_TABLE = [
    # (label, people, expected)
    ("elderly alone", [("老人", "19500101", {})], "A"),
    ("minor and grandparent", [("奶奶", "19550101", {}), ("孙子", "20150101", {})], "A"),
    (
        "severely disabled adult",
        [("甲", "19800101", {"disability_type": "physical", "disability_grade": 2})],
        "A",
    ),
    ("seriously ill adult", [("乙", "19800101", {"serious_illness": True})], "A"),
    (
        "no labour capacity (a reviewer's finding)",
        [("丙", "19800101", {"labour_capacity": "none", "labour_capacity_reason": "长期卧床"})],
        "A",
    ),
    (
        "grade-3 disabled can work",
        [("丁", "19800101", {"disability_type": "physical", "disability_grade": 3, **ADULT})],
        "C",
    ),
    ("unemployed adult", [("戊", "19800101", ADULT)], "C"),
    ("employed adult", [("己", "19800101", {"employment": "employed"})], "B"),
    (
        "pensioner and unemployed son",
        [("庚", "19500101", {"employment": "retired"}), ("辛", "19900101", ADULT)],
        "B",
    ),
]


@pytest.mark.parametrize(
    ("label", "people", "expected"), CLASS_TABLE, ids=[c[0] for c in CLASS_TABLE]
)
def test_class_derivation_table_in_python_and_in_sql(cast, tree, label, people, expected):
    household = household_of(cast, tree, *people)
    assert classes.class_for_household(household, TODAY) == expected
    entitlement = entitle(household, klass="C" if expected != "C" else "A")
    classes.classes_rederive(TODAY)
    entitlement.refresh_from_db()
    assert entitlement.klass == expected


def test_a_pension_income_makes_the_household_b(cast, tree):
    household = household_of(cast, tree, ("壬", "19850101", ADULT))
    entitlement = entitle(household, klass="C")
    head = household.members.get()
    IncomeItem.objects.create(
        member=head, type="pension", monthly_amount=Decimal("800"), source="declared"
    )
    classes.classes_rederive(TODAY)
    entitlement.refresh_from_db()
    assert entitlement.klass == "B"


def test_a_child_turning_16_overnight_moves_a_to_c(cast, tree):
    household = household_of(
        cast,
        tree,
        ("母亲", "19700101", {"labour_capacity": "none", "labour_capacity_reason": "重病"}),
        ("儿子", "20101129", ADULT),
    )
    entitlement = entitle(household, klass="A", next_review=dt.date(2027, 10, 1))
    eve, birthday = dt.date(2026, 11, 28), dt.date(2026, 11, 29)
    assert classes.classes_rederive(eve)["changed"] == 0
    assert classes.classes_rederive(birthday)["changed"] == 1
    entitlement.refresh_from_db()
    assert entitlement.klass == "C"
    change = entitlement.changes.get(kind="class")
    assert (change.old_value, change.new_value) == ("A", "C")
    assert "儿子" in change.cause and "16" in change.cause
    # C is reviewed quarterly: the review moves forward from next October to March.
    assert entitlement.next_review == dt.date(2027, 3, 1)


def test_a_member_turning_60_overnight_moves_c_to_a(cast, tree):
    household = household_of(cast, tree, ("老王", "19661129", ADULT))
    entitlement = entitle(household, klass="C", next_review=dt.date(2027, 1, 1))
    assert classes.classes_rederive(dt.date(2026, 11, 28))["changed"] == 0
    classes.classes_rederive(dt.date(2026, 11, 29))
    entitlement.refresh_from_db()
    assert entitlement.klass == "A" and "60" in entitlement.changes.get().cause
    assert entitlement.next_review == dt.date(2027, 1, 1)  # never pushed later


def test_an_overridden_class_is_left_alone(cast, tree):
    household = household_of(cast, tree, ("癸", "19800101", ADULT))
    entitlement = entitle(household, klass="C")
    with pytest.raises(OutOfScopeError):
        dynamic.entitlement_override_class(
            actor=cast["clerk"], entitlement=entitlement, klass="A", reason="x"
        )
    with pytest.raises(ValidationFailed):
        dynamic.entitlement_override_class(
            actor=cast["township_reviewer"], entitlement=entitlement, klass="A", reason=" "
        )
    dynamic.entitlement_override_class(
        actor=cast["township_reviewer"], entitlement=entitlement, klass="A", reason="长期卧床"
    )
    classes.classes_rederive(TODAY)
    entitlement.refresh_from_db()
    assert entitlement.klass == "A" and entitlement.class_overridden


def test_a_full_rederivation_moves_every_wrong_class_with_its_cause(cast, tree):
    """As after a rule change: many classes wrong at once, each moved and recorded with its
    cause, reviews brought forward, the overridden and the ended left alone."""
    october = dt.date(2027, 10, 1)

    def wrong(klass, *people):
        return entitle(household_of(cast, tree, *people), klass=klass, next_review=october)

    elderly = wrong("C", ("老人", "19500101", {}))
    employed = wrong("A", ("甲", "19800101", {"employment": "employed"}))
    unemployed = wrong("B", ("乙", "19800101", ADULT))
    disabled = wrong(
        "C", ("丙", "19800101", {"disability_type": "physical", "disability_grade": 1})
    )
    # Two members turned 60 this week: the cause names the first registered.
    couple = wrong("C", ("王大", "19661125", ADULT), ("李二", "19661123", ADULT))
    overridden = wrong("B", ("丁", "19800101", ADULT))
    Entitlement.objects.filter(pk=overridden.pk).update(class_overridden=True)
    ended = wrong("A", ("戊", "19800101", ADULT))
    Entitlement.objects.filter(pk=ended.pk).update(status="terminated")
    # 单人保 for a child: the child's class (A), not the household's (C).
    family = household_of(cast, tree, ("父亲", "19800101", ADULT), ("女儿", "20150101", {}))
    alone = entitle(family, klass="C", next_review=october)
    Entitlement.objects.filter(pk=alone.pk).update(member=family.members.get(name="女儿"))

    assert classes.classes_rederive(TODAY) == {"changed": 6, "A": 4, "B": 1, "C": 1}
    expected = {
        elderly: ("C", "A", _("Household data changed"), october),
        employed: ("A", "B", _("Household data changed"), dt.date(2027, 6, 1)),
        unemployed: (
            "B",
            "C",
            _("Income sources changed (employment or pension)"),
            dt.date(2027, 3, 1),
        ),
        disabled: ("C", "A", _("Severe disability recorded"), october),
        couple: ("C", "A", _("%(name)s turned %(age)d") % {"name": "王大", "age": 60}, october),
        alone: ("C", "A", _("Household data changed"), october),
    }
    for entitlement, (old, new, cause, next_review) in expected.items():
        entitlement.refresh_from_db()
        change = entitlement.changes.get()
        assert (change.kind, change.old_value, change.new_value) == ("class", old, new)
        assert change.cause == cause and change.effective_month == dt.date(2026, 12, 1)
        assert change.created_by is None and not change.superseded
        assert (entitlement.klass, entitlement.next_review) == (new, next_review)
    for entitlement, klass in ((overridden, "B"), (ended, "A")):
        entitlement.refresh_from_db()
        assert entitlement.klass == klass and not entitlement.changes.exists()
    assert classes.classes_rederive(TODAY) == {"changed": 0}  # nothing left to move


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_a_reviewers_decision_taken_during_the_night_is_left_alone(cast, tree):
    """The reviewer overrides the class while the night's derivation runs: the night waits
    for the reviewer's row, sees the decision and neither moves nor records that class."""
    import threading
    import time

    from django.db import connection, connections

    if connection.vendor != "postgresql":
        pytest.skip("needs PostgreSQL's concurrent transactions (CI runs it)")
    calendar_seed_from_package()
    entitlement = entitle(household_of(cast, tree, ("夜审", "19800101", ADULT)), klass="A")
    other = entitle(household_of(cast, tree, ("旁人", "19800101", ADULT)), klass="A")
    decided, commit = threading.Event(), threading.Event()
    night = {}

    def reviewer():
        try:
            with transaction.atomic():
                dynamic.entitlement_override_class(
                    actor=cast["township_reviewer"],
                    entitlement=entitlement,
                    klass="B",
                    reason="临时工",
                )
                decided.set()
                commit.wait(30)
        finally:
            connections.close_all()

    def nightly_job():
        try:
            night.update(classes.classes_rederive(TODAY))
        finally:
            connections.close_all()

    threads = [threading.Thread(target=reviewer), threading.Thread(target=nightly_job)]
    threads[0].start()
    assert decided.wait(30)
    threads[1].start()
    with connection.cursor() as cursor:  # until the night waits for the reviewer's row
        for _attempt in range(300):
            cursor.execute(
                "SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock' "
                "AND query LIKE 'WITH moved AS%%'"
            )
            if cursor.fetchone()[0]:
                break
            time.sleep(0.1)
        else:
            pytest.fail("the night never reached the reviewer's row")
    commit.set()
    for thread in threads:
        thread.join(30)
    assert night == {"changed": 1, "C": 1}  # the other entitlement only
    entitlement.refresh_from_db()
    assert (entitlement.klass, entitlement.class_overridden) == ("B", True)
    assert [c.cause for c in entitlement.changes.all()] == [
        _("Set by the reviewer: %(reason)s") % {"reason": "临时工"}
    ]
    assert other.changes.get().new_value == "C"


def test_python_rule_matches_edge_ages():
    born = dt.date(2010, 11, 29)
    child = classes_rule.ClassMember(birth_date=born, employment="unemployed")
    assert classes_rule.household_class([child], dt.date(2026, 11, 28)) == "A"
    assert classes_rule.household_class([child], dt.date(2026, 11, 29)) == "C"


# --- Reviews: opening and deciding --------------------------------------------------------------


def review_ready(cast, entitlement) -> Review:
    nightly.reviews_open_due(entitlement.next_review)
    review = Review.objects.get(entitlement=entitlement, status="open")
    dynamic.review_record_visit(
        actor=cast["clerk"], review=review, visited_on=TODAY, findings="入户核实"
    )
    dynamic.review_assess(actor=cast["clerk"], review=review)
    review.refresh_from_db()
    return review


def decide(cast, review, outcome, **kwargs):
    review.refresh_from_db()
    return dynamic.review_decide(
        actor=cast["township_reviewer"],
        review=review,
        expected_version=review.version,
        outcome=outcome,
        **kwargs,
    )


@pytest.fixture
def entitled(cast, tree):
    household = household_of(cast, tree, ("孙大爷", "19800101", ADULT))
    today = timezone.localdate()
    return entitle(household, klass="C", next_review=today + dt.timedelta(days=10))


def _next_month():
    return next_month(timezone.localdate())


def test_reviews_open_before_they_fall_due_once(cast, tree, entitled):
    far = entitle(
        household_of(cast, tree, ("远", "19800101", ADULT)), next_review=dt.date(2030, 1, 1)
    )
    first = nightly.reviews_open_due()
    assert first["opened"] == 1
    assert nightly.reviews_open_due()["opened"] == 0  # idempotent
    review = Review.objects.get()
    assert review.entitlement == entitled and review.due == entitled.next_review
    assert review.township == tree.jiefangbei
    assert not far.reviews.exists()
    assert Alert.objects.filter(user=cast["township_reviewer"]).count() == 1
    nightly.reviews_open_due()
    assert Alert.objects.filter(user=cast["township_reviewer"]).count() == 1


def test_review_needs_visit_and_assessment_and_the_reviewer(cast, tree, entitled):
    nightly.reviews_open_due()
    review = Review.objects.get()
    with pytest.raises(ValidationFailed):
        decide(cast, review, "continue")
    with pytest.raises(OutOfScopeError):
        dynamic.review_decide(
            actor=cast["clerk"], review=review, expected_version=review.version, outcome="continue"
        )
    with pytest.raises(OutOfScopeError):
        dynamic.review_record_visit(
            actor=cast["clerk_other"], review=review, visited_on=TODAY, findings="x"
        )


def test_continue_moves_the_next_review_only(cast, entitled):
    review = review_ready(cast, entitled)
    decide(cast, review, "continue")
    entitled.refresh_from_db()
    month = _next_month()
    assert entitled.monthly_amount == Decimal("500.00") and entitled.status == "active"
    assert entitled.next_review == add_months(month, 3)  # class C: quarterly
    assert entitled.amount_for(month) == Decimal("500.00")
    with pytest.raises(ConflictError):
        decide(cast, review, "continue")  # decided once


def test_adjust_lowers_the_amount_and_changes_the_class_from_next_month(cast, entitled):
    review = review_ready(cast, entitled)
    this_month = timezone.localdate().replace(day=1)
    with pytest.raises(ValidationFailed):
        decide(cast, review, "adjust")  # nothing to adjust
    decide(cast, review, "adjust", new_amount="320.00", new_class="B", reason="找到临时工作")
    entitled.refresh_from_db()
    month = _next_month()
    assert entitled.monthly_amount == Decimal("320.00") and entitled.klass == "B"
    assert entitled.amount_for(this_month) == Decimal("500.00")  # this month as it was
    assert entitled.amount_for(month) == Decimal("320.00")  # next month lowered
    assert entitled.next_review == add_months(month, 6)  # class B
    kinds = set(entitled.changes.values_list("kind", flat=True))
    assert {"amount", "class"} <= kinds
    assert entitled.class_overridden  # the rule says C for an unemployed adult


def test_suspend_stops_payment_from_next_month(cast, entitled):
    review = review_ready(cast, entitled)
    with pytest.raises(ValidationFailed):
        decide(cast, review, "suspend")
    decide(cast, review, "suspend", reason="外出务工,暂停")
    entitled.refresh_from_db()
    assert entitled.status == "suspended"
    assert entitled.amount_for(timezone.localdate().replace(day=1)) == Decimal("500.00")
    assert entitled.amount_for(_next_month()) is None


def test_terminate_goes_through_a_public_notice_then_ends_payment(client, cast, tree, entitled):
    review = review_ready(cast, entitled)
    decide(cast, review, "terminate", reason="家庭人均收入超过低保标准")
    review.refresh_from_db()
    assert review.status == "noticed"
    notice = Notice.objects.get(review=review)
    assert notice.kind == "termination" and (notice.ends_on - notice.starts_on).days == 7
    page = client.get(f"/gongshi/{tree.village.code}/").content.decode()
    assert "孙*爷" in page and "停保公示" in page
    entitled.refresh_from_db()
    assert entitled.status == "active"  # still paid during the notice
    assert nightly.notices_close_expired()["terminations_to_district"] == 0
    after = notice.ends_on + dt.timedelta(days=1)
    assert nightly.notices_close_expired(after)["terminations_to_district"] == 1
    assert nightly.notices_close_expired(after)["terminations_to_district"] == 0  # idempotent
    entitled.refresh_from_db()
    review.refresh_from_db()
    assert entitled.status == "active" and review.status == "district"
    # The district terminates (DESIGN.md §1); the township cannot.
    with pytest.raises(OutOfScopeError):
        dynamic.review_termination_decide(
            actor=cast["township_reviewer"],
            review=review,
            expected_version=review.version,
            confirm=True,
        )
    client.force_login(cast["district_approver"])
    assert "待区县决定的停保" in client.get("/").content.decode()
    response = client.post(
        f"/applications/reviews/{review.pk}/termination/",
        {"version": review.version, "decision": "confirm"},
    )
    assert response.status_code == 302
    entitled.refresh_from_db()
    review.refresh_from_db()
    assert entitled.status == "terminated" and review.status == "decided"
    today = timezone.localdate()
    assert entitled.end_month == today.replace(day=1)
    assert entitled.amount_for(next_month(today)) is None
    assert entitled.amount_for(today.replace(day=1)) == Decimal("500.00")


def test_the_district_may_refuse_a_termination(cast, tree, entitled):
    review = review_ready(cast, entitled)
    decide(cast, review, "terminate", reason="收入超标")
    notice = Notice.objects.get(review=review)
    nightly.notices_close_expired(notice.ends_on + dt.timedelta(days=1))
    review.refresh_from_db()
    with pytest.raises(ValidationFailed):
        dynamic.review_termination_decide(
            actor=cast["district_approver"],
            review=review,
            expected_version=review.version,
            confirm=False,
        )
    dynamic.review_termination_decide(
        actor=cast["district_approver"],
        review=review,
        expected_version=review.version,
        confirm=False,
        reason="收入为一次性补偿,不应停保",
    )
    review.refresh_from_db()
    entitled.refresh_from_db()
    assert review.status == "open" and entitled.status == "active"


def test_a_reported_change_opens_a_review(client, cast, tree, entitled):
    client.force_login(cast["clerk"])
    url = f"/applications/report-change/{entitled.household_id}/"
    assert client.post(url, {"change": ""}).status_code == 200
    response = client.post(url, {"change": "儿子已就业,月收入3000元"})
    assert response.status_code == 302
    review = Review.objects.get()
    assert review.kind == "reported" and "3000" in review.reported_change
    client.post(url, {"change": "女儿出嫁迁出"})
    assert Review.objects.count() == 1 and "女儿" in Review.objects.get().reported_change


def test_one_open_review_per_entitlement_is_a_database_rule(cast, entitled):
    nightly.reviews_open_due()
    with pytest.raises(IntegrityError), transaction.atomic():
        Review.objects.create(
            entitlement=entitled,
            township_id=entitled.household.region.parent_id,
            kind="periodic",
            opened_at=timezone.now(),
            due=TODAY,
        )


# --- A new standard -----------------------------------------------------------------------------


def test_a_new_standard_recalculates_from_its_month(cast, tree, client):
    from eligibility.models import PolicyValue

    household = household_of(cast, tree, ("周", "19800101", ADULT))
    entitlement = entitle(household, amount="500.00")  # urban standard 500, no income
    month = dt.date(2027, 1, 1)
    PolicyValue.objects.create(
        kind="dibao_standard",
        residence="urban",
        value=Decimal("560.00"),
        effective_from=month,
        source="渝府〔2027〕1号(测试)",
    )
    counts = recalculation.entitlements_recalculate(month)
    assert counts == {"checked": 1, "changed": 1, "reviews": 0}
    entitlement.refresh_from_db()
    assert entitlement.amount_for(dt.date(2026, 12, 1)) == Decimal("500.00")
    assert entitlement.amount_for(month) == Decimal("560.00")
    assert recalculation.entitlements_recalculate(month)["changed"] == 0  # idempotent
    client.force_login(cast["clerk"])
    page = client.get(f"/households/{household.pk}/").content.decode()
    assert "560.00" in page and "2027-01" in page


# --- The jobs: lock, run log, idempotence -------------------------------------------------------


def test_the_nightly_run_is_idempotent(cast, tree, entitled):
    household_of(cast, tree, ("x", "19800101", ADULT))
    first = dynamic_nightly()
    # issue 12 added phase_outs_end, issue 13 calendar_check, deadlines_recompute and
    # household_events_process, issue 18 standing_catch_up
    assert [r.status for r in first] == ["done"] * 9
    assert first[1].counts["opened"] == 1
    second = dynamic_nightly()
    assert second[0].counts["changed"] == 0 and second[1].counts["opened"] == 0
    assert second[2].counts == {"cases_to_district": 0, "terminations_to_district": 0, "failed": 0}
    assert second[6].job == "deadlines_recompute" and not any(second[6].counts.values())
    assert Alert.objects.count() == Alert.objects.values("user", "key").distinct().count()


def dynamic_nightly():
    return nightly.nightly()


def test_a_second_scheduler_finds_the_lock_and_skips(db):
    JobRun.objects.create(job="reviews_open_due", status="running", started_at=timezone.now())
    ran = []
    run = run_job("reviews_open_due", lambda: ran.append(1) or {})
    assert run.status == "skipped" and not ran
    # A lock left by a dead worker is released after a while.
    JobRun.objects.filter(status="running").update(
        started_at=timezone.now() - dt.timedelta(hours=3)
    )
    run = run_job("reviews_open_due", lambda: ran.append(1) or {"n": 1})
    assert run.status == "done" and ran == [1]
    assert JobRun.objects.filter(status="failed", error__contains="stale").count() == 1


def test_a_failing_job_is_logged_and_releases_its_lock(db):
    def boom():
        raise RuntimeError("disk full")

    with pytest.raises(RuntimeError):
        run_job("classes_rederive", boom)
    failed = JobRun.objects.get()
    assert failed.status == "failed" and "disk full" in failed.error
    assert run_job("classes_rederive", lambda: {"ok": 1}).status == "done"


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_two_schedulers_at_once_run_the_job_once(cast, tree):
    import threading

    from django.db import connection, connections

    if connection.vendor != "postgresql":
        pytest.skip("needs PostgreSQL's concurrent transactions (CI runs it)")
    calendar_seed_from_package()
    entitle(
        household_of(cast, tree, ("并发", "19800101", ADULT)),
        next_review=timezone.localdate(),
    )
    barrier = threading.Barrier(2)
    statuses = []

    def fire():
        try:
            barrier.wait()
            statuses.append(
                run_job("reviews_open_due", lambda: _slow(nightly.reviews_open_due)).status
            )
        finally:
            connections.close_all()

    threads = [threading.Thread(target=fire) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(statuses) == ["done", "skipped"]
    assert Review.objects.count() == 1


def _slow(fn):
    import time

    time.sleep(0.5)  # hold the lock while the other scheduler fires
    return fn()


def test_job_runs_page_and_inbox(client, cast, tree, entitled):
    nightly.nightly()
    client.force_login(cast["city_admin"])
    page = client.get("/reports/jobs/").content.decode()
    # issue 13: jobs, counts and schedules in words, not internal names or cron lines
    assert "开启到期的定期复核" in page and "开启复核 1" in page
    assert "夜间动态管理任务" in page and "每天02:00" in page  # the beat schedule
    assert "reviews_open_due" not in page and "opened=1" not in page
    client.force_login(cast["township_reviewer"])
    home = client.get("/").content.decode()
    assert "定期复核" in home
    inbox = client.get("/inbox/").content.decode()
    assert "复核" in inbox
    assert not Alert.objects.filter(user=cast["township_reviewer"], read_at__isnull=True).exists()


def test_reviews_api(client, cast, tree, entitled):
    review = review_ready(cast, entitled)
    client.force_login(cast["township_reviewer"])
    listed = client.get("/api/v1/reviews/").json()
    assert listed["count"] == 1
    response = client.post(
        f"/api/v1/reviews/{review.pk}/decide/",
        {
            "version": review.version,
            "outcome": "adjust",
            "new_amount": "300.00",
            "reason": "务工收入增加",
        },
        content_type="application/json",
    )
    assert response.status_code == 200 and response.json()["status"] == "decided"
    history = client.get(f"/api/v1/entitlements/{entitled.pk}/history/").json()
    assert any(h["kind"] == "amount" and h["new_value"] == "300.00" for h in history)
    stale = client.post(
        f"/api/v1/reviews/{review.pk}/decide/",
        {"version": review.version, "outcome": "continue"},
        content_type="application/json",
    )
    assert stale.status_code == 409
    client.force_login(cast["clerk_other"])
    assert client.get(f"/api/v1/entitlements/{entitled.pk}/").status_code == 404
    assert client.get("/api/v1/reviews/").json()["count"] == 0
    assert EntitlementChange.objects.filter(entitlement=entitled).exists()


@pytest.mark.postgres
def test_seed_scale_is_deterministic_and_the_night_derives_its_classes(db):
    from django.core.management import call_command
    from django.db import connection

    if connection.vendor != "postgresql":
        pytest.skip("seed_scale writes with PostgreSQL's generate_series (CI runs it)")
    from beneficiaries.models import Household, Member

    call_command("seed_scale", households=400, stdout=io.StringIO())
    assert Household.objects.count() == 400
    assert Member.objects.count() == 1000  # 1–4 members, mean 2.5
    # Half receive 低保 now (the entitled share); a few more had it terminated this year.
    assert Entitlement.objects.filter(status="active").count() == 200
    assert Entitlement.objects.filter(status="terminated").count() > 0
    # Written by SQL, then sealed like every other row: read back plain, found by the hash.
    member = Member.objects.order_by("pk").first()
    with connection.cursor() as cursor:
        cursor.execute("SELECT id_number FROM beneficiaries_member WHERE id = %s", [member.pk])
        assert cursor.fetchone()[0].startswith(member.id_number) is False
    assert Member.objects.get(id_number_digest=member.id_number) == member
    assert Household.objects.filter(phone_digest=member.household.phone).count() == 1
    runs = nightly.nightly()
    assert all(run.status == "done" for run in runs)
    assert set(Entitlement.objects.values_list("klass", flat=True)) == {"A", "B", "C"}
    # The night derives the class of every live entitlement (an ended one keeps its last).
    for entitlement in Entitlement.objects.filter(status="active").select_related("household")[:25]:
        assert entitlement.klass == classes.class_for_household(
            entitlement.household, timezone.localdate()
        )
    with pytest.raises(Exception, match="already run"):
        call_command("seed_scale", households=10)


def test_an_objection_to_a_termination_holds_it_until_dealt_with(client, cast, tree, entitled):

    review = review_ready(cast, entitled)
    decide(cast, review, "terminate", reason="收入超标")
    notice = Notice.objects.get(review=review)
    objection = records.objection_file(notice=notice, text="他家老人刚住院,收入没有超标")
    after = notice.ends_on + dt.timedelta(days=1)
    assert (
        nightly.notices_close_expired(after)["terminations_to_district"] == 0
    )  # held by the objection
    client.force_login(cast["township_reviewer"])
    assert "待处理的异议" in client.get("/").content.decode()
    page = client.get(f"/applications/reviews/{review.pk}/").content.decode()
    assert "他家老人刚住院" in page
    review.refresh_from_db()
    response = client.post(
        f"/applications/reviews/{review.pk}/withdraw-termination/",
        {"version": review.version, "reason": "异议属实,重新核查"},
    )
    assert response.status_code == 302
    review.refresh_from_db()
    objection.refresh_from_db()
    notice.refresh_from_db()
    assert review.status == "open" and objection.status == "resolved"
    assert notice.status == "withdrawn"
    entitled.refresh_from_db()
    assert entitled.status == "active"
    decide(cast, review, "continue", reason="重新核查后继续保障")
    entitled.refresh_from_db()
    assert entitled.status == "active" and entitled.amount_for(_next_month()) == Decimal("500.00")


def test_an_unfounded_objection_to_a_termination_lets_it_end(client, cast, tree, entitled):

    review = review_ready(cast, entitled)
    decide(cast, review, "terminate", reason="收入超标")
    notice = Notice.objects.get(review=review)
    objection = records.objection_file(notice=notice, text="广告")
    client.force_login(cast["township_reviewer"])
    client.post(
        f"/applications/reviews/{review.pk}/objections/{objection.pk}/dismiss/",
        {"reason": "与该户无关"},
    )
    objection.refresh_from_db()
    assert objection.status == "resolved"
    after = notice.ends_on + dt.timedelta(days=1)
    assert nightly.notices_close_expired(after)["terminations_to_district"] == 1


def test_the_latest_decision_governs_from_its_month(cast, tree, entitled):
    """A review cut after a new standard entered for a later month supersedes it, and the
    entitlement's amount always equals what its timeline pays."""
    from eligibility.models import PolicyValue

    # A standard for a month after the decision's (the decision governs from next month).
    january = add_months(_next_month(), 1)
    PolicyValue.objects.create(
        kind="dibao_standard",
        residence="urban",
        value=Decimal("560.00"),
        effective_from=january,
        source="测试",
    )
    recalculation.entitlements_recalculate(january)
    entitled.refresh_from_db()
    assert entitled.amount_for(january) == Decimal("560.00")
    review = review_ready(cast, entitled)
    decide(cast, review, "adjust", new_amount="320.00", reason="找到工作")
    entitled.refresh_from_db()
    month = _next_month()
    assert entitled.amount_for(month) == Decimal("320.00")
    assert entitled.amount_for(january) == Decimal("320.00")  # the cut is not undone
    assert entitled.monthly_amount == Decimal("320.00")
    cut = entitled.changes.get(kind="amount", new_value="320.00")
    assert Decimal(cut.old_value) == Decimal("500.00")  # what that month paid before
    # The January standard is not silently dropped: the township decides January again.
    follow_up = Review.objects.get(entitlement=entitled, status="open")
    assert follow_up.due == january and f"{january:%Y-%m}" in follow_up.reported_change


def test_a_batch_does_not_overwrite_a_later_review_decision(cast, tree, entitled):
    from eligibility.models import PolicyValue

    review = review_ready(cast, entitled)
    decide(cast, review, "adjust", new_amount="320.00", reason="找到工作")
    this_month = timezone.localdate().replace(day=1)
    PolicyValue.objects.create(
        kind="dibao_standard",
        residence="urban",
        value=Decimal("560.00"),
        effective_from=this_month,
        source="测试",
    )
    counts = recalculation.entitlements_recalculate(this_month)
    assert counts["changed"] == 0 and counts["reviews"] == 1
    entitled.refresh_from_db()
    assert entitled.amount_for(_next_month()) == Decimal("320.00")
    assert entitled.monthly_amount == Decimal("320.00")


def test_a_suspended_payment_is_reviewed_and_resumed(cast, tree, entitled):
    review = review_ready(cast, entitled)
    decide(cast, review, "suspend", reason="外出务工")
    entitled.refresh_from_db()
    assert entitled.next_review > timezone.localdate() + dt.timedelta(days=31)
    assert nightly.reviews_open_due()["opened"] == 0  # not reopened the next night
    Entitlement.objects.filter(pk=entitled.pk).update(next_review=timezone.localdate())
    assert nightly.reviews_open_due()["opened"] == 1  # suspended ones are reviewed too
    second = Review.objects.get(status="open")
    dynamic.review_record_visit(
        actor=cast["clerk"], review=second, visited_on=TODAY, findings="已返乡"
    )
    dynamic.review_assess(actor=cast["clerk"], review=second)
    with pytest.raises(ValidationFailed):
        decide(cast, second, "suspend", reason="again")
    decide(cast, second, "resume", reason="已返乡,无收入")
    entitled.refresh_from_db()
    assert entitled.status == "active"
    assert entitled.amount_for(_next_month()) == Decimal("500.00")


def test_an_adjusted_amount_other_than_the_assessment_needs_a_reason(cast, entitled):
    review = review_ready(cast, entitled)
    with pytest.raises(ValidationFailed) as refused:
        decide(cast, review, "adjust", new_amount="99999999.99")
    assert refused.value.errors[0][0] == "reason"


def test_one_failing_job_does_not_stop_the_night(cast, tree, entitled, monkeypatch):
    def broken(today=None):
        raise RuntimeError("boom")

    monkeypatch.setattr(nightly, "classes_rederive", broken)
    runs = nightly.nightly()
    assert [r.status for r in runs] == ["failed", *["done"] * 8]
    assert runs[1].counts["opened"] == 1


def test_a_pension_not_yet_started_is_not_a_stable_income(cast, tree):
    household = household_of(cast, tree, ("未来", "19850101", ADULT))
    IncomeItem.objects.create(
        member=household.members.get(),
        type="pension",
        monthly_amount=Decimal("800"),
        source="declared",
        period_start=dt.date(2030, 1, 1),
    )
    assert classes.class_for_household(household, TODAY) == "C"
    entitlement = entitle(household, klass="B")
    classes.classes_rederive(TODAY)
    entitlement.refresh_from_db()
    assert entitlement.klass == "C"
    assert entitlement.changes.get().cause == "收入来源变化(就业或养老金)"


def test_recalculation_refuses_months_already_paid(client, cast):
    client.force_login(cast["city_admin"])
    last_year = (timezone.localdate().replace(day=1) - dt.timedelta(days=400)).strftime("%Y-%m")
    response = client.post("/applications/standards/recalculate/", {"month": last_year})
    assert response.status_code == 302
    assert not JobRun.objects.filter(job="entitlements_recalculate").exists()


def test_who_recorded_the_visit_does_not_decide(cast, tree, entitled):
    nightly.reviews_open_due()
    review = Review.objects.get()
    dynamic.review_record_visit(
        actor=cast["township_reviewer"], review=review, visited_on=TODAY, findings="入户"
    )
    dynamic.review_assess(actor=cast["clerk"], review=review)
    with pytest.raises(OutOfScopeError):
        decide(cast, review, "continue")


def test_the_review_queue_is_the_township_s_and_follows_a_household_that_moves(
    cast, tree, entitled
):
    """Reviews are found through the township that works them (the district's and the city's
    queues read one index in due order). No edit here moves a household out of its township;
    should one (a correction in the admin, a future transfer), the change-report run takes the
    open review along, and a decided one stays with the township that decided it."""
    from beneficiaries.models import HouseholdEvent
    from beneficiaries.services import household_event
    from recertification import selectors
    from recertification.changes import household_events_process

    nightly.reviews_open_due(entitled.next_review)
    review = Review.objects.get(entitlement=entitled, status="open")
    decided = Review.objects.create(
        entitlement=entitled,
        township=tree.jiefangbei,
        opened_at=timezone.now(),
        due=dt.date(2026, 1, 1),
        status=Review.Status.DECIDED,
    )

    def sees(who):
        return set(selectors.review_list(user=cast[who]).values_list("pk", flat=True))

    here = {review.pk, decided.pk}
    for who in ("clerk", "district_approver", "auditor", "auditor_district", "village_worker"):
        assert sees(who) == here, who
    assert sees("clerk_other") == set()

    household = entitled.household
    household.region = tree.wanzhou_village
    household.save(update_fields=["region"])
    household_event(household, HouseholdEvent.Kind.RESIDENCE, None, "万州区白岩社区")
    household_events_process(TODAY)
    review.refresh_from_db()
    assert review.township == tree.wanzhou_township
    assert sees("clerk_other") == {review.pk}
    assert sees("clerk") == sees("district_approver") == {decided.pk}
    assert sees("village_worker") == set()  # the household no longer lives in the village
    assert sees("auditor") == here


def test_the_city_s_review_counts_are_recounted_every_few_minutes_and_say_when(
    client, cast, tree, entitled
):
    from django.core.cache import cache

    from recertification import selectors

    cache.clear()
    nightly.reviews_open_due(entitled.next_review)
    counted = selectors.review_counts(user=cast["auditor"])
    assert counted["open"] == 1 and counted["c"] == 1 and counted["counted_at"]
    assert selectors.review_counts(user=cast["clerk"]) == {
        "open": 1,
        "a": 0,
        "b": 0,
        "c": 1,
        "overdue": 0,
    }
    client.force_login(cast["auditor"])
    page = client.get("/applications/reviews/").content.decode()
    assert "五分钟" in page  # the city's figures say when they were counted
    client.force_login(cast["clerk"])
    assert "五分钟" not in client.get("/applications/reviews/").content.decode()

    Review.objects.filter(entitlement=entitled).update(due=dt.date(2026, 1, 1))
    assert selectors.review_counts(user=cast["clerk"])["overdue"] == 1  # now, in the township
    assert selectors.review_counts(user=cast["auditor"])["overdue"] == 0  # as counted
    selectors.review_counts_forget()
    assert selectors.review_counts(user=cast["auditor"])["overdue"] == 1
    # The night's openings are counted at the next look.
    far = entitle(household_of(cast, tree, ("远亲", "19700101", ADULT)), next_review=TODAY)
    nightly.reviews_open_due(TODAY)
    assert Review.objects.filter(entitlement=far, status="open").exists()
    assert selectors.review_counts(user=cast["auditor"])["open"] == 2
