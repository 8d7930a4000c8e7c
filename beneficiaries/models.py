"""Households (户) and their members: the state of who lives with whom, what they earn and
own. Every later step (means test, applications, payments) reads from here."""

from decimal import Decimal

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy
from simple_history.models import HistoricalRecords

from regions.models import Region

ZERO = Decimal("0.00")


class ResidenceType(models.TextChoices):
    URBAN = "urban", _("Urban")
    RURAL = "rural", _("Rural")


class Household(models.Model):
    """A household (户): the members who live together, registered at a village."""

    number = models.CharField(_("household number"), max_length=20, unique=True)
    region = models.ForeignKey(
        Region,
        verbose_name=_("village/community"),
        on_delete=models.PROTECT,
        related_name="households",
    )
    address = models.CharField(_("address"), max_length=200)
    residence_type = models.CharField(
        _("residence type"),
        max_length=8,
        choices=ResidenceType.choices,
        help_text=_("From the hukou; decides which standard applies."),
    )
    phone = models.CharField(_("phone"), max_length=20, blank=True)
    bank_name = models.CharField(_("bank"), max_length=64, blank=True)
    bank_account_name = models.CharField(_("account holder"), max_length=64, blank=True)
    bank_account_number = models.CharField(_("account number"), max_length=32, blank=True)
    poverty_registered = models.BooleanField(
        _("registered poor household (建档立卡)"), default=False
    )
    marginal = models.BooleanField(_("near-dibao household (低保边缘)"), default=False)
    separately_registered = models.BooleanField(
        _("separately registered (单独登记)"),
        default=False,
        help_text=_("A member is a close relative of civil-affairs staff or a village cadre."),
    )
    separate_registration_reason = models.CharField(
        _("reason for separate registration"), max_length=200, blank=True
    )
    head = models.OneToOneField(
        "Member",
        verbose_name=_("head of household"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="headed_household",
    )
    version = models.PositiveIntegerField(_("version"), default=1)
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated"), auto_now=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("registered by"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    history = HistoricalRecords()

    class Meta:
        verbose_name = _("household")
        verbose_name_plural = _("households")
        ordering = ["-id"]
        indexes = [models.Index(fields=["phone"], name="household_phone_idx")]

    def __str__(self):
        return self.number

    @property
    def audit_region_code(self) -> str:
        return self.region.code

    @property
    def audit_case_key(self) -> str:
        return f"household:{self.pk}"


class Member(models.Model):
    """A person registered in a household. One current record per ID number in the whole
    city (a database constraint): a person who moves is moved, never entered twice."""

    class Relation(models.TextChoices):
        HEAD = "head", _("Head of household")
        SPOUSE = "spouse", _("Spouse")
        CHILD = "child", _("Child")
        PARENT = "parent", _("Parent")
        GRANDCHILD = "grandchild", _("Grandchild")
        GRANDPARENT = "grandparent", _("Grandparent")
        SIBLING = "sibling", _("Sibling")
        OTHER = "other", _("Other relative with a support duty")

    class Absence(models.TextChoices):
        PRISONER = "prisoner", _("Serving a prison sentence")
        CLERGY = "clergy", _("Clergy away 3+ years")
        REHAB = "rehab", _("Compulsory drug rehabilitation")
        MISSING = "missing", _("Missing")
        OTHER = "other", _("Other")

    class Sex(models.TextChoices):
        MALE = "M", _("Male")
        FEMALE = "F", _("Female")

    class Labour(models.TextChoices):
        FULL = "full", _("Full labour capacity")
        PARTIAL = "partial", _("Partial labour capacity")
        NONE = "none", _("No labour capacity")

    class Disability(models.TextChoices):
        NONE = "", _("None")
        VISUAL = "visual", _("Visual")
        HEARING = "hearing", _("Hearing")
        SPEECH = "speech", _("Speech")
        PHYSICAL = "physical", _("Physical")
        INTELLECTUAL = "intellectual", _("Intellectual")
        MENTAL = "mental", _("Mental")
        MULTIPLE = "multiple", _("Multiple")

    class SelfCare(models.TextChoices):
        CAPABLE = "capable", _("Capable of self-care")
        PARTIAL = "partial", _("Partial loss of self-care")
        NONE = "none", _("Full loss of self-care")

    class Schooling(models.TextChoices):
        NOT_IN_SCHOOL = "not_in_school", _("Not in school")
        PRESCHOOL = "preschool", _("Preschool")
        COMPULSORY = "compulsory", _("Compulsory education")
        HIGH_SCHOOL = "high_school", _("Senior high or vocational school")
        HIGHER = "higher", _("College or university (full-time)")

    class Employment(models.TextChoices):
        EMPLOYED = "employed", _("Employed")
        SELF_EMPLOYED = "self_employed", _("Self-employed")
        FARMING = "farming", _("Farming")
        UNEMPLOYED = "unemployed", _("Unemployed")
        RETIRED = "retired", _("Retired")
        STUDENT = "student", _("Student")
        UNABLE = "unable", _("Unable to work")

    # The six daily-living items of the self-care assessment (DESIGN.md §5).
    DAILY_LIVING_ITEMS = (
        "can_eat",
        "can_dress",
        "can_transfer",
        "can_toilet",
        "can_walk_indoors",
        "can_bathe",
    )

    household = models.ForeignKey(
        Household, verbose_name=_("household"), on_delete=models.PROTECT, related_name="members"
    )
    name = models.CharField(_("full name"), max_length=64)
    id_number = models.CharField(_("ID number"), max_length=18)
    sex = models.CharField(_("sex"), max_length=1, choices=Sex.choices, editable=False)
    birth_date = models.DateField(_("birth date"), editable=False)
    relation = models.CharField(_("relation to head"), max_length=16, choices=Relation.choices)
    lives_with_household = models.BooleanField(_("lives with the household"), default=True)
    absence_reason = models.CharField(
        _("why not living with the household"), max_length=16, choices=Absence.choices, blank=True
    )
    hukou_local = models.BooleanField(_("local hukou"), default=True)
    labour_capacity = models.CharField(
        _("labour capacity"), max_length=8, choices=Labour.choices, default=Labour.FULL
    )
    disability_type = models.CharField(
        _("disability"), max_length=16, choices=Disability.choices, blank=True, default=""
    )
    disability_grade = models.PositiveSmallIntegerField(
        _("disability grade"), null=True, blank=True, choices=[(g, str(g)) for g in range(1, 5)]
    )
    serious_illness = models.BooleanField(_("serious illness (重特大疾病)"), default=False)
    can_eat = models.BooleanField(_("eats unaided"), default=True)
    can_dress = models.BooleanField(_("dresses unaided"), default=True)
    can_transfer = models.BooleanField(_("gets in and out of bed unaided"), default=True)
    can_toilet = models.BooleanField(_("uses the toilet unaided"), default=True)
    can_walk_indoors = models.BooleanField(_("walks indoors unaided"), default=True)
    can_bathe = models.BooleanField(_("bathes unaided"), default=True)
    self_care = models.CharField(
        _("self-care level"),
        max_length=8,
        choices=SelfCare.choices,
        default=SelfCare.CAPABLE,
        editable=False,
    )
    schooling = models.CharField(
        _("schooling"), max_length=16, choices=Schooling.choices, default=Schooling.NOT_IN_SCHOOL
    )
    employment = models.CharField(
        _("employment"), max_length=16, choices=Employment.choices, blank=True
    )

    class LeaveReason(models.TextChoices):
        DIED = "died", _("Died")
        MOVED_OUT = "moved_out", _("Moved out of the city's register")
        SEPARATE = "separate", _("Left to live separately")
        ENTRY_ERROR = "entry_error", _("Entered by mistake")
        OTHER = "other", _("Other")

    leave_reason = models.CharField(
        _("why removed"), max_length=16, choices=LeaveReason.choices, blank=True
    )
    is_current = models.BooleanField(
        _("current"),
        default=True,
        help_text=_("False once the person has left the household register (death, emigration)."),
    )
    history = HistoricalRecords()

    class Meta:
        verbose_name = _("member")
        verbose_name_plural = _("members")
        ordering = ["household_id", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["id_number"],
                condition=Q(is_current=True),
                name="member_one_current_record_per_person",
                violation_error_message=_(
                    "This person is already registered in another household."
                ),
            ),
            models.CheckConstraint(
                condition=Q(lives_with_household=True, absence_reason="")
                | Q(lives_with_household=False) & ~Q(absence_reason=""),
                name="member_absence_reason_iff_absent",
                violation_error_message=_(
                    "Say why this member does not live with the household (and give no reason "
                    "for one who does)."
                ),
            ),
            models.CheckConstraint(
                condition=Q(disability_type="", disability_grade__isnull=True)
                | ~Q(disability_type="")
                & Q(
                    disability_grade__isnull=False, disability_grade__gte=1, disability_grade__lte=4
                ),
                name="member_disability_grade_with_type",
                violation_error_message=_(
                    "Enter both the type of disability and its grade (1–4), or neither."
                ),
            ),
        ]
        indexes = [
            models.Index(fields=["id_number"], name="member_id_number_idx"),
            models.Index(
                fields=["name"], name="member_name_prefix_idx", opclasses=["varchar_pattern_ops"]
            ),
            models.Index(fields=["name", "birth_date"], name="member_name_birth_idx"),
        ]

    def __str__(self):
        return self.name

    @property
    def audit_region_code(self) -> str:
        return self.household.region.code

    @property
    def audit_case_key(self) -> str:
        return f"household:{self.household_id}"

    @classmethod
    def self_care_level(cls, items_not_done: int) -> str:
        """All six done: capable; up to three not done: partial loss; four or more: full loss."""
        if items_not_done == 0:
            return cls.SelfCare.CAPABLE
        return cls.SelfCare.PARTIAL if items_not_done <= 3 else cls.SelfCare.NONE


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

    household = models.ForeignKey(
        Household, verbose_name=_("household"), on_delete=models.CASCADE, related_name="assets"
    )
    type = models.CharField(_("asset type"), max_length=32, choices=Type.choices)
    value = models.DecimalField(_("value (yuan)"), max_digits=14, decimal_places=2, default=ZERO)
    count = models.PositiveIntegerField(_("count"), default=1)
    area = models.DecimalField(
        _("floor area (m²)"), max_digits=8, decimal_places=2, null=True, blank=True
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


class MemberMove(models.Model):
    """A recorded move of a person from one household to another (never a second record)."""

    member = models.ForeignKey(
        Member, verbose_name=_("member"), on_delete=models.PROTECT, related_name="moves"
    )
    from_household = models.ForeignKey(
        Household, verbose_name=_("from household"), on_delete=models.PROTECT, related_name="+"
    )
    to_household = models.ForeignKey(
        Household, verbose_name=_("to household"), on_delete=models.PROTECT, related_name="+"
    )
    reason = models.CharField(_("reason"), max_length=200)
    moved_at = models.DateTimeField(_("moved at"), auto_now_add=True)
    moved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("moved by"),
        on_delete=models.PROTECT,
        related_name="+",
    )

    class Meta:
        verbose_name = _("member move")
        verbose_name_plural = _("member moves")
        ordering = ["-moved_at"]

    def __str__(self):
        return f"{self.member} {self.from_household} → {self.to_household}"


class ImportBatch(models.Model):
    """A file of households and members being migrated in (a district's existing list):
    checked in full first (dry run), then committed atomically, both as background jobs."""

    class Status(models.TextChoices):
        UPLOADED = "uploaded", _("Uploaded, waiting for the check")
        CHECKING = "checking", _("Checking")
        INVALID = "invalid", _("Errors found; nothing imported")
        VALID = "valid", _("Checked, ready to import")
        COMMITTING = "committing", _("Importing")
        COMMITTED = "committed", _("Imported")
        FAILED = "failed", _("Failed; nothing imported")

    file = models.FileField(_("file"), upload_to="imports/")
    original_name = models.CharField(_("file name"), max_length=200)
    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("uploaded by"),
        on_delete=models.PROTECT,
        related_name="+",
    )
    region_code = models.CharField(
        _("region code"), max_length=12, help_text=_("The uploader's jurisdiction at upload time.")
    )
    status = models.CharField(
        _("status"), max_length=16, choices=Status.choices, default=Status.UPLOADED
    )
    total_rows = models.PositiveIntegerField(_("rows"), default=0)
    processed_rows = models.PositiveIntegerField(_("rows processed"), default=0)
    household_count = models.PositiveIntegerField(_("households"), default=0)
    member_count = models.PositiveIntegerField(_("members"), default=0)
    error_count = models.PositiveIntegerField(_("errors"), default=0)
    errors = models.JSONField(
        _("row errors"),
        default=list,
        blank=True,
        help_text=_("[{row, column, message}], the first 1,000."),
    )
    error_report = models.FileField(
        _("error report"),
        upload_to="imports/",
        blank=True,
        help_text=_("Every error found, as CSV."),
    )
    created_at = models.DateTimeField(_("uploaded at"), auto_now_add=True)
    finished_at = models.DateTimeField(_("finished at"), null=True, blank=True)

    class Meta:
        verbose_name = _("import batch")
        verbose_name_plural = _("import batches")
        ordering = ["-created_at"]

    def __str__(self):
        return f"{self.original_name} ({self.get_status_display()})"

    @property
    def audit_region_code(self) -> str:
        return self.region_code


class Programme(models.TextChoices):
    """The programmes decided by civil affairs (the others are referred to departments)."""

    DIBAO = "dibao", _("Minimum living allowance (低保)")
    TEKUN = "tekun", _("Support for persons in extreme poverty (特困)")
    TEMPORARY = "temporary", _("Temporary assistance (临时救助)")
    EXPENDITURE = "expenditure", _("Rigid-expenditure hardship (支出型贫困)")


class Entitlement(models.Model):
    """Who gets what (DESIGN.md §7): a household's approved monthly assistance under one
    programme, with the components it was computed from, its class and its next review.
    At most one live (active or suspended) entitlement per household and programme."""

    class Status(models.TextChoices):
        ACTIVE = "active", _("Active")
        SUSPENDED = "suspended", _("Suspended")
        TERMINATED = "terminated", _("Terminated")

    class Klass(models.TextChoices):
        A = "A", _("A: no member able to work, stable (yearly review)")
        B = "B", _("B: stable income sources (half-yearly review)")
        C = "C", _("C: able to work, irregular income (quarterly review)")

    household = models.ForeignKey(
        Household,
        on_delete=models.PROTECT,
        related_name="entitlements",
        verbose_name=_("household"),
    )
    programme = models.CharField(_("programme"), max_length=16, choices=Programme.choices)
    monthly_amount = models.DecimalField(_("monthly amount"), max_digits=10, decimal_places=2)
    components = models.JSONField(_("components"), default=list, blank=True)
    klass = models.CharField(_("class"), max_length=1, choices=Klass.choices)
    start_month = models.DateField(_("paid from (month)"))
    end_month = models.DateField(_("paid until (month)"), null=True, blank=True)
    next_review = models.DateField(_("next review"))
    status = models.CharField(
        _("status"), max_length=12, choices=Status.choices, default=Status.ACTIVE
    )
    source = models.CharField(
        _("decided by"), max_length=24, help_text=_("The application number that approved it.")
    )
    approved_at = models.DateTimeField(_("approved at"))
    approved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("approved by"),
    )
    class_overridden = models.BooleanField(
        _("class set by a reviewer"),
        default=False,
        help_text=_("The nightly derivation leaves an overridden class alone."),
    )
    history = HistoricalRecords()

    class Meta:
        verbose_name = _("entitlement")
        verbose_name_plural = _("entitlements")
        ordering = ["-start_month", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["household", "programme"],
                condition=Q(status__in=["active", "suspended"]),
                name="entitlement_one_live_per_programme",
            ),
            models.CheckConstraint(
                condition=Q(monthly_amount__gte=0), name="entitlement_amount_not_negative"
            ),
            models.CheckConstraint(
                condition=Q(start_month__day=1), name="entitlement_starts_on_first_of_month"
            ),
            models.CheckConstraint(
                condition=Q(end_month__isnull=True) | Q(end_month__gte=models.F("start_month")),
                name="entitlement_ends_after_start",
            ),
        ]
        indexes = [models.Index(fields=["status", "next_review"], name="entitlement_review_idx")]

    def __str__(self):
        return f"{self.household} {self.programme} {self.monthly_amount}"

    def amount_for(self, month) -> Decimal | None:
        """The monthly amount payable for ``month`` (a first of month); None when nothing is
        payable (before the start, after the end, or suspended from that month)."""
        if month < self.start_month or (self.end_month and month > self.end_month):
            return None
        changes = self.changes.filter(effective_month__lte=month, superseded=False).order_by(
            "effective_month", "id"
        )
        amount = None
        status = self.Status.ACTIVE
        for change in changes:
            if change.kind == EntitlementChange.Kind.AMOUNT:
                amount = Decimal(change.new_value)
            elif change.kind == EntitlementChange.Kind.STATUS:
                status = change.new_value
        if status != self.Status.ACTIVE:
            return None
        return amount if amount is not None else self.initial_amount()

    def initial_amount(self) -> Decimal:
        """The amount approved (entitlements created before amounts were recorded as changes
        have it only as the first change's old value)."""
        first = self.changes.filter(kind=EntitlementChange.Kind.AMOUNT).order_by("id").first()
        if first is not None and first.old_value:
            return Decimal(first.old_value)
        return self.monthly_amount

    @property
    def audit_region_code(self) -> str:
        return self.household.region.code

    @property
    def audit_case_key(self) -> str:
        return f"household:{self.household_id}"


class EntitlementChange(models.Model):
    """The timeline of an entitlement: every change of class, amount or status, from which
    month it applies and why. The amount for a month is the latest amount change applying
    by that month (``Entitlement.amount_for``)."""

    class Kind(models.TextChoices):
        CLASS = "class", _("Class")
        AMOUNT = "amount", _("Amount")
        STATUS = "status", _("Status")
        REVIEW = "review", _("Review date")

    entitlement = models.ForeignKey(
        Entitlement, on_delete=models.CASCADE, related_name="changes", verbose_name=_("entitlement")
    )
    kind = models.CharField(_("what changed"), max_length=8, choices=Kind.choices)
    effective_month = models.DateField(_("from month"))
    old_value = models.CharField(_("before"), max_length=32, blank=True)
    new_value = models.CharField(_("after"), max_length=32)
    cause = models.CharField(_("cause"), max_length=200)
    source = models.CharField(_("decided by"), max_length=32, blank=True)
    superseded = models.BooleanField(
        _("superseded"),
        default=False,
        help_text=_("A later decision from an earlier month replaced this one."),
    )
    created_at = models.DateTimeField(_("recorded at"), auto_now_add=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("recorded by"),
        help_text=_("Blank: the nightly job."),
    )

    class Meta:
        verbose_name = _("entitlement change")
        verbose_name_plural = _("entitlement changes")
        ordering = ["created_at", "id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(effective_month__day=1), name="entitlement_change_month_start"
            )
        ]
        indexes = [
            models.Index(fields=["entitlement", "kind", "effective_month"], name="ent_change_idx")
        ]

    def __str__(self):
        return f"{self.get_kind_display()} {self.old_value} → {self.new_value}"
