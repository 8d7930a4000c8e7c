from django.contrib import admin
from simple_history.admin import SimpleHistoryAdmin

from .models import PolicyValue, TemporaryRate


@admin.register(PolicyValue)
class PolicyValueAdmin(SimpleHistoryAdmin):
    """Policy figures. To change a standard, add a row with a later effective month: the old
    row keeps explaining the amounts computed while it was in force."""

    list_display = (
        "kind",
        "residence",
        "district_code",
        "value",
        "effective_from",
        "is_assumption",
        "source",
    )
    list_filter = ("kind", "residence", "is_assumption")
    search_fields = ("source", "district_code")
    date_hierarchy = "effective_from"

    def get_readonly_fields(self, request, obj=None):
        # A row in force has explained amounts already: correct it by adding a new row.
        if obj is not None:
            return ("kind", "residence", "district_code", "value", "effective_from")
        return ()

    def has_delete_permission(self, request, obj=None):
        return False

    def save_model(self, request, obj, form, change):
        if not change:
            obj.created_by = request.user
        super().save_model(request, obj, form, change)


@admin.register(TemporaryRate)
class TemporaryRateAdmin(SimpleHistoryAdmin):
    list_display = ("applicant_class", "hardship", "multiple", "effective_from", "is_assumption")
    list_filter = ("applicant_class", "hardship", "is_assumption")

    def get_readonly_fields(self, request, obj=None):
        return ("applicant_class", "hardship", "multiple", "effective_from") if obj else ()

    def has_delete_permission(self, request, obj=None):
        return False
