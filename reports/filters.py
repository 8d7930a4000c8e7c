import django_filters
from django.utils.translation import gettext_lazy as _

from core.filters import AuditEventFilter as EventFilter


class AuditEventFilter(EventFilter):
    """The whole audit log: also by region and by record type."""

    region_code = django_filters.CharFilter(
        field_name="region_code", lookup_expr="startswith", label=_("Region code")
    )
    object_type = django_filters.CharFilter(field_name="object_type", label=_("Record type"))
