from django.db.models import Q, QuerySet

from accounts.scoping import jurisdiction_prefix
from core.models import AuditEvent
from regions.models import Region


def audit_event_list(*, user) -> QuerySet:
    """Audit events in the user's jurisdiction. City-wide events (policy data, calendar,
    unknown usernames) carry no region and are shown at city level only."""
    prefix = jurisdiction_prefix(user)
    if prefix is None:
        return AuditEvent.objects.none()
    visible = Q(region_code__startswith=prefix)
    if user.jurisdiction.level == Region.Level.CITY:
        visible |= Q(region_code="")
    return AuditEvent.objects.filter(visible)
