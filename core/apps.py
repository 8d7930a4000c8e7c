from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class CoreConfig(AppConfig):
    name = "core"
    verbose_name = _("System")

    def ready(self):
        from . import (
            audit,  # noqa: F401  (connects the history → audit-log receiver)
            checks,  # noqa: F401  (registers the deployment checks)
        )
