"""Policy data (standards and thresholds with effective dates) and assessment snapshots.

Every figure the rules use is a row here, edited by the city admin, never a constant in code.
A standard applies from the first day of its effective month; rows are never changed once an
assessment has used them (a new row with a later date supersedes them)."""

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _
from simple_history.models import HistoricalRecords

from beneficiaries.models import Programme
from core.fields import DigestField, EncryptedCharField


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
        PROCESS_WORKDAYS = (
            "process_workdays",
            _("Working days from receipt to decision (whole process)"),
        )
        REFERRAL_WORKDAYS = (
            "referral_workdays",
            _("Working days a department has to answer a referral"),
        )
        LEAD_CONTACT_WORKDAYS = (
            "lead_contact_workdays",
            _("Working days the township has to contact a reported person in need"),
        )
        INVESTIGATION_WORKDAYS = (
            "investigation_workdays",
            _("Working days for the investigation, from acceptance"),
        )
        APPRAISAL_WORKDAYS = "appraisal_workdays", _("Working days for a democratic appraisal")
        DISTRICT_REVIEW_WORKDAYS = (
            "district_review_workdays",
            _("Working days for the district's review"),
        )
        REINVESTIGATION_WORKDAYS = (
            "reinvestigation_workdays",
            _("Working days for a re-investigation after an objection"),
        )
        LETTER_WORKDAYS = "letter_workdays", _("Working days to deliver a refusal letter")
        EXTENDED_PROCESS_WORKDAYS = (
            "extended_process_workdays",
            _("Working days for the whole process when extended (once, with a reason)"),
        )
        NOTICE_DAYS = "notice_days", _("Calendar days a public notice stays up")
        EMERGENCY_PAPERWORK_WORKDAYS = (
            "emergency_paperwork_workdays",
            _("Working days to complete the paperwork after an emergency payment"),
        )
        TEKUN_TOWNSHIP_WORKDAYS = (
            "tekun_township_workdays",
            _("特困: working days for the township's investigation, from acceptance"),
        )
        TEKUN_DISTRICT_WORKDAYS = (
            "tekun_district_workdays",
            _("特困: working days for the district's review"),
        )
        APPRAISAL_ALWAYS = (
            "appraisal_always",
            _("Democratic appraisal for every case (1) or only after an objection (0)"),
        )
        SPOT_CHECK_SHARE = (
            "spot_check_share",
            _("Share of cases the district spot-checks at home (0.30 = 30%)"),
        )
        REVIEW_MONTHS_A = "review_months_a", _("Months between reviews, class A")
        REVIEW_MONTHS_B = "review_months_b", _("Months between reviews, class B")
        REVIEW_MONTHS_C = "review_months_c", _("Months between reviews, class C")
        REVIEW_OPEN_DAYS = (
            "review_open_days",
            _("Days before its due date a periodic review opens"),
        )
        WORKING_AGE_FROM = (
            "working_age_from",
            _("Age from which a member can count as able to work"),
        )
        RETIREMENT_AGE = (
            "retirement_age",
            _("Age from which a member no longer counts as able to work"),
        )
        HOUSE_PURCHASE_YEARS = (
            "house_purchase_years",
            _("Years within which building, buying or luxury renovation of a house excludes"),
        )
        IMPUTED_WAGE = (
            "imputed_wage",
            _("Wage counted for stable work without proof of income, yuan a month"),
        )
        DIBAO_DEDUCT_RIGID = (
            "dibao_deduct_rigid",
            _("低保: deduct rigid medical and disability-care costs from income (1) or not (0)"),
        )
        TEMPORARY_CLASS_C_MULTIPLE = (
            "temporary_class_c_multiple",
            _("临时救助 class C: income per person below this multiple of the 低保 standard"),
        )
        EMERGENCY_LIMIT = (
            "emergency_limit",
            _("先行救助: amount a township may pay first in an emergency, yuan"),
        )
        PHASE_OUT_MONTHS = (
            "phase_out_months",
            _("渐退: months payment continues after a member found work"),
        )
        PHASE_OUT_SHARE = (
            "phase_out_share",
            _("渐退: share of the amount paid during the phase-out (1 = all of it)"),
        )
        MATERIALS_WORKDAYS = (
            "materials_workdays",
            _("Working days the family has to hand in missing materials"),
        )
        TOWNSHIP_REVIEW_WORKDAYS = (
            "township_review_workdays",
            _("Working days for the township's review after the investigation"),
        )
        JOB_REFUSALS_LIMIT = (
            "job_refusals_limit",
            _("Job referrals a member may refuse without good reason before losing their share"),
        )
        FUND_WARNING_SHARE = (
            "fund_warning_share",
            _("Share of a fund allocation spent from which payrolls carry a warning"),
        )
        PAYMENT_CHECK_SHARE = (
            "payment_check_share",
            _("Share of paid lines whose recipients are asked whether they were paid in full"),
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


class SharedSource(models.TextChoices):
    """Departments whose data the economic check (家庭经济状况核对) compares with declarations."""

    HUKOU = "hukou", _("Public security: household registration")
    VEHICLE = "vehicle", _("Public security: vehicles")
    REAL_ESTATE = "real_estate", _("Real estate registration")
    MARKET_ENTITY = "market_entity", _("Market regulation: registered businesses")
    SOCIAL_INSURANCE = "social_insurance", _("Social insurance: pensions and benefits")
    HOUSING_FUND = "housing_fund", _("Housing provident fund")
    TAX = "tax", _("Taxation: income")
    BANK = "bank", _("Banks: deposits and securities")


class SharedDataImport(models.Model):
    """One file received from a data-sharing department. Checked as a whole: a file with any
    bad row is refused with every row's problem listed, and nothing of it is used."""

    class Status(models.TextChoices):
        LOADED = "loaded", _("Loaded")
        INVALID = "invalid", _("Refused: errors in the file")

    source = models.CharField(_("source"), max_length=20, choices=SharedSource.choices)
    original_name = models.CharField(_("file name"), max_length=200)
    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("uploaded by"),
    )
    status = models.CharField(_("status"), max_length=16, choices=Status.choices)
    row_count = models.PositiveIntegerField(_("rows"), default=0)
    error_count = models.PositiveIntegerField(_("errors"), default=0)
    errors = models.JSONField(_("row errors"), default=list, blank=True)
    created_at = models.DateTimeField(_("uploaded at"), auto_now_add=True)

    class Meta:
        verbose_name = _("shared-data import")
        verbose_name_plural = _("shared-data imports")
        ordering = ["-created_at"]

    def __str__(self):
        return f"{self.get_source_display()} {self.original_name}"

    @property
    def audit_region_code(self) -> str:
        return ""


class SharedRecord(models.Model):
    """One fact about one person from a department's file: a vehicle, a property, a business,
    a pension, a deposit balance, a tax declaration, a hukou status."""

    data_import = models.ForeignKey(
        SharedDataImport, on_delete=models.CASCADE, related_name="records", verbose_name=_("import")
    )
    source = models.CharField(_("source"), max_length=20, choices=SharedSource.choices)
    id_number = EncryptedCharField(_("ID number"), max_length=18)
    id_number_digest = DigestField(source="id_number")
    kind = models.CharField(
        _("kind"),
        max_length=32,
        blank=True,
        help_text=_("e.g. car, disability_vehicle, house, shopfront, company"),
    )
    amount = models.DecimalField(
        _("amount (yuan)"), max_digits=14, decimal_places=2, null=True, blank=True
    )
    area = models.DecimalField(
        _("floor area (m²)"), max_digits=8, decimal_places=2, null=True, blank=True
    )
    detail = models.CharField(_("detail"), max_length=200, blank=True)

    class Meta:
        verbose_name = _("shared-data record")
        verbose_name_plural = _("shared-data records")
        indexes = [
            models.Index(fields=["id_number_digest", "source"], name="shared_record_digest_idx")
        ]

    def __str__(self):
        return f"{self.get_source_display()} {self.kind} {self.amount or ''}"


class VerificationRun(models.Model):
    """A check of every household in a region against the shared data loaded at the time."""

    class Status(models.TextChoices):
        QUEUED = "queued", _("Queued")
        RUNNING = "running", _("Running")
        DONE = "done", _("Done")
        FAILED = "failed", _("Failed")

    region_code = models.CharField(_("region code"), max_length=12)
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("requested by"),
    )
    status = models.CharField(
        _("status"), max_length=16, choices=Status.choices, default=Status.QUEUED
    )
    imports = models.ManyToManyField(
        SharedDataImport, related_name="runs", blank=True, verbose_name=_("imports used")
    )
    household_count = models.PositiveIntegerField(_("households checked"), default=0)
    finding_count = models.PositiveIntegerField(_("findings"), default=0)
    created_at = models.DateTimeField(_("requested at"), auto_now_add=True)
    started_at = models.DateTimeField(_("started at"), null=True, blank=True)
    finished_at = models.DateTimeField(_("finished at"), null=True, blank=True)

    class Meta:
        verbose_name = _("verification run")
        verbose_name_plural = _("verification runs")
        ordering = ["-created_at"]

    def __str__(self):
        return f"{self.region_code} {self.created_at:%Y-%m-%d %H:%M}"

    @property
    def audit_region_code(self) -> str:
        return self.region_code


class VerificationFinding(models.Model):
    run = models.ForeignKey(
        VerificationRun, on_delete=models.CASCADE, related_name="findings", verbose_name=_("run")
    )
    household = models.ForeignKey(
        "beneficiaries.Household",
        on_delete=models.CASCADE,
        related_name="verification_findings",
        verbose_name=_("household"),
    )
    member = models.ForeignKey(
        "beneficiaries.Member",
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="+",
        verbose_name=_("member"),
    )
    source = models.CharField(_("source"), max_length=20, choices=SharedSource.choices)
    code = models.CharField(_("finding"), max_length=40)
    disqualifying = models.BooleanField(_("disqualifying"), default=False)
    message = models.CharField(_("message"), max_length=300)

    class Meta:
        verbose_name = _("verification finding")
        verbose_name_plural = _("verification findings")
        ordering = ["household_id", "id"]

    def __str__(self):
        return self.message
