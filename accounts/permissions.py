"""Role checks for views and API endpoints. Jurisdiction is checked by the selectors."""

from functools import wraps

from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import PermissionDenied
from rest_framework.permissions import BasePermission

from .models import Role


def is_staff_user(user) -> bool:
    """An active user with a role, whose password is their own (one set by someone else must
    be changed before anything else is done)."""
    return bool(
        user
        and user.is_authenticated
        and user.is_active
        and user.role in Role.values
        and not user.must_change_password
    )


def role_required(*roles: str):
    """View decorator: anonymous users go to the login page, other roles get 403."""

    def decorator(view):
        @wraps(view)
        def wrapped(request, *args, **kwargs):
            if not request.user.is_authenticated:
                return redirect_to_login(request.get_full_path())
            if not is_staff_user(request.user) or (roles and request.user.role not in roles):
                raise PermissionDenied
            return view(request, *args, **kwargs)

        return wrapped

    return decorator


class IsActiveStaff(BasePermission):
    """Default for every API endpoint: an authenticated, active user with a role."""

    def has_permission(self, request, view):
        return is_staff_user(request.user)


def api_roles(*roles: str) -> type[BasePermission]:
    """An API permission class admitting only the given roles."""

    class HasRole(BasePermission):
        def has_permission(self, request, view):
            return is_staff_user(request.user) and request.user.role in roles

    HasRole.__name__ = "HasRole_" + "_".join(roles)
    return HasRole


# Roles that read case data (households, applications, entitlements, reviews): every staff
# role but the district's funds officer, who sees payments only (least privilege).
CASE_READERS = tuple(role for role in Role.values if role != Role.DISTRICT_FINANCE)
# Who reads the statistics return, the dashboard and the 绩效评价 (the auditors and the bureau).
STATISTICS_READERS = (Role.AUDITOR, Role.CITY_ADMIN, Role.DISTRICT_APPROVER)


class ReadsCases(BasePermission):
    """API endpoints over case data: staff whose role reads cases."""

    def has_permission(self, request, view):
        return is_staff_user(request.user) and request.user.role in CASE_READERS


# Set at the password login of a user who enrolled a second factor though their role does not
# need one: they pass it too (read from the session, so other users cost no query).
SECOND_FACTOR_DUE = "second_factor_due"


def second_factor_pending(request) -> bool:
    """Logged in with the password, but not yet with the second factor the role needs (or the
    user enrolled): only the verification, enrolment and logout pages open."""
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return False
    due = user.requires_second_factor or request.session.get(SECOND_FACTOR_DUE, False)
    # ``otp_device`` is set by django-otp's middleware: the device this session passed.
    return due and getattr(user, "otp_device", None) is None
