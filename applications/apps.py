from django.apps import AppConfig
from django.db import transaction
from django.db.models.signals import post_delete, post_save
from django.utils.translation import gettext_lazy as _


class ApplicationsConfig(AppConfig):
    name = "applications"
    verbose_name = _("Applications")

    def ready(self):
        from core.models import CalendarDay

        # The calendar is edited in the admin, a day at a time: once the edit is committed,
        # the running deadlines are counted again (the night counts them again too, for
        # calendars loaded in bulk).
        for signal in (post_save, post_delete):
            signal.connect(
                _calendar_changed, sender=CalendarDay, dispatch_uid=f"deadlines-{signal}"
            )


def _calendar_changed(**_kwargs):
    from .tasks import deadlines_recount

    transaction.on_commit(deadlines_recount.delay)
