"""The means test and amounts with the seeded 2017 figures (urban 500, rural 350, 特困 650
from April 2017 plus 200 nursing for full loss of self-care, 临时救助 cap 50,000)."""

import datetime as dt
from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from eligibility import rules
from eligibility.models import Assessment, PolicyValue, TemporaryRate
from eligibility.selectors import PolicyMissing, policy_for
from eligibility.services import assessment_preview, assessment_replay, assessment_run

D = Decimal
JUNE_2017 = dt.date(2017, 6, 15)


def person(income="0", income_type="wage", **kw):
    incomes = (rules.Income(income_type, D(income)),) if D(income) else ()
    return rules.Person(incomes=incomes, **kw)


def case(programme="dibao", residence="urban", members=None, assets=(), as_of=JUNE_2017, **kw):
    return rules.Case(
        programme=programme,
        residence=residence,
        as_of=as_of,
        members=tuple(members or [person()]),
        assets=tuple(assets),
        **kw,
    )


def run(c):
    result, _policy, _sources = assessment_preview(case=c)
    return result


def codes(result):
    return {f.code for f in result.findings}


pytestmark = pytest.mark.django_db


# --- 低保 -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("residence", "incomes", "eligible", "amount"),
    [
        ("urban", ["900", "0", "0"], True, "600.00"),  # (500 − 300) × 3
        ("urban", ["1500", "0", "0"], False, None),  # exactly at the standard: not below it
        ("urban", ["1499.99", "0", "0"], True, "0.01"),
        ("urban", ["0"], True, "500.00"),
        ("rural", ["100", "0"], True, "600.00"),  # (350 − 50) × 2
        ("rural", ["700", "0"], False, None),  # 350 per person: at the rural standard
        ("urban", ["333.33", "333.33", "333.34"], True, "500.00"),  # to the fen
    ],
)
def test_dibao_amounts(residence, incomes, eligible, amount):
    result = run(case(residence=residence, members=[person(i) for i in incomes]))
    assert result.eligible is eligible
    assert (str(result.monthly_amount) if result.monthly_amount is not None else None) == amount
    if not eligible:
        assert "income_above_standard" in codes(result)


def test_dibao_members_not_living_together_and_exempt_income_do_not_count():
    result = run(
        case(
            members=[
                person("600"),
                person("400", income_type="scholarship"),  # not counted
                person("900", lives_with_household=False),  # a prisoner: neither counted nor income
            ]
        )
    )
    assert result.household_size == 2
    assert result.counted_income_per_capita == D("300")
    assert result.monthly_amount == D("400.00")


@pytest.mark.parametrize(
    ("assets", "code", "disqualifies"),
    [
        ([rules.Asset("deposit", D("18000"))], None, False),  # exactly 3 × 500 × 12
        ([rules.Asset("deposit", D("18000.01"))], "deposits_over_limit", True),
        (
            [rules.Asset("deposit", D("10000")), rules.Asset("securities", D("8000.01"))],
            "deposits_over_limit",
            True,
        ),
        ([rules.Asset("house", area=D("60"), count=2)], None, False),  # 20 m² per person
        ([rules.Asset("house", area=D("118"), count=2)], "houses_over_limit", True),
        ([rules.Asset("house", area=D("200"), count=1)], None, False),  # one house only
        ([rules.Asset("shopfront", D("1"))], "shopfront_owned", True),
        ([rules.Asset("vehicle", D("30000"))], "vehicle_owned", True),
        ([rules.Asset("disability_vehicle", D("8000"))], "disability_vehicle_exempt", False),
        ([rules.Asset("company")], "company_registered", True),
        ([rules.Asset("machinery", D("50000"))], "machinery_owned", True),
    ],
)
def test_property_rules(assets, code, disqualifies):
    result = run(case(members=[person("300"), person(), person()], assets=assets))
    if code:
        finding = next(f for f in result.findings if f.code == code)
        assert finding.disqualifying is disqualifies and finding.message
    assert result.eligible is (not disqualifies)


@pytest.mark.parametrize(("spent", "excluded"), [("7499.99", False), ("7500", True)])
def test_non_essential_purchases_limit(spent, excluded):
    # 3 members × 500 × 5 months = 7,500
    result = run(case(members=[person(), person(), person()], non_essential_purchases_6m=D(spent)))
    assert ("purchases_over_limit" in codes(result)) is excluded
    assert result.eligible is (not excluded)


def test_marginal_and_expenditure_determinations():
    result = run(
        case(
            members=[person("1200"), person()],  # 600 per person: 500 ≤ 600 < 750
            rigid_spending_12m=D("8000"),
        )
    )
    assert not result.eligible
    assert {"marginal", "expenditure_hardship"} <= codes(result)
    assert "低保边缘" in next(f.message for f in result.findings if f.code == "marginal")
    result = run(case(members=[person("1600"), person()]))  # 800 per person: above the line
    assert "marginal" not in codes(result)


# --- 特困 -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("self_care", "amount"),
    [("none", "850.00"), ("partial", "650.00"), ("capable", "650.00")],
)
def test_tekun_amounts(self_care, amount):
    result = run(case("tekun", "rural", [person(labour_capacity="none", self_care=self_care)]))
    assert result.eligible and str(result.monthly_amount) == amount
    assert result.standard == D("650")


def test_tekun_refused_with_labour_capacity_or_income():
    assert "has_labour_capacity" in codes(run(case("tekun", members=[person()])))
    rich = run(case("tekun", members=[person("500", labour_capacity="none")]))
    assert not rich.eligible and "income_above_standard" in codes(rich)


def test_tekun_before_april_2017_has_no_standard():
    with pytest.raises(PolicyMissing):
        run(case("tekun", members=[person(labour_capacity="none")], as_of=dt.date(2017, 3, 31)))
    assert run(
        case("tekun", members=[person(labour_capacity="none")], as_of=dt.date(2017, 4, 1))
    ).monthly_amount == D("650.00")


# --- 临时救助 ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("residence", "cls", "kind", "expense", "amount", "code"),
    [
        ("urban", "A", "medical", None, "3000.00", "district_approves"),  # 6 × 500
        ("urban", "A", "medical", "2000", "2000.00", "limited_to_expense"),
        ("rural", "D", "education", None, "350.00", "township_may_approve"),  # 1 × 350
        ("rural", "C", "other", "80000", "525.00", "township_may_approve"),  # 1.5 × 350
    ],
)
def test_temporary_amounts(residence, cls, kind, expense, amount, code):
    hardship = rules.Hardship(kind, cls, D(expense) if expense else None)
    result = run(case("temporary", residence, hardship=hardship))
    assert result.eligible and result.monthly_amount is None
    assert str(result.one_off_amount) == amount and code in codes(result)


def test_temporary_cap_of_50000():
    TemporaryRate.objects.create(
        applicant_class="A",
        hardship="disaster",
        multiple=D("200"),
        effective_from=dt.date(2017, 5, 1),
        source="test",
    )
    result = run(case("temporary", hardship=rules.Hardship("disaster", "A", D("150000"))))
    assert result.one_off_amount == D("50000.00") and "capped" in codes(result)


# --- Versioned policy and snapshots --------------------------------------------------------


def test_a_2018_standard_leaves_2017_assessments_unchanged(cast):
    c = case(members=[person("900"), person(), person()])
    stored = assessment_run(actor=cast["clerk"], case=c)
    assert stored.result["monthly_amount"] == "600.00"
    PolicyValue.objects.create(
        kind="dibao_standard",
        residence="urban",
        value=D("550"),
        effective_from=dt.date(2018, 1, 1),
        source="2018 standard",
    )
    assert run(c).monthly_amount == D("600.00")  # 2017 still uses 500
    later = rules.Case(**{**c.__dict__, "as_of": dt.date(2018, 1, 1)})
    assert run(later).monthly_amount == D("750.00")  # (550 − 300) × 3
    # Even a correction of the 2017 row itself does not change the stored assessment.
    PolicyValue.objects.filter(
        kind="dibao_standard", residence="urban", effective_from=dt.date(2017, 1, 1)
    ).update(value=D("520"))
    assert assessment_replay(Assessment.objects.get(pk=stored.pk)) == stored.result
    assert stored.policy["sources"]["dibao_standard"]["effective_from"] == "2017-01-01"


def test_district_figure_overrides_the_city():
    PolicyValue.objects.create(
        kind="dibao_standard",
        residence="urban",
        district_code="500103",
        value=D("520"),
        effective_from=dt.date(2017, 1, 1),
        source="t",
    )
    policy, _sources = policy_for(as_of=JUNE_2017, residence="urban", district_code="500103")
    assert policy.get("dibao_standard") == D("520")
    policy, _sources = policy_for(as_of=JUNE_2017, residence="urban", district_code="500101")
    assert policy.get("dibao_standard") == D("500")


# --- Properties ---------------------------------------------------------------------------


POLICY = rules.Policy(
    {
        "purchase_months": D("5"),
        "dibao_standard": D("500"),
        "deposit_months": D("12"),
        "housing_area_limit": D("39"),
        "marginal_multiple": D("1.5"),
        "expenditure_share": D("0.5"),
        "dibao_minimum_payment": D("0"),
        "house_purchase_years": D("3"),
        "imputed_wage": D("3000"),
        "dibao_deduct_rigid": D("0"),
        "working_age_from": D("16"),
        "retirement_age": D("60"),
        "job_refusals_limit": D("3"),
    }
)
amounts = st.decimals(min_value=0, max_value=5000, places=2)


@settings(max_examples=200, deadline=None)
@given(incomes=st.lists(amounts, min_size=1, max_size=6), raise_by=amounts, who=st.integers(0, 5))
def test_dibao_amount_properties(incomes, raise_by, who):
    def amount(values):
        c = rules.Case("dibao", "urban", JUNE_2017, tuple(person(str(v)) for v in values))
        return rules.assess_dibao(c, POLICY).monthly_amount or D("0")

    size, before = len(incomes), amount(incomes)
    assert D("0") <= before <= D("500") * size
    richer = list(incomes)
    richer[who % size] += raise_by
    assert amount(richer) <= before


# --- API and page ---------------------------------------------------------------------------

URL = "/api/v1/eligibility/assess/"
EXAMPLE = {
    "programme": "dibao",
    "residence": "urban",
    "as_of": "2017-06-15",
    "members": [
        {
            "id_number": "",
            "relation": "head",
            "lives_with_household": True,
            "labour_capacity": "full",
            "self_care": "capable",
            "incomes": [{"type": "wage", "monthly_amount": "900.00"}],
        },
        {"relation": "spouse"},
        {"relation": "child"},
    ],
    "assets": [{"type": "deposit", "value": "12000.00"}],
}


def test_api_contract(client, cast):
    client.force_login(cast["clerk"])
    body = client.post(URL, EXAMPLE, content_type="application/json").json()
    assert body == {
        "eligible": True,
        "household_size": 3,
        "counted_income_per_capita": "300.00",
        "standard": "500.00",
        "monthly_amount": "600.00",
        "one_off_amount": None,
        "components": [{"code": "dibao", "amount": "600.00"}],
        "findings": [],
        # issue 12: no ID numbers, so no birth dates and no class; nothing deducted (低保
        # deducts rigid costs only when policy says so); a recommendation only for 支出型
        "deducted_expenditure_per_capita": None,
        "suggested_class": None,
        "recommendation": None,
    }
    temporary = {
        **EXAMPLE,
        "programme": "temporary",
        "hardship": {"type": "medical", "applicant_class": "A", "expense": "80000.00"},
    }
    body = client.post(URL, temporary, content_type="application/json").json()
    assert (body["one_off_amount"], body["monthly_amount"]) == ("3000.00", None)


def test_api_names_each_bad_field(client, cast):
    client.force_login(cast["clerk"])
    bad = {
        **EXAMPLE,
        "programme": "housing",
        "as_of": "2017-13-01",
        "members": [
            {
                "relation": "head",
                "labour_capacity": "some",
                "incomes": [{"type": "lottery", "monthly_amount": "-5"}],
            }
        ],
        "assets": [{"type": "house", "value": "x"}],
    }
    response = client.post(URL, bad, content_type="application/json")
    assert response.status_code == 400
    errors = response.json()
    assert {"programme", "as_of", "members", "assets"} <= set(errors)
    member = errors["members"]["0"]
    assert {"labour_capacity", "incomes"} <= set(member)
    assert {"type", "monthly_amount"} <= set(member["incomes"]["0"])
    no_hardship = client.post(
        URL, {**EXAMPLE, "programme": "temporary"}, content_type="application/json"
    )
    assert no_hardship.status_code == 400 and "hardship" in no_hardship.json()
    too_early = client.post(
        URL, {**EXAMPLE, "as_of": "2016-06-01"}, content_type="application/json"
    )
    assert too_early.status_code == 400 and too_early.json()["code"] == "policy_missing"


def test_household_page_shows_each_programme(client, cast, tree):
    from .factories import make_household, member_data

    household = make_household(cast["clerk"], tree.village, members=[member_data()])
    client.force_login(cast["village_worker"])
    page = client.get(f"/eligibility/households/{household.pk}/").content.decode()
    assert "低保" in page and "特困" in page and "临时救助" in page
    assert "¥500.00" in page  # one urban member without income: the whole standard
    assert "不具备" in page or "劳动能力" in page  # why 特困 does not apply
    page = client.get(
        f"/eligibility/households/{household.pk}/",
        {"type": "medical", "applicant_class": "B", "expense": ""},
    ).content.decode()
    assert "¥2000.00" in page  # class B medical: 4 × 500
    client.force_login(cast["clerk_other"])
    assert client.get(f"/eligibility/households/{household.pk}/").status_code == 404


# --- Review follow-ups: precedence, language, 特困 supporters, boundaries -----------------


def test_a_newer_city_standard_beats_an_older_district_one():
    PolicyValue.objects.create(
        kind="dibao_standard",
        residence="urban",
        district_code="500103",
        value=D("520"),
        effective_from=dt.date(2017, 1, 1),
        source="t",
    )
    PolicyValue.objects.create(
        kind="dibao_standard",
        residence="",
        value=D("600"),
        effective_from=dt.date(2018, 1, 1),
        source="city 2018",
    )
    june_2018 = dt.date(2018, 6, 1)
    for district in ("500103", "500101"):
        policy, _ = policy_for(as_of=june_2018, residence="urban", district_code=district)
        assert policy.get("dibao_standard") == D("600")
    policy, _ = policy_for(as_of=JUNE_2017, residence="urban", district_code="500103")
    assert policy.get("dibao_standard") == D("520")


def test_replay_in_another_language_gives_the_stored_result(cast):
    from django.utils import translation

    c = case(members=[person("1200"), person()])  # not eligible, with findings
    with translation.override("zh-hans"):
        stored = assessment_run(actor=cast["clerk"], case=c)
    assert stored.result["findings"]
    with translation.override("en"):
        assert assessment_replay(Assessment.objects.get(pk=stored.pk)) == stored.result


def test_tekun_refused_when_an_able_member_lives_with_them():
    elder = person(labour_capacity="none", self_care="none")
    result = run(case("tekun", members=[elder, person("900", labour_capacity="full")]))
    assert not result.eligible and "able_supporter" in codes(result)


def test_tekun_labour_capacity_from_age():
    from .factories import make_id

    old = person(id_number=make_id("19500101"), labour_capacity="full")  # 67 in June 2017
    assert run(case("tekun", members=[old])).eligible
    adult = person(id_number=make_id("19800101"), labour_capacity="full")
    assert not run(case("tekun", members=[adult])).eligible


def test_temporary_without_expense_and_components_never_negative():
    none = run(case("temporary", hardship=rules.Hardship("medical", "A", D("0"))))
    assert not none.eligible and "no_expense" in codes(none)
    limited = run(case("temporary", hardship=rules.Hardship("medical", "A", D("100"))))
    assert limited.components == [("temporary", D("100.00"))]


@pytest.mark.parametrize(
    ("members", "assets", "code", "present"),
    [
        (3, [rules.Asset("house", area=D("117"), count=2)], "houses_over_limit", False),  # 39
        (3, [rules.Asset("house", area=D("117.03"), count=2)], "houses_over_limit", True),
    ],
)
def test_house_area_boundary(members, assets, code, present):
    result = run(case(members=[person() for _ in range(members)], assets=assets))
    assert (code in codes(result)) is present


@pytest.mark.parametrize(
    ("income", "marginal"), [("1000", True), ("1499.99", True), ("1500", False), ("999.99", False)]
)
def test_marginal_line_boundaries(income, marginal):
    # two members: standard 1,000 for the household, line 1,500
    result = run(case(members=[person(income), person()]))
    assert ("marginal" in codes(result)) is marginal


def test_township_limit_and_cap_boundaries():
    TemporaryRate.objects.create(
        applicant_class="B",
        hardship="other",
        multiple=D("100"),
        effective_from=dt.date(2017, 5, 1),
        source="t",
    )
    at_limit = run(case("temporary", hardship=rules.Hardship("other", "B", D("1000"))))
    assert "township_may_approve" in codes(at_limit)
    at_cap = run(case("temporary", hardship=rules.Hardship("other", "B", D("50000"))))
    assert at_cap.one_off_amount == D("50000.00") and "capped" not in codes(at_cap)
