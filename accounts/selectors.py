import datetime as dt

from django.conf import settings
from django.db.models import Q, QuerySet
from django.utils import timezone
from django_otp.plugins.otp_totp.models import TOTPDevice

from core.models import AuditEvent
from regions.models import Region

from .scoping import jurisdiction_prefix, scope_to_jurisdiction


def region_list(*, user) -> QuerySet:
    """Regions inside the user's jurisdiction (for dropdowns, search filters, the API)."""
    qs = scope_to_jurisdiction(Region.objects.all(), user=user, code_field="code")
    return qs.select_related("parent")


# --- security events and lockouts (the security administrator's reading) -------------------------

# The audit log's security part: logins, logouts and failed logins, and every event about a
# staff account, whoever caused it (created; role, jurisdiction or activation changed;
# password set or changed; API token issued or revoked: all recorded against the account),
# about a second-factor device (django-otp's apps, ``otp_*``) or a login lockout (django-axes).
SECURITY_ACTIONS = (
    AuditEvent.Action.LOGIN,
    AuditEvent.Action.LOGOUT,
    AuditEvent.Action.LOGIN_FAILED,
)
SECURITY_RECORD_TYPES = ("accounts.user", "knox.authtoken")
SECURITY_RECORD_APPS = ("otp_", "axes.")


def is_security_event() -> Q:
    """The filter that picks the security events out of the audit log."""
    condition = Q(action__in=SECURITY_ACTIONS) | Q(object_type__in=SECURITY_RECORD_TYPES)
    for app in SECURITY_RECORD_APPS:
        condition |= Q(object_type__startswith=app)
    return condition


def audit_event_list(*, user) -> QuerySet:
    """Audit events in the user's jurisdiction (an account's events carry its jurisdiction's
    code). City-wide events (policy data, calendar, unknown usernames, a lockout of one) carry
    no region and are shown at city level only."""
    prefix = jurisdiction_prefix(user)
    if prefix is None:
        return AuditEvent.objects.none()
    visible = Q(region_code__startswith=prefix)
    if user.jurisdiction.level == Region.Level.CITY:
        visible |= Q(region_code="")
    return AuditEvent.objects.filter(visible)


def security_event_list(*, user) -> QuerySet:
    """The security events among the user's audit events."""
    return audit_event_list(user=user).filter(is_security_event())


def lockout_list(*, user) -> list:
    """django-axes' failed-login counters, newest first; ``locked`` when the counter has
    reached the limit within the lockout period (the username is refused from that address).
    Below city level, only those of the jurisdiction's staff."""
    from axes.models import AccessAttempt

    from .models import User

    prefix = jurisdiction_prefix(user)
    if prefix is None:
        return []
    attempts = AccessAttempt.objects.order_by("-attempt_time")
    if user.jurisdiction.level != Region.Level.CITY:
        staff = User.objects.filter(jurisdiction__code__startswith=prefix)
        attempts = attempts.filter(username__in=staff.values("username"))
    limit = settings.AXES_FAILURE_LIMIT
    since = timezone.now() - dt.timedelta(hours=settings.AXES_COOLOFF_TIME)
    attempts = list(attempts[:200])
    for attempt in attempts:
        attempt.locked = attempt.failures_since_start >= limit and attempt.attempt_time >= since
    return attempts


def second_factor_device(*, user):
    """The user's confirmed authenticator device (TOTP), or None."""
    return TOTPDevice.objects.filter(user=user, confirmed=True).first()
