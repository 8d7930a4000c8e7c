from django.db import transaction

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
