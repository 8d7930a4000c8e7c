"""A household's economic situation: income, property and spending (rigid expenditure)."""

from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy
from simple_history.models import HistoricalRecords

from .household import ZERO, Household, Member


class _HouseholdPart(models.Model):
    """Audit helpers for rows that belong to a household."""

    class Meta:
        abstract = True

    @property
    def audit_region_code(self) -> str:
        return self._household().region.code

    @property
    def audit_case_key(self) -> str:
        return f"household:{self._household().pk}"


class IncomeItem(_HouseholdPart):
    class Type(models.TextChoices):
        WAGE = "wage", _("Wages")
        BUSINESS = "business", _("Net business income")
        PROPERTY = "property", _("Net property income")
        SUPPORT = "support", _("Support payments received")
        PENSION = "pension", _("Pension")
        UNEMPLOYMENT_INSURANCE = "unemployment_insurance", _("Unemployment insurance")
        SPECIAL_CARE = (
            "special_care",
            _("Special care and pensions for martyrs' families (优抚/抚恤)"),
        )
        FAMILY_PLANNING_REWARD = "family_planning_reward", _("Family-planning reward")
        SCHOLARSHIP = "scholarship", _("Scholarship")
        HEROISM_AWARD = "heroism_award", _("Award for bravery (见义勇为)")
        ASSISTANCE = "assistance", _("Social-assistance payment")
        BASIC_PENSION = "basic_pension", _("Basic resident pension")

    # Income that counts in the means test (DESIGN.md §5); the rest is recorded, not counted.
    COUNTED = frozenset(
        {
            Type.WAGE,
            Type.BUSINESS,
            Type.PROPERTY,
            Type.SUPPORT,
            Type.PENSION,
            Type.UNEMPLOYMENT_INSURANCE,
        }
    )

    class Source(models.TextChoices):
        DECLARED = "declared", _("Declared by the family")
        VERIFIED = "verified", _("Verified")

    member = models.ForeignKey(
        Member, verbose_name=_("member"), on_delete=models.CASCADE, related_name="incomes"
    )
    type = models.CharField(_("income type"), max_length=32, choices=Type.choices)
    monthly_amount = models.DecimalField(
        _("monthly amount (yuan)"), max_digits=12, decimal_places=2
    )
    source = models.CharField(
        _("source"), max_length=16, choices=Source.choices, default=Source.DECLARED
    )
    period_start = models.DateField(pgettext_lazy("period", "from"), null=True, blank=True)
    period_end = models.DateField(pgettext_lazy("period", "until"), null=True, blank=True)
    note = models.CharField(_("note"), max_length=200, blank=True)
    history = HistoricalRecords()

    class Meta:
        verbose_name = _("income item")
        verbose_name_plural = _("income")
        constraints = [
            models.CheckConstraint(
                condition=Q(monthly_amount__gte=0),
                name="income_amount_not_negative",
                violation_error_message=_("An amount cannot be negative."),
            ),
            models.CheckConstraint(
                condition=Q(period_start__isnull=True)
                | Q(period_end__isnull=True)
                | Q(period_end__gte=models.F("period_start")),
                name="income_period_ordered",
                violation_error_message=_("The end of the period is before its start."),
            ),
        ]

    def __str__(self):
        return f"{self.get_type_display()} {self.monthly_amount}"

    def _household(self):
        return self.member.household

    @property
    def is_counted(self) -> bool:
        return self.type in self.COUNTED

    def in_force(self, day) -> bool:
        return (self.period_start is None or self.period_start <= day) and (
            self.period_end is None or self.period_end >= day
        )


class Asset(_HouseholdPart):
    class Type(models.TextChoices):
        DEPOSIT = "deposit", _("Bank deposits")
        SECURITIES = "securities", _("Securities")
        HOUSE = "house", _("House")
        SHOPFRONT = "shopfront", _("Shopfront")
        VEHICLE = "vehicle", _("Vehicle")
        DISABILITY_VEHICLE = "disability_vehicle", _("Disability vehicle")
        COMPANY = "company", _("Registered company")
        MACHINERY = "machinery", _("Large machinery")
        SHIP = "ship", _("Ship or boat")

    class Exemption(models.TextChoices):
        NONE = "", _("None")
        DISASTER = "disaster", _("Rebuilt after a disaster")
        RELOCATION = "relocation", _("Relocation (搬迁安置)")

    household = models.ForeignKey(
        Household, verbose_name=_("household"), on_delete=models.CASCADE, related_name="assets"
    )
    type = models.CharField(_("asset type"), max_length=32, choices=Type.choices)
    value = models.DecimalField(_("value (yuan)"), max_digits=14, decimal_places=2, default=ZERO)
    count = models.PositiveIntegerField(_("count"), default=1)
    area = models.DecimalField(
        _("floor area (m²)"), max_digits=8, decimal_places=2, null=True, blank=True
    )
    built_or_bought_on = models.DateField(_("built or bought on (houses)"), null=True, blank=True)
    luxury_renovation = models.BooleanField(
        _("luxuriously renovated in the last 3 years (houses)"), default=False
    )
    exempt_reason = models.CharField(
        _("built or bought because of (houses)"),
        max_length=16,
        choices=Exemption.choices,
        blank=True,
        default="",
    )
    note = models.CharField(_("note"), max_length=200, blank=True)
    history = HistoricalRecords()

    class Meta:
        verbose_name = _("asset")
        verbose_name_plural = _("assets")
        constraints = [
            models.CheckConstraint(
                condition=Q(value__gte=0),
                name="asset_value_not_negative",
                violation_error_message=_("An amount cannot be negative."),
            ),
            models.CheckConstraint(
                condition=Q(count__gte=1),
                name="asset_count_positive",
                violation_error_message=_("The count is at least 1."),
            ),
            models.CheckConstraint(
                condition=Q(area__isnull=True) | Q(area__gt=0),
                name="asset_area_positive",
                violation_error_message=_("The floor area must be more than 0."),
            ),
        ]

    def __str__(self):
        return f"{self.get_type_display()} ×{self.count}"

    def _household(self):
        return self.household


class Expenditure(_HouseholdPart):
    class Type(models.TextChoices):
        MEDICAL = "medical", _("Medical")
        DISABILITY_CARE = "disability_care", _("Disability care and rehabilitation")
        EDUCATION = "education", _("Education")
        RENT = "rent", _("Rent")
        OTHER = "other", _("Other rigid spending")

    household = models.ForeignKey(
        Household,
        verbose_name=_("household"),
        on_delete=models.CASCADE,
        related_name="expenditures",
    )
    type = models.CharField(_("spending type"), max_length=16, choices=Type.choices)
    amount_12m = models.DecimalField(
        _("amount over the last 12 months (yuan)"), max_digits=12, decimal_places=2
    )
    evidenced = models.BooleanField(
        _("bills or receipts seen"),
        default=False,
        help_text=_("Only self-paid costs with evidence are deducted from income."),
    )
    note = models.CharField(_("note"), max_length=200, blank=True)
    history = HistoricalRecords()

    class Meta:
        verbose_name = _("expenditure")
        verbose_name_plural = _("expenditures")
        constraints = [
            models.CheckConstraint(
                condition=Q(amount_12m__gte=0),
                name="expenditure_amount_not_negative",
                violation_error_message=_("An amount cannot be negative."),
            ),
        ]

    def __str__(self):
        return f"{self.get_type_display()} {self.amount_12m}"

    def _household(self):
        return self.household
