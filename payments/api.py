"""/api/v1/payrolls/ and /api/v1/households/{id}/payments/: the same services and selectors as
the pages."""

from __future__ import annotations

import datetime as dt

from django.http import FileResponse
from django.utils.translation import gettext as _
from drf_spectacular.utils import OpenApiParameter, extend_schema, inline_serializer
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import PermissionDenied
from rest_framework.generics import ListAPIView
from rest_framework.negotiation import DefaultContentNegotiation
from rest_framework.parsers import MultiPartParser
from rest_framework.response import Response

from accounts.models import Role
from beneficiaries import selectors as registry
from beneficiaries.models import Programme
from core.jobs import queue_on_commit
from core.schema import CONFLICT, CSV, INVALID, XLSX
from regions.models import Region

from . import bankfiles, selectors, services, tasks
from .models import Payroll, PayrollLine


class PayrollSerializer(serializers.ModelSerializer):
    district = serializers.CharField(source="district.code")
    month = serializers.SerializerMethodField()
    generated_by = serializers.CharField(source="generated_by.username")
    approved_by = serializers.CharField(source="approved_by.username", default=None)

    class Meta:
        model = Payroll
        fields = [
            "id",
            "district",
            "programme",
            "month",
            "status",
            "progress",
            "line_count",
            "total_amount",
            "generated_by",
            "approved_by",
            "approved_at",
            "exported_at",
            "reconciled_at",
            "version",
        ]

    def get_month(self, payroll) -> str:
        return f"{payroll.month:%Y-%m}"


class PayrollRequestSerializer(serializers.Serializer):
    district = serializers.CharField(max_length=12)
    programme = serializers.ChoiceField(Programme.choices)
    month = serializers.RegexField(r"^\d{4}-(0[1-9]|1[0-2])$")


class LineSerializer(serializers.ModelSerializer):
    household_number = serializers.CharField(source="household.number")
    month = serializers.SerializerMethodField()

    class Meta:
        model = PayrollLine
        fields = [
            "id",
            "reference",
            "household_number",
            "entitlement",
            "month",
            "amount",
            "kind",
            "status",
            "hold_reason",
            "failure_reason",
        ]

    def get_month(self, line) -> str:
        return f"{line.month:%Y-%m}"


class LineQuerySerializer(serializers.Serializer):
    status = serializers.ChoiceField(PayrollLine.Status.choices, required=False)
    q = serializers.CharField(
        required=False, allow_blank=True, help_text="Household number, 参考号 or payee's name."
    )


class ApproveSerializer(serializers.Serializer):
    version = serializers.IntegerField(required=False, allow_null=True, default=None)
    override_reason = serializers.CharField(required=False, allow_blank=True, default="")


class IgnoreFormatNegotiation(DefaultContentNegotiation):
    """``?format=csv|xlsx`` names the bank file's format, not a DRF renderer."""

    def select_renderer(self, request, renderers, format_suffix=None):
        return (renderers[0], renderers[0].media_type)


class PayrollViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    """Payrolls of the caller's district (the city's for city-wide roles)."""

    serializer_class = PayrollSerializer

    def get_queryset(self):
        return selectors.payroll_list(user=self.request.user).order_by("-month", "id")

    def check_permissions(self, request):
        super().check_permissions(request)
        if request.user.role not in selectors.PAYROLL_READERS:
            raise PermissionDenied(_("Your role does not see payrolls."))

    @extend_schema(
        request=PayrollRequestSerializer,
        responses={
            201: PayrollSerializer,
            409: inline_serializer(
                "PayrollExists",
                {
                    "detail": serializers.CharField(),
                    "code": serializers.CharField(),
                    "id": serializers.IntegerField(help_text="The payroll already asked for."),
                },
            ),
        },
    )
    def create(self, request):
        """Ask for a month's payroll (the district's funds officer); its lines are made in the
        background: poll the payroll until ``status`` is ``draft``."""
        if request.user.role != Role.DISTRICT_FINANCE:
            raise PermissionDenied(_("The district's funds officer makes the payroll."))
        data = PayrollRequestSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        values = data.validated_data
        district = Region.objects.filter(code=values["district"]).first()
        if district is None:
            raise PermissionDenied(_("Your role may not do this for this district."))
        month = dt.date.fromisoformat(values["month"] + "-01")
        try:
            payroll = services.payroll_request(
                actor=request.user, district=district, programme=values["programme"], month=month
            )
        except services.PayrollExists as exc:
            return Response(
                {"id": exc.payroll.pk, "detail": str(exc.message), "code": exc.code},
                status=status.HTTP_409_CONFLICT,
            )
        queue_on_commit(tasks.payroll_generate, payroll.pk)
        return Response(PayrollSerializer(payroll).data, status=status.HTTP_201_CREATED)

    @extend_schema(parameters=[LineQuerySerializer], responses={200: LineSerializer(many=True)})
    @action(detail=True, methods=["get"])
    def lines(self, request, pk=None):
        """The payroll's lines, filterable by ``status`` and ``q`` (household number)."""
        payroll = self.get_object()
        query = LineQuerySerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        qs = selectors.line_search(user=request.user, payroll=payroll, **query.validated_data)
        page = self.paginate_queryset(qs)
        return self.get_paginated_response(LineSerializer(page, many=True).data)

    @extend_schema(request=ApproveSerializer, responses={200: PayrollSerializer, 409: CONFLICT})
    @action(detail=True, methods=["post"])
    def approve(self, request, pk=None):
        """A district approver who did not generate it approves the draft."""
        payroll = self.get_object()
        data = ApproveSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        payroll = services.payroll_approve(
            actor=request.user,
            payroll=payroll,
            expected_version=data.validated_data["version"],
            override_reason=data.validated_data["override_reason"],
        )
        return Response(PayrollSerializer(payroll).data)

    @extend_schema(
        parameters=[OpenApiParameter("format", enum=["csv", "xlsx"], default="csv")],
        responses={
            (200, CSV): bytes,
            (200, XLSX): bytes,
            400: INVALID,
            409: CONFLICT,
        },
    )
    @action(
        detail=True,
        methods=["get"],
        url_path="bank-file",
        content_negotiation_class=IgnoreFormatNegotiation,
    )
    def bank_file(self, request, pk=None):
        """The bank file (made on first request; 409 before approval)."""
        payroll = self.get_object()
        fmt = request.query_params.get("format", "csv")
        bank_file = services.payroll_export(actor=request.user, payroll=payroll, fmt=fmt)
        return _file_response(request.user, bank_file)

    @extend_schema(
        request={
            "multipart/form-data": {
                "type": "object",
                "properties": {"file": {"type": "string", "format": "binary"}},
            }
        },
        responses={
            200: inline_serializer(
                "BankResultCounts",
                {
                    "paid": serializers.IntegerField(),
                    "failed": serializers.IntegerField(),
                    "unknown": serializers.IntegerField(),
                    "refused": serializers.IntegerField(),
                    "report": serializers.ListField(child=serializers.DictField()),
                    "status": serializers.CharField(),
                },
            ),
            409: CONFLICT,
        },
    )
    @action(detail=True, methods=["post"], url_path="bank-result", parser_classes=[MultiPartParser])
    def bank_result(self, request, pk=None):
        """Import the bank's result file (CSV or XLSX)."""
        payroll = self.get_object()
        if request.user.role != Role.DISTRICT_FINANCE:
            raise PermissionDenied(_("The district's funds officer imports the bank's result."))
        upload = request.FILES.get("file")
        if upload is None:
            return Response({"file": [_("Attach the bank's result file.")]}, status=400)
        result = services.payroll_result_import(
            actor=request.user, payroll=payroll, upload=upload, name=upload.name
        )
        payroll.refresh_from_db()
        return Response(
            {
                "paid": result.paid,
                "failed": result.failed,
                "unknown": result.unknown,
                "refused": result.refused,
                "report": result.report,
                "status": payroll.status,
            }
        )


def _file_response(user, bank_file):
    handle = services.bank_file_download(actor=user, bank_file=bank_file)
    response = FileResponse(handle, as_attachment=True, filename=bankfiles.download_name(bank_file))
    response["X-Content-SHA256"] = bank_file.sha256
    response["Cache-Control"] = "no-store"
    return response


class HouseholdPaymentsView(ListAPIView):
    """A household's payments, newest first."""

    serializer_class = LineSerializer

    def get_queryset(self):
        user = self.request.user
        if getattr(self, "swagger_fake_view", False):
            return PayrollLine.objects.none()
        if user.role not in selectors.HOUSEHOLD_READERS:
            raise PermissionDenied(_("Your role does not see payments."))
        household = registry.household_get_for_user(user=user, pk=self.kwargs["pk"])
        return selectors.household_payments(user=user, household=household)
