"""Policy data (standards and thresholds with effective dates) and assessment snapshots.

Every figure the rules use is a row here, edited by the city admin, never a constant in code.
A standard applies from the first day of its effective month; rows are never changed once an
assessment has used them (a new row with a later date supersedes them)."""

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _
from simple_history.models import HistoricalRecords


class Programme(models.TextChoices):
    DIBAO = "dibao", _("Minimum living allowance (低保)")
    TEKUN = "tekun", _("Support for persons in extreme poverty (特困)")
    TEMPORARY = "temporary", _("Temporary assistance (临时救助)")


class Residence(models.TextChoices):
    ANY = "", _("Urban and rural")
    URBAN = "urban", _("Urban")
    RURAL = "rural", _("Rural")


class PolicyValue(models.Model):
    """One policy figure from a date on, city-wide or for one district, for urban, rural or
    both. The most specific row in force on the first of the month is the one used."""

    class Kind(models.TextChoices):
        DIBAO_STANDARD = "dibao_standard", _("低保 standard, yuan per person per month")
        DIBAO_MINIMUM_PAYMENT = "dibao_minimum_payment", _("低保 minimum monthly payment, yuan")
        TEKUN_BASIC = "tekun_basic", _("特困 basic living standard, yuan per person per month")
        TEKUN_NURSING_FULL = (
            "tekun_nursing_full",
            _("特困 nursing subsidy, full loss of self-care, yuan per month"),
        )
        TEKUN_NURSING_PARTIAL = (
            "tekun_nursing_partial",
            _("特困 nursing subsidy, partial loss of self-care, yuan per month"),
        )
        MARGINAL_MULTIPLE = "marginal_multiple", _("低保边缘 line, multiple of the standard")
        DEPOSIT_MONTHS = "deposit_months", _("Deposit limit, months of the standard per member")
        PURCHASE_MONTHS = (
            "purchase_months",
            _("Non-essential purchase limit, months of the standard per member"),
        )
        HOUSING_AREA_LIMIT = (
            "housing_area_limit",
            _("Per-capita floor area above which two or more houses exclude, m²"),
        )
        TEMPORARY_CAP = "temporary_cap", _("临时救助 cap per case, yuan")
        TOWNSHIP_TEMPORARY_LIMIT = (
            "township_temporary_limit",
            _("临时救助 amount a township may approve itself, yuan"),
        )
        EXPENDITURE_SHARE = (
            "expenditure_share",
            _("支出型: rigid spending above this share of income is hardship"),
        )

    kind = models.CharField(_("figure"), max_length=32, choices=Kind.choices)
    residence = models.CharField(
        _("applies to"), max_length=8, choices=Residence.choices, blank=True, default=""
    )
    district_code = models.CharField(
        _("district code"),
        max_length=6,
        blank=True,
        default="",
        help_text=_("Six digits for one district; blank for the whole city."),
    )
    value = models.DecimalField(_("value"), max_digits=12, decimal_places=2)
    effective_from = models.DateField(_("effective from"), help_text=_("The first day of a month."))
    source = models.CharField(_("source"), max_length=200)
    is_assumption = models.BooleanField(
        _("assumed value"),
        default=False,
        help_text=_(
            "No source gave this figure; it was seeded so the system works and must be "
            "set by the city."
        ),
    )
    created_at = models.DateTimeField(_("entered at"), auto_now_add=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("entered by"),
    )
    history = HistoricalRecords()

    class Meta:
        verbose_name = _("policy figure")
        verbose_name_plural = _("policy figures")
        ordering = ["kind", "district_code", "residence", "-effective_from"]
        constraints = [
            models.UniqueConstraint(
                fields=["kind", "residence", "district_code", "effective_from"],
                name="policy_value_unique_per_start",
            ),
            models.CheckConstraint(condition=Q(value__gte=0), name="policy_value_not_negative"),
            models.CheckConstraint(
                condition=Q(effective_from__day=1), name="policy_value_starts_on_first_of_month"
            ),
        ]

    def __str__(self):
        scope = self.district_code or "全市"
        return (
            f"{self.get_kind_display()} {scope} {self.residence or '城乡'} {self.value} "
            f"({self.effective_from:%Y-%m})"
        )

    @property
    def audit_region_code(self) -> str:
        return (self.district_code + "000000") if self.district_code else ""


class TemporaryRate(models.Model):
    """临时救助 amount for an applicant class and hardship type, as a multiple of the monthly
    低保 standard."""

    class ApplicantClass(models.TextChoices):
        A = "A", _("Class A")
        B = "B", _("Class B")
        C = "C", _("Class C")
        D = "D", _("Class D")

    class Hardship(models.TextChoices):
        MEDICAL = "medical", _("Medical hardship")
        DISASTER = "disaster", _("Major disaster or injury")
        EDUCATION = "education", _("Education hardship")
        OTHER = "other", _("Other special hardship")

    applicant_class = models.CharField(
        _("applicant class"), max_length=1, choices=ApplicantClass.choices
    )
    hardship = models.CharField(_("hardship type"), max_length=16, choices=Hardship.choices)
    multiple = models.DecimalField(
        _("multiple of the monthly standard"), max_digits=6, decimal_places=2
    )
    effective_from = models.DateField(_("effective from"))
    source = models.CharField(_("source"), max_length=200)
    is_assumption = models.BooleanField(_("assumed value"), default=False)
    history = HistoricalRecords()

    class Meta:
        verbose_name = _("temporary assistance rate")
        verbose_name_plural = _("temporary assistance rates")
        ordering = ["applicant_class", "hardship", "-effective_from"]
        constraints = [
            models.UniqueConstraint(
                fields=["applicant_class", "hardship", "effective_from"],
                name="temporary_rate_unique_per_start",
            ),
            models.CheckConstraint(
                condition=Q(multiple__gte=0), name="temporary_rate_not_negative"
            ),
            models.CheckConstraint(
                condition=Q(effective_from__day=1), name="temporary_rate_starts_on_first_of_month"
            ),
        ]

    def __str__(self):
        return (
            f"{self.applicant_class}×{self.hardship}={self.multiple} ({self.effective_from:%Y-%m})"
        )

    @property
    def audit_region_code(self) -> str:
        return ""


class Assessment(models.Model):
    """A means test as it was run: its inputs, the policy figures it used, and its result.
    ``rules.assess`` on the stored inputs and policy gives the same result years later."""

    household = models.ForeignKey(
        "beneficiaries.Household",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="assessments",
        verbose_name=_("household"),
    )
    programme = models.CharField(_("programme"), max_length=16, choices=Programme.choices)
    as_of = models.DateField(_("as of"))
    inputs = models.JSONField(_("inputs"))
    policy = models.JSONField(_("policy figures used"))
    result = models.JSONField(_("result"))
    created_at = models.DateTimeField(_("assessed at"), auto_now_add=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("assessed by"),
    )

    class Meta:
        verbose_name = _("assessment")
        verbose_name_plural = _("assessments")
        ordering = ["-created_at"]

    def __str__(self):
        return f"{self.get_programme_display()} {self.as_of}"
