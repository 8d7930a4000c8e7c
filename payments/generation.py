"""Making a payroll's lines (DESIGN.md §8), set-based.

A month's regular lines are one ``INSERT … SELECT``: the amount is ``Entitlement.amount_for``
computed in SQL from the timeline (the latest amount change in force, else the amount
approved; nothing while a status change has suspended or ended it), and the line keeps what
the amount came from: the decision's number, its assessment's standard, counted size and
income, the components and the class. Then, from rows read in bulk: re-issues of failed or
held payments whose account the township fixed, arrears (补发) and overpayments (多发) for
months already paid that a later decision changed, and 临时救助 one-offs. Finally accounts
that cannot be paid into are held back.

Running it again adds nothing: every insert skips what exists (``ON CONFLICT DO NOTHING`` /
``ignore_conflicts``), and the database refuses a second line for an entitlement, month and
kind, a second re-issue and a second one-off."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from decimal import Decimal

from django.db import connection, transaction
from django.db.models import (
    CharField,
    DecimalField,
    Exists,
    F,
    IntegerField,
    OuterRef,
    Q,
    Subquery,
    Sum,
    Value,
)
from django.db.models.functions import Coalesce, NullIf
from django.utils import timezone
from django.utils.translation import gettext as _

from applications.models import Application
from beneficiaries.models import Entitlement, EntitlementChange, Programme
from core.jobs import district_amounts_read, heartbeat
from core.money import fen
from eligibility.models import Assessment
from recertification.models import Review
from regions.models import Region

from .accounts import account_problem
from .models import COMMITTED_PAYROLL, Overpayment, Payroll, PayrollLine

L = PayrollLine
MONEY = DecimalField(max_digits=10, decimal_places=2)
ZERO = Decimal("0.00")


def payroll_lines_generate(payroll: Payroll) -> None:
    """All the lines of ``payroll`` (status generating); progress is recorded as it goes.
    The district's amounts are held still meanwhile: a new standard being applied to the
    district is waited for (and waits), so every step reads the same amounts."""
    steps = (
        _regular_lines,
        _reissues,
        _arrears_and_overpayments,
        _one_offs,
        _holds,
    )
    with district_amounts_read(payroll.district.code):
        for done, step in enumerate(steps, start=1):
            step(payroll)
            Payroll.objects.filter(pk=payroll.pk).update(progress=done * 100 // (len(steps) + 1))
            heartbeat()


def district_entitlements(payroll: Payroll):
    """The district's entitlements of the payroll's programme. The district's villages are
    read first (a few hundred ids), so the households are found through their region index
    rather than by a prefix test that makes the planner scan every household of the city."""
    prefix = Region.prefix_of_code(payroll.district.code)
    villages = list(
        Region.objects.filter(code__startswith=prefix, level=Region.Level.VILLAGE).values_list(
            "id", flat=True
        )
    )
    return Entitlement.objects.filter(
        programme=payroll.programme, household__region_id__in=villages
    )


# --- monthly lines: one statement -----------------------------------------------------------


def timeline_inputs(month: dt.date) -> dict:
    """Per entitlement (as ORM expressions), what ``Entitlement.amount_for(month)`` needs:
    the amount change in force that month, the amount first approved (the first amount
    change's old value), and the status in force."""
    in_force = EntitlementChange.objects.filter(
        entitlement=OuterRef("pk"), superseded=False, effective_month__lte=month
    ).order_by("-effective_month", "-id")
    first_amount = EntitlementChange.objects.filter(
        entitlement=OuterRef("pk"), kind=EntitlementChange.Kind.AMOUNT
    ).order_by("id")
    return {
        "t_change": Subquery(
            in_force.filter(kind="amount").values("pk")[:1], output_field=IntegerField()
        ),
        "t_first": Subquery(first_amount.values("old_value")[:1], output_field=CharField()),
        "t_status": Subquery(in_force.filter(kind="status").values("new_value")[:1]),
    }


def _regular_lines(payroll: Payroll) -> None:
    """One ``INSERT … SELECT``: the inner query (the ORM's) reads each entitlement of the
    district live in the month with its timeline's inputs, once (an ``OFFSET 0`` fence keeps the
    planner from copying those subqueries into the filters); the outer one computes the
    amount, keeps what is payable, joins the decision and its assessment, and builds the
    snapshot in the database's JSON dialect."""
    month = payroll.month
    inner = (
        district_entitlements(payroll)
        .filter(start_month__lte=month)
        .filter(Q(end_month__isnull=True) | Q(end_month__gte=month))
        .order_by()
        .values(
            t_entitlement=F("pk"),
            t_household=F("household_id"),
            t_monthly=F("monthly_amount"),
            t_source=F("source"),
            t_payee=Coalesce("member_id", "household__head_id"),
            t_payee_name=Coalesce(
                NullIf("household__bank_account_name", Value("")),
                "household__head__name",
                Value(""),
                output_field=CharField(),
            ),
            t_bank=F("household__bank_name"),
            t_account=F("household__bank_account_number"),
            t_class=F("klass"),
            t_components=F("components"),
            **timeline_inputs(month),
        )
    )
    sql, params = inner.query.sql_with_params()
    j = _json_dialect()
    change = EntitlementChange._meta.db_table
    # amount_for: the amount change in force, else the amount first approved, else the
    # entitlement's amount; the decision is the one behind that amount.
    pay = (
        f"COALESCE(CAST(c.new_value AS {j['money']}), "
        f"CAST(NULLIF(t.t_first, '') AS {j['money']}), t.t_monthly)"
    )
    decision = "COALESCE(NULLIF(c.source, ''), t.t_source)"
    review_id = (
        f"CASE WHEN {decision} LIKE 'review:%%' THEN CAST(SUBSTR({decision}, 8) AS INTEGER) END"
    )
    assessment = (
        f"CASE WHEN {decision} LIKE 'review:%%' THEN rv.assessment_id ELSE ap.assessment_id END"
    )
    basis = (
        f"{j['object']}('decision', {decision}, 'class', t.t_class, "
        f"'components', {j['json']('t.t_components')}, 'assessment', {assessment}, "
        f"'standard', {j['text']('a.result', 'standard')}, "
        f"'household_size', {j['text']('a.result', 'household_size')}, "
        f"'income_per_capita', {j['text']('a.result', 'counted_income_per_capita')})"
    )
    table = L._meta.db_table
    statement = (
        f"INSERT INTO {table} (payroll_id, reference, entitlement_id, household_id, "  # noqa: S608
        "month, kind, amount, status, payee_member_id, payee_name, bank_name, account_number, "
        "basis, hold_reason, failure_reason) "
        f"SELECT %s, %s || CAST(t.t_entitlement AS {j['text_type']}), t.t_entitlement, "
        f"t.t_household, %s, %s, {pay}, %s, t.t_payee, t.t_payee_name, t.t_bank, t.t_account, "
        f"{basis}, '', '' "
        f"FROM ({sql} {j['fence']}) AS t "
        f"LEFT JOIN {change} c ON c.id = t.t_change "
        f"LEFT JOIN {Application._meta.db_table} ap ON ap.number = {decision} "
        f"LEFT JOIN {Review._meta.db_table} rv ON rv.id = {review_id} "
        f"LEFT JOIN {Assessment._meta.db_table} a ON a.id = {assessment} "
        f"WHERE COALESCE(t.t_status, 'active') = 'active' AND {pay} > 0 "
        # Lines numbered in entitlement order, whatever plan the statement gets: the bank
        # file lists them in that order, the same on every run.
        "ORDER BY t.t_entitlement "
        # A line already made (a rerun, a second worker) is skipped by the unique index on
        # (entitlement, month, kind) itself: no anti-join whose plan depends on statistics.
        "ON CONFLICT DO NOTHING"
    )
    prefix = f"R{month:%Y%m}-"
    with transaction.atomic(), connection.cursor() as cursor:
        # Table and column names come from the models; every value is a parameter.
        cursor.execute(
            statement,
            [payroll.pk, prefix, month, L.Kind.REGULAR, L.Status.PENDING, *params],
        )


def _json_dialect() -> dict:
    if connection.vendor == "postgresql":
        return {
            "money": "NUMERIC(10, 2)",
            "fence": "OFFSET 0",
            "text_type": "TEXT",
            "object": "jsonb_build_object",
            "json": lambda column: f"{column}::jsonb",
            "text": lambda column, key: f"({column}::jsonb ->> '{key}')",
        }
    return {
        "money": "NUMERIC",
        "fence": "LIMIT -1 OFFSET 0",
        "text_type": "TEXT",
        "object": "json_object",
        "json": lambda column: f"json({column})",
        "text": lambda column, key: f"json_extract({column}, '$.{key}')",
    }


# --- re-issues, arrears, overpayments, one-offs: bulk reads, small writes ------------------


def _reissues(payroll: Payroll) -> None:
    """A failed or held payment of this district and programme whose account the township
    fixed (it asked for the re-issue) is paid again, once, to the account as it is now."""
    prefix = Region.prefix_of_code(payroll.district.code)
    failed = (
        L.objects.filter(
            status__in=[L.Status.FAILED, L.Status.HELD],
            reissue_requested_at__isnull=False,
            payroll__programme=payroll.programme,
            household__region__code__startswith=prefix,
        )
        .exclude(Exists(L.objects.filter(reissued_from=OuterRef("pk"))))
        .select_related("household__head")
    )
    lines = [
        L(
            payroll=payroll,
            reference=f"F{line.pk}",
            entitlement_id=line.entitlement_id,
            application_id=line.application_id,
            household_id=line.household_id,
            month=line.month,
            kind=L.Kind.REISSUE,
            amount=line.amount,
            reissued_from=line,
            **_payee(line.household, line.payee_member_id),
            basis={**line.basis, "reissue_of": line.reference},
        )
        for line in failed
    ]
    L.objects.bulk_create(lines, ignore_conflicts=True)


def _payee(household, member_id) -> dict:
    head = household.head
    return {
        "payee_member_id": member_id or household.head_id,
        "payee_name": household.bank_account_name or (head.name if head else ""),
        "bank_name": household.bank_name,
        "account_number": household.bank_account_number,
    }


def _arrears_and_overpayments(payroll: Payroll) -> None:
    """Months already paid (their payroll approved) that a decision recorded since the last
    payroll changed: more is due → an arrears line per month in this payroll; less → an
    overpayment for the township to recover. Reads the candidates, their timelines and what
    was paid in three queries."""
    previous = (
        Payroll.objects.filter(
            district=payroll.district,
            programme=payroll.programme,
            month__lt=payroll.month,
            status__in=[*COMMITTED_PAYROLL, Payroll.Status.DRAFT],
        )
        .order_by("-month")
        .first()
    )
    if previous is None:
        return  # the first payroll: nothing was paid before it
    paid_months = sorted(
        Payroll.objects.filter(
            district=payroll.district,
            programme=payroll.programme,
            month__lt=payroll.month,
            status__in=COMMITTED_PAYROLL,
        ).values_list("month", flat=True)
    )
    if not paid_months:
        return
    since = previous.created_at
    entitlements = district_entitlements(payroll).filter(start_month__lt=payroll.month)
    changed = EntitlementChange.objects.filter(
        entitlement=OuterRef("pk"),
        kind__in=["amount", "status"],
        created_at__gte=since,
        effective_month__lt=payroll.month,
    )
    candidates = {
        e.pk: e
        for e in entitlements.filter(Q(approved_at__gte=since) | Exists(changed)).select_related(
            "household__region__parent", "household__head"
        )
    }
    if not candidates:
        return
    timelines = defaultdict(list)
    for change in EntitlementChange.objects.filter(
        entitlement__in=list(candidates), kind__in=["amount", "status"]
    ):
        timelines[change.entitlement_id].append(change)
    paid = _paid(candidates, paid_months[0])
    recovered = _overpaid(candidates, paid_months[0])
    arrears, overpayments = [], []
    for pk, entitlement in candidates.items():
        for month in paid_months:
            if month < entitlement.start_month:
                continue
            due = entitlement.amount_in(month, timelines[pk]) or ZERO
            already = paid.get((pk, month), ZERO)
            if due > already and (pk, month) not in paid.arrears:
                arrears.append(_arrears_line(payroll, entitlement, month, due - already))
            elif due < already - recovered.get((pk, month), ZERO):
                overpayments.append(
                    Overpayment(
                        entitlement=entitlement,
                        household=entitlement.household,
                        township=entitlement.household.region.parent,
                        month=month,
                        paid=already,
                        due=due,
                        amount=already - recovered.get((pk, month), ZERO) - due,
                        found_in=payroll,
                    )
                )
    with transaction.atomic():
        L.objects.bulk_create(arrears, ignore_conflicts=True)
        Overpayment.objects.bulk_create(overpayments, ignore_conflicts=True)


class _Paid(dict):
    arrears: set


def _paid(candidates: dict, first: dt.date) -> _Paid:
    """What was paid (or is being paid) per (entitlement, month): monthly, arrears and
    one-off lines in any live payroll; a failed line still counts (its re-issue pays it)."""
    rows = (
        L.objects.filter(entitlement__in=list(candidates), month__gte=first)
        .exclude(kind=L.Kind.REISSUE)
        .exclude(payroll__status__in=[Payroll.Status.CANCELLED, Payroll.Status.FAILED])
        .values("entitlement_id", "month", "kind")
        .annotate(total=Sum("amount"))
    )
    paid = _Paid()
    paid.arrears = set()
    for row in rows:
        key = (row["entitlement_id"], row["month"])
        paid[key] = paid.get(key, ZERO) + row["total"]
        if row["kind"] == L.Kind.ARREARS:
            paid.arrears.add(key)
    return paid


def _overpaid(candidates: dict, first: dt.date) -> dict:
    rows = (
        Overpayment.objects.filter(entitlement__in=list(candidates), month__gte=first)
        .values("entitlement_id", "month")
        .annotate(total=Sum("amount"))
    )
    return {(r["entitlement_id"], r["month"]): r["total"] for r in rows}


def _arrears_line(payroll, entitlement, month, amount) -> PayrollLine:
    household = entitlement.household
    return L(
        payroll=payroll,
        reference=f"A{month:%Y%m}-{entitlement.pk}",
        entitlement=entitlement,
        household=household,
        month=month,
        kind=L.Kind.ARREARS,
        amount=amount,
        **_payee(household, entitlement.member_id),
        basis={
            "decision": entitlement.source,
            "class": entitlement.klass,
            "components": entitlement.components,
            "arrears_for": f"{month:%Y-%m}",
            "paid_in": f"{payroll.month:%Y-%m}",
        },
    )


def _one_offs(payroll: Payroll) -> None:
    """临时救助 approved in the district and not yet paid: one line each, in the month's
    payroll of 临时救助."""
    if payroll.programme != Programme.TEMPORARY:
        return
    prefix = Region.prefix_of_code(payroll.district.code)
    decided = (
        Application.objects.filter(
            programme=Programme.TEMPORARY,
            status=Application.Status.APPROVED,
            proposed_amount__gt=0,
            household__region__code__startswith=prefix,
            decided_at__lt=timezone.now(),
        )
        .exclude(Exists(L.objects.filter(application=OuterRef("pk"), kind=L.Kind.ONE_OFF)))
        .select_related("household__head", "assessment")
    )
    lines = []
    for case in decided:
        result = case.assessment.result if case.assessment_id else {}
        lines.append(
            L(
                payroll=payroll,
                reference=f"T{case.pk}",
                application=case,
                household=case.household,
                month=payroll.month,
                kind=L.Kind.ONE_OFF,
                amount=case.proposed_amount,
                **_payee(case.household, case.single_member_id),
                basis={
                    "decision": case.number,
                    "assessment": case.assessment_id,
                    "standard": result.get("standard"),
                    "household_size": result.get("household_size"),
                    "income_per_capita": result.get("counted_income_per_capita"),
                    "emergency": case.emergency,
                },
            )
        )
    L.objects.bulk_create(lines, ignore_conflicts=True)


def _holds(payroll: Payroll) -> None:
    """Lines whose account cannot be paid into are held back, with the reason; so are the
    lines of a household whose earlier payment the bank refused, until the township has
    confirmed the account (asked for that payment's re-issue): sending again to an account
    the bank just refused would only fail again."""
    refused = L.objects.filter(
        household=OuterRef("household"),
        status=L.Status.FAILED,
        reissue_requested_at__isnull=True,
        payroll__status__in=COMMITTED_PAYROLL,
    ).exclude(payroll=payroll)
    L.objects.filter(payroll=payroll, status=L.Status.PENDING).filter(Exists(refused)).update(
        status=L.Status.HELD,
        hold_reason=_("The bank refused an earlier payment to this account: confirm it first."),
    )
    held: dict[str, list[int]] = defaultdict(list)
    rows = L.objects.filter(payroll=payroll, status=L.Status.PENDING).values_list(
        "pk", "payee_name", "account_number"
    )
    for pk, name, account in rows.iterator(chunk_size=5000):
        problem = account_problem(name, account)
        if problem:
            held[problem].append(pk)
    for reason, pks in held.items():
        for start in range(0, len(pks), 5000):
            L.objects.filter(pk__in=pks[start : start + 5000]).update(
                status=L.Status.HELD, hold_reason=reason
            )


def payroll_totals(payroll: Payroll) -> dict:
    """Line count and total, and the same per status (paid + failed + pending + held is the
    total, always)."""
    rows = (
        L.objects.filter(payroll=payroll)
        .values("status")
        .annotate(n=Sum(Value(1, output_field=IntegerField())), total=Sum("amount"))
    )
    by_status = {r["status"]: {"count": r["n"], "amount": fen(r["total"])} for r in rows}
    return {
        "count": sum(v["count"] for v in by_status.values()),
        "amount": sum((v["amount"] for v in by_status.values()), ZERO),
        "by_status": by_status,
    }
