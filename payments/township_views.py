"""Pages of the township's follow-up: a household's payments, failed and held payments
to re-issue, overpayments to recover, and payment checks."""

from __future__ import annotations

from decimal import Decimal, InvalidOperation

from django.contrib import messages
from django.core.paginator import Paginator
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from accounts.models import Role
from accounts.permissions import role_required
from beneficiaries import selectors as registry
from core.exceptions import DomainError

from . import selectors, services
from .models import Overpayment, PaymentCheck
from .views import FINANCE, TOWNSHIP, errors_of, flash


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
        flash(request, errors_of(exc))
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
        flash(request, errors_of(exc))
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
        flash(request, errors_of(exc))
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
        flash(request, errors_of(exc))
    else:
        messages.success(request, _("The discrepancy is resolved."))
    return redirect(reverse("payments:checks") + "?state=discrepancy")
