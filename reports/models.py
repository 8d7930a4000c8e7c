"""Exports of registers (台账) for auditors and the bureau: each a background job whose file
only its requester may download, until it expires."""

from decimal import Decimal

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from beneficiaries.models import Programme
from regions.models import Region


class Export(models.Model):
    class Register(models.TextChoices):
        APPLICATIONS = "applications", _("Applications")
        ENTITLEMENTS = "entitlements", _("Recipients (保障对象名册)")
        PAYROLL_LINES = "payroll_lines", _("Payments")
        REFERRALS = "referrals", _("Referrals to departments")
        REVIEWS = "reviews", _("Periodic reviews")
        OBJECTIONS = "objections", _("Objections")
        OVERPAYMENTS = "overpayments", _("Overpayments")
        AUDIT_EVENTS = "audit_events", _("Audit log")

    class Format(models.TextChoices):
        CSV = "csv", "CSV"
        XLSX = "xlsx", "XLSX"

    class Status(models.TextChoices):
        QUEUED = "queued", _("Waiting")
        RUNNING = "running", _("Being written")
        DONE = "done", _("Ready")
        FAILED = "failed", _("Failed")

    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("requested by"),
    )
    register = models.CharField(_("register"), max_length=16, choices=Register.choices)
    format = models.CharField(_("format"), max_length=4, choices=Format.choices)
    region = models.ForeignKey(
        Region, on_delete=models.PROTECT, related_name="+", verbose_name=_("region")
    )
    programme = models.CharField(
        _("programme"), max_length=16, choices=Programme.choices, blank=True
    )
    date_from = models.DateField(_("from"), null=True, blank=True)
    date_to = models.DateField(_("to"), null=True, blank=True)
    full_identifiers = models.BooleanField(_("full ID numbers"), default=False)
    per_member = models.BooleanField(
        _("one row per counted member"),
        default=False,
        help_text=_("Recipients register only: a row per person instead of per household."),
    )
    purpose = models.CharField(_("purpose"), max_length=200, blank=True)
    status = models.CharField(
        _("status"), max_length=8, choices=Status.choices, default=Status.QUEUED
    )
    rows = models.PositiveIntegerField(_("rows"), default=0)
    progress = models.PositiveSmallIntegerField(_("progress (%)"), default=0)
    path = models.CharField(_("stored as"), max_length=255, blank=True)
    error = models.TextField(_("error"), blank=True)
    created_at = models.DateTimeField(_("requested at"), auto_now_add=True)
    finished_at = models.DateTimeField(_("finished at"), null=True, blank=True)
    expires_at = models.DateTimeField(_("available until"), null=True, blank=True)

    class Meta:
        verbose_name = _("export")
        verbose_name_plural = _("exports")
        ordering = ["-created_at"]
        indexes = [models.Index(fields=["requested_by", "-created_at"], name="export_mine_idx")]
        constraints = [
            # Full identifiers only with a stated purpose (it is logged).
            models.CheckConstraint(
                condition=Q(full_identifiers=False) | ~Q(purpose=""),
                name="export_full_ids_have_purpose",
            ),
        ]

    def __str__(self):
        return f"{self.get_register_display()} {self.region.name} {self.created_at:%Y-%m-%d %H:%M}"

    @property
    def audit_region_code(self) -> str:
        return self.region.code


class MonthlyFigure(models.Model):
    """One cell group of the monthly statistics return (民政统计月报): for a month, township,
    programme and urban/rural, who was paid and how much, as computed from that month's
    committed payrolls. Written by ``statistics.compute`` (nightly, or when the city asks);
    every higher level is the sum of its townships, so a city-wide return reads a few
    thousand rows, never the million payments behind them."""

    month = models.DateField(_("month"))
    township = models.ForeignKey(
        Region, on_delete=models.PROTECT, related_name="+", verbose_name=_("township")
    )
    # The township's code, for prefix filters at any level without a join.
    region_code = models.CharField(_("region code"), max_length=12)
    programme = models.CharField(_("programme"), max_length=16, choices=Programme.choices)
    residence = models.CharField(_("urban or rural"), max_length=8)
    households = models.PositiveIntegerField(_("households (cases)"), default=0)
    persons = models.PositiveIntegerField(_("persons"), default=0)
    elderly = models.PositiveIntegerField(_("aged 60 or over"), default=0)
    adults = models.PositiveIntegerField(_("adults 18–59"), default=0)
    adults_employed = models.PositiveIntegerField(_("of whom in work"), default=0)
    adults_unemployed = models.PositiveIntegerField(_("of whom unemployed"), default=0)
    adults_other = models.PositiveIntegerField(_("of whom not in the labour force"), default=0)
    minors = models.PositiveIntegerField(_("minors under 18"), default=0)
    students = models.PositiveIntegerField(_("of whom in school"), default=0)
    women = models.PositiveIntegerField(_("women"), default=0)
    disabled = models.PositiveIntegerField(_("disabled"), default=0)
    amount = models.DecimalField(
        _("spent (yuan)"), max_digits=16, decimal_places=2, default=Decimal("0.00")
    )
    entered = models.PositiveIntegerField(_("entitlements starting"), default=0)
    left = models.PositiveIntegerField(_("entitlements last paid this month"), default=0)
    computed_at = models.DateTimeField(_("computed at"))

    class Meta:
        verbose_name = _("monthly statistics figure")
        verbose_name_plural = _("monthly statistics figures")
        constraints = [
            models.UniqueConstraint(
                fields=["month", "township", "programme", "residence"],
                name="monthly_figure_once",
            ),
            models.CheckConstraint(condition=Q(month__day=1), name="monthly_figure_month_start"),
            models.CheckConstraint(
                condition=Q(amount__gte=0), name="monthly_figure_amount_not_negative"
            ),
            models.CheckConstraint(
                condition=Q(elderly__lte=models.F("persons"))
                & Q(adults__lte=models.F("persons"))
                & Q(minors__lte=models.F("persons"))
                & Q(students__lte=models.F("minors")),
                name="monthly_figure_groups_within_persons",
            ),
        ]
        indexes = [models.Index(fields=["month", "region_code"], name="monthly_figure_idx")]

    def __str__(self):
        return f"{self.month:%Y-%m} {self.region_code} {self.programme} {self.residence}"


class RegisteredPopulation(models.Model):
    """户籍人口 of a district in a year, entered by the city: the denominator of the
    recipients' share of the population and of coverage per 1,000 residents."""

    district = models.ForeignKey(
        Region, on_delete=models.PROTECT, related_name="+", verbose_name=_("district")
    )
    year = models.PositiveSmallIntegerField(_("year"))
    population = models.PositiveIntegerField(_("registered population"))
    source = models.CharField(_("source"), max_length=200, blank=True)
    entered_at = models.DateTimeField(_("entered at"), auto_now=True)

    class Meta:
        verbose_name = _("registered population")
        verbose_name_plural = _("registered population")
        ordering = ["-year", "district__code"]
        constraints = [
            models.UniqueConstraint(fields=["district", "year"], name="population_once"),
            models.CheckConstraint(condition=Q(population__gt=0), name="population_positive"),
        ]

    def __str__(self):
        return f"{self.district.name} {self.year} {self.population}"

    @property
    def audit_region_code(self) -> str:
        return self.district.code


class ConsumptionSpending(models.Model):
    """居民人均消费支出 of the city in a year (urban and rural), entered by the city: the
    denominator of the 低保 standard's share in the 绩效评价."""

    year = models.PositiveSmallIntegerField(_("year"), unique=True)
    urban = models.DecimalField(
        _("urban, yuan per person per year"), max_digits=10, decimal_places=2
    )
    rural = models.DecimalField(
        _("rural, yuan per person per year"), max_digits=10, decimal_places=2
    )
    source = models.CharField(_("source"), max_length=200, blank=True)
    entered_at = models.DateTimeField(_("entered at"), auto_now=True)

    class Meta:
        verbose_name = _("per-capita consumption spending")
        verbose_name_plural = _("per-capita consumption spending")
        ordering = ["-year"]
        constraints = [
            models.CheckConstraint(
                condition=Q(urban__gt=0) & Q(rural__gt=0), name="consumption_positive"
            ),
        ]

    def __str__(self):
        return f"{self.year} {self.urban}/{self.rural}"

    @property
    def audit_region_code(self) -> str:
        return ""
