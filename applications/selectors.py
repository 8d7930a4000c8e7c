import datetime as dt

from django.db.models import Q
from django.http import Http404

from accounts.scoping import scope_to_jurisdiction
from core.models import AuditEvent

from .models import Application, Referral


def application_list(*, user):
    return scope_to_jurisdiction(
        Application.objects.all(), user=user, code_field="household__region__code"
    ).select_related("household", "household__head", "township")


def application_get_for_user(*, user, pk: int) -> Application:
    application = application_list(user=user).select_related("received_by").filter(pk=pk).first()
    if application is None:
        raise Http404
    return application


def referral_list(*, user):
    return scope_to_jurisdiction(
        Referral.objects.all(), user=user, code_field="household__region__code"
    ).select_related("household", "department")


def lead_list(*, user):
    from .models import Lead

    return scope_to_jurisdiction(
        Lead.objects.all(), user=user, code_field="village__code"
    ).select_related("village", "household")


def application_search(
    *,
    user,
    q: str = "",
    status: str = "",
    programme: str = "",
    received_from: dt.date | None = None,
    received_to: dt.date | None = None,
):
    qs = application_list(user=user)
    if q := q.strip():
        qs = qs.filter(Q(number=q) | Q(household__number=q))
    if status:
        qs = qs.filter(status=status)
    if programme:
        qs = qs.filter(programme=programme)
    if received_from:
        qs = qs.filter(received_at__date__gte=received_from)
    if received_to:
        qs = qs.filter(received_at__date__lte=received_to)
    return qs


def application_events(*, application: Application):
    """The application's status changes, oldest first (from the audit log)."""
    return (
        AuditEvent.objects.filter(
            case_key=application.audit_case_key, action=AuditEvent.Action.TRANSITION
        )
        .select_related("actor")
        .order_by("occurred_at", "id")
    )
