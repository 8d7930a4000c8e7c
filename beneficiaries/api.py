"""/api/v1/households/: list, retrieve, create, update, with members nested. The same
services and selectors as the pages; errors come back as 400/403/404/409 with field paths."""

from django.utils import timezone
from django.utils.translation import gettext as _
from drf_spectacular.utils import extend_schema, extend_schema_view
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.exceptions import PermissionDenied
from rest_framework.response import Response

from accounts.permissions import ReadsCases
from accounts.selectors import region_list
from core.exceptions import ValidationFailed
from core.schema import CONFLICT
from regions.models import Region

from . import idnumber, selectors, services
from .models import Household, Member

FLAGS = ("poverty_registered", "marginal", "separately_registered")


class MemberSerializer(serializers.ModelSerializer):
    id = serializers.IntegerField(required=False, allow_null=True)
    # Typed as people type it (spaces, hyphens, full-width digits): normalised, then checked.
    id_number = serializers.CharField(max_length=40)
    move_reason = serializers.CharField(
        required=False,
        write_only=True,
        max_length=200,
        help_text="For a person registered in another household: move them in with this reason.",
    )

    class Meta:
        model = Member
        fields = ["id", *services.MEMBER_FIELDS, "sex", "birth_date", "self_care", "move_reason"]
        read_only_fields = ["sex", "birth_date", "self_care"]

    def validate_id_number(self, value):
        try:
            return idnumber.parse(idnumber.normalize(value), today=timezone.localdate()).number
        except Exception as exc:  # django ValidationError → DRF error with the same message
            raise serializers.ValidationError(getattr(exc, "messages", [str(exc)])[0]) from None

    def to_representation(self, instance):
        data = super().to_representation(instance)
        if not self.context.get("full_personal_data"):
            data["id_number"] = idnumber.mask(instance.id_number)
        return data


class HouseholdSerializer(serializers.ModelSerializer):
    region_code = serializers.CharField(source="region.code", max_length=12)
    members = serializers.SerializerMethodField()
    version = serializers.IntegerField(
        read_only=True, help_text="Send it back with an update (409 when someone saved since)."
    )
    # Masked but for the last four characters unless the caller sees full data (see
    # to_representation), so no pattern of the stored value applies.
    phone = serializers.CharField(read_only=True)
    bank_account_number = serializers.CharField(read_only=True)

    class Meta:
        model = Household
        fields = [
            "id",
            "number",
            "region_code",
            *services.HOUSEHOLD_FIELDS,
            "head_id",
            "version",
            "created_at",
            "updated_at",
            "members",
        ]
        read_only_fields = ["number", "head_id", "created_at", "updated_at"]

    @extend_schema(responses=MemberSerializer(many=True))
    def get_members(self, household) -> list:
        members = getattr(household, "current_members", None)
        if members is None:
            members = [m for m in household.members.all() if m.is_current]
        # One member serializer for the whole list: building its fields again for each of 50
        # households was most of a page's time.
        if getattr(self, "_member_serializer", None) is None:
            self._member_serializer = MemberSerializer(context=self.context)
        return [self._member_serializer.to_representation(m) for m in members]

    def to_representation(self, instance):
        data = super().to_representation(instance)
        if not self.context.get("full_personal_data"):
            for field in ("phone", "bank_account_number"):
                value = data.get(field) or ""
                data[field] = "*" * max(len(value) - 4, 3) + value[-4:] if value else ""
        return data


class RemovalSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    reason = serializers.ChoiceField(choices=Member.LeaveReason.choices)


class HouseholdWriteSerializer(HouseholdSerializer):
    # The model's own fields, with their checks (the output's masked strings are not input).
    phone = None
    bank_account_number = None
    members = MemberSerializer(many=True)
    removed_members = RemovalSerializer(
        many=True,
        required=False,
        write_only=True,
        help_text="Current members left out of ``members``, each with why they leave.",
    )

    class Meta(HouseholdSerializer.Meta):
        fields = [*HouseholdSerializer.Meta.fields, "removed_members"]

    def validate_region_code(self, code):
        region = (
            region_list(user=self.context["request"].user)
            .filter(code=code, level=Region.Level.VILLAGE)
            .first()
        )
        if region is None:
            raise serializers.ValidationError(_("Not a village in your jurisdiction."))
        return region


class HouseholdUpdateSerializer(HouseholdWriteSerializer):
    version = serializers.IntegerField(
        help_text="The version you read; 409 when someone saved in between."
    )

    class Meta(HouseholdWriteSerializer.Meta):
        # A PATCH sends what changed, and always the version it read (core.schema documents
        # this; validate enforces it, as DRF checks no required field of a partial update).
        partial_required = ["version"]

    def validate(self, data):
        if "version" not in data:
            raise ValidationFailed([("version", _("Send the version you read."))])
        return super().validate(data)


class HouseholdQuerySerializer(serializers.Serializer):
    name = serializers.CharField(required=False, help_text="Start of a member's name.")
    id_number = serializers.CharField(required=False, help_text="The full 18-character ID number.")
    number = serializers.CharField(required=False, help_text="Household number.")
    phone = serializers.CharField(required=False)
    region_code = serializers.CharField(required=False, help_text="Region code (any level).")
    residence_type = serializers.ChoiceField(choices=["urban", "rural"], required=False)
    poverty_registered = serializers.BooleanField(required=False, default=None, allow_null=True)
    marginal = serializers.BooleanField(required=False, default=None, allow_null=True)
    separately_registered = serializers.BooleanField(required=False, default=None, allow_null=True)


@extend_schema_view(
    list=extend_schema(parameters=[HouseholdQuerySerializer]),
    partial_update=extend_schema(
        request=HouseholdUpdateSerializer, responses={200: HouseholdSerializer, 409: CONFLICT}
    ),
)
class HouseholdViewSet(
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.CreateModelMixin,
    mixins.UpdateModelMixin,
    viewsets.GenericViewSet,
):
    """Households in the caller's jurisdiction, members nested. Lists mask ID numbers, phones
    and bank accounts; retrieving one shows them in full to the roles that need them, and
    that view is recorded in the audit log. Updates need the ``version`` you read (409 when
    someone saved in between)."""

    permission_classes = [ReadsCases]
    write_roles = dict.fromkeys(("create", "update", "partial_update"), services.WRITE_ROLES)

    serializer_class = HouseholdSerializer
    filter_backends = []

    def get_serializer_class(self):
        if self.action in ("update", "partial_update"):
            return HouseholdUpdateSerializer
        if self.action == "create":
            return HouseholdWriteSerializer
        return HouseholdSerializer

    def get_queryset(self):
        if self.action == "list":
            query = HouseholdQuerySerializer(data=self.request.query_params)
            query.is_valid(raise_exception=True)
            params = {k: v for k, v in query.validated_data.items() if k not in FLAGS}
            flags = [f for f in FLAGS if query.validated_data.get(f)]
            return selectors.household_list(
                user=self.request.user, flags=flags, **params
            ).prefetch_related("members")
        return (
            selectors.household_scope(user=self.request.user)
            .select_related("region")
            .prefetch_related("members")
        )

    def retrieve(self, request, *args, **kwargs):
        household = self.get_object()
        full = selectors.may_see_sensitive(request.user, household)
        if full:
            services.household_sensitive_view(actor=request.user, household=household)
        return Response(self._output(household, full=full))

    def _output(self, household, *, full: bool) -> dict:
        context = {**self.get_serializer_context(), "full_personal_data": full}
        return HouseholdSerializer(household, context=context).data

    @extend_schema(
        request=HouseholdWriteSerializer, responses={201: HouseholdSerializer, 409: CONFLICT}
    )
    def create(self, request, *args, **kwargs):
        serializer = HouseholdWriteSerializer(
            data=request.data, context=self.get_serializer_context()
        )
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        household = services.household_create(
            actor=request.user, region=data["region"]["code"], fields=data, members=_members(data)
        )
        services.household_sensitive_view(actor=request.user, household=household)
        return Response(self._output(household, full=True), status=status.HTTP_201_CREATED)

    @extend_schema(
        request=HouseholdUpdateSerializer, responses={200: HouseholdSerializer, 409: CONFLICT}
    )
    def update(self, request, *args, partial=False, **kwargs):
        household = self.get_object()
        if not services.can_write(request.user, household.region):
            raise PermissionDenied
        serializer = HouseholdUpdateSerializer(
            household, data=request.data, partial=partial, context=self.get_serializer_context()
        )
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        removed = {r["id"] for r in data.get("removed_members", [])}
        # Without a member list everyone stays but those removed (a death can be reported
        # alone).
        members = (
            _members(data)
            if "members" in data
            else [
                {"id": m.pk}
                for m in household.members.filter(is_current=True)
                if m.pk not in removed
            ]
        )
        household = services.household_update(
            actor=request.user,
            household=household,
            expected_version=data["version"],
            region=data.get("region", {}).get("code", household.region),
            fields={f: data.get(f, getattr(household, f)) for f in services.HOUSEHOLD_FIELDS},
            members=members,
            removals={r["id"]: r["reason"] for r in data.get("removed_members", [])},
        )
        services.household_sensitive_view(actor=request.user, household=household)
        return Response(self._output(household, full=True))


def _members(data) -> list[dict]:
    """Member rows for a service; for an existing member only the fields sent (the service
    keeps the stored values of the rest)."""
    return [dict(m) for m in data.get("members", [])]
