from functools import wraps

from django.contrib import admin
from django.contrib.admin.apps import AdminConfig
from django.contrib.auth import REDIRECT_FIELD_NAME
from django.core.exceptions import PermissionDenied
from django.urls import reverse
from django.utils.translation import gettext_lazy as _


class CityAdminSite(admin.AdminSite):
    """The Django admin. Each role that enters sees only its own models
    (``accounts.roles.ADMIN_ACCESS``): the account administrator the accounts, the security
    administrator the login records, the auditor the audit log, the city administrator the
    policy data."""

    site_header = _("Chongqing Relief · system administration")
    site_title = _("Chongqing Relief administration")
    index_title = _("System administration")

    def has_permission(self, request):
        from .permissions import is_staff_user  # needs the app registry
        from .roles import ADMIN_ACCESS

        return is_staff_user(request.user) and request.user.role in ADMIN_ACCESS

    def admin_view(self, view, cacheable=False):
        return super().admin_view(_revert_needs_change(view), cacheable)

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


def _revert_needs_change(view):
    """django-simple-history's page of a past version saves that version back on POST after
    checking only that the user may *view* the model: a role that reads a model in the admin
    (the account administrator the regions) would change it. A revert is a change."""
    model_admin = getattr(view, "__self__", None)
    if getattr(view, "__name__", "") != "history_form_view" or model_admin is None:
        return view

    @wraps(view)
    def guarded(request, object_id, version_id, extra_context=None):
        if request.method == "POST" and not model_admin.has_change_permission(request):
            raise PermissionDenied
        return view(request, object_id, version_id, extra_context)

    return guarded


class CityAdminConfig(AdminConfig):
    """The Django admin, with the site above as its default."""

    default_site = "accounts.admin_site.CityAdminSite"
