"""Role checks for views and API endpoints. Jurisdiction is checked by the selectors."""

from functools import wraps

from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import PermissionDenied
from rest_framework.permissions import SAFE_METHODS, BasePermission

from .roles import (
    AUDIT_LOG_READERS,
    BUSINESS_ROLES,
    CASE_READERS,
    OFFICER_ROLES,
    SECURITY_EVENT_READERS,
    SECURITY_POLICY_KEEPERS,
    STATISTICS_READERS,
    Role,
)

__all__ = [
    "AUDIT_LOG_READERS",
    "BUSINESS_ROLES",
    "CASE_READERS",
    "OFFICER_ROLES",
    "SECURITY_EVENT_READERS",
    "SECURITY_POLICY_KEEPERS",
    "STATISTICS_READERS",
    "IsActiveStaff",
    "ReadsCases",
    "api_roles",
    "is_staff_user",
    "role_required",
]


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


class ReadsCases(BasePermission):
    """API endpoints over case data: staff whose role reads cases (``roles.CASE_READERS``).
    A write (any method but GET/HEAD/OPTIONS) is for the roles the view names for that action
    in ``write_roles`` ({action: roles}); every other role gets 403 before its request is
    read. A view that names none takes no writes."""

    def has_permission(self, request, view):
        if not (is_staff_user(request.user) and request.user.role in CASE_READERS):
            return False
        if request.method in SAFE_METHODS:
            return True
        writers = getattr(view, "write_roles", {}).get(getattr(view, "action", None), ())
        return request.user.role in writers


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
