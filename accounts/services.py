from collections.abc import Collection
from dataclasses import dataclass

from django.db import transaction
from django.utils.translation import gettext as _

from core.audit import audit_record
from core.exceptions import OutOfScopeError
from core.models import AuditEvent
from regions.models import Region

from .models import User
from .roles import OFFICER_ROLES, SECURITY_POLICY_KEEPERS, Role


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
