from django.contrib import admin
from simple_history.admin import SimpleHistoryAdmin

from .models import Region


@admin.register(Region)
class RegionAdmin(SimpleHistoryAdmin):
    list_display = ("code", "name", "level", "parent", "is_active", "is_demo")
    list_filter = ("level", "is_active", "is_demo")
    list_select_related = ("parent",)
    search_fields = ("code", "name")
    raw_id_fields = ("parent",)
    list_per_page = 100

    def get_readonly_fields(self, request, obj=None):
        # Code, level and parent define whose jurisdiction covers the region: fixed once set.
        return ("code", "level", "parent") if obj is not None else ()
