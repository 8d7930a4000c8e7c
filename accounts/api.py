import django_filters
from drf_spectacular.utils import extend_schema
from rest_framework import serializers, viewsets
from rest_framework.response import Response
from rest_framework.views import APIView

from regions.models import Region

from .models import User
from .selectors import region_list


class RegionSerializer(serializers.ModelSerializer):
    parent_code = serializers.CharField(source="parent.code", read_only=True, default=None)

    class Meta:
        model = Region
        fields = ["id", "code", "name", "level", "parent_code", "is_active", "is_demo"]


class RegionFilter(django_filters.FilterSet):
    parent_code = django_filters.CharFilter(field_name="parent__code")

    class Meta:
        model = Region
        fields = ["level", "is_active", "parent_code"]


class RegionViewSet(viewsets.ReadOnlyModelViewSet):
    """Regions inside the caller's jurisdiction."""

    serializer_class = RegionSerializer
    filterset_class = RegionFilter

    def get_queryset(self):
        return region_list(user=self.request.user)


class MeSerializer(serializers.ModelSerializer):
    jurisdiction = RegionSerializer(read_only=True)

    class Meta:
        model = User
        fields = ["id", "username", "full_name", "role", "jurisdiction"]


class MeView(APIView):
    """The caller: role and jurisdiction."""

    @extend_schema(responses=MeSerializer)
    def get(self, request):
        return Response(MeSerializer(request.user).data)
