"""Filters shared by the audit log's readers (the audit log, the security events)."""

import django_filters
from django import forms
from django.utils.translation import gettext_lazy as _

from .models import AuditEvent


class AuditEventFilter(django_filters.FilterSet):
    occurred_from = django_filters.DateFilter(
        field_name="occurred_at",
        lookup_expr="date__gte",
        label=_("From"),
        widget=forms.DateInput(attrs={"type": "date"}),
    )
    occurred_to = django_filters.DateFilter(
        field_name="occurred_at",
        lookup_expr="date__lte",
        label=_("To"),
        widget=forms.DateInput(attrs={"type": "date"}),
    )
    action = django_filters.ChoiceFilter(choices=AuditEvent.Action.choices, label=_("Action"))
    actor = django_filters.CharFilter(field_name="actor_name", label=_("Actor username"))
    object_id = django_filters.CharFilter(field_name="object_id", label=_("Record id"))

    class Meta:
        model = AuditEvent
        fields = []
