from django.contrib import admin
from simple_history.admin import SimpleHistoryAdmin

from .models import AuditEvent, CalendarDay


@admin.register(CalendarDay)
class CalendarDayAdmin(SimpleHistoryAdmin):
    list_display = ("date", "kind", "name")
    list_filter = ("kind",)
    date_hierarchy = "date"
    search_fields = ("name",)


@admin.register(AuditEvent)
class AuditEventAdmin(admin.ModelAdmin):
    """Read-only: the audit log is written by the system, never edited."""

    list_display = (
        "occurred_at",
        "actor_name",
        "action",
        "object_type",
        "object_repr",
        "region_code",
    )
    list_filter = ("action", "object_type")
    search_fields = ("actor_name", "object_repr", "object_id", "region_code")
    date_hierarchy = "occurred_at"

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
