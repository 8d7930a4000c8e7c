from django.contrib import admin
from django.contrib.admin.apps import AdminConfig
from django.utils.translation import gettext_lazy as _


class CityAdminSite(admin.AdminSite):
    site_header = _("Chongqing Relief · system administration")
    site_title = _("Chongqing Relief administration")
    index_title = _("Policy data, users and regions")

    def has_permission(self, request):
        return bool(getattr(request.user, "is_city_admin", False))


class CityAdminConfig(AdminConfig):
    """The Django admin, with the site above as its default."""

    default_site = "accounts.admin_site.CityAdminSite"
