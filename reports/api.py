from rest_framework import serializers, viewsets

from accounts.models import Role
from accounts.permissions import api_roles
from core.models import AuditEvent

from .filters import AuditEventFilter
from .selectors import audit_event_list


class AuditEventSerializer(serializers.ModelSerializer):
    class Meta:
        model = AuditEvent
        fields = [
            "id",
            "occurred_at",
            "actor_name",
            "action",
            "object_type",
            "object_id",
            "object_repr",
            "region_code",
            "from_state",
            "to_state",
            "reason",
            "changes",
        ]


class AuditEventViewSet(viewsets.ReadOnlyModelViewSet):
    """The audit log, scoped to the caller's jurisdiction. Auditors and city admins only."""

    serializer_class = AuditEventSerializer
    permission_classes = [api_roles(Role.AUDITOR, Role.CITY_ADMIN)]
    filterset_class = AuditEventFilter

    def get_queryset(self):
        return audit_event_list(user=self.request.user)
