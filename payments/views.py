"""Pages of payments: payrolls and their lines, the bank files, a household's payments, the
township's failed payments, overpayments and payment checks, and the funds."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal, InvalidOperation

from django import forms
from django.contrib import messages
from django.core.paginator import Paginator
from django.db import transaction
from django.db.models import Count, Sum
from django.http import FileResponse, Http404
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from accounts.models import Role
from accounts.permissions import role_required
from accounts.selectors import region_list
from beneficiaries import selectors as registry
from beneficiaries.models import Programme
from core.exceptions import DomainError, ValidationFailed
from core.money import rmb_upper
from core.months import add_months
from regions.models import Region

from . import bankfiles, funds, selectors, services, tasks
from .generation import payroll_totals
from .models import BankFile, FundAllocation, Overpayment, PaymentCheck, Payroll, PayrollLine

S = Payroll.Status
L = PayrollLine
PAYROLL_READERS = selectors.PAYROLL_READERS
TOWNSHIP = selectors.TOWNSHIP_ROLES
FINANCE = Role.DISTRICT_FINANCE


def _errors(exc: DomainError) -> list[str]:
    return [m for _f, m in exc.errors] if isinstance(exc, ValidationFailed) else [exc.message]


def _flash(request, errors) -> None:
    """Show each error as a message on the page redirected to."""
    for error in errors:
        messages.error(request, error)


def _form_errors(form) -> list[str]:
    return [error for errors in form.errors.values() for error in errors]


def _yuan(value) -> Decimal:
    """A sum as yuan and fen (SQLite's sums drop the scale; an empty sum is 0.00)."""
    return (value or Decimal("0")).quantize(Decimal("0.01"))


def _month(value: str) -> dt.date | None:
    try:
        return dt.date.fromisoformat(f"{value}-01")
    except (TypeError, ValueError):
        return None


def _districts(user):
    return region_list(user=user).filter(level=Region.Level.DISTRICT).order_by("code")


# --- payrolls ---------------------------------------------------------------------------------


class PayrollFilter(forms.Form):
    month = forms.CharField(
        label=gettext_lazy("Month"),
        required=False,
        widget=forms.TextInput(attrs={"type": "month"}),
    )
    programme = forms.ChoiceField(
        label=gettext_lazy("Programme"),
        required=False,
        choices=[("", gettext_lazy("Any")), *Programme.choices],
    )
    status = forms.ChoiceField(
        label=gettext_lazy("Status"),
        required=False,
        choices=[("", gettext_lazy("Any")), *S.choices],
    )


class PayrollRequestForm(forms.Form):
    programme = forms.ChoiceField(label=gettext_lazy("Programme"), choices=Programme.choices)
    month = forms.CharField(
        label=gettext_lazy("Month paid"), widget=forms.TextInput(attrs={"type": "month"})
    )

    def clean_month(self):
        month = _month(self.cleaned_data["month"])
        if month is None:
            raise forms.ValidationError(_("Enter a month such as 2027-01."))
        return month


@role_required(*PAYROLL_READERS)
def payroll_list(request):
    """Payrolls of the user's district(s), newest month first, with the request form for the
    district's funds officer."""
    form = PayrollFilter(request.GET or None)
    data = form.cleaned_data if form.is_valid() else {}
    qs = selectors.payroll_search(
        user=request.user,
        month=_month(data.get("month", "")),
        programme=data.get("programme", ""),
        status=data.get("status", ""),
    )
    page = Paginator(qs, 25).get_page(request.GET.get("page"))
    query = request.GET.copy()
    query.pop("page", None)
    today = timezone.localdate()
    request_form = None
    if request.user.role == FINANCE:
        # A month is paid by its 10th (POLICY.md), so from the 11th on the payroll to make
        # is next month's.
        month = today.replace(day=1) if today.day <= 10 else add_months(today.replace(day=1), 1)
        request_form = PayrollRequestForm(
            initial={"month": f"{month:%Y-%m}", "programme": Programme.DIBAO}
        )
    return render(
        request,
        "payments/payrolls.html",
        {
            "form": form,
            "page": page,
            "query": query.urlencode(),
            "request_form": request_form,
        },
    )


@require_POST
@role_required(FINANCE)
def payroll_request(request):
    form = PayrollRequestForm(request.POST)
    if not form.is_valid():
        _flash(request, _form_errors(form))
        return redirect("payments:payrolls")
    try:
        payroll = services.payroll_request(
            actor=request.user,
            district=request.user.jurisdiction,
            programme=form.cleaned_data["programme"],
            month=form.cleaned_data["month"],
        )
    except services.PayrollExists as exc:
        messages.warning(request, exc.message)
        return redirect("payments:payroll", pk=exc.payroll.pk)
    except DomainError as exc:
        _flash(request, _errors(exc))
        return redirect("payments:payrolls")
    transaction.on_commit(lambda: tasks.payroll_generate.delay(payroll.pk))
    messages.success(request, _("The payroll is being generated; this page follows its progress."))
    return redirect("payments:payroll", pk=payroll.pk)


def _detail_context(request, payroll: Payroll) -> dict:
    user = request.user
    totals = payroll_totals(payroll) if payroll.status != S.GENERATING else None
    position = funds.position(payroll.district, payroll.programme, payroll.month.year)
    after = position.spent + (
        payroll.total_amount if payroll.status in (S.DRAFT, S.GENERATING) else 0
    )
    status_filter = request.GET.get("line_status", "")
    q = request.GET.get("q", "")
    lines = Paginator(
        selectors.line_search(user=user, payroll=payroll, status=status_filter, q=q).select_related(
            "household"
        ),
        50,
    ).get_page(request.GET.get("page"))
    query = request.GET.copy()
    query.pop("page", None)
    by_status = (totals or {}).get("by_status", {})
    warning_share = services.warning_share(payroll.month)
    credit_by = payroll.month.replace(day=10)  # credited by the 10th (POLICY.md)
    return {
        "payroll": payroll,
        "credit_by": credit_by,
        "late": timezone.localdate() > credit_by
        and payroll.status in (S.GENERATING, S.DRAFT, S.APPROVED, S.FAILED),
        "totals": totals,
        "by_status": [
            {
                "status": status,
                "label": label,
                "count": by_status.get(status, {}).get("count", 0),
                "amount": by_status.get(status, {}).get("amount", Decimal("0.00")),
            }
            for status, label in L.Status.choices
        ],
        "position": position,
        "after": after,
        "over_allocation": after > position.allocated,
        "near_allocation": position.allocated and after >= position.allocated * warning_share,
        "warning_share": warning_share,
        "lines": lines,
        "line_statuses": L.Status.choices,
        "line_status": status_filter,
        "q": q,
        "query": query.urlencode(),
        "bank_files": payroll.bank_files.all(),
        "results": payroll.bank_results.select_related("imported_by"),
        "draw": getattr(payroll, "check_draw", None),
        "can_approve": user.role == Role.DISTRICT_APPROVER
        and payroll.status == S.DRAFT
        and user.pk != payroll.generated_by_id,
        "generated_it": user.pk == payroll.generated_by_id,
        "can_cancel": user.role == FINANCE
        and (
            payroll.status in (S.DRAFT, S.FAILED)
            or (
                payroll.status == S.GENERATING
                and payroll.created_at < timezone.now() - services.STUCK_AFTER
            )
        ),
        "can_export": user.role == FINANCE and payroll.status in services.COMMITTED_PAYROLL,
        "can_import": user.role == FINANCE and payroll.status == S.EXPORTED,
    }


@role_required(*PAYROLL_READERS)
def payroll_detail(request, pk, *, errors=(), posted=None, status=200):
    payroll = selectors.payroll_get_for_user(user=request.user, pk=pk)
    context = _detail_context(request, payroll)
    context.update({"errors": errors, "posted": posted or {}})
    return render(request, "payments/payroll.html", context, status=status)


@role_required(*PAYROLL_READERS)
def payroll_print(request, pk):
    """The payroll's approval sheet (资金发放审批表): totals by township and by kind, the
    amount in capitals, and the lines for the preparer, the reviewer and the approver to sign
    and the office to seal. The lines themselves are the bank file."""
    payroll = selectors.payroll_get_for_user(user=request.user, pk=pk)
    if payroll.status in (S.GENERATING, S.FAILED, S.CANCELLED):
        raise Http404
    lines = payroll.lines.all()
    by_township = [
        {**row, "total": _yuan(row["total"])}
        for row in lines.values(
            "household__region__parent__name", "household__region__parent__code"
        )
        .annotate(households=Count("household", distinct=True), n=Count("id"), total=Sum("amount"))
        .order_by("household__region__parent__code")
    ]
    by_kind = {
        row["kind"]: row
        for row in lines.values("kind").annotate(n=Count("id"), total=Sum("amount"))
    }
    totals = payroll_totals(payroll)
    return render(
        request,
        "payments/payroll_print.html",
        {
            "payroll": payroll,
            "totals": totals,
            "in_words": rmb_upper(totals["amount"]),
            "by_township": by_township,
            "by_kind": [
                {
                    "label": label,
                    "count": by_kind.get(kind, {}).get("n", 0),
                    "amount": _yuan(by_kind.get(kind, {}).get("total")),
                }
                for kind, label in L.Kind.choices
            ],
            "held": totals["by_status"].get(L.Status.HELD, {"count": 0, "amount": 0}),
        },
    )


@role_required(*PAYROLL_READERS)
def payroll_progress(request, pk):
    """The progress bar while generating (polled by htmx; a full page without it)."""
    payroll = selectors.payroll_get_for_user(user=request.user, pk=pk)
    if not request.htmx:
        return redirect("payments:payroll", pk=pk)
    response = render(request, "payments/_progress.html", {"payroll": payroll})
    if payroll.status != S.GENERATING:
        response["HX-Refresh"] = "true"  # generation ended: show the whole payroll
    return response


def _back(request, payroll, exc, success):
    if exc is None:
        messages.success(request, success)
        return redirect("payments:payroll", pk=payroll.pk)
    return payroll_detail(
        request, payroll.pk, errors=_errors(exc), posted=request.POST, status=exc.status_code
    )


def _version(post) -> int | None:
    try:
        return int(post.get("version", ""))
    except ValueError:
        return None


@require_POST
@role_required(Role.DISTRICT_APPROVER)
def payroll_approve(request, pk):
    payroll = selectors.payroll_get_for_user(user=request.user, pk=pk)
    try:
        services.payroll_approve(
            actor=request.user,
            payroll=payroll,
            expected_version=_version(request.POST),
            override_reason=request.POST.get("override_reason", ""),
        )
    except DomainError as exc:
        return _back(request, payroll, exc, "")
    return _back(
        request,
        payroll,
        None,
        _("Approved: the payroll is locked; the funds officer sends the file to the bank."),
    )


@require_POST
@role_required(FINANCE)
def payroll_cancel(request, pk):
    payroll = selectors.payroll_get_for_user(user=request.user, pk=pk)
    try:
        services.payroll_cancel(
            actor=request.user,
            payroll=payroll,
            reason=request.POST.get("reason", ""),
            expected_version=_version(request.POST),
        )
    except DomainError as exc:
        return _back(request, payroll, exc, "")
    return _back(request, payroll, None, _("The payroll was cancelled; it can be generated again."))


@require_POST
@role_required(FINANCE)
def payroll_export(request, pk):
    payroll = selectors.payroll_get_for_user(user=request.user, pk=pk)
    try:
        bank_file = services.payroll_export(
            actor=request.user, payroll=payroll, fmt=request.POST.get("format", "")
        )
    except DomainError as exc:
        return _back(request, payroll, exc, "")
    return _back(
        request,
        payroll,
        None,
        _("The bank file is made (%(n)d lines, %(total)s yuan); download it below.")
        % {"n": bank_file.line_count, "total": bank_file.total_amount},
    )


@role_required(FINANCE)
def bank_file_download(request, pk):
    bank_file = (
        BankFile.objects.filter(pk=pk, payroll__in=selectors.payroll_list(user=request.user))
        .select_related("payroll__district")
        .first()
    )
    if bank_file is None:
        raise Http404
    try:
        handle = services.bank_file_download(actor=request.user, bank_file=bank_file)
    except DomainError as exc:
        raise Http404 from exc
    response = FileResponse(handle, as_attachment=True, filename=bankfiles.download_name(bank_file))
    response["Cache-Control"] = "no-store"
    return response


@require_POST
@role_required(FINANCE)
def payroll_result(request, pk):
    payroll = selectors.payroll_get_for_user(user=request.user, pk=pk)
    upload = request.FILES.get("file")
    if upload is None:
        return _back(
            request, payroll, ValidationFailed([("file", _("Attach the bank's result file."))]), ""
        )
    try:
        result = services.payroll_result_import(
            actor=request.user, payroll=payroll, upload=upload, name=upload.name
        )
    except DomainError as exc:
        return _back(request, payroll, exc, "")
    message = _("Bank result imported: %(paid)d paid, %(failed)d failed.") % {
        "paid": result.paid,
        "failed": result.failed,
    }
    if result.refused:
        messages.warning(
            request,
            _("%(n)d rows were refused and changed nothing; see the report below.")
            % {"n": result.refused},
        )
    return _back(request, payroll, None, message)


# --- a household's payments -------------------------------------------------------------------


@role_required(*selectors.HOUSEHOLD_READERS)
def household_payments(request, pk):
    household = registry.household_get_for_user(user=request.user, pk=pk)
    page = Paginator(
        selectors.household_payments(user=request.user, household=household), 24
    ).get_page(request.GET.get("page"))
    template = "payments/_household.html" if request.htmx else "payments/household.html"
    return render(
        request,
        template,
        {"household": household, "page": page, "query": "", "fragment": bool(request.htmx)},
    )


# --- the township: failed payments, overpayments, checks -------------------------------------


@role_required(*TOWNSHIP, Role.DISTRICT_APPROVER, Role.CITY_ADMIN, Role.AUDITOR, FINANCE)
def payments_to_fix(request):
    """Failed and held payments: the township fixes the account on the household page, then
    asks for the re-issue here."""
    page = Paginator(selectors.payments_to_fix(user=request.user), 25).get_page(
        request.GET.get("page")
    )
    return render(
        request,
        "payments/to_fix.html",
        {"page": page, "query": "", "can_reissue": request.user.role in TOWNSHIP},
    )


@require_POST
@role_required(*TOWNSHIP)
def line_reissue(request, pk):
    line = selectors.line_list(user=request.user).filter(pk=pk).first()
    if line is None:
        raise Http404
    try:
        services.line_reissue_request(
            actor=request.user, line=line, note=request.POST.get("note", "")
        )
    except DomainError as exc:
        _flash(request, _errors(exc))
    else:
        messages.success(
            request,
            _("Re-issue asked for: %(ref)s is paid again in the next payroll.")
            % {"ref": line.reference},
        )
    return redirect("payments:to_fix")


@role_required(*TOWNSHIP, Role.DISTRICT_APPROVER, Role.CITY_ADMIN, Role.AUDITOR, FINANCE)
def overpayment_list(request):
    state = request.GET.get("state", "open")
    qs = selectors.overpayment_list(user=request.user)
    if state in Overpayment.Status.values:
        qs = qs.filter(status=state)
    page = Paginator(qs.order_by("month", "id"), 25).get_page(request.GET.get("page"))
    return render(
        request,
        "payments/overpayments.html",
        {
            "page": page,
            "query": f"state={state}",
            "state": state,
            "states": Overpayment.Status.choices,
            "can_resolve": request.user.role == Role.TOWNSHIP_REVIEWER,
        },
    )


@require_POST
@role_required(Role.TOWNSHIP_REVIEWER)
def overpayment_resolve(request, pk):
    overpayment = selectors.overpayment_list(user=request.user).filter(pk=pk).first()
    if overpayment is None:
        raise Http404
    try:
        services.overpayment_resolve(
            actor=request.user,
            overpayment=overpayment,
            status=request.POST.get("status", ""),
            note=request.POST.get("note", ""),
        )
    except DomainError as exc:
        _flash(request, _errors(exc))
    else:
        messages.success(request, _("Recorded."))
    return redirect("payments:overpayments")


@role_required(*TOWNSHIP, Role.DISTRICT_APPROVER, Role.CITY_ADMIN, Role.AUDITOR, FINANCE)
def payment_checks(request):
    state = request.GET.get("state", "open")
    qs = selectors.payment_check_list(user=request.user)
    if state in PaymentCheck.Status.values:
        qs = qs.filter(status=state)
    page = Paginator(qs.order_by("id"), 25).get_page(request.GET.get("page"))
    return render(
        request,
        "payments/checks.html",
        {
            "page": page,
            "query": f"state={state}",
            "state": state,
            "states": PaymentCheck.Status.choices,
            "methods": PaymentCheck.Method.choices,
            "outcomes": PaymentCheck.Outcome.choices,
            "can_check": request.user.role in TOWNSHIP,
            "can_resolve": request.user.role == Role.TOWNSHIP_REVIEWER,
        },
    )


@require_POST
@role_required(*TOWNSHIP)
def payment_check_record(request, pk):
    check = selectors.payment_check_list(user=request.user).filter(pk=pk).first()
    if check is None:
        raise Http404
    received = request.POST.get("amount_received", "").strip()
    try:
        amount = Decimal(received) if received else None
    except InvalidOperation:
        amount = Decimal("-1")
    try:
        services.payment_check_record(
            actor=request.user,
            check=check,
            method=request.POST.get("method", ""),
            outcome=request.POST.get("outcome", ""),
            amount_received=amount,
            note=request.POST.get("note", ""),
        )
    except DomainError as exc:
        _flash(request, _errors(exc))
    else:
        messages.success(request, _("The check is recorded."))
    return redirect("payments:checks")


@require_POST
@role_required(Role.TOWNSHIP_REVIEWER)
def payment_check_resolve(request, pk):
    check = selectors.payment_check_list(user=request.user).filter(pk=pk).first()
    if check is None:
        raise Http404
    try:
        services.payment_check_resolve(
            actor=request.user, check=check, resolution=request.POST.get("resolution", "")
        )
    except DomainError as exc:
        _flash(request, _errors(exc))
    else:
        messages.success(request, _("The discrepancy is resolved."))
    return redirect(reverse("payments:checks") + "?state=discrepancy")


# --- funds ------------------------------------------------------------------------------------


class AllocationForm(forms.Form):
    year = forms.IntegerField(label=gettext_lazy("Year"), min_value=2000, max_value=2100)
    district = forms.ModelChoiceField(
        label=gettext_lazy("District"), queryset=Region.objects.none()
    )
    programme = forms.ChoiceField(label=gettext_lazy("Programme"), choices=Programme.choices)
    source = forms.ChoiceField(label=gettext_lazy("Source"), choices=FundAllocation.Source.choices)
    amount = forms.DecimalField(
        label=gettext_lazy("Amount (yuan)"), max_digits=14, decimal_places=2, min_value=0
    )
    note = forms.CharField(label=gettext_lazy("Document or note"), required=False, max_length=200)

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["district"].queryset = _districts(user)


@role_required(*PAYROLL_READERS)
def fund_execution(request):
    """资金统筹: allocated, spent and the share per district and programme for a year."""
    try:
        year = int(request.GET.get("year", ""))
    except ValueError:
        year = timezone.localdate().year
    districts = _districts(request.user)
    rows = funds.execution(year=year, districts=districts)
    names = {d.pk: d.name for d in districts}
    warning = services.warning_share(dt.date(year, 1, 1))
    for row in rows:
        row["district"] = names.get(row["district_id"], "")
        row["programme_label"] = Programme(row["programme"]).label
        share = row["position"].share
        row["percent"] = None if share is None else (share * 100).quantize(Decimal("0.01"))
        row["level"] = (
            "over"
            if share is not None and share > 1
            else "warn"
            if share and share >= warning
            else ""
        )
    can_allocate = request.user.role in (FINANCE, Role.CITY_ADMIN)
    form = None
    if can_allocate:
        form = AllocationForm(
            user=request.user,
            initial={
                "year": year,
                "district": request.user.jurisdiction if request.user.role == FINANCE else None,
            },
        )
    allocations = FundAllocation.objects.filter(year=year, district__in=districts).select_related(
        "district", "created_by"
    )
    return render(
        request,
        "payments/funds.html",
        {
            "year": year,
            "years": [year - 1, year, year + 1],
            "rows": rows,
            "warning_percent": (warning * 100).quantize(Decimal("1")),
            "form": form,
            "allocations": allocations,
            "next_month": add_months(timezone.localdate().replace(day=1), 1),
        },
    )


@require_POST
@role_required(FINANCE, Role.CITY_ADMIN)
def allocation_set(request):
    form = AllocationForm(request.POST, user=request.user)
    year = request.POST.get("year", "")
    year = year if year.isdigit() else ""
    if not form.is_valid():
        _flash(request, _form_errors(form))
        return redirect(reverse("payments:funds") + f"?year={year}")
    data = form.cleaned_data
    try:
        services.allocation_set(
            actor=request.user,
            year=data["year"],
            district=data["district"],
            programme=data["programme"],
            source=data["source"],
            amount=data["amount"],
            note=data["note"],
        )
    except DomainError as exc:
        _flash(request, _errors(exc))
    else:
        messages.success(request, _("The allocation is recorded."))
    return redirect(reverse("payments:funds") + f"?year={data['year']}")
