"""POST /api/v1/eligibility/assess/: the means test and amounts for a described household.
Writes nothing; later issues store assessments with their cases."""

from decimal import Decimal

from django.utils import timezone
from django.utils.translation import gettext as _
from drf_spectacular.utils import OpenApiExample, extend_schema, inline_serializer
from rest_framework import serializers
from rest_framework.response import Response
from rest_framework.views import APIView

from beneficiaries import idnumber
from beneficiaries.models import Asset, IncomeItem, Member

from . import rules
from .models import Programme, TemporaryRate
from .services import assessment_preview

MONEY = {"max_digits": 14, "decimal_places": 2, "min_value": Decimal("0")}


class IncomeIn(serializers.Serializer):
    type = serializers.ChoiceField(choices=IncomeItem.Type.choices)
    monthly_amount = serializers.DecimalField(**MONEY)


class MemberIn(serializers.Serializer):
    id_number = serializers.CharField(required=False, allow_blank=True, default="")
    relation = serializers.ChoiceField(choices=Member.Relation.choices, default="other")
    lives_with_household = serializers.BooleanField(default=True)
    labour_capacity = serializers.ChoiceField(choices=Member.Labour.choices, default="full")
    self_care = serializers.ChoiceField(choices=Member.SelfCare.choices, default="capable")
    incomes = IncomeIn(many=True, required=False, default=list)

    def validate_id_number(self, value):
        if not value:
            return ""
        try:
            return idnumber.parse(value, today=timezone.localdate()).number
        except Exception as exc:
            raise serializers.ValidationError(getattr(exc, "messages", [str(exc)])[0]) from None


class AssetIn(serializers.Serializer):
    type = serializers.ChoiceField(choices=Asset.Type.choices)
    value = serializers.DecimalField(**MONEY, default=Decimal("0"))
    area = serializers.DecimalField(
        max_digits=8,
        decimal_places=2,
        min_value=Decimal("0"),
        required=False,
        allow_null=True,
        default=None,
    )
    count = serializers.IntegerField(min_value=1, default=1)


class HardshipIn(serializers.Serializer):
    type = serializers.ChoiceField(choices=TemporaryRate.Hardship.choices)
    applicant_class = serializers.ChoiceField(choices=TemporaryRate.ApplicantClass.choices)
    expense = serializers.DecimalField(**MONEY, required=False, allow_null=True, default=None)


class AssessIn(serializers.Serializer):
    programme = serializers.ChoiceField(choices=Programme.choices)
    residence = serializers.ChoiceField(choices=[("urban", "urban"), ("rural", "rural")])
    as_of = serializers.DateField()
    district_code = serializers.RegexField(r"^\d{6}$", required=False, default="")
    members = MemberIn(many=True, allow_empty=False)
    assets = AssetIn(many=True, required=False, default=list)
    hardship = HardshipIn(required=False, allow_null=True, default=None)
    non_essential_purchases_6m = serializers.DecimalField(
        **MONEY,
        required=False,
        allow_null=True,
        default=None,
        help_text="Non-essential purchases over the last six months, yuan.",
    )
    rigid_spending_12m = serializers.DecimalField(
        **MONEY, required=False, allow_null=True, default=None
    )

    def validate(self, data):
        if data["programme"] == "temporary" and not data.get("hardship"):
            raise serializers.ValidationError({"hardship": _("Required for temporary assistance.")})
        return data

    def to_case(self) -> rules.Case:
        data = self.validated_data
        hardship = data.get("hardship")
        return rules.Case(
            programme=data["programme"],
            residence=data["residence"],
            as_of=data["as_of"],
            district_code=data["district_code"],
            members=tuple(
                rules.Person(
                    id_number=m["id_number"],
                    relation=m["relation"],
                    lives_with_household=m["lives_with_household"],
                    labour_capacity=m["labour_capacity"],
                    self_care=m["self_care"],
                    incomes=tuple(
                        rules.Income(i["type"], i["monthly_amount"]) for i in m["incomes"]
                    ),
                )
                for m in data["members"]
            ),
            assets=tuple(
                rules.Asset(a["type"], a["value"], a["area"], a["count"]) for a in data["assets"]
            ),
            hardship=rules.Hardship(
                hardship["type"], hardship["applicant_class"], hardship["expense"]
            )
            if hardship
            else None,
            rigid_spending_12m=data.get("rigid_spending_12m"),
            non_essential_purchases_6m=data.get("non_essential_purchases_6m"),
        )


AssessOut = inline_serializer(
    "AssessOut",
    fields={
        "eligible": serializers.BooleanField(),
        "household_size": serializers.IntegerField(),
        "counted_income_per_capita": serializers.CharField(allow_null=True),
        "standard": serializers.CharField(),
        "monthly_amount": serializers.CharField(allow_null=True),
        "one_off_amount": serializers.CharField(allow_null=True),
        "components": serializers.ListField(child=serializers.DictField()),
        "findings": serializers.ListField(child=serializers.DictField()),
    },
)


class AssessView(APIView):
    """Who counts, what income counts, which property excludes, and the amount, with the
    reasons in Chinese. Money is a string with two decimals."""

    @extend_schema(
        request=AssessIn,
        responses=AssessOut,
        examples=[
            OpenApiExample(
                "低保, 3 members, 2017",
                request_only=True,
                value={
                    "programme": "dibao",
                    "residence": "urban",
                    "as_of": "2017-06-15",
                    "members": [
                        {
                            "relation": "head",
                            "labour_capacity": "full",
                            "incomes": [{"type": "wage", "monthly_amount": "900.00"}],
                        },
                        {"relation": "spouse"},
                        {"relation": "child"},
                    ],
                },
            )
        ],
    )
    def post(self, request):
        data = AssessIn(data=request.data)
        data.is_valid(raise_exception=True)
        result, _policy, _sources = assessment_preview(case=data.to_case())
        return Response(result.as_json())
