"""Before anything else: a user logged in with the password passes the second factor their role
needs (``SECOND_FACTOR_ROLES``), and a user whose password someone else set changes it."""

from django.contrib.auth.views import redirect_to_login
from django.shortcuts import redirect
from django.urls import reverse

from .permissions import second_factor_pending

# What a user who has not passed the second factor may still reach: its verification and
# enrolment pages, logging out, assets, language. The API answers 403 itself
# (``accounts.authentication``): a script must not be sent to an HTML page.
SECOND_FACTOR_OPEN = ("/login/verify/", "/account/two-factor/", "/logout/", "/static/", "/i18n/")
# What a user who must change the password may still reach: the password page, and the above.
ALLOWED = ("/password/", *SECOND_FACTOR_OPEN)


class SecondFactorRequiredMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        path = request.path
        if path == "/healthz" or path.startswith(("/api/", *SECOND_FACTOR_OPEN)):
            return self.get_response(request)
        if second_factor_pending(request):
            return redirect_to_login(
                request.get_full_path(), login_url=reverse("accounts:second_factor_verify")
            )
        return self.get_response(request)


class PasswordChangeRequiredMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if request.path == "/healthz":  # answers even when the users cannot be read
            return self.get_response(request)
        user = getattr(request, "user", None)
        if (
            user is not None
            and user.is_authenticated
            and user.must_change_password
            and not request.path.startswith(ALLOWED)
            and not request.path.startswith("/api/")  # the API answers 403 (is_staff_user)
        ):
            return redirect(reverse("accounts:password_change"))
        return self.get_response(request)
