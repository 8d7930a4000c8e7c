from django.contrib import admin
from django.utils.translation import gettext_lazy as _

from accounts.selectors import audit_event_list
from core.masking import mask_changes
from core.models import AuditEvent


@admin.register(AuditEvent)
class AuditEventAdmin(admin.ModelAdmin):
    """Read-only, for the auditors (``accounts.roles.ADMIN_ACCESS``): the audit log is written
    by the system, never edited, and shows only the auditor's jurisdiction, as its page does."""

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
    # The raw ``changes`` never show: ID, phone and account numbers are masked.
    exclude = ("changes",)
    readonly_fields = ("masked_changes",)

    @admin.display(description=_("changes"))
    def masked_changes(self, event):
        return mask_changes(event.changes)

    def get_queryset(self, request):
        return audit_event_list(user=request.user)

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
