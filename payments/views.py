"""Pages of payrolls: the list, generation and its progress, a payroll with its lines,
approval, cancellation, the bank file and result, the printed approval sheet. The township's
follow-up is in ``township_views``, the funds in ``fund_views``."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from django import forms
from django.contrib import messages
from django.core.paginator import Paginator
from django.db.models import Count, Sum
from django.http import FileResponse, Http404
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from accounts.models import Role
from accounts.permissions import role_required
from accounts.selectors import region_list
from beneficiaries.models import Programme
from core.exceptions import DomainError, ValidationFailed
from core.jobs import queue_on_commit
from core.money import fen, rmb_upper
from core.months import add_months
from regions.models import Region

from . import bankfiles, funds, selectors, services, tasks
from .generation import payroll_totals
from .models import BankFile, Payroll, PayrollLine

S = Payroll.Status
L = PayrollLine
PAYROLL_READERS = selectors.PAYROLL_READERS
TOWNSHIP = selectors.TOWNSHIP_ROLES
FINANCE = Role.DISTRICT_FINANCE


def errors_of(exc: DomainError) -> list[str]:
    return exc.messages


def flash(request, errors) -> None:
    """Show each error as a message on the page redirected to."""
    for error in errors:
        messages.error(request, error)


def form_errors(form) -> list[str]:
    return [error for errors in form.errors.values() for error in errors]


def _month(value: str) -> dt.date | None:
    try:
        return dt.date.fromisoformat(f"{value}-01")
    except (TypeError, ValueError):
        return None


def districts_of(user):
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
        flash(request, form_errors(form))
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
        flash(request, errors_of(exc))
        return redirect("payments:payrolls")
    queue_on_commit(tasks.payroll_generate, payroll.pk)
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
        {**row, "total": fen(row["total"])}
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
                    "amount": fen(by_kind.get(kind, {}).get("total")),
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
        request, payroll.pk, errors=errors_of(exc), posted=request.POST, status=exc.status_code
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
