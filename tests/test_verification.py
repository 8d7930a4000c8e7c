"""Verification (核对): department files with bad rows are refused; a run finds what the
household did not declare."""

from decimal import Decimal

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from beneficiaries.models import IncomeItem
from core.exceptions import OutOfScopeError
from eligibility import verification
from eligibility.models import SharedDataImport, SharedRecord, VerificationFinding, VerificationRun

from .factories import make_household, make_id, member_data

HEAD = make_id("19600101", seq=11)
SPOUSE = make_id("19620202", seq=22)


def csv_file(text: str, name="data.csv", encoding="utf-8-sig"):
    return SimpleUploadedFile(name, text.encode(encoding), content_type="text/csv")


def load(cast, source, text):
    return verification.shared_import_create(
        actor=cast["city_admin"], source=source, uploaded_file=csv_file(text)
    )


@pytest.fixture
def household(cast, tree):
    return make_household(
        cast["clerk"],
        tree.village,
        members=[
            member_data("赵大", id_number=HEAD),
            member_data("钱二", "spouse", id_number=SPOUSE),
        ],
    )


def test_file_with_bad_rows_is_refused_with_each_row_and_nothing_loaded(cast):
    bad_check = HEAD[:17] + ("1" if HEAD[17] != "1" else "2")
    data_import = load(
        cast,
        "vehicle",
        "\n".join(
            [
                "身份证号,车辆类型,号牌,价值",
                f"{HEAD},car,渝A12345,30000",
                f"{bad_check},car,渝A00001,1000",
                f"{SPOUSE},spaceship,渝B1,1",
                f"{SPOUSE},car,渝B2,-5",
            ]
        ),
    )
    assert data_import.status == SharedDataImport.Status.INVALID
    assert data_import.row_count == 4 and data_import.error_count == 3
    rows = {e["row"] for e in data_import.errors}
    assert rows == {3, 4, 5}
    assert any("校验位" in e["message"] for e in data_import.errors)
    assert not SharedRecord.objects.exists()


def test_wrong_header_is_one_error(cast):
    data_import = load(cast, "bank", "身份证号,余额\n" + HEAD + ",100")
    assert data_import.status == "invalid" and data_import.errors[0]["row"] == 1


def test_gb18030_file_from_excel_is_read(cast):
    text = f"身份证号,开户银行,余额\n{HEAD},中国农业银行,100.50\n"
    data_import = verification.shared_import_create(
        actor=cast["city_admin"], source="bank", uploaded_file=csv_file(text, encoding="gb18030")
    )
    assert data_import.status == "loaded"
    assert SharedRecord.objects.get().amount == Decimal("100.50")


def test_only_the_city_admin_loads_files(cast):
    with pytest.raises(OutOfScopeError):
        verification.shared_import_create(
            actor=cast["district_approver"],
            source="bank",
            uploaded_file=csv_file("身份证号,开户银行,余额\n"),
        )


def _run(cast, household):
    run = verification.verification_run_start(
        actor=cast["district_approver"], region_code=household.region.parent.parent.code
    )
    verification.verification_run_execute(run_id=run.pk)
    run.refresh_from_db()
    return run


def test_run_finds_an_undeclared_vehicle_and_records_its_sources(cast, household):
    vehicles = load(cast, "vehicle", f"身份证号,车辆类型,号牌,价值\n{SPOUSE},car,渝A12345,30000\n")
    load(cast, "vehicle", f"身份证号,车辆类型,号牌,价值\n{HEAD},x,y,z\n")  # refused: not used
    run = _run(cast, household)
    assert run.status == VerificationRun.Status.DONE and run.household_count == 1
    finding = VerificationFinding.objects.get(run=run)
    assert (finding.code, finding.disqualifying, finding.member.name) == (
        "undeclared_vehicle",
        True,
        "钱二",
    )
    assert "渝A12345" in finding.message
    assert list(run.imports.all()) == [vehicles]
    assert run.started_at and run.finished_at


def test_declared_vehicle_and_disability_vehicle_are_not_findings(cast, household):
    load(cast, "vehicle", f"身份证号,车辆类型,号牌,价值\n{SPOUSE},disability_vehicle,渝A1,8000\n")
    assert _run(cast, household).finding_count == 0


def test_run_finds_deposits_company_pension_and_deceased(cast, household):
    IncomeItem.objects.create(member=household.head, type="pension", monthly_amount=Decimal("800"))
    load(cast, "bank", f"身份证号,开户银行,余额\n{HEAD},农行,10000\n{SPOUSE},建行,2000.01\n")
    load(
        cast,
        "market_entity",
        f"身份证号,主体类型,名称,注册资本\n{SPOUSE},company,某某公司,100000\n",
    )
    load(cast, "social_insurance", f"身份证号,待遇类型,月金额\n{HEAD},pension,1200\n")
    load(cast, "hukou", f"身份证号,户籍状态,姓名\n{SPOUSE},deceased,钱二\n")
    run = _run(cast, household)
    codes = set(VerificationFinding.objects.filter(run=run).values_list("code", flat=True))
    # 2 members × 500 × 12 = 12,000 < 12,000.01 in the banks
    assert codes == {
        "deposits_over_limit",
        "company_registered",
        "pension_not_declared",
        "hukou_deceased",
    }


def test_run_outside_the_jurisdiction_is_refused_and_runs_are_scoped(client, cast, household, tree):
    with pytest.raises(OutOfScopeError):
        verification.verification_run_start(
            actor=cast["district_approver"], region_code=tree.wanzhou.code
        )
    run = _run(cast, household)
    client.force_login(cast["township_reviewer"])
    assert client.get(reverse("eligibility:run", args=[run.pk])).status_code == 404  # district run
    client.force_login(cast["district_approver"])
    assert client.get(reverse("eligibility:run", args=[run.pk])).status_code == 200


def test_pages(client, cast, household, django_capture_on_commit_callbacks):
    client.force_login(cast["city_admin"])
    page = client.get(reverse("eligibility:verification")).content.decode()
    assert "家庭经济状况核对" in page
    response = client.post(
        reverse("eligibility:shared_upload"),
        {
            "source": "vehicle",
            "file": csv_file(f"身份证号,车辆类型,号牌,价值\n{SPOUSE},car,渝A9,1\n"),
        },
    )
    assert response.status_code == 302
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            reverse("eligibility:run_start"), {"region_code": household.region.parent.parent.code}
        )
    page = client.get(response["Location"]).content.decode()
    assert "渝A9" in page and household.number in page


def test_files_from_one_department_are_used_together(cast, household):
    load(cast, "bank", f"身份证号,开户银行,余额\n{HEAD},农行,11000\n")
    load(cast, "bank", f"身份证号,开户银行,余额\n{SPOUSE},建行,1000.01\n")
    empty = load(cast, "bank", "身份证号,开户银行,余额\n")
    assert empty.status == "invalid"  # a file with no rows is refused, never "the latest"
    run = _run(cast, household)
    assert VerificationFinding.objects.filter(run=run, code="deposits_over_limit").exists()
    assert run.imports.count() == 2


def test_expired_declared_income_does_not_hide_a_pension(cast, household):
    import datetime as dt

    IncomeItem.objects.create(
        member=household.head,
        type="pension",
        monthly_amount=Decimal("900"),
        period_start=dt.date(2010, 1, 1),
        period_end=dt.date(2015, 12, 31),
    )
    load(cast, "social_insurance", f"身份证号,待遇类型,月金额\n{HEAD},pension,900\n")
    run = _run(cast, household)
    assert VerificationFinding.objects.filter(run=run, code="pension_not_declared").exists()


def test_a_co_owned_house_counts_once(cast, household):
    load(
        cast,
        "real_estate",
        f"身份证号,不动产类型,建筑面积,坐落\n{HEAD},house,80,某路1号\n{SPOUSE},house,80,某路1号\n",
    )
    run = _run(cast, household)
    assert (
        "1 houses" in VerificationFinding.objects.get(run=run).message
        or "1套" in VerificationFinding.objects.get(run=run).message
    )


def test_a_run_is_set_based(cast, tree, django_assert_max_num_queries):
    """The queries of a run do not grow with the number of households."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    def queries_for(n, start):
        for i in range(start, start + n):
            make_household(
                cast["clerk"],
                tree.village,
                members=[member_data(id_number=make_id("19700101", seq=100 + i))],
            )
        VerificationFinding.objects.all().delete()
        run = verification.verification_run_start(
            actor=cast["district_approver"], region_code=tree.yuzhong.code
        )
        with CaptureQueriesContext(connection) as captured:
            verification.verification_run_execute(run_id=run.pk)
        return len(captured)

    assert queries_for(3, 0) == queries_for(12, 3)
