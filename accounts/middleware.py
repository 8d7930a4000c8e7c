"""A user whose password someone else set goes to the password page before anything else."""

from django.shortcuts import redirect
from django.urls import reverse

# What such a user may still reach: the password page itself, logging out, assets, language.
ALLOWED = ("/password/", "/logout/", "/static/", "/i18n/")


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
