"""API authentication: the session of a user who has not passed the second factor opens no
endpoint (403). An API token is issued only after the second factor (``accounts.api``)."""

from django.utils.translation import gettext_lazy as _
from drf_spectacular.authentication import SessionScheme
from rest_framework import exceptions
from rest_framework.authentication import SessionAuthentication

from .permissions import second_factor_pending


class SecondFactorSessionAuthentication(SessionAuthentication):
    def authenticate(self, request):
        result = super().authenticate(request)
        if result is not None and second_factor_pending(request._request):
            raise exceptions.PermissionDenied(
                _("Pass the second factor first: open /login/verify/ in the browser.")
            )
        return result


class SecondFactorSessionScheme(SessionScheme):
    """The OpenAPI schema describes it as the session cookie it is."""

    target_class = SecondFactorSessionAuthentication
