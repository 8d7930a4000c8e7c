"""The monthly statistics return (issue 15): every figure on a fixture computed by hand, the
cumulative figures across months, the layout by level, and each figure traced to its rows."""

import datetime as dt
import io
from decimal import Decimal

import pytest
from django.utils import timezone

from applications.models import Application
from beneficiaries.models import Entitlement, Member
from eligibility.selectors import policy_figure
from payments import services as payments
from reports import statistics
from reports.models import MonthlyFigure, RegisteredPopulation

from .factories import make_household, make_id, member_data

JAN, FEB = dt.date(2027, 1, 1), dt.date(2027, 2, 1)


def _entitle(cast, home, programme, amount, member=None):
    return Entitlement.objects.create(
        household=home,
        programme=programme,
        member=member,
        monthly_amount=Decimal(amount),
        klass="A",
        start_month=JAN,
        next_review=dt.date(2027, 12, 1),
        source="500103001-2027-00001",
        approved_at=timezone.now(),
        approved_by=cast["district_approver"],
    )


def _payroll(cast, tree, month, programme):
    payroll = payments.payroll_request(
        actor=cast["finance"], district=tree.yuzhong, programme=programme, month=month
    )
    payroll = payments.payroll_generate(payroll_id=payroll.pk)
    return payments.payroll_approve(
        actor=cast["district_approver"], payroll=payroll, override_reason="测试"
    )


@pytest.fixture
def paid(cast, tree):
    """H1 urban 低保 600: three counted members (a working man of 45, an unemployed disabled
    woman of 45 and a schoolgirl of 11) and a grandfather in prison (not counted).
    H2 rural 低保 300: a woman of 77 whose account cannot be paid into (held, nothing spent).
    H3 urban: 特困 for one member alone (单人保) 900, a disabled man of 82; in February the
    household (two counted members) gets 临时救助 1,000.
    January: 低保 and 特困 payrolls; February: 低保 and 临时救助."""
    h1 = make_household(
        cast["clerk"],
        tree.village,
        members=[
            member_data("王一", id_number=make_id("19810101", seq=11), employment="employed"),
            member_data(
                "李二",
                "spouse",
                id_number=make_id("19810601", seq=12),
                employment="unemployed",
                disability_type="physical",
                disability_grade=3,
            ),
            member_data(
                "王三", "child", id_number=make_id("20150301", seq=14), schooling="compulsory"
            ),
            member_data(
                "王四",
                "grandparent",
                id_number=make_id("19400101", seq=15),
                lives_with_household=False,
                absence_reason="prison",
            ),
        ],
    )
    h2 = make_household(
        cast["clerk"],
        tree.village,
        members=[member_data("赵五", id_number=make_id("19491001", seq=16))],
        residence_type="rural",
        bank_account_number="123",
    )
    h3 = make_household(
        cast["clerk"],
        tree.village,
        members=[
            member_data("孙六", id_number=make_id("19850101", seq=17)),
            member_data(
                "孙七",
                "parent",
                id_number=make_id("19440101", seq=19),
                disability_type="visual",
                disability_grade=1,
            ),
        ],
    )
    _entitle(cast, h1, "dibao", "600.00")
    _entitle(cast, h2, "dibao", "300.00")
    _entitle(cast, h3, "tekun", "900.00", member=h3.members.get(name="孙七"))
    _payroll(cast, tree, JAN, "dibao")
    _payroll(cast, tree, JAN, "tekun")
    Application.objects.create(
        number="500103001-2027-00009",
        household=h3,
        programme="temporary",
        channel="window",
        township=tree.jiefangbei,
        received_by=cast["clerk"],
        received_at=timezone.now() - dt.timedelta(days=3),
        status="approved",
        proposed_amount=Decimal("1000.00"),
        decided_at=timezone.now() - dt.timedelta(days=1),
        decided_by=cast["township_reviewer"],
    )
    _payroll(cast, tree, FEB, "dibao")
    _payroll(cast, tree, FEB, "temporary")
    for month in (JAN, FEB):
        statistics.compute(month=month)
    RegisteredPopulation.objects.create(district=tree.yuzhong, year=2027, population=100)
    return {"h1": h1, "h2": h2, "h3": h3}


def _pick(block, *names):
    return {name: block[name] for name in names}


GROUPS = ("households", "persons", "elderly", "adults", "minors", "students", "women", "disabled")


def test_january_counts_each_group_from_the_counted_members(cast, tree, paid):
    result = statistics.return_for(tree.yuzhong, JAN)
    urban, rural = result["dibao"]["urban"], result["dibao"]["rural"]
    assert _pick(urban, *GROUPS) == {
        "households": 1,
        "persons": 3,  # the grandfather in prison is not counted
        "elderly": 0,
        "adults": 2,
        "minors": 1,
        "students": 1,
        "women": 2,
        "disabled": 1,
    }
    assert (urban["adults_employed"], urban["adults_unemployed"], urban["adults_other"]) == (
        1,
        1,
        0,
    )
    assert urban["amount"] == Decimal("600.00") and urban["average_per_person"] == Decimal("200.00")
    assert urban["entered"] == 1 and urban["left"] == 0
    # Held at the bank stage: a recipient, but nothing was spent.
    assert _pick(rural, "households", "persons", "elderly", "women") == {
        "households": 1,
        "persons": 1,
        "elderly": 1,
        "women": 1,
    }
    assert rural["amount"] == Decimal("0.00") and rural["average_per_person"] == Decimal("0.00")
    # 单人保: only the member helped alone.
    tekun = result["tekun"]["urban"]
    assert _pick(tekun, "households", "persons", "elderly", "disabled", "adults") == {
        "households": 1,
        "persons": 1,
        "elderly": 1,
        "disabled": 1,
        "adults": 0,
    }
    assert tekun["amount"] == Decimal("900.00")
    assert result["tekun"]["rural"]["persons"] == 0
    assert urban["standard"] == policy_figure("dibao_standard", JAN, "500103", "urban")
    assert tekun["standard"] == policy_figure("tekun_basic", JAN, "500103", "urban")
    assert urban["population_share"] == Decimal("3.00")  # 3 of 100 registered


def test_february_adds_up_the_year_and_counts_temporary_cases(cast, tree, paid):
    result = statistics.return_for(tree.yuzhong, FEB)
    urban = result["dibao"]["urban"]
    assert (urban["persons"], urban["persons_cumulative"]) == (3, 6)
    assert (urban["amount"], urban["amount_cumulative"]) == (Decimal("600.00"), Decimal("1200.00"))
    assert urban["average_per_person_cumulative"] == Decimal("200.00")
    assert urban["amount_cumulative_wan"] == Decimal("0.12")
    assert urban["entered"] == 0
    tekun = result["tekun"]["urban"]
    assert (tekun["persons"], tekun["persons_cumulative"]) == (0, 1)
    assert (tekun["amount"], tekun["amount_cumulative"]) == (Decimal("0.00"), Decimal("900.00"))
    assert tekun["average_per_person"] is None
    temporary = result["temporary"]
    assert (temporary["households"], temporary["persons"]) == (1, 2)
    assert temporary["amount"] == temporary["amount_cumulative"] == Decimal("1000.00")


def test_the_city_adds_its_districts_and_a_township_its_own(cast, tree, paid):
    city = statistics.return_for(tree.city, FEB)
    assert city["dibao"]["urban"]["persons_cumulative"] == 6
    assert city["dibao"]["urban"]["standard"] is None  # districts differ: see each row
    assert city["dibao"]["urban"]["population_share"] is None  # 万州 has not entered its own
    rows = statistics.level_returns(tree.city, "district", FEB)
    assert [row["region_name"] for row in rows] == ["万州区", "渝中区", "重庆市"]
    assert rows[2] == city
    assert rows[0]["dibao"]["urban"]["persons"] == 0 and rows[1]["dibao"]["urban"]["persons"] == 3
    township = statistics.return_for(tree.jiefangbei, FEB)
    assert township["temporary"]["amount"] == Decimal("1000.00")


def test_computing_again_replaces_the_rows(cast, tree, paid):
    before = MonthlyFigure.objects.filter(month=JAN).count()
    statistics.compute(month=JAN, districts=[tree.yuzhong])
    assert MonthlyFigure.objects.filter(month=JAN).count() == before == 3


@pytest.mark.parametrize(
    ("programme", "residence", "figure"),
    [
        ("dibao", "urban", "persons"),
        ("dibao", "urban", "women"),
        ("dibao", "urban", "adults_employed"),
        ("dibao", "rural", "households"),
        ("dibao", "rural", "amount"),
        ("dibao", "urban", "entered"),
        ("tekun", "urban", "elderly"),
        ("temporary", "", "persons"),
        ("temporary", "", "households"),
    ],
)
def test_every_figure_is_traced_to_as_many_rows(cast, tree, paid, programme, residence, figure):
    result = statistics.return_for(tree.yuzhong, JAN if programme != "temporary" else FEB)
    block = result[programme][residence] if residence else result[programme]
    rows = statistics.rows_behind(
        user=cast["auditor"],
        region=tree.yuzhong,
        month=JAN if programme != "temporary" else FEB,
        programme=programme,
        residence=residence,
        figure=figure,
    )
    if figure == "amount":
        assert sum(row[4] for row in rows) == block["amount"]
    else:
        assert len(list(rows)) == block[figure]


def test_the_rows_behind_stay_in_the_users_jurisdiction(cast, tree, paid):
    rows = statistics.rows_behind(
        user=cast["clerk_other"],
        region=tree.yuzhong,
        month=JAN,
        programme="dibao",
        residence="urban",
        figure="persons",
    )
    assert list(rows) == []
    names = statistics.rows_behind(
        user=cast["clerk"],
        region=tree.yuzhong,
        month=JAN,
        programme="dibao",
        residence="urban",
        figure="persons",
    )
    assert sorted(row[1] for row in names) == ["李二", "王一", "王三"]
    assert not Member.objects.filter(name="王四", household=paid["h1"]).get().counted


def test_the_xlsx_return_has_a_sheet_per_level_with_a_total_row(cast, tree, paid):
    from openpyxl import load_workbook

    from reports.statistics_xlsx import workbook

    content = workbook(tree.city, FEB)
    book = load_workbook(io.BytesIO(content))
    assert book.sheetnames == ["区县", "乡镇（街道）"]
    districts = book["区县"]
    names = [districts.cell(row=r, column=1).value for r in range(1, districts.max_row + 1)]
    assert "万州区" in names and "渝中区" in names and names[-1] == "合计"


# --- in the browser and the API -------------------------------------------------------------------

BLOCK_KEYS = {
    "households",
    "persons",
    "persons_cumulative",
    "elderly",
    "adults",
    "minors",
    "students",
    "women",
    "disabled",
    "amount",
    "amount_cumulative",
    "average_per_person",
    "standard",
}


def test_the_api_return_has_the_contracts_blocks(client, cast, tree, paid):
    client.force_login(cast["auditor"])
    response = client.get(
        "/api/v1/reports/statistics/", {"region": "500103000000", "month": "2027-02"}
    )
    assert response.status_code == 200
    body = response.json()
    assert body["region"] == "500103000000" and body["month"] == "2027-02"
    for programme in ("dibao", "tekun"):
        for residence in ("urban", "rural"):
            assert set(body[programme][residence]) >= BLOCK_KEYS
    assert set(body["temporary"]) >= BLOCK_KEYS
    assert body["dibao"]["urban"]["persons_cumulative"] == 6
    assert client.get("/api/v1/reports/statistics/", {"month": "2027-13"}).status_code == 400
    client.force_login(cast["auditor_district"])
    outside = client.get("/api/v1/reports/statistics/", {"region": "500101000000"})
    assert outside.status_code == 403


def test_the_return_page_links_each_figure_to_its_rows(client, cast, tree, paid):
    client.force_login(cast["district_approver"])
    page = client.get("/reports/statistics/", {"month": "2027-01"})
    assert page.status_code == 200
    html = page.content.decode()
    assert "解放碑街道" in html and "/reports/statistics/rows/?" in html
    assert 'block=dibao-urban" aria-current="page"' in html  # the block shown is marked
    rows = client.get(
        "/reports/statistics/rows/",
        {
            "region": tree.jiefangbei.code,
            "month": "2027-01",
            "programme": "dibao",
            "residence": "urban",
            "figure": "women",
        },
    )
    text = rows.content.decode()
    assert "李二" in text and "王三" in text and "王一" not in text
    assert make_id("19810601", seq=12) not in text  # ID numbers masked
    xlsx = client.get("/reports/statistics/download/", {"month": "2027-02"})
    assert xlsx.status_code == 200 and xlsx.content[:2] == b"PK"


def test_a_region_outside_the_jurisdiction_shows_the_users_own(client, cast, tree, paid):
    client.force_login(cast["auditor_district"])
    page = client.get("/reports/statistics/", {"region": tree.wanzhou.code, "month": "2027-01"})
    assert page.status_code == 200
    assert "万州区" not in page.content.decode().split("<main", 1)[-1].split("</nav>", 1)[-1]
    assert page.context["region"] == tree.yuzhong


def test_the_dashboard_draws_each_panel_with_its_table_and_download(client, cast, tree, paid):
    client.force_login(cast["auditor"])
    page = client.get("/reports/dashboard/", {"month": "2027-02"})
    assert page.status_code == 200
    panels = page.context["panels"]
    assert [p.name for p in panels] == [
        "recipients",
        "amounts",
        "coverage",
        "flows",
        "processing",
        "reviews",
        "objections",
        "funds",
        "checks",
    ]
    assert page.content.decode().count("<svg") == len(panels)
    recipients = panels[0]
    assert (
        recipients.rows[-1][0] == "重庆市" and recipients.rows[-1][2] == 4
    )  # 低保 urban 3 and rural 1
    flows = next(p for p in panels if p.name == "flows")
    assert flows.rows == [["2027-01", 3, 0, 5], ["2027-02", 0, 0, 4]]
    csv = client.get("/reports/dashboard/recipients.csv", {"month": "2027-02"})
    assert csv.content.startswith(b"\xef\xbb\xbf")
    assert "渝中区" in csv.content.decode("utf-8-sig")


def test_the_city_enters_population_and_spending_and_it_is_logged(client, cast, tree):
    from core.models import AuditEvent
    from reports.models import ConsumptionSpending

    client.force_login(cast["city_admin"])
    bad = client.post(
        "/reports/figures/", {"year": 2026, f"population-{tree.yuzhong.pk}": "很多"}, follow=True
    )
    assert "整数" in bad.content.decode() or "whole number" in bad.content.decode()
    assert not RegisteredPopulation.objects.exists()
    client.post(
        "/reports/figures/",
        {
            "year": 2026,
            "urban": "30000",
            "rural": "18000",
            "source": "统计年鉴",
            f"population-{tree.yuzhong.pk}": "660,000",
        },
    )
    assert RegisteredPopulation.objects.get(district=tree.yuzhong, year=2026).population == 660000
    assert ConsumptionSpending.objects.get(year=2026).rural == Decimal("18000")
    assert AuditEvent.objects.filter(object_type="reports.registeredpopulation").exists()


def test_the_city_can_compute_a_month_now(client, cast, tree, django_capture_on_commit_callbacks):
    client.force_login(cast["city_admin"])
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post("/reports/statistics/refresh/", {"month": "2027-01"})
    assert response.status_code == 302
    from core.models import JobRun

    assert JobRun.objects.filter(job="statistics_refresh", status="done").exists()


def test_two_members_helped_alone_are_one_household_and_two_entitlements(cast, tree):
    home = make_household(
        cast["clerk"],
        tree.village,
        members=[
            member_data("周一", id_number=make_id("19400101", seq=31)),
            member_data("周二", "spouse", id_number=make_id("19420101", seq=32)),
        ],
    )
    for member in home.members.all():
        _entitle(cast, home, "tekun", "900.00", member=member)
    _payroll(cast, tree, JAN, "tekun")
    statistics.compute(month=JAN)
    block = statistics.return_for(tree.yuzhong, JAN)["tekun"]["urban"]
    assert (block["households"], block["persons"], block["entered"]) == (1, 2, 2)
    for figure in ("households", "persons", "entered"):
        rows = statistics.rows_behind(
            user=cast["auditor"],
            region=tree.jiefangbei,
            month=JAN,
            programme="tekun",
            residence="urban",
            figure=figure,
        )
        assert len(list(rows)) == block[figure], figure


def test_a_township_has_no_rows_under_it_but_its_own(cast, tree, paid):
    returns = statistics.level_returns(tree.jiefangbei, "township", FEB)
    assert len(returns) == 1 and returns[0]["region"] == tree.jiefangbei.code


def test_reports_open_on_the_latest_month_anyone_was_paid(client, cast, tree, paid):
    # March: entitlements start, nobody is paid yet (the nightly job counts next month too).
    entitlement = Entitlement.objects.filter(household=paid["h1"]).get()
    Entitlement.objects.filter(pk=entitlement.pk).update(start_month=dt.date(2027, 3, 1))
    statistics.compute(month=dt.date(2027, 3, 1))
    assert MonthlyFigure.objects.filter(month=dt.date(2027, 3, 1)).exists()
    client.force_login(cast["auditor"])
    assert client.get("/api/v1/reports/statistics/").json()["month"] == "2027-02"


def test_a_malformed_month_to_compute_is_refused_politely(client, cast, tree):
    client.force_login(cast["city_admin"])
    response = client.post("/reports/statistics/refresh/", {"month": "2027-13"}, follow=True)
    assert response.status_code == 200
    assert "YYYY-MM" in response.content.decode()


def test_saving_the_figures_again_unchanged_logs_nothing_more(client, cast, tree):
    from core.models import AuditEvent

    client.force_login(cast["city_admin"])
    form = {
        "year": 2026,
        "urban": "30000.00",
        "rural": "18000.00",
        "source": "统计年鉴",
        f"population-{tree.yuzhong.pk}": "660000",
    }
    client.post("/reports/figures/", form)
    logged = AuditEvent.objects.count()
    client.post("/reports/figures/", form)
    assert AuditEvent.objects.count() == logged
