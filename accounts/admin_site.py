from django.contrib import admin
from django.contrib.admin.apps import AdminConfig
from django.contrib.auth import REDIRECT_FIELD_NAME
from django.core.exceptions import PermissionDenied
from django.urls import reverse
from django.utils.translation import gettext_lazy as _


class CityAdminSite(admin.AdminSite):
    site_header = _("Chongqing Relief · system administration")
    site_title = _("Chongqing Relief administration")
    index_title = _("Policy data, users and regions")

    def has_permission(self, request):
        return bool(getattr(request.user, "is_city_admin", False))

    def login(self, request, extra_context=None):
        """One login page for everybody: the staff login, which audits and lands by role.
        Staff already logged in without the role get a 403, not a redirect loop."""
        from django.contrib.auth.views import redirect_to_login  # needs the app registry

        if request.user.is_authenticated:
            raise PermissionDenied
        target = request.GET.get(REDIRECT_FIELD_NAME) or reverse(
            "admin:index", current_app=self.name
        )
        return redirect_to_login(target, login_url=reverse("accounts:login"))


class CityAdminConfig(AdminConfig):
    """The Django admin, with the site above as its default."""

    default_site = "accounts.admin_site.CityAdminSite"
