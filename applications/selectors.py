from django.http import Http404

from accounts.scoping import scope_to_jurisdiction

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
