"""Monthly payments (issue 14): the payroll's lines and amounts, arrears and overpayments,
idempotence, four eyes, funds, bank files and results, re-issues, verification."""

import datetime as dt
import random
from decimal import Decimal

import pytest
from django.utils import timezone

from beneficiaries.models import Entitlement, EntitlementChange
from core.exceptions import ConflictError, OutOfScopeError, ValidationFailed
from core.months import add_months
from payments import services
from payments.models import Overpayment, Payroll, PayrollLine

from .factories import make_household, make_id, member_data

JAN, FEB, MAR, APR = (dt.date(2027, m, 1) for m in (1, 2, 3, 4))
L = PayrollLine


def household(cast, tree, seq, **fields):
    return make_household(
        cast["clerk"],
        tree.village,
        members=[member_data(f"户主{seq}", id_number=make_id(seq=seq))],
        **fields,
    )


def entitle(cast, home, amount="500.00", start=JAN, programme="dibao", **fields):
    return Entitlement.objects.create(
        household=home,
        programme=programme,
        monthly_amount=Decimal(amount),
        klass="C",
        start_month=start,
        next_review=dt.date(2027, 12, 1),
        source="500103001-2026-00001",
        approved_at=timezone.now(),
        approved_by=cast["district_approver"],
        **fields,
    )


def change(entitlement, kind, month, old, new, superseded=False, source=""):
    return EntitlementChange.objects.create(
        entitlement=entitlement,
        kind=kind,
        effective_month=month,
        old_value=str(old),
        new_value=str(new),
        cause="测试",
        source=source,
        superseded=superseded,
    )


def generate(cast, tree, month, programme="dibao") -> Payroll:
    payroll = services.payroll_request(
        actor=cast["finance"], district=tree.yuzhong, programme=programme, month=month
    )
    return services.payroll_generate(payroll_id=payroll.pk)


def approve(cast, payroll, **kwargs) -> Payroll:
    return services.payroll_approve(actor=cast["district_approver"], payroll=payroll, **kwargs)


def lines(payroll, **filters) -> dict:
    return {
        (line.entitlement_id, line.kind): line
        for line in PayrollLine.objects.filter(payroll=payroll, **filters)
    }


@pytest.fixture
def allocated(cast, tree):
    for year in (2026, 2027):
        services.allocation_set(
            actor=cast["finance"],
            year=year,
            district=tree.yuzhong,
            programme="dibao",
            source="central",
            amount=Decimal("10000000.00"),
        )


# --- Which entitlements, what amount ------------------------------------------------------------


def _random_timeline(rng: random.Random, entitlement: Entitlement) -> None:
    month = entitlement.start_month
    amount = entitlement.monthly_amount
    status = "active"
    for _ in range(rng.randint(0, 5)):
        month = add_months(month, rng.randint(0, 2))
        kind = rng.choice(["amount", "amount", "status", "class"])
        superseded = rng.random() < 0.15
        if kind == "amount":
            new = Decimal(rng.randint(50, 900)).quantize(Decimal("0.01"))
            change(entitlement, "amount", month, amount, new, superseded=superseded)
            if not superseded:
                amount = new
        elif kind == "status":
            new = rng.choice(["suspended", "active", "terminated"])
            change(entitlement, "status", month, status, new, superseded=superseded)
        else:
            change(entitlement, "class", month, "C", rng.choice("AB"))


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_every_line_is_amount_for_the_month(cast, tree, seed, allocated):
    rng = random.Random(seed)
    entitlements = []
    for i in range(24):
        start = dt.date(2026, rng.randint(6, 12), 1) if rng.random() < 0.8 else FEB
        end = dt.date(2027, rng.randint(1, 3), 1) if rng.random() < 0.15 else None
        entitlement = entitle(
            cast,
            household(cast, tree, 100 + i),
            amount=f"{rng.randint(100, 800)}.{rng.randint(0, 99):02d}",
            start=start,
            end_month=end if end and end >= start else None,
        )
        _random_timeline(rng, entitlement)
        entitlements.append(entitlement)
    for month in (JAN, FEB, MAR):
        payroll = generate(cast, tree, month)
        made = lines(payroll, kind=L.Kind.REGULAR)
        for entitlement in entitlements:
            due = entitlement.amount_for(month)
            line = made.get((entitlement.pk, L.Kind.REGULAR))
            if due:
                assert line is not None and line.amount == due, (month, entitlement.pk)
                assert line.basis["decision"] and line.basis["class"] == "C"
            else:
                assert line is None, (month, entitlement.pk)
        assert payroll.line_count == len(PayrollLine.objects.filter(payroll=payroll))
        assert payroll.total_amount == sum(line.amount for line in payroll.lines.all())
        approve(cast, payroll)


def test_the_line_keeps_what_the_amount_came_from(cast, tree, allocated):
    home = household(cast, tree, 200)
    entitlement = entitle(cast, home, amount="640.00")
    other = entitle(
        cast, household(cast, tree, 201), amount="300.00", programme="tekun"
    )  # another programme: not in this payroll
    payroll = generate(cast, tree, JAN)
    line = payroll.lines.get()
    assert (line.entitlement, line.household, line.month, line.kind) == (
        entitlement,
        home,
        JAN,
        "regular",
    )
    assert line.amount == Decimal("640.00") and line.status == "pending"
    assert line.account_number == home.bank_account_number and line.payee_name == "张三"
    assert line.payee_member == home.head
    assert line.basis["decision"] == "500103001-2026-00001" and line.reference == (
        f"R202701-{entitlement.pk}"
    )
    assert not PayrollLine.objects.filter(entitlement=other).exists()


def test_an_account_that_cannot_be_paid_into_is_held(cast, tree, allocated):
    entitle(cast, household(cast, tree, 210, bank_account_number="6228480000001234567"))
    entitle(cast, household(cast, tree, 211, bank_account_number=""))
    entitle(cast, household(cast, tree, 212))
    payroll = generate(cast, tree, JAN)
    statuses = sorted(payroll.lines.values_list("status", flat=True))
    assert statuses == ["held", "held", "pending"]
    reasons = set(payroll.lines.filter(status="held").values_list("hold_reason", flat=True))
    assert any("校验位" in r for r in reasons) and any("银行账户" in r for r in reasons)


# --- Running it again adds nothing ------------------------------------------------------------


def test_generating_again_adds_nothing(cast, tree, allocated):
    for i in range(3):
        entitle(cast, household(cast, tree, 220 + i))
    payroll = generate(cast, tree, JAN)
    assert payroll.line_count == 3
    again = services.payroll_generate(payroll_id=payroll.pk)  # a re-delivered task
    assert again.lines.count() == 3
    from payments.generation import payroll_lines_generate

    Payroll.objects.filter(pk=payroll.pk).update(status="generating")
    payroll_lines_generate(payroll)  # even the steps themselves skip what exists
    assert PayrollLine.objects.count() == 3
    with pytest.raises(services.PayrollExists) as raised:
        generate(cast, tree, JAN)
    assert raised.value.payroll == payroll


def test_a_cancelled_draft_can_be_generated_again(cast, tree, allocated):
    entitle(cast, household(cast, tree, 230))
    payroll = generate(cast, tree, JAN)
    with pytest.raises(ValidationFailed):
        services.payroll_cancel(actor=cast["finance"], payroll=payroll, reason="")
    services.payroll_cancel(actor=cast["finance"], payroll=payroll, reason="标准调整后重做")
    assert not PayrollLine.objects.exists()
    again = generate(cast, tree, JAN)
    assert again.pk != payroll.pk and again.line_count == 1


# --- Arrears and overpayments ------------------------------------------------------------------


def test_a_back_dated_increase_is_paid_as_arrears_and_a_decrease_is_an_overpayment(
    cast, tree, allocated
):
    up = entitle(cast, household(cast, tree, 240), amount="500.00")
    down = entitle(cast, household(cast, tree, 241), amount="500.00")
    approve(cast, generate(cast, tree, JAN))
    approve(cast, generate(cast, tree, FEB))
    # A new standard from January, decided in March: 550 for one, 420 for the other.
    change(up, "amount", JAN, "500.00", "550.00", source="standard:2027-01")
    change(down, "amount", JAN, "500.00", "420.00", source="standard:2027-01")
    march = generate(cast, tree, MAR)
    arrears = march.lines.filter(kind="arrears").order_by("month")
    assert [(a.entitlement_id, a.month, a.amount) for a in arrears] == [
        (up.pk, JAN, Decimal("50.00")),
        (up.pk, FEB, Decimal("50.00")),
    ]
    assert march.lines.get(entitlement=up, kind="regular").amount == Decimal("550.00")
    assert march.lines.get(entitlement=down, kind="regular").amount == Decimal("420.00")
    assert not march.lines.filter(amount__lte=0).exists()  # never a negative line
    owed = Overpayment.objects.filter(entitlement=down).order_by("month")
    assert [(o.month, o.paid, o.due, o.amount) for o in owed] == [
        (JAN, Decimal("500.00"), Decimal("420.00"), Decimal("80.00")),
        (FEB, Decimal("500.00"), Decimal("420.00"), Decimal("80.00")),
    ]
    assert owed[0].township == tree.jiefangbei
    # Cancelled and generated again, or the next month: nothing twice.
    services.payroll_cancel(actor=cast["finance"], payroll=march, reason="重做")
    march = approve(cast, generate(cast, tree, MAR))
    assert march.lines.filter(kind="arrears").count() == 2
    assert Overpayment.objects.filter(entitlement=down).count() == 2
    april = generate(cast, tree, APR)
    assert not april.lines.filter(kind="arrears").exists()
    assert Overpayment.objects.count() == 2


def test_an_approval_landing_after_its_first_payroll_is_paid_as_arrears(cast, tree, allocated):
    entitle(cast, household(cast, tree, 250))
    approve(cast, generate(cast, tree, JAN))
    late = entitle(cast, household(cast, tree, 251), amount="380.00", start=JAN)  # approved now
    feb = generate(cast, tree, FEB)
    assert feb.lines.get(entitlement=late, kind="regular").amount == Decimal("380.00")
    arrears = feb.lines.get(entitlement=late, kind="arrears")
    assert (arrears.month, arrears.amount) == (JAN, Decimal("380.00"))


def test_a_back_dated_suspension_of_a_paid_month_is_an_overpayment(cast, tree, allocated):
    entitlement = entitle(cast, household(cast, tree, 260), amount="500.00")
    approve(cast, generate(cast, tree, JAN))
    change(entitlement, "status", JAN, "active", "suspended")
    feb = generate(cast, tree, FEB)
    assert not feb.lines.filter(entitlement=entitlement).exists()
    owed = Overpayment.objects.get(entitlement=entitlement)
    assert (owed.month, owed.amount, owed.due) == (JAN, Decimal("500.00"), Decimal("0.00"))


# --- Four eyes and locked batches ----------------------------------------------------------------


def test_only_the_districts_funds_officer_generates(cast, tree):
    for actor in ("district_approver", "clerk", "city_admin", "auditor"):
        with pytest.raises(OutOfScopeError):
            services.payroll_request(
                actor=cast[actor], district=tree.yuzhong, programme="dibao", month=JAN
            )
    with pytest.raises(OutOfScopeError):
        services.payroll_request(
            actor=cast["finance"], district=tree.wanzhou, programme="dibao", month=JAN
        )


def test_four_eyes_and_a_locked_batch(cast, tree, allocated):
    from accounts.models import Role

    from .factories import UserFactory

    entitle(cast, household(cast, tree, 270))
    payroll = generate(cast, tree, JAN)
    with pytest.raises(OutOfScopeError):  # the funds officer cannot approve
        services.payroll_approve(actor=cast["finance"], payroll=payroll)
    # Even a generator who is also an approver (the database refuses it too).
    both = UserFactory(role=Role.DISTRICT_APPROVER, jurisdiction=tree.yuzhong)
    Payroll.objects.filter(pk=payroll.pk).update(generated_by=both)
    payroll.refresh_from_db()
    with pytest.raises(OutOfScopeError):
        services.payroll_approve(actor=both, payroll=payroll)
    from django.db import IntegrityError, transaction

    with pytest.raises(IntegrityError), transaction.atomic():
        Payroll.objects.filter(pk=payroll.pk).update(approved_by=both)
    approved = approve(cast, payroll)
    assert approved.status == "approved" and approved.approved_by == cast["district_approver"]
    with pytest.raises(ConflictError):
        approve(cast, approved)
    with pytest.raises(ConflictError):
        services.payroll_cancel(actor=cast["finance"], payroll=approved, reason="想重做")


# --- Funds ------------------------------------------------------------------------------------


def test_approval_past_the_allocation_needs_a_reason(cast, tree):
    entitle(cast, household(cast, tree, 280), amount="600.00")
    services.allocation_set(
        actor=cast["finance"],
        year=2027,
        district=tree.yuzhong,
        programme="dibao",
        source="city",
        amount=Decimal("500.00"),
    )
    payroll = generate(cast, tree, JAN)
    with pytest.raises(ValidationFailed) as raised:
        approve(cast, payroll)
    assert raised.value.errors[0][0] == "override_reason"
    approved = approve(cast, payroll, override_reason="中央资金尚未到位,先由区级垫付")
    assert approved.fund_override_reason.startswith("中央资金")
    from payments import funds

    position = funds.position(tree.yuzhong, "dibao", 2027)
    assert (position.allocated, position.spent) == (Decimal("500.00"), Decimal("600.00"))
    assert position.share == Decimal("1.2")


# --- The bank: file out, result in ------------------------------------------------------------


def _sent(cast, tree, n=4, start=400):
    """An approved January payroll of ``n`` households, 100 yuan apart."""
    for i in range(n):
        entitle(cast, household(cast, tree, start + i), amount=f"{500 + 100 * i}.00")
    return approve(cast, generate(cast, tree, JAN))


def _csv_rows(content: bytes) -> list[list[str]]:
    import csv
    import io

    assert content.startswith(b"\xef\xbb\xbf")  # UTF-8 with a BOM, for Excel
    return list(csv.reader(io.StringIO(content.decode("utf-8-sig"))))


def _export(cast, payroll, fmt="csv"):
    from django.core.files.storage import default_storage

    bank_file = services.payroll_export(actor=cast["finance"], payroll=payroll, fmt=fmt)
    with default_storage.open(bank_file.path, "rb") as handle:
        return bank_file, handle.read()


def _result(rows: list[list[str]], changes: dict[str, tuple[str, str]], extra=()):
    """The bank's result: the rows sent, each with 状态/失败原因 (成功 unless in ``changes``)."""
    import csv
    import io

    from payments.bankfiles import RESULT_COLUMNS

    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(RESULT_COLUMNS)
    for row in rows[1:]:
        if row[0] == "合计":
            continue
        status, reason = changes.get(row[1], ("成功", ""))
        writer.writerow([*row, status, reason])
    for row in extra:
        writer.writerow(row)
    from django.core.files.uploadedfile import SimpleUploadedFile

    return SimpleUploadedFile("result.csv", out.getvalue().encode("utf-8-sig"))


def test_the_bank_file_has_every_line_a_total_row_and_its_checksum(cast, tree, allocated):
    import hashlib

    payroll = _sent(cast, tree)
    bank_file, content = _export(cast, payroll)
    rows = _csv_rows(content)
    assert rows[0] == [
        "序号",
        "参考号",
        "户号",
        "姓名",
        "身份证号",
        "开户银行",
        "银行账号",
        "金额",
        "摘要",
    ]
    body, total = rows[1:-1], rows[-1]
    assert [r[0] for r in body] == ["1", "2", "3", "4"]
    assert {r[1] for r in body} == set(
        L.objects.filter(payroll=payroll).values_list("reference", flat=True)
    )
    assert total[0] == "合计" and total[1] == "4" and total[7] == "2600.00"
    assert sum(Decimal(r[7]) for r in body) == Decimal("2600.00")
    assert body[0][4] == make_id(seq=400)  # the bank needs the full ID number
    assert body[0][8] == "2027年01月低保金"
    assert bank_file.sha256 == hashlib.sha256(content).hexdigest()
    assert (bank_file.line_count, bank_file.total_amount) == (4, Decimal("2600.00"))
    payroll.refresh_from_db()
    assert payroll.status == "exported"
    # Asked again: the same file, not a second one.
    again, content_again = _export(cast, payroll)
    assert again.pk == bank_file.pk and content_again == content


def test_the_xlsx_bank_file_matches_the_csv(cast, tree, allocated):
    import io

    from openpyxl import load_workbook

    payroll = _sent(cast, tree)
    _csv_file, csv_content = _export(cast, payroll)
    xlsx_file, content = _export(cast, payroll, "xlsx")
    sheet = load_workbook(io.BytesIO(content)).worksheets[0]
    cells = [
        [("" if v is None else str(v)) for v in row] for row in sheet.iter_rows(values_only=True)
    ]
    csv_rows = _csv_rows(csv_content)
    assert cells[0] == csv_rows[0]
    assert [r[1] for r in cells[1:]] == [r[1] for r in csv_rows[1:]]
    assert sheet.cell(row=2, column=7).value == csv_rows[1][6]  # account numbers stay text
    assert Decimal(str(sheet.cell(row=6, column=8).value)) == Decimal("2600.00")
    assert xlsx_file.total_amount == Decimal("2600.00")


def test_an_account_changed_after_generation_is_held_back_at_export(cast, tree, allocated):
    payroll = _sent(cast, tree, n=2, start=410)
    line = L.objects.filter(payroll=payroll).order_by("id").first()
    line.household.__class__.objects.filter(pk=line.household_id).update(
        bank_account_number="6228480000009999996"
    )
    bank_file, content = _export(cast, payroll)
    line.refresh_from_db()
    assert line.status == "held"
    assert line.hold_reason == "清册生成后该户银行账户已变更。"
    assert bank_file.held_count == 1 and bank_file.line_count == 1
    assert line.reference not in content.decode("utf-8-sig")


def test_a_bank_file_only_after_approval_and_only_by_the_funds_officer(cast, tree, allocated):
    entitle(cast, household(cast, tree, 420))
    payroll = generate(cast, tree, JAN)
    with pytest.raises(ConflictError):
        services.payroll_export(actor=cast["finance"], payroll=payroll, fmt="csv")
    approve(cast, payroll)
    with pytest.raises(OutOfScopeError):
        services.payroll_export(actor=cast["district_approver"], payroll=payroll, fmt="csv")


def test_the_result_settles_lines_and_refuses_unknown_and_tampered_rows(cast, tree, allocated):
    payroll = _sent(cast, tree, n=4, start=430)
    _file, content = _export(cast, payroll)
    rows = _csv_rows(content)
    refs = [r[1] for r in rows[1:-1]]
    tampered = [list(rows[3])]
    rows[3][7] = "9999.00"  # the amount changed in the bank's file
    upload = _result(
        rows,
        {refs[1]: ("失败", "账户已销户")},
        extra=[["9", "R202701-999999", "x", "x", "", "", "", "1.00", "", "成功", ""]],
    )
    result = services.payroll_result_import(actor=cast["finance"], payroll=payroll, upload=upload)
    assert (result.paid, result.failed, result.unknown, result.refused) == (2, 1, 1, 2)
    problems = {r["reference"]: r["problem"] for r in result.report}
    assert set(problems) == {"R202701-999999", refs[2]}
    statuses = dict(L.objects.filter(payroll=payroll).values_list("reference", "status"))
    assert statuses[refs[1]] == "failed" and statuses[refs[2]] == "pending"
    assert L.objects.get(reference=refs[1]).failure_reason == "账户已销户"
    payroll.refresh_from_db()
    assert payroll.status == "exported"  # one line is still pending
    # Paid + failed + pending always equals the batch total.
    from payments.generation import payroll_totals

    totals = payroll_totals(payroll)
    assert sum(v["amount"] for v in totals["by_status"].values()) == payroll.total_amount
    # The corrected row in a second file settles the last line: reconciled, sample drawn.
    rows[3] = tampered[0]
    second = services.payroll_result_import(
        actor=cast["finance"],
        payroll=payroll,
        upload=_result(rows, {refs[1]: ("失败", "账户已销户")}),
    )
    assert (second.paid, second.failed, second.refused) == (1, 0, 0), second.report
    payroll.refresh_from_db()
    assert payroll.status == "reconciled" and payroll.check_draw.population == 3
    # A result contradicting one already recorded is refused.
    third = services.payroll_result_import(
        actor=cast["finance"],
        payroll=payroll,
        upload=_result(rows, {refs[0]: ("失败", "x"), refs[1]: ("失败", "账户已销户")}),
    )
    assert third.refused == 1 and L.objects.get(reference=refs[0]).status == "paid"


def test_a_result_file_without_the_columns_is_refused_whole(cast, tree, allocated):
    from django.core.files.uploadedfile import SimpleUploadedFile

    payroll = _sent(cast, tree, n=1, start=440)
    _export(cast, payroll)
    with pytest.raises(ValidationFailed):
        services.payroll_result_import(
            actor=cast["finance"],
            payroll=payroll,
            upload=SimpleUploadedFile("r.csv", "参考号,金额\nR1,1.00\n".encode()),
        )


def test_a_failed_payment_is_reissued_once_after_the_account_is_fixed(cast, tree, allocated):
    from beneficiaries.models import Household

    payroll = _sent(cast, tree, n=2, start=450)
    _file, content = _export(cast, payroll)
    rows = _csv_rows(content)
    failed_ref = rows[1][1]
    services.payroll_result_import(
        actor=cast["finance"],
        payroll=payroll,
        upload=_result(rows, {failed_ref: ("失败", "户名不符")}),
    )
    failed = L.objects.get(reference=failed_ref)
    # Not yet fixed: February pays the month's lines, no re-issue.
    feb = generate(cast, tree, FEB)
    assert not L.objects.filter(payroll=feb, kind="reissue").exists()
    services.payroll_cancel(actor=cast["finance"], payroll=feb, reason="重做")
    # The township fixes the account, then asks for the re-issue (once).
    Household.objects.filter(pk=failed.household_id).update(bank_account_name="户主450")
    with pytest.raises(OutOfScopeError):
        services.line_reissue_request(actor=cast["finance"], line=failed)
    services.line_reissue_request(actor=cast["clerk"], line=failed, note="户名已更正")
    with pytest.raises(ConflictError):
        services.line_reissue_request(actor=cast["clerk"], line=failed)
    feb = generate(cast, tree, FEB)
    reissue = L.objects.get(payroll=feb, kind="reissue")
    assert (reissue.reissued_from_id, reissue.amount, reissue.month) == (
        failed.pk,
        failed.amount,
        JAN,
    )
    assert reissue.payee_name == "户主450"
    # Generating again (a rerun) and March's payroll do not pay it a second time.
    from payments.generation import payroll_lines_generate

    payroll_lines_generate(feb)
    approve(cast, feb)
    mar = generate(cast, tree, MAR)
    assert L.objects.filter(reissued_from=failed).count() == 1
    assert not L.objects.filter(payroll=mar, kind="reissue").exists()


def test_the_payment_check_sample_is_reproducible_from_its_seed(cast, tree, allocated):
    from payments import checks

    ids = list(range(1, 1001))
    assert checks.sample(ids, Decimal("0.05"), 42) == checks.sample(
        list(reversed(ids)), Decimal("0.05"), 42
    )
    assert len(checks.sample(ids, Decimal("0.05"), 42)) == 50
    assert checks.sample(ids, Decimal("0.05"), 42) != checks.sample(ids, Decimal("0.05"), 43)
    assert len(checks.sample([7], Decimal("0.05"), 1)) == 1  # at least one when any was paid

    payroll = _sent(cast, tree, n=3, start=460)
    _file, content = _export(cast, payroll)
    services.payroll_result_import(
        actor=cast["finance"], payroll=payroll, upload=_result(_csv_rows(content), {})
    )
    draw = payroll.__class__.objects.get(pk=payroll.pk).check_draw
    paid = list(L.objects.filter(payroll=payroll, status="paid").values_list("pk", flat=True))
    assert draw.selected == checks.sample(paid, draw.share, draw.seed)
    from payments.models import PaymentCheck

    assert sorted(PaymentCheck.objects.values_list("line_id", flat=True)) == draw.selected


def test_a_payment_check_discrepancy_reaches_the_township_reviewer(cast, tree, allocated):
    from payments.models import PaymentCheck
    from payments.selectors import payment_check_list

    payroll = _sent(cast, tree, n=1, start=470)
    _file, content = _export(cast, payroll)
    services.payroll_result_import(
        actor=cast["finance"], payroll=payroll, upload=_result(_csv_rows(content), {})
    )
    check = PaymentCheck.objects.get()
    assert payment_check_list(user=cast["clerk"]).filter(pk=check.pk).exists()
    assert not payment_check_list(user=cast["clerk_other"]).exists()
    with pytest.raises(ValidationFailed):  # "in part" needs the amount and what was said
        services.payment_check_record(
            actor=cast["clerk"], check=check, method="phone", outcome="partly"
        )
    services.payment_check_record(
        actor=cast["clerk"],
        check=check,
        method="visit",
        outcome="partly",
        amount_received=Decimal("300.00"),
        note="说只收到300元",
    )
    check.refresh_from_db()
    assert check.status == "discrepancy"
    with pytest.raises(OutOfScopeError):
        services.payment_check_resolve(actor=cast["clerk"], check=check, resolution="x")
    services.payment_check_resolve(
        actor=cast["township_reviewer"], check=check, resolution="银行扣了卡年费,已协调退还"
    )
    check.refresh_from_db()
    assert check.status == "resolved"


def test_an_overpayment_is_resolved_by_the_township_reviewer(cast, tree, allocated):
    ent = entitle(cast, household(cast, tree, 480), amount="600.00")
    approve(cast, generate(cast, tree, JAN))
    change(ent, "amount", JAN, "600.00", "400.00", source="review:1")
    feb = generate(cast, tree, FEB)
    overpayment = Overpayment.objects.get(entitlement=ent)
    assert (overpayment.amount, overpayment.found_in_id) == (Decimal("200.00"), feb.pk)
    with pytest.raises(ValidationFailed):
        services.overpayment_resolve(
            actor=cast["township_reviewer"], overpayment=overpayment, status="waived", note=""
        )
    services.overpayment_resolve(
        actor=cast["township_reviewer"],
        overpayment=overpayment,
        status="recovered",
        note="户主已退回200元,收据号0012",
    )
    overpayment.refresh_from_db()
    assert overpayment.status == "recovered"


def test_the_fund_warning_shows_from_the_policy_share(cast, tree, client):
    entitle(cast, household(cast, tree, 490), amount="950.00")
    services.allocation_set(
        actor=cast["finance"],
        year=2027,
        district=tree.yuzhong,
        programme="dibao",
        source="central",
        amount=Decimal("1000.00"),
    )
    payroll = generate(cast, tree, JAN)
    client.force_login(cast["district_approver"])
    page = client.get(f"/payments/{payroll.pk}/").content.decode()
    assert "接近下达额度" in page
    approve(cast, payroll)  # within the allocation: no reason needed


# --- API --------------------------------------------------------------------------------------


def test_api_payroll_end_to_end(cast, tree, allocated, client, django_capture_on_commit_callbacks):
    entitle(cast, household(cast, tree, 500), amount="700.00")
    entitle(cast, household(cast, tree, 501), amount="300.00")
    body = {"district": tree.yuzhong.code, "programme": "dibao", "month": "2027-01"}
    client.force_login(cast["district_approver"])
    assert (
        client.post("/api/v1/payrolls/", body, content_type="application/json").status_code == 403
    )
    client.force_login(cast["finance"])
    with django_capture_on_commit_callbacks(execute=True):
        created = client.post("/api/v1/payrolls/", body, content_type="application/json")
    assert created.status_code == 201, created.content
    pk = created.json()["id"]
    assert created.json()["status"] in ("generating", "draft")
    again = client.post("/api/v1/payrolls/", body, content_type="application/json")
    assert again.status_code == 409 and again.json()["id"] == pk
    other = {**body, "district": tree.wanzhou.code}
    assert (
        client.post("/api/v1/payrolls/", other, content_type="application/json").status_code == 403
    )
    detail = client.get(f"/api/v1/payrolls/{pk}/").json()
    assert detail["status"] == "draft" and detail["total_amount"] == "1000.00"
    assert detail["line_count"] == 2 and detail["month"] == "2027-01"
    assert detail["district"] == tree.yuzhong.code and detail["approved_by"] is None
    page = client.get(f"/api/v1/payrolls/{pk}/lines/").json()
    assert page["count"] == 2
    assert set(page["results"][0]) >= {
        "id",
        "reference",
        "household_number",
        "entitlement",
        "month",
        "amount",
        "kind",
        "status",
    }
    assert client.get(f"/api/v1/payrolls/{pk}/bank-file/?format=csv").status_code == 409
    assert client.post(f"/api/v1/payrolls/{pk}/approve/").status_code == 403
    client.force_login(cast["district_approver"])
    approved = client.post(f"/api/v1/payrolls/{pk}/approve/")
    assert approved.status_code == 200 and approved.json()["status"] == "approved"
    client.force_login(cast["finance"])
    response = client.get(f"/api/v1/payrolls/{pk}/bank-file/?format=csv")
    assert response.status_code == 200
    content = b"".join(response.streaming_content)
    rows = _csv_rows(content)
    xlsx = client.get(f"/api/v1/payrolls/{pk}/bank-file/?format=xlsx")
    assert xlsx.status_code == 200 and b"".join(xlsx.streaming_content)[:2] == b"PK"
    upload = _result(rows, {rows[1][1]: ("失败", "账号不存在")})
    result = client.post(f"/api/v1/payrolls/{pk}/bank-result/", {"file": upload})
    assert result.status_code == 200, result.content
    assert {k: result.json()[k] for k in ("paid", "failed", "unknown")} == {
        "paid": 1,
        "failed": 1,
        "unknown": 0,
    }
    household_pk = L.objects.get(reference=rows[1][1]).household_id
    client.force_login(cast["clerk"])
    history = client.get(f"/api/v1/households/{household_pk}/payments/").json()
    assert history["results"][0]["status"] == "failed"
    client.force_login(cast["clerk_other"])
    assert client.get(f"/api/v1/households/{household_pk}/payments/").status_code == 404


# --- Concurrency (PostgreSQL) -----------------------------------------------------------------


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_two_workers_and_double_clicks_add_nothing_twice(cast, tree):
    import threading

    from django.db import connection, connections

    from payments.generation import _arrears_and_overpayments, _regular_lines, _reissues

    if connection.vendor != "postgresql":
        pytest.skip("needs PostgreSQL's concurrent transactions (CI runs it)")
    for i in range(30):
        entitle(cast, household(cast, tree, 600 + i), amount=f"{300 + i}.00")

    def race(work, n=6):
        barrier, outcomes = threading.Barrier(n), []

        def run():
            try:
                barrier.wait()
                outcomes.append(work())
            except Exception as exc:
                outcomes.append(type(exc).__name__)
            finally:
                connections.close_all()

        threads = [threading.Thread(target=run) for _ in range(n)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        return outcomes

    # Six double clicks on "generate": one payroll, five told it exists.
    requested = race(
        lambda: (
            services.payroll_request(
                actor=cast["finance"], district=tree.yuzhong, programme="dibao", month=JAN
            ).pk
        )
    )
    assert requested.count("PayrollExists") == 5, requested
    payroll_id = next(o for o in requested if isinstance(o, int))
    # Six workers given the same task: one makes the lines, the others find it claimed.
    race(lambda: services.payroll_generate(payroll_id=payroll_id).status)
    payroll = Payroll.objects.get(pk=payroll_id)
    assert payroll.status == "draft" and payroll.line_count == 30
    # Even the steps run at once, bypassing the claim: the database keeps one line each.
    outcomes = race(lambda: _regular_lines(payroll) or "ok")
    outcomes += race(lambda: _reissues(payroll) or "ok")
    outcomes += race(lambda: _arrears_and_overpayments(payroll) or "ok")
    assert L.objects.filter(payroll=payroll).count() == 30, outcomes
    assert L.objects.values("entitlement", "month", "kind").distinct().count() == L.objects.count()


def test_after_a_refusal_the_household_is_held_until_the_township_confirms_the_account(
    cast, tree, allocated
):
    payroll = _sent(cast, tree, n=2, start=490)
    _file, content = _export(cast, payroll)
    rows = _csv_rows(content)
    refused_ref = rows[1][1]
    services.payroll_result_import(
        actor=cast["finance"],
        payroll=payroll,
        upload=_result(rows, {refused_ref: ("失败", "账户冻结")}),
    )
    refused = L.objects.get(reference=refused_ref)
    feb = generate(cast, tree, FEB)
    held = L.objects.get(payroll=feb, household=refused.household_id)
    assert held.status == "held"
    assert held.hold_reason == "银行曾退回发往该账户的款项:请先核实账户。"
    other = L.objects.get(payroll=feb, kind="regular", status="pending")
    assert other.household_id != refused.household_id
    # Once the township confirms the account (asks for the re-issue), February pays the
    # month and re-issues January.
    services.payroll_cancel(actor=cast["finance"], payroll=feb, reason="重做")
    services.line_reissue_request(actor=cast["clerk"], line=refused, note="银行已解冻")
    feb = generate(cast, tree, FEB)
    assert L.objects.get(payroll=feb, kind="regular", household=refused.household_id).status == (
        "pending"
    )
    assert L.objects.get(payroll=feb, kind="reissue").reissued_from_id == refused.pk


@pytest.mark.parametrize(
    "amount, words",
    [
        ("2500.00", "人民币贰仟伍佰元整"),
        ("1001.05", "人民币壹仟零壹元零伍分"),
        ("1234567.89", "人民币壹佰贰拾叁万肆仟伍佰陆拾柒元捌角玖分"),
        ("20000001.00", "人民币贰仟万零壹元整"),
        ("10010.01", "人民币壹万零壹拾元零壹分"),
        ("0.05", "人民币伍分"),
    ],
)
def test_amounts_in_financial_capitals(amount, words):
    from core.money import rmb_upper

    assert rmb_upper(Decimal(amount)) == words


def test_the_approval_sheet_totals_by_township_with_the_amount_in_capitals(
    cast, tree, allocated, client
):
    payroll = _sent(cast, tree, n=3, start=520)  # 500 + 600 + 700
    client.force_login(cast["district_approver"])
    page = client.get(f"/payments/{payroll.pk}/print/").content.decode()
    assert "人民币壹仟捌佰元整" in page
    assert tree.jiefangbei.name in page and "1800.00" in page
    assert cast["finance"].full_name in page  # the preparer is named
