"""/api/v1/entitlements/ and /api/v1/reviews/: who gets what, and the periodic reviews."""

import django_filters
from django.utils.translation import gettext as _
from drf_spectacular.utils import extend_schema
from rest_framework import mixins, serializers, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import PermissionDenied
from rest_framework.response import Response

from accounts.permissions import ReadsCases
from beneficiaries.models import Entitlement, EntitlementChange
from core.schema import CONFLICT

from . import selectors, services
from .models import Review


class EntitlementChangeSerializer(serializers.ModelSerializer):
    class Meta:
        model = EntitlementChange
        fields = ["kind", "effective_month", "old_value", "new_value", "cause", "created_at"]


class EntitlementSerializer(serializers.ModelSerializer):
    household_number = serializers.CharField(source="household.number", read_only=True)

    class Meta:
        model = Entitlement
        fields = [
            "id",
            "household",
            "household_number",
            "programme",
            "monthly_amount",
            "components",
            "klass",
            "class_overridden",
            "start_month",
            "end_month",
            "next_review",
            "status",
            "source",
            "approved_at",
        ]


class EntitlementFilter(django_filters.FilterSet):
    region_code = django_filters.CharFilter(
        field_name="household__region__code", lookup_expr="startswith"
    )
    review_before = django_filters.DateFilter(field_name="next_review", lookup_expr="lte")

    class Meta:
        model = Entitlement
        fields = ["status", "programme", "klass", "region_code", "review_before"]


class EntitlementViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    """Who gets what, in the caller's jurisdiction (read-only: approvals and reviews change
    entitlements)."""

    permission_classes = [ReadsCases]

    serializer_class = EntitlementSerializer
    filterset_class = EntitlementFilter

    def get_queryset(self):
        return selectors.entitlement_list(user=self.request.user).order_by("id")

    @extend_schema(responses={200: EntitlementChangeSerializer(many=True)})
    @action(detail=True, methods=["get"], pagination_class=None, filter_backends=[])
    def history(self, request, pk=None):
        """Every change of class, amount, status and review date, oldest first."""
        entitlement = self.get_object()
        return Response(EntitlementChangeSerializer(entitlement.changes.all(), many=True).data)


class ReviewSerializer(serializers.ModelSerializer):
    household_number = serializers.CharField(source="entitlement.household.number", read_only=True)
    township_code = serializers.CharField(source="township.code", read_only=True)

    class Meta:
        model = Review
        fields = [
            "id",
            "entitlement",
            "household_number",
            "township_code",
            "kind",
            "opened_at",
            "due",
            "reported_change",
            "status",
            "visited_on",
            "findings",
            "outcome",
            "new_amount",
            "new_class",
            "reason",
            "decided_at",
            "version",
        ]


class DecideSerializer(serializers.Serializer):
    version = serializers.IntegerField()
    outcome = serializers.ChoiceField(Review.Outcome.choices)
    reason = serializers.CharField(required=False, allow_blank=True, default="")
    new_amount = serializers.DecimalField(
        max_digits=10, decimal_places=2, required=False, allow_null=True, default=None
    )
    new_class = serializers.ChoiceField(
        Entitlement.Klass.choices, required=False, allow_blank=True, default=""
    )


class ReviewFilter(django_filters.FilterSet):
    region_code = django_filters.CharFilter(
        field_name="entitlement__household__region__code", lookup_expr="startswith"
    )
    due_before = django_filters.DateFilter(field_name="due", lookup_expr="lte")

    class Meta:
        model = Review
        fields = ["status", "kind", "region_code", "due_before"]


class ReviewViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    """Periodic and reported-change reviews in the caller's jurisdiction."""

    permission_classes = [ReadsCases]
    write_roles = {"decide": services.DECIDERS}

    serializer_class = ReviewSerializer
    filterset_class = ReviewFilter

    def get_queryset(self):
        return selectors.review_list(user=self.request.user).order_by("due", "id")

    @extend_schema(request=DecideSerializer, responses={200: ReviewSerializer, 409: CONFLICT})
    @action(detail=True, methods=["post"])
    def decide(self, request, pk=None):
        """Decide the review (the same checks as the page): continue, adjust, suspend or
        terminate. 409 when someone else acted first."""
        review = self.get_object()
        if request.user.role not in services.DECIDERS:
            raise PermissionDenied(
                _("Only the township reviewer or the district approver decides.")
            )
        data = DecideSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        values = data.validated_data
        review = services.review_decide(
            actor=request.user,
            review=review,
            expected_version=values["version"],
            outcome=values["outcome"],
            reason=values["reason"],
            new_amount=values["new_amount"],
            new_class=values["new_class"],
        )
        return Response(ReviewSerializer(review).data)
