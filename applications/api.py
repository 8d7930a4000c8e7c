"""/api/v1/applications/ and /api/v1/referrals/: list (filtered), retrieve, create; scoped."""

import django_filters
from drf_spectacular.utils import OpenApiParameter, extend_schema, inline_serializer
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import NotFound
from rest_framework.response import Response

from accounts.permissions import ReadsCases
from beneficiaries.models import Entitlement
from beneficiaries.selectors import household_get_for_user
from core.models import AuditEvent
from core.schema import CONFLICT, NOT_FOUND

from . import flows, selectors, services, workflow
from .models import (
    Application,
    Channel,
    Department,
    Material,
    Programme,
    Referral,
)


class ApplicationSerializer(serializers.ModelSerializer):
    household_number = serializers.CharField(source="household.number", read_only=True)
    township_code = serializers.CharField(source="township.code", read_only=True)
    missing_materials = serializers.SerializerMethodField()

    class Meta:
        model = Application
        fields = [
            "id",
            "number",
            "household",
            "household_number",
            "programme",
            "channel",
            "township_code",
            "received_at",
            "accepted_on",
            "materials_due",
            "decision_due",
            "status",
            "separately_registered",
            "step_due",
            "extended_reason",
            "proposed_amount",
            "proposed_class",
            "emergency",
            "paperwork_due",
            "spot_checked",
            "decision_reason",
            "letter_due",
            "refusal_proposed_at",
            "refusal_reason",
            "version",
            "missing_materials",
        ]

    def get_missing_materials(self, application) -> list[str]:
        return [m.material for m in application.materials.all() if m.required and not m.received]


class ReferralSerializer(serializers.ModelSerializer):
    household_number = serializers.CharField(source="household.number", read_only=True)
    department_name = serializers.CharField(source="department.name", read_only=True)

    class Meta:
        model = Referral
        fields = [
            "id",
            "household",
            "household_number",
            "kind",
            "department_name",
            "created_at",
            "due",
            "status",
            "reply",
            "replied_at",
        ]


class IntakeSerializer(serializers.Serializer):
    household = serializers.IntegerField()
    programmes = serializers.ListField(
        child=serializers.ChoiceField(Programme.choices), required=False, default=list
    )
    referrals = serializers.ListField(
        child=serializers.ChoiceField(Department.Kind.choices), required=False, default=list
    )
    channel = serializers.ChoiceField(Channel.choices, default=Channel.WINDOW)
    close_relative_declared = serializers.BooleanField(default=False)
    materials_received = serializers.ListField(
        child=serializers.ChoiceField(Material.choices), required=False, default=list
    )


class ApplicationFilter(django_filters.FilterSet):
    region_code = django_filters.CharFilter(
        field_name="household__region__code", lookup_expr="startswith"
    )
    received_from = django_filters.DateFilter(field_name="received_at", lookup_expr="date__gte")
    received_to = django_filters.DateFilter(field_name="received_at", lookup_expr="date__lte")

    class Meta:
        model = Application
        fields = ["status", "programme", "region_code", "received_from", "received_to"]


class ReferralFilter(django_filters.FilterSet):
    region_code = django_filters.CharFilter(
        field_name="household__region__code", lookup_expr="startswith"
    )
    due_before = django_filters.DateFilter(field_name="due", lookup_expr="lte")

    class Meta:
        model = Referral
        fields = ["status", "kind", "region_code", "due_before"]


class EventSerializer(serializers.ModelSerializer):
    actor = serializers.CharField(source="actor_name", read_only=True)

    class Meta:
        model = AuditEvent
        fields = ["occurred_at", "actor", "from_state", "to_state", "reason"]


class TransitionSerializer(serializers.Serializer):
    version = serializers.IntegerField(help_text="The version the caller last saw.")
    reason = serializers.CharField(required=False, allow_blank=True, default="")
    amount = serializers.DecimalField(max_digits=10, decimal_places=2, required=False)
    klass = serializers.ChoiceField(Entitlement.Klass.choices, required=False)
    opinion = serializers.CharField(required=False, allow_blank=True)
    override_reason = serializers.CharField(required=False, allow_blank=True)


def _intake(request):
    data = IntakeSerializer(data=request.data)
    data.is_valid(raise_exception=True)
    values = data.validated_data
    household = household_get_for_user(user=request.user, pk=values["household"], write=True)
    return services.application_intake(
        actor=request.user,
        household=household,
        programmes=values["programmes"],
        referrals=values["referrals"],
        channel=values["channel"],
        materials_received=set(values["materials_received"]),
        close_relative_declared=values["close_relative_declared"],
    )


class ApplicationViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    """Applications in the caller's jurisdiction. POST records one visit (一表登记): the
    applications and the referrals it creates are returned together."""

    permission_classes = [ReadsCases]
    write_roles = {"create": flows.WINDOW, "act": flows.ACTING_ROLES}

    serializer_class = ApplicationSerializer
    filterset_class = ApplicationFilter

    def get_queryset(self):
        return selectors.application_list(user=self.request.user).prefetch_related("materials")

    @extend_schema(
        request=IntakeSerializer,
        responses={
            201: inline_serializer(
                "Intake",
                {
                    "applications": ApplicationSerializer(many=True),
                    "referrals": ReferralSerializer(many=True),
                },
            ),
            404: NOT_FOUND,  # no such household in the caller's jurisdiction
        },
    )
    def create(self, request):
        result = _intake(request)
        return Response(
            {
                "applications": ApplicationSerializer(result.applications, many=True).data,
                "referrals": ReferralSerializer(result.referrals, many=True).data,
            },
            status=status.HTTP_201_CREATED,
        )

    @extend_schema(request=None, responses={200: EventSerializer(many=True)})
    @action(detail=True, methods=["get"], pagination_class=None, filter_backends=[])
    def events(self, request, pk=None):
        """The case's status changes, oldest first: who, when, from, to, why."""
        application = self.get_object()
        events = selectors.application_events(application=application)
        return Response(EventSerializer(events, many=True).data)

    @extend_schema(
        request=TransitionSerializer,
        responses={200: ApplicationSerializer, 409: CONFLICT},
        parameters=[
            OpenApiParameter(
                "step",
                str,
                OpenApiParameter.PATH,
                enum=sorted({a for (_s, a) in flows.TRANSITIONS} - flows.INTERNAL),
                description="The action of the transition table (applications/flows.py).",
            )
        ],
    )
    @action(detail=True, methods=["post"], url_path=r"actions/(?P<step>[a-z_]+)")
    def act(self, request, pk=None, step=None):
        """Move the case one step (the same checks as the pages: role, jurisdiction, state,
        the version the caller saw). 409 when someone else acted first."""
        if step in flows.INTERNAL:
            raise NotFound
        application = self.get_object()
        data = TransitionSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        values = dict(data.validated_data)
        version = values.pop("version")
        reason = values.pop("reason", "")
        application = workflow.transition(
            actor=request.user,
            application=application,
            action=step,
            expected_version=version,
            reason=reason,
            **{k: v for k, v in values.items() if v not in (None, "")},
        )
        return Response(ApplicationSerializer(application).data)


class ReferralViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    """Referrals to other departments in the caller's jurisdiction. POST records a visit
    asking only for other departments' help."""

    permission_classes = [ReadsCases]
    write_roles = {"create": flows.WINDOW}

    serializer_class = ReferralSerializer
    filterset_class = ReferralFilter

    def get_queryset(self):
        return selectors.referral_list(user=self.request.user)

    @extend_schema(
        request=IntakeSerializer,
        responses={201: ReferralSerializer(many=True), 404: NOT_FOUND},
    )
    def create(self, request):
        result = _intake(request)
        return Response(
            ReferralSerializer(result.referrals, many=True).data, status=status.HTTP_201_CREATED
        )
