"""Logins, logouts, failed logins and every change to an account go into the audit log.

An account change is caught on the model, whoever makes it (the admin's pages, the API, a
command): the password set or reset, the role, the jurisdiction, activation. A password set by
anyone but its owner must be changed at the next login (``User.must_change_password``), so
that later actions under that name are the owner's."""

from django.contrib.auth import get_user_model
from django.contrib.auth.signals import user_logged_in, user_logged_out, user_login_failed
from django.db.models.signals import post_save, pre_save
from django.dispatch import receiver
from django.utils.translation import gettext as _

from core.audit import audit_record
from core.models import AuditEvent

from .models import User


def _request_user():
    """Who is making the change: the user of the request being served (the history
    middleware keeps it), or None for a command or a test."""
    from simple_history.models import HistoricalRecords

    request = getattr(HistoricalRecords.context, "request", None)
    user = getattr(request, "user", None)
    return user if user is not None and user.is_authenticated else None


# The role, jurisdiction and activation are recorded with their before and after by the
# history → audit bridge (``core.audit``); the password is not (its hash must never reach the
# log), so setting it is recorded here, as a fact.


def _tokens_die(user, actor, reason) -> None:
    from knox.models import AuthToken

    from .services import tokens_revoke

    tokens = AuthToken.objects.filter(user=user)
    if tokens.exists():
        tokens_revoke(actor=actor, tokens=tokens, reason=reason)


@receiver(pre_save, sender=User)
def _password_before(sender, instance, raw=False, update_fields=None, **kwargs):
    if raw or (update_fields is not None and set(update_fields) <= {"last_login"}):
        return
    old = User.objects.filter(pk=instance.pk).values("password", "is_active").first()
    if instance.pk is None or old is None:
        instance._password_event = ("created", _request_user())
        return
    if old["password"] != instance.password:
        instance._password_event = ("changed", _request_user())
    if old["is_active"] and not instance.is_active:
        instance._deactivated = True


@receiver(post_save, sender=User)
def _password_after(sender, instance, raw=False, **kwargs):
    what, actor = instance.__dict__.pop("_password_event", (None, None))
    if instance.__dict__.pop("_deactivated", False) and not raw:
        _tokens_die(instance, _request_user(), _("API tokens revoked: account deactivated"))
    if raw or what is None:
        return
    if what == "created":
        # An account made by an administrator starts with a password someone else knows.
        if actor is not None:
            User.objects.filter(pk=instance.pk).update(must_change_password=True)
            instance.must_change_password = True
        return
    by_someone_else = actor is None or actor.pk != instance.pk
    _tokens_die(instance, actor, _("API tokens revoked: password changed"))
    User.objects.filter(pk=instance.pk).update(must_change_password=by_someone_else)
    instance.must_change_password = by_someone_else
    audit_record(
        actor=actor,
        action=AuditEvent.Action.UPDATE,
        obj=instance,
        reason=_("Password set by someone else: it must be changed at the next login")
        if by_someone_else
        else _("Password changed by its owner"),
    )


@receiver(user_logged_in)
def _logged_in(sender, request, user, **kwargs):
    audit_record(actor=user, action=AuditEvent.Action.LOGIN, obj=user)


@receiver(user_logged_out)
def _logged_out(sender, request, user, **kwargs):
    if user is not None:
        audit_record(actor=user, action=AuditEvent.Action.LOGOUT, obj=user)
        _tokens_die(user, user, _("API tokens revoked: logged out"))


@receiver(user_login_failed)
def _login_failed(sender, credentials, request=None, **kwargs):
    # Record the account tried, never the text typed: a password typed into the username
    # field must not end up in a log that auditors read.
    username = str(credentials.get("username", ""))[:150]
    user = get_user_model().objects.filter(username=username).select_related("jurisdiction").first()
    audit_record(
        actor=None,
        action=AuditEvent.Action.LOGIN_FAILED,
        obj=user,
        reason=f"username={user.username}" if user else "unknown username",
    )
