from django.http import FileResponse
from django.urls import reverse
from django.utils.translation import gettext as _
from drf_spectacular.utils import OpenApiParameter, extend_schema, inline_serializer
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import PermissionDenied
from rest_framework.response import Response

from accounts.permissions import AUDIT_LOG_READERS, api_roles
from accounts.selectors import audit_event_list
from beneficiaries.models import Programme
from core.api import AuditEventSerializer
from core.dbrouters import reading_from_replica
from core.jobs import queue_on_commit
from core.schema import CSV, INVALID, XLSX
from regions.models import Region

from . import indicators, services, statistics, tasks
from .filters import AuditEventFilter
from .models import Export
from .selectors import MONTH_PATTERN, report_month, report_region, report_year


class AuditEventViewSet(viewsets.ReadOnlyModelViewSet):
    """The audit log, scoped to the caller's jurisdiction. Auditors only (三员分立)."""

    serializer_class = AuditEventSerializer
    permission_classes = [api_roles(*AUDIT_LOG_READERS)]
    filterset_class = AuditEventFilter

    def get_queryset(self):
        return audit_event_list(user=self.request.user)


class ExportRequestSerializer(serializers.Serializer):
    register = serializers.ChoiceField(Export.Register.choices)
    format = serializers.ChoiceField(Export.Format.choices)
    region = serializers.CharField(max_length=12)
    programme = serializers.ChoiceField(Programme.choices, required=False, allow_blank=True)
    # "from" and "to" are Python keywords: declared below under their wire names.
    full_identifiers = serializers.BooleanField(required=False, default=False)
    per_member = serializers.BooleanField(required=False, default=False)
    purpose = serializers.CharField(required=False, allow_blank=True, default="", max_length=200)

    def get_fields(self):
        fields = super().get_fields()
        fields["from"] = serializers.DateField(required=False, allow_null=True)
        fields["to"] = serializers.DateField(required=False, allow_null=True)
        return fields


class ExportSerializer(serializers.ModelSerializer):
    region = serializers.CharField(source="region.code")
    download = serializers.SerializerMethodField()

    class Meta:
        model = Export
        fields = [
            "id",
            "register",
            "format",
            "region",
            "programme",
            "per_member",
            "status",
            "rows",
            "progress",
            "download",
            "created_at",
            "expires_at",
        ]

    def get_download(self, export) -> str | None:
        if export.status != Export.Status.DONE:
            return None
        return reverse("api:export-download", args=[export.pk])


class ExportViewSet(mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    """Register exports (台账导出): ask for one (202, written in the background), follow it,
    download it. Each user sees only their own exports."""

    serializer_class = ExportSerializer
    permission_classes = [api_roles(*services.EXPORTERS)]

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return Export.objects.none()
        return Export.objects.filter(requested_by=self.request.user).select_related("region")

    @extend_schema(request=ExportRequestSerializer, responses={202: ExportSerializer})
    def create(self, request):
        data = ExportRequestSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        values = data.validated_data
        region = Region.objects.filter(code=values["region"]).first()
        if region is None:
            raise PermissionDenied(_("The region is outside your jurisdiction."))
        export = services.export_request(
            actor=request.user,
            register=values["register"],
            fmt=values["format"],
            region=region,
            programme=values.get("programme", ""),
            date_from=values.get("from"),
            date_to=values.get("to"),
            full_identifiers=values["full_identifiers"],
            per_member=values["per_member"],
            purpose=values["purpose"],
        )
        queue_on_commit(tasks.export_run, export.pk)
        return Response(ExportSerializer(export).data, status=status.HTTP_202_ACCEPTED)

    @extend_schema(responses={(200, CSV): bytes, (200, XLSX): bytes, 400: INVALID})
    @action(detail=True, methods=["get"])
    def download(self, request, pk=None):
        """The finished file (requester only, until it expires)."""
        export = self.get_object()
        handle = services.export_open(actor=request.user, export=export)
        response = FileResponse(handle, as_attachment=True, filename=download_name(export))
        response["Cache-Control"] = "no-store"
        return response


def download_name(export: Export) -> str:
    return (
        f"{export.get_register_display()}-{export.region.name}-"
        f"{export.created_at:%Y%m%d%H%M}.{export.format}"
    )


class RegionQuery(serializers.Serializer):
    region = serializers.CharField(
        required=False, allow_blank=True, default="", help_text="12-digit region code"
    )


def _region(request):
    query = RegionQuery(data=request.query_params)
    query.is_valid(raise_exception=True)
    return report_region(user=request.user, code=query.validated_data["region"])


class ReportViewSet(viewsets.ViewSet):
    """The monthly statistics return (民政统计月报) and the 绩效评价 indicators, read from the
    replica when there is one (core.dbrouters)."""

    permission_classes = [api_roles(*services.STATISTICS_READERS)]

    @extend_schema(
        parameters=[
            RegionQuery,
            OpenApiParameter(
                "month",
                str,
                pattern=MONTH_PATTERN,
                description="YYYY-MM (default: the latest month paid, else last month)",
            ),
        ],
        responses={200: dict, 400: INVALID},
    )
    @action(detail=False, methods=["get"])
    def statistics(self, request):
        """Per block (低保 and 特困 urban and rural, 临时救助): households, persons this month
        and cumulative this year, persons by group, spending, averages and the standard."""
        with reading_from_replica():
            region = _region(request)
            month = report_month(request.query_params.get("month", ""), region)
            return Response(statistics.return_for(region, month))

    @extend_schema(
        parameters=[
            RegionQuery,
            OpenApiParameter(
                "year",
                {"type": "integer", "minimum": 2000, "maximum": 2100},
                description="default: this year",
            ),
        ],
        responses={
            200: inline_serializer(
                "DistrictIndicators",
                {
                    "district": serializers.CharField(),
                    "district_name": serializers.CharField(),
                    "indicators": serializers.ListField(child=serializers.DictField()),
                },
                many=True,
            ),
            400: INVALID,
        },
    )
    @action(detail=False, methods=["get"])
    def indicators(self, request):
        """One entry per district in the region, ranked across the city, each indicator with
        its value, numerator, denominator and definition."""
        with reading_from_replica():
            region = _region(request)
            year = report_year(request.query_params.get("year", ""))
            return Response(indicators.indicators_for(region, year))
