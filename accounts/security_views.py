"""The security administrator's pages (安全管理): the security events, and the security
policy in force with the login lockouts, which it lifts."""

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.password_validation import password_validators_help_texts
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from core.audit import events_page
from core.exceptions import DomainError
from core.filters import AuditEventFilter
from core.masking import mask_value

from . import selectors, services
from .permissions import SECURITY_EVENT_READERS, SECURITY_POLICY_KEEPERS, role_required


@role_required(*SECURITY_EVENT_READERS)
def security_events(request):
    """Logins, failed logins, account changes, passwords, API tokens, second factors and
    lockouts: the audit log's security part, scoped to the jurisdiction."""
    events = AuditEventFilter(
        request.GET, queryset=selectors.security_event_list(user=request.user)
    )
    return render(
        request, "accounts/security_events.html", events_page(request, events, mask=mask_value)
    )


@role_required(*SECURITY_EVENT_READERS)
def security_policy(request):
    """The security settings in force (set in the deployment's environment, read-only here)
    and the login lockouts, which the security administrator lifts."""
    return render(
        request,
        "accounts/security_policy.html",
        {
            "settings_rows": _policy_rows(),
            "password_rules": password_validators_help_texts(),
            "lockouts": selectors.lockout_list(user=request.user),
            "may_lift": request.user.role in SECURITY_POLICY_KEEPERS,
        },
    )


@require_POST
@role_required(*SECURITY_POLICY_KEEPERS)
def lockout_clear(request, pk):
    from axes.models import AccessAttempt

    attempt = get_object_or_404(AccessAttempt, pk=pk)
    try:
        services.lockout_clear(actor=request.user, attempt=attempt)
    except DomainError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, _("The lockout is lifted."))
    return redirect("accounts:security_policy")


def _policy_rows() -> list[tuple[str, object, str]]:
    """(what, value in force, the environment variable that sets it)."""
    knox = settings.REST_KNOX
    throttle = settings.REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"]["token"]
    yes, no = _("Yes"), _("No")
    return [
        (
            _("Wrong passwords before a username is locked out from an address"),
            settings.AXES_FAILURE_LIMIT,
            "LOGIN_FAILURE_LIMIT",
        ),
        (
            _("Lockout (minutes)"),
            round(settings.AXES_COOLOFF_TIME * 60),
            "LOGIN_LOCKOUT_MINUTES",
        ),
        (_("Login session (seconds)"), settings.SESSION_COOKIE_AGE, "SESSION_COOKIE_AGE"),
        (
            _("API token lifetime (hours)"),
            round(knox["TOKEN_TTL"].total_seconds() / 3600, 1),
            "TOKEN_TTL_HOURS",
        ),
        (_("API tokens a user may hold"), knox["TOKEN_LIMIT_PER_USER"], ""),
        (_("Token requests from one address"), throttle, ""),
        (
            _("Residents' lookups per address and hour"),
            settings.PUBLIC_LOOKUPS_PER_ADDRESS_HOUR,
            "PUBLIC_LOOKUPS_PER_ADDRESS_HOUR",
        ),
        (
            _("Residents' lookups per ID number and hour"),
            settings.PUBLIC_LOOKUPS_PER_NUMBER_HOUR,
            "PUBLIC_LOOKUPS_PER_NUMBER_HOUR",
        ),
        (_("Largest upload (bytes)"), settings.UPLOAD_MAX_BYTES, "UPLOAD_MAX_BYTES"),
        (
            _("Trusted reverse proxies"),
            settings.REST_FRAMEWORK.get("NUM_PROXIES", 0),
            "NUM_PROXIES",
        ),
        (_("HTTPS enforced"), yes if settings.SECURE_SSL_REDIRECT else no, "SECURE_SSL_REDIRECT"),
        (_("HSTS (seconds)"), settings.SECURE_HSTS_SECONDS, "SECURE_HSTS_SECONDS"),
        (
            _("Session cookie sent over HTTPS only"),
            yes if settings.SESSION_COOKIE_SECURE else no,
            "",
        ),
    ]
