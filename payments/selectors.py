"""Scoped reads of payrolls, payments, overpayments and payment checks (DESIGN.md §8)."""

from __future__ import annotations

from django.db.models import Q
from django.http import Http404

from accounts.models import Role
from accounts.scoping import scope_to_jurisdiction

from .models import Overpayment, PaymentCheck, Payroll, PayrollLine

L = PayrollLine
# Who sees payrolls (the district's and the city's money): not the township window.
PAYROLL_READERS = (Role.DISTRICT_FINANCE, Role.DISTRICT_APPROVER, Role.CITY_ADMIN, Role.AUDITOR)
# Who sees one household's payments: its caseworkers, and those who see payrolls.
HOUSEHOLD_READERS = (*PAYROLL_READERS, Role.CLERK, Role.TOWNSHIP_REVIEWER)
# Who follows up failed payments, overpayments and checks: the township.
TOWNSHIP_ROLES = (Role.CLERK, Role.TOWNSHIP_REVIEWER)


def payroll_list(*, user):
    if getattr(user, "role", None) not in PAYROLL_READERS:
        return Payroll.objects.none()
    return scope_to_jurisdiction(
        Payroll.objects.select_related("district", "generated_by", "approved_by"),
        user=user,
        code_field="district__code",
    )


def payroll_get_for_user(*, user, pk: int) -> Payroll:
    payroll = payroll_list(user=user).filter(pk=pk).first()
    if payroll is None:
        raise Http404
    return payroll


def payroll_search(*, user, month=None, programme: str = "", status: str = "", district=None):
    qs = payroll_list(user=user)
    if month:
        qs = qs.filter(month=month.replace(day=1))
    if programme:
        qs = qs.filter(programme=programme)
    if status:
        qs = qs.filter(status=status)
    if district is not None:
        qs = qs.filter(district=district)
    return qs.order_by("-month", "district__code", "programme", "-id")


def line_list(*, user):
    """Payments in the user's jurisdiction (by the household's region)."""
    if getattr(user, "role", None) not in HOUSEHOLD_READERS:
        return L.objects.none()
    return scope_to_jurisdiction(
        L.objects.select_related("household", "payroll"),
        user=user,
        code_field="household__region__code",
    )


def line_search(*, user, payroll: Payroll | None = None, status: str = "", q: str = ""):
    qs = line_list(user=user)
    if payroll is not None:
        qs = qs.filter(payroll=payroll)
    if status:
        qs = qs.filter(status=status)
    q = q.strip()
    if q:
        qs = qs.filter(Q(household__number=q) | Q(reference=q) | Q(payee_name=q))
    return qs.order_by("id")


def household_payments(*, user, household):
    """A household's payments, newest first (the household is already scoped)."""
    return (
        line_list(user=user)
        .filter(household=household)
        .select_related("payroll")
        .order_by("-month", "-id")
    )


def payments_to_fix(*, user):
    """Failed and held payments not yet asked to be re-issued: the township's queue."""
    return (
        line_list(user=user)
        .filter(
            status__in=[L.Status.FAILED, L.Status.HELD],
            reissue_requested_at__isnull=True,
            payroll__status__in=["approved", "exported", "reconciled"],
        )
        .select_related("household__head")
        .order_by("payroll__month", "id")
    )


def overpayment_list(*, user):
    if getattr(user, "role", None) not in HOUSEHOLD_READERS:
        return Overpayment.objects.none()
    return scope_to_jurisdiction(
        Overpayment.objects.select_related("household", "township", "entitlement"),
        user=user,
        code_field="household__region__code",
    )


def payment_check_list(*, user):
    if getattr(user, "role", None) not in HOUSEHOLD_READERS:
        return PaymentCheck.objects.none()
    return scope_to_jurisdiction(
        PaymentCheck.objects.select_related("line__household__head", "line__payroll", "township"),
        user=user,
        code_field="line__household__region__code",
    )
