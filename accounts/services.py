from dataclasses import dataclass

from django.db import transaction
from django.utils.translation import gettext as _

from core.audit import audit_record
from core.models import AuditEvent
from regions.models import Region

from .models import User


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
