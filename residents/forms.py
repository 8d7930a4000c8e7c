from decimal import Decimal

from django import forms
from django.utils.translation import gettext_lazy as _

from regions.models import Region

from .lookups import ID_TAIL, clean_tail

YUAN = {"min_value": Decimal("0"), "max_digits": 12, "decimal_places": 2, "required": False}
# The same for an API serializer (a blank answer is none).


class _TailForm(forms.Form):
    id_tail = forms.CharField(
        label=_("Last 6 characters of the ID number"),
        max_length=8,
        help_text=_("For example 12345X"),
        widget=forms.TextInput(attrs={"autocomplete": "off", "inputmode": "text"}),
    )

    def clean_id_tail(self):
        tail = clean_tail(self.cleaned_data["id_tail"])
        if not ID_TAIL.fullmatch(tail):
            raise forms.ValidationError(
                _("Enter the last six characters: digits, or X at the end.")
            )
        return tail


class ProgressForm(_TailForm):
    receipt_number = forms.CharField(
        label=_("Receipt number"),
        max_length=24,
        help_text=_("On the receipt the window gave you, e.g. 500103001-2026-00001"),
    )
    field_order = ["receipt_number", "id_tail"]


class PaymentsForm(_TailForm):
    household_number = forms.CharField(
        label=_("Household number"),
        max_length=20,
        help_text=_("On your decision letter, 14 digits"),
    )
    field_order = ["household_number", "id_tail"]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["id_tail"].label = _("Last 6 characters of the head of household's ID number")


class ObjectionForm(forms.Form):
    reference = forms.CharField(
        label=_("Reference number"),
        max_length=12,
        help_text=_("Given when you filed it, e.g. YY7K3M9Q2A"),
    )


def districts():
    return Region.objects.filter(level=Region.Level.DISTRICT).order_by("code")


class DistrictForm(forms.Form):
    district = forms.ModelChoiceField(
        label=_("District"), queryset=Region.objects.none(), to_field_name="code"
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["district"].queryset = districts()


class SelfCheckForm(DistrictForm):
    residence = forms.ChoiceField(
        label=_("Your hukou is"),
        choices=[("urban", _("Urban (城镇)")), ("rural", _("Rural (农村)"))],
        widget=forms.RadioSelect,
    )
    household_size = forms.IntegerField(
        label=_("People living together in the family"), min_value=1, max_value=12
    )
    wage = forms.DecimalField(label=_("Wages, yuan a month (all members)"), **YUAN)
    business = forms.DecimalField(
        label=_("Net income from farming or a business, yuan a month"), **YUAN
    )
    pension = forms.DecimalField(
        label=_("Retirement pensions, yuan a month (not the basic resident pension)"), **YUAN
    )
    support = forms.DecimalField(
        label=_("Support from children or relatives living elsewhere, yuan a month"), **YUAN
    )
    other_income = forms.DecimalField(
        label=_("Rent and other property income, yuan a month"), **YUAN
    )
    deposits = forms.DecimalField(label=_("Bank deposits and securities, yuan in all"), **YUAN)
    vehicle = forms.BooleanField(
        label=_("The family owns a car (not a disability vehicle)"), required=False
    )
    houses = forms.BooleanField(
        label=_("The family owns two or more houses with much floor area per person"),
        required=False,
    )
    company = forms.BooleanField(label=_("A member has a registered company"), required=False)
    medical_costs_12m = forms.DecimalField(
        label=_("Self-paid medical and care costs in the last 12 months, yuan"), **YUAN
    )
    field_order = [
        "residence",
        "district",
        "household_size",
        "wage",
        "business",
        "pension",
        "support",
        "other_income",
        "deposits",
        "vehicle",
        "houses",
        "company",
        "medical_costs_12m",
    ]

    def clean_district(self):
        return self.cleaned_data["district"].code
