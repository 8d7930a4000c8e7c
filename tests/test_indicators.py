"""绩效评价 (issue 15): every indicator, its numerator and denominator, and the ranking, on a
fixture computed by hand."""

import datetime as dt
from decimal import Decimal

import pytest
from django.utils import timezone

from applications.models import Application
from beneficiaries.models import Entitlement
from eligibility.selectors import policy_figure
from notices.models import Notice, Objection
from payments import services as payments
from payments.models import PaymentCheck, PayrollLine
from recertification.models import Review
from reports import indicators, statistics
from reports.models import ConsumptionSpending, RegisteredPopulation

from .factories import make_household, make_id, member_data

NOV = dt.date(2026, 11, 1)


def _at(day: str):
    return timezone.make_aware(dt.datetime.fromisoformat(day + "T10:00"))


def _home(cast, village, seq, area="500103", clerk="clerk"):
    return make_household(
        cast[clerk],
        village,
        members=[member_data(f"户主{seq}", id_number=make_id(area=area, seq=seq))],
    )


def _decided(cast, home, township, number, due, decided, status="approved"):
    return Application.objects.create(
        number=number,
        household=home,
        programme="dibao",
        channel="window",
        township=township,
        received_by=cast["clerk"],
        received_at=_at("2026-01-05"),
        accepted_on=dt.date(2026, 1, 5),
        status=status,
        decision_due=dt.date.fromisoformat(due) if due else None,
        decided_at=_at(decided) if decided else None,
        decided_by=cast["district_approver"] if decided else None,
    )


def _entitle(cast, home, amount):
    return Entitlement.objects.create(
        household=home,
        programme="dibao",
        monthly_amount=Decimal(amount),
        klass="B",
        start_month=NOV,
        next_review=dt.date(2027, 5, 1),
        source="500103001-2026-00001",
        approved_at=timezone.now(),
        approved_by=cast["district_approver"],
    )


def _review(cast, entitlement, township, due, status="decided", decided=None):
    return Review.objects.create(
        entitlement=entitlement,
        township=township,
        kind="periodic",
        opened_at=_at("2026-01-02"),
        due=dt.date.fromisoformat(due),
        status=status,
        outcome="continue" if status == "decided" else "",
        decided_at=_at(decided) if decided else None,
    )


def _notice(application, village_code):
    return Notice.objects.create(
        application=application,
        kind="approval",
        status="closed",
        starts_on=dt.date(2026, 3, 1),
        ends_on=dt.date(2026, 3, 7),
        village_code=village_code,
        masked_name="王*",
        household_size=1,
        programme="dibao",
        amount=Decimal("500.00"),
    )


@pytest.fixture
def scored(cast, tree):
    """渝中: applications 2 of 3 decided in time; reviews 1 of 3 on time; 2 notices with 3
    objections, 1 of the 2 resolved taken up; 2,500 sent of 10,000 allocated; 1 of 2 payment
    checks a discrepancy; 2 recipients among 1,000 residents. 万州: 1 application, in time."""
    homes = [_home(cast, tree.village, seq) for seq in range(901, 906)]
    j = tree.jiefangbei
    a1 = _decided(cast, homes[0], j, "500103001-2026-00101", "2026-03-10", "2026-03-05")
    _decided(cast, homes[1], j, "500103001-2026-00102", "2026-04-01", "2026-04-10", "rejected")
    a3 = _decided(cast, homes[2], j, "500103001-2026-00103", "2026-05-01", "2026-05-01")
    _decided(cast, homes[3], j, "500103001-2025-00104", "2025-12-01", "2025-11-20")
    _decided(cast, homes[4], j, "500103001-2026-00105", "2026-06-01", None, "investigating")
    far = _home(cast, tree.wanzhou_village, 907, area="500101", clerk="clerk_other")
    _decided(cast, far, tree.wanzhou_township, "500101001-2026-00001", "2026-02-01", "2026-01-30")

    paid = [_entitle(cast, homes[0], "1000.00"), _entitle(cast, homes[1], "1500.00")]
    other = _entitle(cast, homes[2], "800.00")
    _review(cast, paid[0], j, "2026-02-01", decided="2026-01-20")
    _review(cast, paid[1], j, "2026-03-01", decided="2026-03-05")
    _review(cast, other, j, "2026-06-01", status="open")
    _review(cast, _entitle(cast, homes[3], "500.00"), j, "2027-01-10", status="open")
    Entitlement.objects.filter(pk__in=[other.pk]).update(start_month=dt.date(2027, 1, 1))
    Entitlement.objects.filter(household=homes[3]).update(start_month=dt.date(2027, 1, 1))

    n1, n2 = _notice(a1, tree.village.code), _notice(a3, tree.village.code)
    Objection.objects.create(
        notice=n1, text="a", status="resolved", reinvestigated=True, resolved_at=_at("2026-04-01")
    )
    Objection.objects.create(notice=n1, text="b", status="resolved", resolved_at=_at("2026-04-02"))
    Objection.objects.create(notice=n2, text="c")

    payments.allocation_set(
        actor=cast["finance"],
        year=2026,
        district=tree.yuzhong,
        programme="dibao",
        source="central",
        amount=Decimal("10000.00"),
    )
    payroll = payments.payroll_request(
        actor=cast["finance"], district=tree.yuzhong, programme="dibao", month=NOV
    )
    payroll = payments.payroll_generate(payroll_id=payroll.pk)
    payments.payroll_approve(actor=cast["district_approver"], payroll=payroll)
    for line, (status, outcome) in zip(
        PayrollLine.objects.filter(payroll=payroll).order_by("amount"),
        [("done", "full"), ("discrepancy", "partly")],
        strict=True,
    ):
        PaymentCheck.objects.create(
            line=line, township=j, status=status, outcome=outcome, checked_at=_at("2026-11-20")
        )
    statistics.compute(month=NOV)
    RegisteredPopulation.objects.create(district=tree.yuzhong, year=2026, population=1000)
    ConsumptionSpending.objects.create(
        year=2026, urban=Decimal("30000.00"), rural=Decimal("20000.00")
    )


def _by_code(entry):
    return {i["code"]: i for i in entry["indicators"]}


def _ratio(numerator, denominator, scale=100):
    return (Decimal(numerator) / Decimal(denominator) * scale).quantize(Decimal("0.01"))


def test_each_indicator_shows_its_numerator_denominator_and_definition(cast, tree, scored):
    table = indicators.indicator_table(2026, fresh=True)
    yuzhong = next(e for e in table if e["district"] == "500103000000")
    got = {
        code: (i["numerator"], i["denominator"], i["value"])
        for code, i in _by_code(yuzhong).items()
    }
    assert got["decided_in_time"] == (2, 3, Decimal("66.67"))
    assert got["reviews_on_time"] == (1, 3, Decimal("33.33"))
    assert got["objection_rate"] == (3, 2, Decimal("150.00"))
    assert got["objections_upheld"] == (1, 2, Decimal("50.00"))
    assert got["fund_execution"] == (Decimal("2500.00"), Decimal("10000.00"), Decimal("25.00"))
    assert got["payment_discrepancy"] == (1, 2, Decimal("50.00"))
    assert got["coverage"] == (2, 1000, Decimal("2.00"))
    urban = policy_figure("dibao_standard", NOV, "500103", "urban") * 12
    rural = policy_figure("dibao_standard", NOV, "500103", "rural") * 12
    assert got["standard_share_urban"] == (urban, Decimal("30000.00"), _ratio(urban, 30000))
    assert got["standard_share_rural"] == (rural, Decimal("20000.00"), _ratio(rural, 20000))
    assert all(i["definition"] for i in yuzhong["indicators"])


def test_districts_are_ranked_by_their_score(cast, tree, scored):
    table = indicators.indicator_table(2026, fresh=True)
    assert [(e["district"], e["rank"]) for e in table] == [
        ("500101000000", 1),
        ("500103000000", 2),
    ]
    # The mean of in time 66.67, on time 33.33, execution 25.00 and 100 − discrepancy 50.00.
    assert table[1]["score"] == Decimal("43.75")
    assert table[0]["score"] == Decimal("100.00")
    wanzhou = _by_code(table[0])
    assert wanzhou["coverage"]["value"] is None  # no population entered: no figure, not zero


def test_a_district_sees_its_own_row_with_the_citys_rank(cast, tree, scored):
    rows = indicators.indicators_for(tree.yuzhong, 2026, fresh=True)
    assert [(e["district"], e["rank"]) for e in rows] == [("500103000000", 2)]


def test_the_dashboard_details_processing_time_objections_and_checks(cast, tree, scored):
    yuzhong = indicators.indicators_for(tree.yuzhong, 2026, fresh=True)[0]["detail"]
    # Days taken 59, 95, 116 against 64, 86, 116 allowed.
    assert (yuzhong["processing_days"], yuzhong["limit_days"]) == (
        Decimal("90.0"),
        Decimal("88.7"),
    )
    assert yuzhong["objections"] == {"taken_up": 1, "dismissed": 1, "pending": 1}
    assert yuzhong["checks"] == {"full": 1, "partly": 1, "not_received": 0}
