"""Issue 12: the policy rules a caseworker would catch, on worked examples with the seeded 2017
figures (urban 低保 500, rural 350; 特困 650 from April 2017 plus 200 nursing for full loss of
self-care) and at every boundary. Each rule is checked in the rules, through the assess API,
and where it reaches a case, on the page or the public notice."""

import datetime as dt
from decimal import Decimal

import pytest

from beneficiaries import people
from eligibility import rules
from eligibility.classes import ClassMember, household_class
from eligibility.models import PolicyValue
from eligibility.services import assessment_preview

from .factories import make_household, make_id, member_data

D = Decimal
JUNE_2017 = dt.date(2017, 6, 15)
URL = "/api/v1/eligibility/assess/"

pytestmark = pytest.mark.django_db


def person(income="0", income_type="wage", born="19800101", seq=1, **kw):
    incomes = (rules.Income(income_type, D(income)),) if D(income) else ()
    return rules.Person(id_number=make_id(born, seq=seq), incomes=incomes, **kw)


def run(programme="dibao", members=(), residence="urban", as_of=JUNE_2017, **kw):
    case = rules.Case(programme, residence, as_of, tuple(members), **kw)
    result, _policy, _sources = assessment_preview(case=case)
    return result


def codes(result):
    return {f.code for f in result.findings}


def policy(kind, value, **kw):
    PolicyValue.objects.create(
        kind=kind,
        value=D(value),
        effective_from=kw.pop("effective_from", dt.date(2017, 1, 1)),
        source="test",
        **kw,
    )


# --- 1. Who counts (共同生活) -------------------------------------------------------------


def test_the_issue_example_a_student_away_still_counts():
    """Urban 2017, mother earning 800, daughter a university student away: size 2, 200.00."""
    mother = person("800", born="19700101", seq=2)
    daughter = person(born="19980101", seq=4, lives_with_household=False, absence_reason="study")
    result = run(members=[mother, daughter])
    assert (result.eligible, result.household_size, str(result.monthly_amount)) == (
        True,
        2,
        "200.00",
    )


@pytest.mark.parametrize(
    ("reason", "decided", "counted"),
    [
        ("study", None, True),
        ("work", None, True),
        ("military", None, True),
        ("prison", None, False),
        ("rehab", None, False),
        ("religious", None, False),
        ("missing", None, False),
        ("other", None, False),  # until the reviewer decides
        ("other", True, True),
        ("other", False, False),
    ],
)
def test_who_counts_by_reason_of_absence(reason, decided, counted):
    head = person("0", seq=2)
    away = person("900", seq=4, lives_with_household=False, absence_reason=reason)
    away = rules.Person(**{**away.__dict__, "absence_counted": decided})
    result = run(members=[head, away])
    assert result.household_size == (2 if counted else 1)
    # The income of a member who does not count does not count either.
    assert str(result.monthly_amount) == ("100.00" if counted else "500.00")
    assert ("absence_undecided" in codes(result)) is (reason == "other" and decided is None)


def test_the_public_notice_shows_the_counted_size(cast, tree):
    from applications import services
    from applications.models import Application

    from .test_review import ALL, act, proposal, to_township_review

    household = make_household(
        cast["clerk"],
        tree.village,
        members=[
            member_data("周明", id_number=make_id("19700101", seq=21)),
            member_data(
                "周强",
                id_number=make_id("19950101", seq=23),
                relation="child",
                lives_with_household=False,
                absence_reason="prison",
            ),
            member_data(
                "周丽",
                id_number=make_id("20000101", seq=24),
                relation="child",
                lives_with_household=False,
                absence_reason="study",
            ),
        ],
    )
    from core.services import calendar_seed_from_package

    calendar_seed_from_package()
    (case,) = services.application_intake(
        actor=cast["clerk"],
        household=household,
        programmes=["dibao"],
        referrals=[],
        channel="window",
        materials_received=ALL,
    ).applications
    to_township_review(cast, case)
    case = act(cast["township_reviewer"], case, "post_notice", **proposal(case))
    assert case.status == Application.Status.NOTICED
    assert case.notices.get().household_size == 2  # registered 3; the prisoner does not count


def test_the_reviewer_decides_an_other_absence(client, cast, tree):
    from beneficiaries.models import Member

    household = make_household(
        cast["clerk"],
        tree.village,
        members=[
            member_data("吴一"),
            member_data(
                "吴二",
                id_number=make_id(seq=31),
                relation="spouse",
                lives_with_household=False,
                absence_reason="other",
            ),
        ],
    )
    away = household.members.get(name="吴二")
    assert away.absence_counted is None and not away.counted
    client.force_login(cast["township_reviewer"])
    page = client.get(f"/households/{household.pk}/").content.decode()
    assert "待乡镇审核人员认定" in page
    url = f"/households/members/{away.pk}/absence/"
    assert client.post(url, {"counted": "yes", "reason": ""}).status_code == 302
    away.refresh_from_db()
    assert away.absence_counted is None  # no reason, no decision
    client.post(url, {"counted": "yes", "reason": "在外照顾病人,每周回家"})
    away.refresh_from_db()
    assert away.absence_counted is True and away.counted
    assert away.history.first().history_user == cast["township_reviewer"]
    client.force_login(cast["clerk"])
    assert client.post(url, {"counted": "no", "reason": "x"}).status_code == 403
    # The decision stands through an edit of something else, and goes when the reason does.
    from beneficiaries.services import household_update

    def edit(**changes):
        household.refresh_from_db()
        members = [{"id": m.pk} for m in household.members.filter(is_current=True)]
        members[1].update(changes)
        household_update(
            actor=cast["clerk"],
            household=household,
            expected_version=household.version,
            region=household.region,
            fields={},
            members=members,
        )
        return Member.objects.get(pk=away.pk)

    assert edit(serious_illness=True).absence_counted is True
    changed = edit(absence_reason="work")
    assert changed.absence_counted is None and changed.absence_decision == ""
    assert changed.counted  # working away counts anyway


# --- 2. Disability and labour capacity ------------------------------------------------


@pytest.mark.parametrize(
    ("kind", "grade", "capacity"),
    [
        ("physical", 1, "none"),
        ("physical", 2, "none"),
        ("physical", 3, "full"),
        ("intellectual", 3, "none"),
        ("intellectual", 4, "full"),
        ("mental", 3, "none"),
        ("mental", 4, "full"),
        ("visual", 1, "none"),
        ("visual", 2, "full"),
        ("hearing", 1, "full"),
        ("speech", 1, "full"),
        ("multiple", 2, "none"),
        ("multiple", 3, "full"),
        ("", None, "full"),
    ],
)
def test_labour_capacity_from_disability(kind, grade, capacity):
    adult = dt.date(1980, 1, 1)
    derived = people.labour_capacity(
        birth_date=adult, as_of=JUNE_2017, recorded="", kind=kind, grade=grade
    )
    assert derived == capacity


@pytest.mark.parametrize(
    ("born", "capacity"),
    [
        ("20010616", "none"),  # 15 the day before their 16th birthday
        ("20010615", "full"),  # 16 today
        ("19570616", "full"),  # 59
        ("19570615", "none"),  # 60 today
    ],
)
def test_labour_capacity_from_age_wins_over_what_is_recorded(born, capacity):
    birth = dt.date(int(born[:4]), int(born[4:6]), int(born[6:]))
    assert (
        people.labour_capacity(
            birth_date=birth, as_of=JUNE_2017, recorded="full", kind="", grade=None
        )
        == capacity
    )


def test_the_issue_example_grade_2_physical_alone_is_tekun():
    """Rural, 45, alone, grade-2 physical disability, full loss of self-care: 650 + 200."""
    alone = person(
        born="19720101",
        disability_type="physical",
        disability_grade=2,
        self_care="none",
    )
    result = run("tekun", [alone], residence="rural")
    assert result.eligible and str(result.monthly_amount) == "850.00"


def test_a_reviewers_override_needs_a_reason_and_counts(cast, tree):
    from core.exceptions import ValidationFailed

    with pytest.raises(ValidationFailed) as exc:
        make_household(
            cast["clerk"],
            tree.village,
            members=[
                member_data(disability_type="physical", disability_grade=2, labour_capacity="full")
            ],
        )
    assert any("labour_capacity_reason" in field for field, _m in exc.value.errors)
    household = make_household(
        cast["clerk"],
        tree.village,
        members=[
            member_data(
                disability_type="physical",
                disability_grade=2,
                labour_capacity="full",
                labour_capacity_reason="安装假肢后在工厂全职工作",
            )
        ],
    )
    member = household.members.get()
    assert member.capacity(JUNE_2017) == "full"
    # Recording what age and disability give anyway stores nothing: it stays derived.
    plain = make_household(
        cast["clerk"],
        tree.village,
        members=[member_data(id_number=make_id(seq=41), labour_capacity="full")],
    )
    assert plain.members.get().labour_capacity == ""


# --- 3. 单人保 ---------------------------------------------------------------------------


def _family(disabled, head_income="2100"):
    return [person(head_income, seq=2), person(seq=4), disabled]


@pytest.mark.parametrize(
    ("member", "eligible"),
    [
        ({"disability_type": "physical", "disability_grade": 1}, True),
        ({"disability_type": "hearing", "disability_grade": 2}, True),
        ({"disability_type": "mental", "disability_grade": 3}, True),
        ({"disability_type": "physical", "disability_grade": 3}, False),
        ({"serious_illness": True}, False),  # see the next test: qualifies, own income too high
        ({}, False),
    ],
)
def test_single_member_qualifies_by_disability_or_illness(member, eligible):
    disabled = person("0", born="19900101", seq=6, **member)
    if member.get("serious_illness"):
        disabled = person("600", born="19900101", seq=6, **member)
    result = run(members=_family(disabled), single_member=disabled.id_number)
    assert result.eligible is eligible
    if eligible:  # size 1, own income 0: the whole standard
        assert (result.household_size, str(result.monthly_amount)) == (1, "500.00")


def test_single_member_only_in_a_marginal_family():
    disabled = person(born="19900101", seq=6, disability_type="physical", disability_grade=1)
    # 2,249.99 / 3 = 749.997 < 750 (1.5 × 500): marginal, the member is assessed alone
    assert run(members=_family(disabled, "2249.99"), single_member=disabled.id_number).eligible
    at_line = run(members=_family(disabled, "2250"), single_member=disabled.id_number)
    assert not at_line.eligible and "not_marginal_family" in codes(at_line)


def test_single_member_through_the_api(client, cast):
    client.force_login(cast["clerk"])
    disabled = make_id("19900101", seq=6)
    body = client.post(
        URL,
        {
            "programme": "dibao",
            "residence": "urban",
            "as_of": "2017-06-15",
            "members": [
                {
                    "id_number": make_id(seq=2),
                    "relation": "head",
                    "incomes": [{"type": "wage", "monthly_amount": "2100.00"}],
                },
                {"id_number": make_id(seq=4), "relation": "spouse"},
                {
                    "id_number": disabled,
                    "relation": "child",
                    "disability": {"kind": "intellectual", "grade": 3},
                },
            ],
            "single_member": disabled,
        },
        content_type="application/json",
    ).json()
    assert (body["eligible"], body["household_size"], body["monthly_amount"]) == (
        True,
        1,
        "500.00",
    )
    wrong = client.post(
        URL,
        {
            "programme": "tekun",
            "residence": "urban",
            "as_of": "2017-06-15",
            "members": [{"relation": "head"}],
            "single_member": disabled,
        },
        content_type="application/json",
    )
    assert wrong.status_code == 400 and "single_member" in wrong.json()


# --- 4 and 5. Rigid expenditure and 支出型 -----------------------------------------------


def test_the_issue_example_expenditure_couple():
    """Urban couple, wage 1,200, medical costs 20,000 a year → 1,000.00."""
    result = run(
        "expenditure",
        [person("1200", seq=2), person(seq=4)],
        expenditures=(rules.Expenditure("medical", D("20000")),),
    )
    assert result.eligible and str(result.monthly_amount) == "1000.00"
    # 20,000 / 12 / 2 = 833.33 per person deducted; income never goes below zero
    assert str(rules.money(result.deducted_expenditure_per_capita)) == "833.33"
    assert result.counted_income_per_capita == 0


def test_expenditure_not_eligible_recommends_temporary_with_its_class():
    # 2,400 wage, 6,000 a year medical: (2,400 − 500) / 2 = 950 per person: above the 低保
    # standard (500), above the marginal line (750), below 2 × 500 → class C.
    result = run(
        "expenditure",
        [person("2400", seq=2), person(seq=4)],
        expenditures=(rules.Expenditure("medical", D("6000")),),
    )
    assert not result.eligible
    assert result.recommendation == {"programme": "temporary", "applicant_class": "C"}


@pytest.mark.parametrize(
    ("wage", "klass"),
    [
        ("499.99", "A"),  # below the 低保 standard (500)
        ("500", "B"),
        ("749.99", "B"),  # below the marginal line, 1.5 × 500
        ("750", "C"),
        ("999.99", "C"),  # below the assumed 2 × 500
        ("1000", "D"),
    ],
)
def test_temporary_class_boundaries(wage, klass):
    # one member, no rigid costs; a vehicle makes even the poorest ineligible for 支出型
    result = run("expenditure", [person(wage, seq=2)], assets=(rules.Asset("vehicle"),))
    assert not result.eligible
    assert result.recommendation == {"programme": "temporary", "applicant_class": klass}


def test_dibao_deducts_rigid_costs_only_when_policy_says_so():
    members = [person("1200", seq=2), person(seq=4)]
    costs = (rules.Expenditure("medical", D("6000")), rules.Expenditure("education", D("9000")))
    plain = run(members=members, expenditures=costs)
    assert not plain.eligible  # 1,200 / 2 = 600 per person, not below 500
    assert plain.deducted_expenditure_per_capita is None
    policy("dibao_deduct_rigid", "1", effective_from=dt.date(2017, 6, 1))
    deducted = run(members=members, expenditures=costs)
    # only medical counts: 6,000 / 12 = 500 a month; 1,200 − 500 = 700 → (500 × 2 − 700) = 300
    assert deducted.eligible and str(deducted.monthly_amount) == "300.00"
    assert "rigid_expenditure_deducted" in codes(deducted)


def test_rigid_costs_need_evidence_on_the_register(cast, tree):
    from beneficiaries.models import Expenditure
    from eligibility.selectors import household_case

    household = make_household(cast["clerk"], tree.village, members=[member_data()])
    Expenditure.objects.create(household=household, type="medical", amount_12m=D("6000"))
    Expenditure.objects.create(
        household=household, type="disability_care", amount_12m=D("1200"), evidenced=True
    )
    case = household_case(household=household, programme="expenditure", as_of=JUNE_2017)
    assert case.expenditures == (rules.Expenditure("disability_care", D("1200")),)


# --- 6. Exclusions and the imputed wage -----------------------------------------------


@pytest.mark.parametrize(
    ("asset", "code"),
    [
        (rules.Asset("ship"), "ship_owned"),
        (rules.Asset("house", built_or_bought_on=dt.date(2014, 6, 16)), "house_recently_acquired"),
        (rules.Asset("house", luxury_renovation=True), "luxury_renovation"),
    ],
)
def test_property_that_excludes(asset, code):
    result = run(members=[person()], assets=(asset,))
    assert not result.eligible and code in codes(result)


@pytest.mark.parametrize(
    "house",
    [
        rules.Asset("house", built_or_bought_on=dt.date(2014, 6, 15)),  # exactly 3 years ago
        rules.Asset("house", built_or_bought_on=dt.date(2016, 1, 1), exempt_reason="disaster"),
        rules.Asset("house", built_or_bought_on=dt.date(2016, 1, 1), exempt_reason="relocation"),
    ],
)
def test_houses_that_do_not_exclude(house):
    assert run(members=[person()], assets=(house,)).eligible


def test_studying_abroad_and_employing_others_exclude():
    abroad = run(members=[person(), person(seq=3, studying_abroad_self_funded=True)])
    assert "studying_abroad" in codes(abroad) and not abroad.eligible
    employer = run(members=[person()], employs_others=True)
    assert "employs_others" in codes(employer) and not employer.eligible


def test_stable_work_without_proof_counts_the_imputed_wage():
    worker = person(seq=2, works_without_income_proof=True)
    result = run(members=[worker, person(seq=4), person(seq=6), person(seq=8)])
    # the seeded (assumed) 3,000 a month: 3,000 / 4 = 750 ≥ 500
    assert not result.eligible and "wage_imputed" in codes(result)
    declared = person("400", seq=2, works_without_income_proof=True)
    proven = run(members=[declared, person(seq=4)])
    assert proven.eligible and str(proven.monthly_amount) == "600.00"  # the wage shown counts


# --- 7. Classes and review intervals --------------------------------------------------


def test_the_issue_example_basic_pension_is_not_stable():
    """A 70-year-old on the basic resident pension with an unemployed, able 35-year-old son."""
    father = person("150", "basic_pension", born="19470101", seq=2)
    son = person(born="19820101", seq=3, employment="unemployed")
    assert run(members=[father, son]).suggested_class == "C"
    pensioner = person("1500", "pension", born="19470101", seq=2)
    assert run(members=[pensioner, son]).suggested_class == "B"
    assert (
        household_class(
            [
                ClassMember(birth_date=dt.date(1947, 1, 1)),
                ClassMember(birth_date=dt.date(1982, 1, 1)),
            ],
            JUNE_2017,
        )
        == "C"
    )


def test_class_in_sql_agrees_for_basic_pension_and_the_son(cast, tree):
    from beneficiaries.models import IncomeItem
    from recertification import classes

    household = make_household(
        cast["clerk"],
        tree.village,
        members=[
            member_data("老周", id_number=make_id("19470101", seq=2)),
            member_data(
                "小周",
                id_number=make_id("19900101", seq=3),
                relation="child",
                employment="unemployed",
            ),
        ],
    )
    IncomeItem.objects.create(
        member=household.members.get(name="老周"), type="basic_pension", monthly_amount=D("150")
    )
    from .test_dynamic import entitle

    entitlement = entitle(household, klass="B")
    today = dt.date(2026, 11, 30)
    assert classes.class_for_household(household, today) == "C"
    classes.classes_rederive(today)
    entitlement.refresh_from_db()
    assert entitlement.klass == "C"


def test_review_intervals_honour_residence_and_district_rows(cast, tree):
    from recertification.classes import review_months

    today = dt.date(2026, 11, 30)
    assert review_months("C", today, "urban", "500103001001") == 3
    policy("review_months_c", "1", residence="urban", effective_from=dt.date(2026, 1, 1))
    assert review_months("C", today, "urban", "500103001001") == 1
    assert review_months("C", today, "rural", "500103001001") == 3
    policy(
        "review_months_c",
        "2",
        residence="rural",
        district_code="500103",
        effective_from=dt.date(2026, 1, 1),
    )
    assert review_months("C", today, "rural", "500103001001") == 2
    assert review_months("C", today, "rural", "500101001001") == 3


# --- 9. 先行救助 limit --------------------------------------------------------------------


def test_emergency_payment_has_its_own_limit(cast, tree):
    from core.exceptions import ValidationFailed
    from core.services import calendar_seed_from_package

    from .test_review import act, new_case

    calendar_seed_from_package()
    today = dt.date.today().replace(day=1)
    policy("emergency_limit", "500", effective_from=today)
    case = new_case(cast, tree, programme="temporary")
    with pytest.raises(ValidationFailed):
        act(cast["township_reviewer"], case, "emergency_approve", amount="800", reason="火灾")
    case = act(cast["township_reviewer"], case, "emergency_approve", amount="500", reason="火灾")
    assert case.status == "approved" and case.proposed_amount == D("500.00")


# --- The API and the page -------------------------------------------------------------


def test_api_takes_the_new_member_fields(client, cast):
    client.force_login(cast["clerk"])
    body = client.post(
        URL,
        {
            "programme": "expenditure",
            "residence": "urban",
            "as_of": "2017-06-15",
            "members": [
                {
                    "id_number": make_id(seq=2),
                    "relation": "head",
                    "incomes": [{"type": "wage", "monthly_amount": "1200.00"}],
                },
                {
                    "id_number": make_id(seq=4),
                    "relation": "spouse",
                    "disability": {"kind": "physical", "grade": 2},
                    "serious_illness": True,
                },
                {
                    "id_number": make_id("19990101", seq=6),
                    "relation": "child",
                    "absence_reason": "prison",
                },
            ],
            "expenditures": [{"type": "medical", "annual_amount": "20000.00"}],
            "assets": [{"type": "house", "built_or_bought_on": "2010-01-01"}],
        },
        content_type="application/json",
    ).json()
    assert body["household_size"] == 2 and body["monthly_amount"] == "1000.00"
    assert body["deducted_expenditure_per_capita"] == "833.33"
    assert body["suggested_class"] == "C"  # the head is able to work, no stable source
    assert body["recommendation"] is None


def test_household_page_shows_expenditure_and_class(client, cast, tree):
    household = make_household(cast["clerk"], tree.village, members=[member_data()])
    client.force_login(cast["clerk"])
    page = client.get(f"/eligibility/households/{household.pk}/").content.decode()
    assert "支出型" in page and "获批后的分类" in page


# --- 3. 单人保 end to end -----------------------------------------------------------------------


def test_single_member_from_intake_to_notice_entitlement_and_list(client, cast, tree):
    from applications import services
    from beneficiaries.models import IncomeItem
    from core.exceptions import ValidationFailed
    from core.services import calendar_seed_from_package
    from recertification import classes

    from .test_review import ALL, act, drawn, notice_over, proposal, to_township_review

    calendar_seed_from_package()
    household = make_household(
        cast["clerk"],
        tree.village,
        members=[
            member_data("钱大海", id_number=make_id("19750101", seq=51), employment="unemployed"),
            member_data("孙红", id_number=make_id("19770101", seq=52), relation="spouse"),
            member_data(
                "钱小宝",
                id_number=make_id("20000101", seq=53),
                relation="child",
                disability_type="physical",
                disability_grade=1,
            ),
        ],
    )
    IncomeItem.objects.create(
        member=household.members.get(name="钱大海"), type="wage", monthly_amount=D("2100")
    )
    child = household.members.get(name="钱小宝")
    assert services.single_member_choices(household) == [child]

    def intake(member):
        return services.application_intake(
            actor=cast["clerk"],
            household=household,
            programmes=["dibao"],
            referrals=[],
            channel="window",
            materials_received=ALL,
            single_member=member,
        ).applications

    with pytest.raises(ValidationFailed):  # the head is neither disabled nor seriously ill
        intake(household.members.get(name="钱大海"))
    (case,) = intake(child)
    assert case.single_member == child
    client.force_login(cast["clerk"])
    assert "单人保" in client.get(f"/applications/{case.pk}/receipt/").content.decode()

    to_township_review(cast, case)
    case.refresh_from_db()
    assert case.assessment.result["household_size"] == 1
    assert case.assessment.result["monthly_amount"] == "500.00"  # own income 0
    case = act(cast["township_reviewer"], case, "post_notice", **proposal(case))
    notice = case.notices.get()
    assert (notice.masked_name, notice.household_size, notice.amount) == ("钱*宝", 1, D("500"))

    notice_over(case)
    act(cast["township_reviewer"], case, "end_notice")
    drawn(cast, case)
    act(cast["district_approver"], case, "approve")
    entitlement = household.entitlements.get()
    assert entitlement.member == child and entitlement.monthly_amount == D("500.00")

    page = client.get(f"/gongshi/{tree.village.code}/").content.decode()
    assert "钱*宝" in page and "钱*海" not in page
    # The class is the member's alone (no labour capacity: A), not the household's (C).
    today = dt.date(2026, 11, 30)
    assert classes.class_for_household(household, today) == "C"
    assert classes.class_for_entitlement(entitlement, today) == "A"
    entitlement.klass = "C"
    entitlement.save(update_fields=["klass"])
    classes.classes_rederive(today)
    entitlement.refresh_from_db()
    assert entitlement.klass == "A"


# --- 8. Job referrals and phase-out (渐退) ----------------------------------------------


def test_three_refused_job_referrals_remove_the_members_share():
    family = [person("300", seq=2), person(seq=4), person(seq=6)]
    full = run(members=family)
    assert str(full.monthly_amount) == "1200.00"  # (500 − 100) × 3
    two = run(
        members=[*family[:2], rules.Person(**{**family[2].__dict__, "job_referrals_refused": 2})]
    )
    assert str(two.monthly_amount) == "1200.00"
    three = run(
        members=[*family[:2], rules.Person(**{**family[2].__dict__, "job_referrals_refused": 3})]
    )
    assert str(three.monthly_amount) == "800.00"  # one share of 400 removed
    assert "job_refusals_share_removed" in codes(three)


def test_job_referrals_recorded_on_the_register_reach_the_means_test(client, cast, tree):
    from beneficiaries.models import JobReferral
    from beneficiaries.services import job_referral_record
    from core.exceptions import OutOfScopeError
    from eligibility.selectors import household_case

    household = make_household(cast["clerk"], tree.village, members=[member_data()])
    member = household.members.get()
    client.force_login(cast["clerk"])
    for outcome in ("refused", "refused", "justified", "refused"):
        response = client.post(
            f"/households/{household.pk}/job-referrals/",
            {
                "member": member.pk,
                "offered_on": "2026-11-02",
                "job": "超市理货员",
                "outcome": outcome,
            },
        )
        assert response.status_code == 302
    assert JobReferral.objects.filter(member=member).count() == 4
    november = dt.date(2026, 11, 30)
    case = household_case(household=household, programme="dibao", as_of=november)
    assert case.members[0].job_referrals_refused == 3  # the justified refusal does not count
    # 连续: a job accepted since breaks the run; referrals after ``as_of`` are not known then.
    JobReferral.objects.create(
        member=member,
        offered_on=dt.date(2026, 11, 20),
        job="仓库管理",
        outcome="accepted",
        recorded_by=cast["clerk"],
    )
    case = household_case(household=household, programme="dibao", as_of=november)
    assert case.members[0].job_referrals_refused == 0
    case = household_case(household=household, programme="dibao", as_of=dt.date(2026, 11, 10))
    assert case.members[0].job_referrals_refused == 3
    page = client.get(f"/households/{household.pk}/").content.decode()
    assert "超市理货员" in page
    with pytest.raises(OutOfScopeError):
        job_referral_record(
            actor=cast["clerk_other"],
            member=member,
            offered_on=dt.date(2026, 11, 2),
            job="x",
            outcome="refused",
        )


def test_phase_out_on_the_household_timeline(cast, tree):
    from beneficiaries.models import EntitlementChange, IncomeItem
    from core.exceptions import ValidationFailed
    from core.months import add_months, next_month
    from recertification import nightly
    from recertification.models import Review

    from .test_dynamic import ADULT, decide, entitle, household_of, review_ready

    household = household_of(cast, tree, ("郑平", "19800101", ADULT))
    today = dt.date.today()
    entitlement = entitle(household, next_review=today + dt.timedelta(days=10))
    review = review_ready(cast, entitlement)
    with pytest.raises(ValidationFailed):  # still eligible: adjust, not phase out
        decide(cast, review, "phase_out", reason="找到工作")
    # The member found work: the reassessment finds income above the standard.
    IncomeItem.objects.create(member=household.members.get(), type="wage", monthly_amount=D("2600"))
    from recertification import services as dynamic

    dynamic.review_assess(actor=cast["clerk"], review=review)
    with pytest.raises(ValidationFailed):
        decide(cast, review, "phase_out")  # a reason is required
    policy("phase_out_share", "0.5", effective_from=today.replace(day=1))
    decide(cast, review, "phase_out", reason="在物流公司找到工作")
    entitlement.refresh_from_db()
    first = next_month(today)
    last = add_months(first, 5)  # six months (seeded, assumed)
    assert entitlement.end_month == last and entitlement.status == "active"
    assert entitlement.amount_for(first) == D("250.00")  # half (the share set above)
    assert entitlement.amount_for(last) == D("250.00")
    assert entitlement.amount_for(add_months(first, 6)) is None
    end = entitlement.changes.get(kind=EntitlementChange.Kind.STATUS)
    assert (end.effective_month, end.new_value) == (add_months(first, 6), "terminated")
    assert Review.objects.get(pk=review.pk).outcome == "phase_out"
    # No periodic review opens for an entitlement that is ending, and it ends by itself.
    nightly.reviews_open_due(last)
    assert not Review.objects.filter(entitlement=entitlement, status="open").exists()
    assert nightly.phase_outs_end(last)["ended"] == 0
    assert nightly.phase_outs_end(add_months(first, 6))["ended"] == 1
    entitlement.refresh_from_db()
    assert entitlement.status == "terminated"


def test_household_page_assesses_a_qualifying_member_alone(client, cast, tree):
    from beneficiaries.models import IncomeItem

    household = make_household(
        cast["clerk"],
        tree.village,
        members=[
            member_data("冯一", id_number=make_id("19750101", seq=61)),
            member_data(
                "冯二",
                id_number=make_id("20000101", seq=63),
                relation="child",
                serious_illness=True,
            ),
        ],
    )
    IncomeItem.objects.create(
        member=household.members.get(name="冯一"), type="wage", monthly_amount=D("1300")
    )
    client.force_login(cast["clerk"])
    page = client.get(f"/eligibility/households/{household.pk}/").content.decode()
    # 1,300 / 2 = 650: not 低保 for the household, but below the 750 line: 冯二 alone, 500.00
    assert "冯二单独纳入低保(单人保)" in page and "¥500.00" in page


# --- Review follow-ups ------------------------------------------------------------------------


def test_migration_keeps_only_real_overrides(cast, tree):
    import importlib

    from django.apps import apps

    from beneficiaries.models import Member

    migration = importlib.import_module(
        "beneficiaries.migrations.0008_who_counts_and_labour_capacity"
    )
    household = make_household(
        cast["clerk"],
        tree.village,
        members=[
            member_data("甲", id_number=make_id("19800101", seq=71)),
            member_data("乙", id_number=make_id("20120101", seq=73), relation="child"),
            member_data(
                "丙",
                id_number=make_id("19850101", seq=75),
                relation="spouse",
                disability_type="physical",
                disability_grade=2,
            ),
        ],
    )
    Member.objects.filter(household=household, name="甲").update(labour_capacity="none")
    Member.objects.filter(household=household, name="乙").update(labour_capacity="none")
    Member.objects.filter(household=household, name="丙").update(labour_capacity="partial")
    history_before = Member.history.filter(name="甲").values_list("labour_capacity", flat=True)
    history_before = list(history_before)
    migration.forwards(apps, None)
    values = dict(household.members.values_list("name", "labour_capacity"))
    # A working-age adult recorded without capacity stays an override (to be checked); the
    # child's "none" is what age gives, the grade-2 physical "partial" what the table gives.
    assert values == {"甲": "none", "乙": "", "丙": ""}
    assert household.members.get(name="甲").labour_capacity_reason
    assert (
        list(Member.history.filter(name="甲").values_list("labour_capacity", flat=True))
        == history_before
    )


def test_phase_out_only_when_income_rose(cast, tree):
    from beneficiaries.models import Asset
    from core.exceptions import ValidationFailed
    from recertification import services as dynamic

    from .test_dynamic import ADULT, decide, entitle, household_of, review_ready

    household = household_of(cast, tree, ("陈车", "19800101", ADULT))
    entitlement = entitle(household, next_review=dt.date.today() + dt.timedelta(days=10))
    review = review_ready(cast, entitlement)
    Asset.objects.create(household=household, type="vehicle", value=D("80000"))
    dynamic.review_assess(actor=cast["clerk"], review=review)
    with pytest.raises(ValidationFailed) as exc:
        decide(cast, review, "phase_out", reason="找到工作")
    assert "terminate" in str(exc.value.errors).lower() or "终止" in str(exc.value.errors)


def test_a_suspended_phase_out_ends_too_and_is_recorded(cast, tree):
    from beneficiaries.models import Entitlement
    from core.models import AuditEvent
    from core.months import add_months
    from recertification import nightly

    from .test_dynamic import ADULT, entitle, household_of

    household = household_of(cast, tree, ("停发", "19800101", ADULT))
    entitlement = entitle(household)
    last = dt.date(2026, 12, 1)
    Entitlement.objects.filter(pk=entitlement.pk).update(status="suspended", end_month=last)
    assert nightly.phase_outs_end(last)["ended"] == 0
    assert nightly.phase_outs_end(add_months(last, 1))["ended"] == 1
    entitlement.refresh_from_db()
    assert entitlement.status == "terminated"
    assert AuditEvent.objects.filter(
        object_type="beneficiaries.entitlement", to_state="terminated"
    ).exists()


def _single_family(head_income, disabled_kw):
    disabled = person(born="20000101", seq=6, **disabled_kw)
    return [person(head_income, born="19750101", seq=2, employment="unemployed"), disabled]


def test_single_member_class_is_the_members_own():
    family = _single_family("1300", {"disability_type": "physical", "disability_grade": 1})
    whole = run(members=family)
    alone = run(members=family, single_member=family[1].id_number)
    assert whole.suggested_class == "C"  # an unemployed adult able to work
    assert alone.eligible and alone.suggested_class == "A"


def test_single_member_refused_when_the_whole_family_qualifies():
    family = _single_family("900", {"disability_type": "physical", "disability_grade": 1})
    assert run(members=family).eligible  # 450 a person: the household itself is eligible
    alone = run(members=family, single_member=family[1].id_number)
    assert not alone.eligible and "family_eligible" in codes(alone)


def test_single_member_deducts_like_the_household_when_policy_says_so():
    family = _single_family("1700", {"serious_illness": True})
    costs = (rules.Expenditure("medical", D("2400")),)  # 200 a month
    # 1,700 / 2 = 850: not below the 750 line …
    assert not run(members=family, single_member=family[1].id_number, expenditures=costs).eligible
    policy("dibao_deduct_rigid", "1", effective_from=dt.date(2017, 6, 1))
    # … but (1,700 − 200) / 2 = 750 is still not below it, and 1,690 − 200 = 1,490 is
    assert not run(members=family, single_member=family[1].id_number, expenditures=costs).eligible
    family = _single_family("1690", {"serious_illness": True})
    alone = run(members=family, single_member=family[1].id_number, expenditures=costs)
    assert alone.eligible and str(alone.monthly_amount) == "500.00"


def test_job_refusals_only_for_members_still_able_to_work_and_never_a_zero_grant():
    refuser = {"job_referrals_refused": 3}
    old = rules.Person(**{**person(born="19570101", seq=4).__dict__, **refuser})  # 60 in 2017
    family = [person("300", seq=2), person(seq=6), old]
    assert str(run(members=family).monthly_amount) == "1200.00"
    alone = rules.Person(**{**person(seq=2).__dict__, **refuser})
    result = run(members=[alone])
    assert not result.eligible and result.monthly_amount is None
    assert "job_refusals_share_removed" in codes(result)


def test_several_members_alone_but_never_with_the_household_or_with_expenditure(cast, tree):
    from applications import services
    from beneficiaries.models import Entitlement
    from core.exceptions import ValidationFailed

    household = make_household(
        cast["clerk"],
        tree.village,
        members=[
            member_data("褚一", id_number=make_id("19700101", seq=81)),
            member_data(
                "褚二",
                id_number=make_id("19990101", seq=83),
                relation="child",
                serious_illness=True,
            ),
            member_data(
                "褚三",
                id_number=make_id("20010101", seq=85),
                relation="child",
                disability_type="mental",
                disability_grade=3,
            ),
        ],
    )
    second, third = household.members.get(name="褚二"), household.members.get(name="褚三")

    def live(member=None, programme="dibao"):
        return Entitlement.objects.create(
            household=household,
            programme=programme,
            member=member,
            monthly_amount=D("500"),
            klass="A",
            start_month=dt.date(2026, 1, 1),
            next_review=dt.date(2027, 1, 1),
            source="x",
            approved_at=dt.datetime(2026, 1, 1, tzinfo=dt.UTC),
            approved_by=cast["district_approver"],
        )

    def intake(programmes, member=None):
        return services.application_intake(
            actor=cast["clerk"],
            household=household,
            programmes=programmes,
            referrals=[],
            channel="window",
            materials_received=set(),
            single_member=member,
        )

    live(second)
    (application,) = intake(["dibao"], third).applications  # another member alone: allowed
    assert application.single_member == third
    with pytest.raises(ValidationFailed):
        intake(["expenditure"])  # 支出型 next to 低保 for members of the same family
    live(third)
    with pytest.raises(ValidationFailed):
        intake(["dibao"], second)  # the same member twice
    from django.db import IntegrityError, transaction

    with pytest.raises(IntegrityError), transaction.atomic():
        live(second)


def test_a_move_clears_the_decision_on_an_other_absence(cast, tree):
    from beneficiaries.services import member_absence_decide, member_move

    origin = make_household(
        cast["clerk"],
        tree.village,
        members=[
            member_data("卫一", id_number=make_id(seq=91)),
            member_data(
                "卫二",
                id_number=make_id(seq=93),
                relation="spouse",
                lives_with_household=False,
                absence_reason="other",
            ),
        ],
    )
    away = origin.members.get(name="卫二")
    member_absence_decide(actor=cast["township_reviewer"], member=away, counted=True, reason="r")
    target = make_household(
        cast["clerk"], tree.village, members=[member_data("蒋一", id_number=make_id(seq=95))]
    )
    member_move(
        actor=cast["clerk"], member=away, to_household=target, relation="spouse", reason="结婚迁入"
    )
    away.refresh_from_db()
    assert away.household == target and away.absence_counted is None
