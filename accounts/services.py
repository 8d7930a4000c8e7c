from binascii import unhexlify
from collections.abc import Collection
from dataclasses import dataclass

from django.db import transaction
from django.utils import formats, timezone
from django.utils.translation import gettext as _
from django_otp.oath import TOTP
from django_otp.plugins.otp_totp.models import TOTPDevice

from core.audit import audit_record
from core.exceptions import DomainError, OutOfScopeError
from core.models import AuditEvent
from regions.models import Region

from .models import User
from .roles import OFFICER_ROLES, SECURITY_POLICY_KEEPERS, Role
from .selectors import second_factor_device


@transaction.atomic
def user_create(
    *,
    username: str,
    password: str,
    role: str,
    jurisdiction: Region,
    full_name: str = "",
    email: str = "",
    actor: User | None = None,
) -> User:
    user = User(
        username=username, role=role, jurisdiction=jurisdiction, full_name=full_name, email=email
    )
    user.set_password(password)
    user.full_clean()
    user._history_user = actor
    user.save()
    return user


# What gives an account its power: nobody changes these on their own account.
POWER_FIELDS = frozenset({"role", "jurisdiction", "is_active"})


@transaction.atomic
def account_save(*, actor: User, user: User, changed: Collection[str]) -> User:
    """An account created or edited by the account administrator (the admin's user pages).
    The officers' accounts (三员) are set up on the server only, and nobody changes the role,
    jurisdiction or activation of their own account. Logged by the history → audit bridge
    (role, jurisdiction and activation with their before and after; ``accounts.signals`` for
    the password)."""
    if actor.role != Role.ACCOUNT_ADMIN or not actor.is_active:
        raise OutOfScopeError(_("Only the account administrator manages staff accounts."))
    if user.pk is not None and user.pk == actor.pk and POWER_FIELDS & set(changed):
        raise OutOfScopeError(
            _("Nobody changes the role, jurisdiction or activation of their own account.")
        )
    before = (
        User.objects.select_for_update().filter(pk=user.pk).values_list("role", flat=True).first()
        if user.pk is not None
        else None
    )
    if user.role in OFFICER_ROLES or before in OFFICER_ROLES:
        raise OutOfScopeError(
            _(
                "The accounts of the account, security and audit administrators are set up "
                "on the server (manage.py officer_create), not here."
            )
        )
    user.full_clean()
    user.save()
    return user


@transaction.atomic
def user_ensure(
    *, username: str, password: str, role: str, jurisdiction: Region, full_name: str = ""
) -> tuple[User, bool]:
    """Create the user unless one with this username exists (demo data; idempotent)."""
    existing = User.objects.filter(username=username).first()
    if existing is not None:
        return existing, False
    return user_create(
        username=username,
        password=password,
        role=role,
        jurisdiction=jurisdiction,
        full_name=full_name,
    ), True


@transaction.atomic
def officer_create(
    *, username: str, password: str, role: str, jurisdiction: Region, full_name: str = ""
) -> User:
    """An officer's account (三员: account, security or audit administrator), made on the
    server (``manage.py officer_create``) because no officer may make another's. Whoever runs
    the command knows the password, so its holder must change it at the first login."""
    if role not in OFFICER_ROLES:
        raise OutOfScopeError(_("Business accounts are made by the account administrator."))
    user = user_create(
        username=username,
        password=password,
        role=role,
        jurisdiction=jurisdiction,
        full_name=full_name,
    )
    User.objects.filter(pk=user.pk).update(must_change_password=True)
    user.must_change_password = True
    return user


def alert_staff(*, role: str, jurisdiction_code: str, key: str, message: str, url: str) -> int:
    """One inbox item for each active user of ``role`` whose jurisdiction is that region;
    raising the same key again adds nothing."""
    from core.models import Alert

    users = User.objects.filter(
        is_active=True, role=role, jurisdiction__code=jurisdiction_code
    ).values_list("pk", flat=True)
    alerts = [Alert(user_id=user, key=key, message=message, url=url) for user in users]
    return len(Alert.objects.bulk_create(alerts, ignore_conflicts=True))


# --- API tokens ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class IssuedToken:
    key: str  # shown once, never stored
    expiry: object


def token_issue_at_login(*, user: User, otp: str) -> IssuedToken:
    """The API's login, for a user whose password was checked: a token, once the code ``otp``
    passes the second factor the account has or its role needs."""
    device = second_factor_device(user=user)
    if device is None and user.requires_second_factor:
        raise _refused(
            _("No second factor is enrolled yet: log in on the web to enrol one."),
            "otp_not_enrolled",
        )
    if device is not None:
        if not otp:
            raise _refused(
                _("This account needs its second-factor code: send it as otp."), "otp_required"
            )
        second_factor_verify(user=user, code=otp, channel="API")
    return token_issue(user=user)


@transaction.atomic
def token_issue(*, user: User) -> IssuedToken:
    """A new API token for ``user`` (the oldest goes once the user holds the most allowed)."""
    from django.conf import settings
    from knox.models import AuthToken

    limit = settings.REST_KNOX.get("TOKEN_LIMIT_PER_USER")
    held = AuthToken.objects.filter(user=user).order_by("created")
    if limit and held.count() >= limit:
        AuthToken.objects.filter(
            pk__in=list(held.values_list("pk", flat=True)[: held.count() - limit + 1])
        ).delete()
    instance, key = AuthToken.objects.create(user=user)
    audit_record(
        actor=user,
        action=AuditEvent.Action.CREATE,
        obj=user,
        reason=_("API token issued (%(key)s…, until %(expiry)s)")
        % {"key": instance.token_key, "expiry": instance.expiry.isoformat(timespec="minutes")},
    )
    return IssuedToken(key, instance.expiry)


@transaction.atomic
def tokens_revoke(*, actor, tokens, reason: str = "") -> int:
    """Revoke tokens (their owner, the admin, or the system on a password change)."""
    keys = list(tokens.values_list("token_key", "user_id"))
    count, _by_model = tokens.delete()
    for key, user_id in keys:
        audit_record(
            actor=actor,
            action=AuditEvent.Action.DELETE,
            obj=User.objects.get(pk=user_id),
            reason=reason or _("API token revoked (%(key)s…)") % {"key": key},
        )
    return count


# --- the security policy (the security administrator) -------------------------------------------


@transaction.atomic
def lockout_clear(*, actor: User, attempt) -> None:
    """Lift a login lockout (django-axes' counter for a username from an address), e.g. for a
    member of staff who is sure of their password again. Logged as a security event."""
    if actor.role not in SECURITY_POLICY_KEEPERS or not actor.is_active:
        raise OutOfScopeError(_("Only the security administrator lifts a lockout."))
    account = User.objects.filter(username=attempt.username).select_related("jurisdiction").first()
    audit_record(
        actor=actor,
        action=AuditEvent.Action.DELETE,
        obj=attempt,
        region_code=account.audit_region_code if account else "",
        reason=_("Login lockout lifted: %(username)s from %(address)s after %(n)d failed logins")
        % {
            "username": attempt.username or "?",
            "address": attempt.ip_address or "?",
            "n": attempt.failures_since_start,
        },
    )
    attempt.delete()


# --- Second factor (TOTP) ------------------------------------------------------------------------
# One authenticator-app device per user (django-otp's TOTPDevice). Every change of it, and
# every code refused, is an audit event on the user's account.


def _refused(message, code: str) -> DomainError:
    return DomainError(message, code=code, field="otp")


def totp_step_matching(*, key: str, code: str) -> int | None:
    """The time step whose code ``code`` is, for the hex secret ``key`` (now, or one step
    before or after for a slow clock), or None. TOTPDevice's defaults: 6 digits, 30 s."""
    try:
        token = int(code)
    except (TypeError, ValueError):
        return None
    totp = TOTP(unhexlify(key))
    return totp.t() if totp.verify(token, tolerance=1) else None


@transaction.atomic
def second_factor_install(*, user: User, key: str, actor: User | None, reason: str, last_t=-1):
    """Give ``user`` a confirmed authenticator device with the hex secret ``key``, replacing
    any they had. ``last_t`` is the time step of a code already used (it is not taken twice)."""
    TOTPDevice.objects.filter(user=user).delete()
    device = TOTPDevice.objects.create(
        user=user, name="authenticator", key=key, confirmed=True, last_t=last_t
    )
    audit_record(actor=actor, action=AuditEvent.Action.CREATE, obj=user, reason=reason)
    return device


def second_factor_enrol(*, user: User, key: str, code: str):
    """The user's own enrolment: the code their app shows proves it holds the secret."""
    step = totp_step_matching(key=key, code=code)
    if step is None:
        raise _refused(
            _("This code does not match. Check the secret in your app and its clock."),
            "otp_invalid",
        )
    return second_factor_install(
        user=user,
        key=key,
        actor=user,
        reason=_("Second factor enrolled (authenticator app)"),
        last_t=step,
    )


def second_factor_verify(*, user: User, code: str, channel: str):
    """The device that accepts ``code`` now, or DomainError once the refusal is recorded.
    After a wrong code the next is refused for 1, 2, 4, 8… seconds (django-otp's throttle,
    ``OTP_TOTP_THROTTLE_FACTOR``). ``channel`` (web, API) goes into the audit event."""
    device, refusal = _second_factor_check(user=user, code=code, channel=channel)
    if refusal is not None:
        raise refusal
    return device


@transaction.atomic
def _second_factor_check(*, user: User, code: str, channel: str):
    # Returns the refusal rather than raising it, so that the throttle's count and the audit
    # event of a wrong code are committed.
    device = TOTPDevice.objects.select_for_update().filter(user=user, confirmed=True).first()
    if device is None:
        return None, _refused(
            _("No second factor is enrolled for this account: log in on the web to enrol one."),
            "otp_not_enrolled",
        )
    allowed, throttle = device.verify_is_allowed()
    if allowed and device.verify_token(code):
        audit_record(
            actor=user,
            action=AuditEvent.Action.LOGIN,
            obj=user,
            reason=_("Second factor passed (%(channel)s)") % {"channel": channel},
        )
        return device, None
    if not allowed:
        until = formats.time_format(timezone.localtime(throttle["locked_until"]), "H:i:s")
        reason = _("Second-factor code refused: too many wrong codes (%(channel)s)")
        refusal = _refused(
            _("Too many wrong codes. Try again after %(time)s.") % {"time": until},
            "otp_throttled",
        )
    else:
        reason = _("Wrong second-factor code (%(channel)s)")
        refusal = _refused(
            _("This code is wrong or was already used. Type the code your app shows now."),
            "otp_invalid",
        )
    audit_record(
        actor=user,
        action=AuditEvent.Action.LOGIN_FAILED,
        obj=user,
        reason=reason % {"channel": channel},
    )
    return None, refusal


def second_factor_remove(*, user: User, code: str) -> None:
    """The owner removes their own device, proving it with a current code (a session left
    open must not be enough). A role that needs one enrols a new one before going on."""
    second_factor_verify(user=user, code=code, channel="removal")
    _second_factor_delete(user=user, actor=user, reason=_("Second factor removed by its owner"))


@transaction.atomic
def second_factor_reset(*, user: User, actor: User) -> bool:
    """The account administrator removes a user's device (lost phone): the user enrols again
    at the next page they open, and their API tokens, issued under the old device, die.
    False if the user had none. Never one's own, nor an officer's (set up on the server)."""
    if actor.role != Role.ACCOUNT_ADMIN or not actor.is_active:
        raise OutOfScopeError(_("Only the account administrator resets a second factor."))
    if user.pk == actor.pk or user.role in OFFICER_ROLES:
        raise OutOfScopeError(
            _("An officer's or your own second factor is reset on the server, not here.")
        )
    if not TOTPDevice.objects.filter(user=user).exists():
        return False
    _second_factor_delete(
        user=user,
        actor=actor,
        reason=_("Second factor reset by the account administrator: to be enrolled again"),
    )
    from knox.models import AuthToken

    tokens = AuthToken.objects.filter(user=user)
    if tokens.exists():
        tokens_revoke(
            actor=actor, tokens=tokens, reason=_("API tokens revoked: second factor reset")
        )
    return True


@transaction.atomic
def _second_factor_delete(*, user: User, actor: User, reason: str) -> None:
    TOTPDevice.objects.filter(user=user).delete()
    audit_record(actor=actor, action=AuditEvent.Action.DELETE, obj=user, reason=reason)
