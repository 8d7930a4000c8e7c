"""The residents' API (no login): the same lookups, standards and self-check as the pages."""

from __future__ import annotations

from django.utils.translation import gettext as _
from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_field
from rest_framework import serializers, status
from rest_framework.permissions import AllowAny
from rest_framework.response import Response
from rest_framework.views import APIView

from core import ratelimit
from core.schema import NOT_FOUND, TOO_MANY
from regions.models import Region

from . import lookups, selfcheck, services
from .forms import YUAN
from .standards import standards_of


class _Public(APIView):
    authentication_classes: list = []  # anonymous: no session, so no CSRF to present
    permission_classes = [AllowAny]

    def finalize_response(self, request, response, *args, **kwargs):
        response = super().finalize_response(request, response, *args, **kwargs)
        response["Cache-Control"] = "no-store"  # nothing on the way keeps an answer
        return response


@extend_schema_field(
    {"type": "string", "pattern": r"^ *(?:[0-9] *){5}[0-9Xx] *$", "maxLength": 8},
)
class _TailField(serializers.CharField):
    """The last six characters of an ID number; spaces are ignored, x is X."""


class _Tail(serializers.Serializer):
    id_tail = _TailField(max_length=8)

    def validate_id_tail(self, value):
        tail = lookups.clean_tail(value)
        if not lookups.ID_TAIL.fullmatch(tail):
            raise serializers.ValidationError(
                _("Enter the last six characters: digits, or X at the end.")
            )
        return tail


class ProgressQuery(_Tail):
    receipt_number = serializers.CharField(max_length=24)


class PaymentsQuery(_Tail):
    household_number = serializers.CharField(max_length=20)


def _lookup(request, *, kind, query_class, key_field, find):
    query = query_class(data=request.data)
    query.is_valid(raise_exception=True)
    key = query.validated_data[key_field].strip()
    outcome, found = services.lookup(
        kind=kind,
        key=key,
        address=ratelimit.client_address(request),
        find=lambda: find(query.validated_data),
    )
    if outcome == "refused":
        return Response(
            {"detail": _("Too many lookups; please try again in an hour.")},
            status=status.HTTP_429_TOO_MANY_REQUESTS,
        )
    if found is None:
        # The same answer whether the number is unknown or the ID tail wrong.
        return Response({"detail": _("Nothing matches.")}, status=status.HTTP_404_NOT_FOUND)
    return Response(found)


class ProgressView(_Public):
    """办理进度查询: a case's steps by receipt number and the applicant's ID tail."""

    @extend_schema(request=ProgressQuery, responses={200: dict, 404: NOT_FOUND, 429: TOO_MANY})
    def post(self, request):
        return _lookup(
            request,
            kind="progress",
            query_class=ProgressQuery,
            key_field="receipt_number",
            find=lambda d: lookups.progress(d["receipt_number"], d["id_tail"]),
        )


class PaymentsView(_Public):
    """发放查询: a household's last 12 months of payments by household number and the head's
    ID tail."""

    @extend_schema(request=PaymentsQuery, responses={200: dict, 404: NOT_FOUND, 429: TOO_MANY})
    def post(self, request):
        return _lookup(
            request,
            kind="payments",
            query_class=PaymentsQuery,
            key_field="household_number",
            find=lambda d: lookups.payments(d["household_number"], d["id_tail"]),
        )


class StandardsView(_Public):
    """救助标准公开: a district's standards with their effective dates and history."""

    @extend_schema(
        parameters=[
            OpenApiParameter(
                "district", str, pattern=r"^[0-9]{12}$", description="12-digit district code"
            )
        ],
        responses={200: dict, 404: NOT_FOUND},
    )
    def get(self, request):
        code = request.query_params.get("district", "")
        district = (  # a code that is not 12 digits (or holds a NUL) names no district
            Region.objects.filter(code=code, level=Region.Level.DISTRICT).first()
            if code.isascii() and code.isdigit()
            else None
        )
        if district is None:
            return Response(
                {"detail": _("Give a district's 12-digit code.")},
                status=status.HTTP_404_NOT_FOUND,
            )
        return Response(
            {
                "district": district.code,
                "district_name": district.name,
                "standards": standards_of(district.code),
            }
        )


class SelfCheckQuery(serializers.Serializer):
    residence = serializers.ChoiceField(["urban", "rural"])
    district = serializers.CharField(max_length=12)
    household_size = serializers.IntegerField(min_value=1, max_value=12)
    wage = serializers.DecimalField(**YUAN)
    business = serializers.DecimalField(**YUAN)
    pension = serializers.DecimalField(**YUAN)
    support = serializers.DecimalField(**YUAN)
    other_income = serializers.DecimalField(**YUAN)
    deposits = serializers.DecimalField(**YUAN)
    vehicle = serializers.BooleanField(required=False, default=False)
    houses = serializers.BooleanField(required=False, default=False)
    company = serializers.BooleanField(required=False, default=False)
    medical_costs_12m = serializers.DecimalField(**YUAN)

    def validate_district(self, value):
        if not Region.objects.filter(code=value, level=Region.Level.DISTRICT).exists():
            raise serializers.ValidationError(_("Give a district's 12-digit code."))
        return value


class SelfCheckView(_Public):
    """自助测算: by the eligibility engine's rules; nothing is stored or logged."""

    @extend_schema(request=SelfCheckQuery, responses={200: dict})
    def post(self, request):
        query = SelfCheckQuery(data=request.data)
        query.is_valid(raise_exception=True)
        answer = selfcheck.check(selfcheck.answers_from(query.validated_data))
        district = Region.objects.get(code=query.validated_data["district"])
        answer["window"] = selfcheck.window_of(district)
        return Response(answer)
