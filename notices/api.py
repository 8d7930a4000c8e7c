import django_filters
from django.utils import timezone
from rest_framework import mixins, permissions, serializers, viewsets

from regions.models import Region

from .models import Notice
from .selectors import PUBLIC_NOTICE_COLUMNS, PublicBoard, villages_under


class PublicNoticeSerializer(serializers.ModelSerializer):
    """Only what the public boards show: never an ID number, address, phone or health."""

    class Meta:
        model = Notice
        fields = list(PUBLIC_NOTICE_COLUMNS)


class PublicNoticeFilter(django_filters.FilterSet):
    region_code = django_filters.CharFilter(method="in_region")

    class Meta:
        model = Notice
        fields = ["kind", "programme", "region_code"]

    def in_region(self, queryset, name, value):
        return queryset.filter(villages_under(Region.prefix_of_code(value)))


class PublicNoticeViewSet(mixins.ListModelMixin, viewsets.GenericViewSet):
    """Public notices (公示) currently up, as on the /gongshi/ pages. No login."""

    serializer_class = PublicNoticeSerializer
    filterset_class = PublicNoticeFilter
    permission_classes = [permissions.AllowAny]
    authentication_classes = []

    def get_queryset(self):
        return PublicBoard(timezone.localdate()).notices()
