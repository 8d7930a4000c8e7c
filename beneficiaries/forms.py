"""Forms check the shape of input only; the rules live in ``rules`` and ``services``."""

from django import forms
from django.core.exceptions import ValidationError
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from accounts.selectors import region_list
from core.widgets import QuickSelect
from regions.models import Region

from . import idnumber
from .models import Asset, Expenditure, Household, IncomeItem, JobReferral, Member
from .services import HOUSEHOLD_FIELDS, MEMBER_FIELDS


class VillageChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj):
        return f"{obj.parent.name} · {obj.name}" if obj.parent_id else obj.name


class HouseholdForm(forms.ModelForm):
    region = VillageChoiceField(queryset=Region.objects.none(), label=_("Village/community"))
    version = forms.IntegerField(widget=forms.HiddenInput, required=False)

    class Meta:
        model = Household
        fields = ["region", *HOUSEHOLD_FIELDS]
        widgets = {"address": forms.TextInput(attrs={"autocomplete": "off"})}

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["region"].queryset = (
            region_list(user=user)
            .filter(level=Region.Level.VILLAGE, is_active=True)
            .select_related("parent")
            .order_by("code")
        )
        if self.instance.pk:
            self.fields["version"].initial = self.instance.version


class MemberForm(forms.ModelForm):
    class Meta:
        model = Member
        fields = list(MEMBER_FIELDS)
        widgets = {
            "id_number": forms.TextInput(
                attrs={
                    "autocomplete": "off",
                    "inputmode": "text",
                    "maxlength": 20,
                    "class": "mono",
                    "spellcheck": "false",
                }
            )
        }

    move_reason = forms.CharField(
        label=_("Already registered elsewhere? Reason to move them in"),
        required=False,
        max_length=200,
        help_text=_(
            "Only for a person registered in another household: they are moved here with this "
            "reason instead of being entered twice."
        ),
    )
    leave_reason = forms.ChoiceField(
        label=_("Why is this member removed?"),
        required=False,
        choices=[("", "---------"), *Member.LeaveReason.choices],
    )

    def clean_id_number(self):
        try:
            return idnumber.parse(self.cleaned_data["id_number"], today=timezone.localdate()).number
        except ValidationError as exc:
            raise ValidationError(exc.messages[0], code=exc.code) from None

    def clean(self):
        data = super().clean()
        # Fields that only mean something together are cleared, not refused.
        if data.get("lives_with_household"):
            data["absence_reason"] = ""
        if not data.get("disability_type"):
            data["disability_grade"] = None
        return data


class BaseMemberFormSet(forms.BaseModelFormSet):
    def __init__(self, *args, **kwargs):
        kwargs.setdefault("queryset", Member.objects.none())
        super().__init__(*args, **kwargs)


MemberFormSet = forms.modelformset_factory(
    Member,
    form=MemberForm,
    formset=BaseMemberFormSet,
    extra=0,
    can_delete=True,
    min_num=1,
    validate_min=True,
)


class IncomeForm(forms.ModelForm):
    class Meta:
        model = IncomeItem
        fields = [
            "member",
            "type",
            "monthly_amount",
            "source",
            "period_start",
            "period_end",
            "note",
        ]
        widgets = {
            "period_start": forms.DateInput(attrs={"type": "date"}),
            "period_end": forms.DateInput(attrs={"type": "date"}),
        }

    def __init__(self, *args, members=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["member"].queryset = members


class AssetForm(forms.ModelForm):
    class Meta:
        model = Asset
        fields = [
            "type",
            "value",
            "count",
            "area",
            "built_or_bought_on",
            "luxury_renovation",
            "exempt_reason",
            "note",
        ]
        widgets = {"built_or_bought_on": forms.DateInput(attrs={"type": "date"})}


class ExpenditureForm(forms.ModelForm):
    class Meta:
        model = Expenditure
        fields = ["type", "amount_12m", "evidenced", "note"]


def _formset(model, form):
    return forms.modelformset_factory(model, form=form, extra=0, can_delete=True)


IncomeFormSet = _formset(IncomeItem, IncomeForm)
AssetFormSet = _formset(Asset, AssetForm)
ExpenditureFormSet = _formset(Expenditure, ExpenditureForm)


class MoveForm(forms.Form):
    id_number = forms.CharField(label=_("ID number"), max_length=20)
    relation = forms.ChoiceField(
        label=_("Relation to the head of this household"),
        choices=[c for c in Member.Relation.choices if c[0] != Member.Relation.HEAD],
    )
    reason = forms.CharField(label=_("Reason for the move"), max_length=200)

    def clean_id_number(self):
        return idnumber.normalize(self.cleaned_data["id_number"])


class JobReferralForm(forms.Form):
    member = forms.ModelChoiceField(label=_("Member"), queryset=Member.objects.none())
    offered_on = forms.DateField(
        label=_("Offered on"), widget=forms.DateInput(attrs={"type": "date"})
    )
    job = forms.CharField(label=_("Job offered"), max_length=200)
    outcome = forms.ChoiceField(label=_("What the member did"), choices=JobReferral.Outcome.choices)
    note = forms.CharField(label=_("Note"), max_length=200, required=False)

    def __init__(self, *args, household, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["member"].queryset = household.members.filter(is_current=True).order_by("id")


class SearchForm(forms.Form):
    name = forms.CharField(
        label=_("Name"),
        required=False,
        widget=forms.TextInput(attrs={"placeholder": _("any part, e.g. 秀英")}),
    )
    id_number = forms.CharField(
        label=_("ID number"),
        required=False,
        widget=forms.TextInput(attrs={"placeholder": _("all 18 characters")}),
    )
    number = forms.CharField(label=_("Household number"), required=False)
    phone = forms.CharField(label=_("Phone"), required=False)
    region_code = forms.ChoiceField(
        label=_("Township / village"), required=False, widget=QuickSelect
    )
    residence_type = forms.ChoiceField(label=_("Residence type"), required=False)

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        # The two levels below the user's own: a city user picks districts and townships,
        # a township clerk picks villages.
        order = Region.LEVEL_ORDER
        below = order[order.index(user.jurisdiction.level) + 1 :][:2]
        regions = (
            region_list(user=user)
            .filter(level__in=below)
            .order_by("code")
            .values_list("code", "name", "level")
        )
        self.fields["region_code"].choices = [("", _("All"))] + [
            (code, name if level == below[0] else f"　{name}") for code, name, level in regions
        ]
        self.fields["residence_type"].choices = [
            ("", _("All")),
            *Household._meta.get_field("residence_type").choices,
        ]
