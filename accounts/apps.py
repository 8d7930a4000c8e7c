from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class AccountsConfig(AppConfig):
    default = True  # the app's own config (this module also holds knox's)
    name = "accounts"
    verbose_name = _("Staff accounts")

    def ready(self):
        from . import signals  # noqa: F401  (login/logout audit events)


class KnoxConfig(AppConfig):
    """django-rest-knox's API tokens, named for the admin's readers (the package names none)."""

    name = "knox"
    label = "knox"
    verbose_name = _("API tokens")
    default_auto_field = "django.db.models.AutoField"

    def ready(self):
        from knox.models import AuthToken

        AuthToken._meta.verbose_name = _("API token")
        AuthToken._meta.verbose_name_plural = _("API tokens")
