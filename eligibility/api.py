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
from beneficiaries.models import Asset, Expenditure, IncomeItem, Member

from . import rules
from .models import Programme, TemporaryRate
from .services import assessment_preview

MONEY = {"max_digits": 14, "decimal_places": 2, "min_value": Decimal("0")}


class IncomeIn(serializers.Serializer):
    type = serializers.ChoiceField(choices=IncomeItem.Type.choices)
    monthly_amount = serializers.DecimalField(**MONEY)


# Choice sets of their own (named in settings.SPECTACULAR_SETTINGS["ENUM_NAME_OVERRIDES"]).
DISABILITY_KINDS = [c for c in Member.Disability.choices if c[0]]
RECORDED_CAPACITIES = [c for c in Member.Labour.choices if c[0]]


class DisabilityIn(serializers.Serializer):
    kind = serializers.ChoiceField(choices=DISABILITY_KINDS)
    grade = serializers.IntegerField(min_value=1, max_value=4)


class MemberIn(serializers.Serializer):
    id_number = serializers.CharField(required=False, allow_blank=True, default="")
    relation = serializers.ChoiceField(choices=Member.Relation.choices, default="other")
    lives_with_household = serializers.BooleanField(
        default=True, help_text="Deprecated: give absence_reason instead."
    )
    absence_reason = serializers.ChoiceField(
        choices=Member.Absence.choices,
        required=False,
        allow_blank=True,
        default="",
        help_text="Why the member lives away; omitted: lives with the household.",
    )
    absence_counted = serializers.BooleanField(
        required=False,
        allow_null=True,
        default=None,
        help_text='For "other": the township reviewer\'s decision whether the member counts.',
    )
    labour_capacity = serializers.ChoiceField(
        choices=RECORDED_CAPACITIES,
        required=False,
        allow_blank=True,
        default="",
        help_text="A reviewer's finding; omitted: derived from age and disability.",
    )
    disability = DisabilityIn(required=False, allow_null=True, default=None)
    serious_illness = serializers.BooleanField(default=False)
    self_care = serializers.ChoiceField(choices=Member.SelfCare.choices, default="capable")
    employment = serializers.ChoiceField(
        choices=Member.Employment.choices, required=False, allow_blank=True, default=""
    )
    studying_abroad_self_funded = serializers.BooleanField(default=False)
    works_without_income_proof = serializers.BooleanField(default=False)
    job_referrals_refused = serializers.IntegerField(
        min_value=0, default=0, help_text="Job referrals refused without good reason."
    )
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
    built_or_bought_on = serializers.DateField(required=False, allow_null=True, default=None)
    luxury_renovation = serializers.BooleanField(default=False)
    exempt_reason = serializers.ChoiceField(
        choices=Asset.Exemption.choices, required=False, allow_blank=True, default=""
    )


class ExpenditureIn(serializers.Serializer):
    type = serializers.ChoiceField(
        choices=[c for c in Expenditure.Type.choices if c[0] != Expenditure.Type.RENT]
    )
    annual_amount = serializers.DecimalField(**MONEY)


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
    expenditures = ExpenditureIn(
        many=True,
        required=False,
        default=list,
        help_text="Self-paid rigid costs with evidence over the last 12 months.",
    )
    employs_others = serializers.BooleanField(default=False)
    single_member = serializers.CharField(
        required=False,
        allow_blank=True,
        default="",
        help_text="单人保: the ID number of the member assessed alone (低保 only).",
    )

    def validate_single_member(self, value):
        if not value:
            return ""
        try:
            return idnumber.parse(value, today=timezone.localdate()).number
        except Exception as exc:
            raise serializers.ValidationError(getattr(exc, "messages", [str(exc)])[0]) from None

    def validate(self, data):
        if data["programme"] == "temporary" and not data.get("hardship"):
            raise serializers.ValidationError({"hardship": _("Required for temporary assistance.")})
        if data["single_member"] and data["programme"] != "dibao":
            raise serializers.ValidationError(
                {"single_member": _("Only 低保 can be granted to one member alone (单人保).")}
            )
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
                    lives_with_household=m["lives_with_household"] and not m["absence_reason"],
                    absence_reason=m["absence_reason"],
                    absence_counted=m["absence_counted"],
                    labour_capacity=m["labour_capacity"],
                    disability_type=(m["disability"] or {}).get("kind", ""),
                    disability_grade=(m["disability"] or {}).get("grade"),
                    serious_illness=m["serious_illness"],
                    self_care=m["self_care"],
                    employment=m["employment"],
                    studying_abroad_self_funded=m["studying_abroad_self_funded"],
                    works_without_income_proof=m["works_without_income_proof"],
                    job_referrals_refused=m["job_referrals_refused"],
                    incomes=tuple(
                        rules.Income(i["type"], i["monthly_amount"]) for i in m["incomes"]
                    ),
                )
                for m in data["members"]
            ),
            assets=tuple(
                rules.Asset(
                    a["type"],
                    a["value"],
                    a["area"],
                    a["count"],
                    a["built_or_bought_on"],
                    a["luxury_renovation"],
                    a["exempt_reason"],
                )
                for a in data["assets"]
            ),
            hardship=rules.Hardship(
                hardship["type"], hardship["applicant_class"], hardship["expense"]
            )
            if hardship
            else None,
            rigid_spending_12m=data.get("rigid_spending_12m"),
            non_essential_purchases_6m=data.get("non_essential_purchases_6m"),
            expenditures=tuple(
                rules.Expenditure(e["type"], e["annual_amount"]) for e in data["expenditures"]
            ),
            employs_others=data["employs_others"],
            single_member=data["single_member"],
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
        "deducted_expenditure_per_capita": serializers.CharField(allow_null=True),
        "suggested_class": serializers.ChoiceField(choices=["A", "B", "C"], allow_null=True),
        "recommendation": serializers.DictField(allow_null=True),
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
