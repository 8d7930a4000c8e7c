from django.db.models import QuerySet
from django_otp.plugins.otp_totp.models import TOTPDevice

from regions.models import Region

from .scoping import scope_to_jurisdiction


def region_list(*, user) -> QuerySet:
    """Regions inside the user's jurisdiction (for dropdowns, search filters, the API)."""
    qs = scope_to_jurisdiction(Region.objects.all(), user=user, code_field="code")
    return qs.select_related("parent")


def second_factor_device(*, user):
    """The user's confirmed authenticator device (TOTP), or None."""
    return TOTPDevice.objects.filter(user=user, confirmed=True).first()
