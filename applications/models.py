"""Casework: applications received at the one-stop window (一门受理), their materials, and
referrals of requests other departments decide (协同办理)."""

from django.conf import settings
from django.db import models
from django.db.models.lookups import GreaterThanOrEqual
from django.utils.translation import gettext_lazy as _
from simple_history.models import HistoricalRecords

from beneficiaries.models import Household, Programme
from regions.models import Region


class Channel(models.TextChoices):
    WINDOW = "window", _("At the window")
    VILLAGE = "village", _("Submitted by the village for the family")
    DISCOVERY = "discovery", _("Active discovery")
    ONLINE = "online", _("Online")


class Material(models.TextChoices):
    ID_CARD = "id_card", _("ID cards of the members")
    HUKOU_BOOK = "hukou_book", _("Hukou book")
    INCOME_PROOF = "income_proof", _("Proof of income")
    DISABILITY_CERTIFICATE = "disability_certificate", _("Disability certificate")
    MEDICAL_BILLS = "medical_bills", _("Medical bills")
    AUTHORISATION = "authorisation", _("Signed authorisation for economic checks (核对授权书)")
    PLEDGE = "pledge", _("Signed truthfulness pledge")


class MaterialRequirement(models.Model):
    """Policy data: which materials a programme's application needs."""

    programme = models.CharField(_("programme"), max_length=16, choices=Programme.choices)
    material = models.CharField(_("material"), max_length=32, choices=Material.choices)

    class Meta:
        verbose_name = _("required material")
        verbose_name_plural = _("required materials")
        constraints = [
            models.UniqueConstraint(
                fields=["programme", "material"], name="material_requirement_unique"
            )
        ]

    def __str__(self):
        return f"{self.get_programme_display()}: {self.get_material_display()}"


# The statuses of a case still being decided (``flows.OPEN`` reads them from here).
OPEN_STATUSES = [
    "received",
    "needs_materials",
    "investigating",
    "appraisal",
    "township_review",
    "noticed",
    "district_review",
]


class Application(models.Model):
    class Status(models.TextChoices):
        RECEIVED = "received", _("Received")
        NEEDS_MATERIALS = "needs_materials", _("Waiting for materials")
        INVESTIGATING = "investigating", _("Investigation")
        APPRAISAL = "appraisal", _("Democratic appraisal")
        TOWNSHIP_REVIEW = "township_review", _("Township review")
        NOTICED = "noticed", _("Public notice")
        DISTRICT_REVIEW = "district_review", _("District review")
        APPROVED = "approved", _("Approved")
        REJECTED = "rejected", _("Rejected")
        WITHDRAWN = "withdrawn", _("Withdrawn")

    number = models.CharField(_("application number"), max_length=24, unique=True)
    household = models.ForeignKey(
        Household,
        on_delete=models.PROTECT,
        related_name="applications",
        verbose_name=_("household"),
    )
    programme = models.CharField(_("programme"), max_length=16, choices=Programme.choices)
    channel = models.CharField(_("channel"), max_length=16, choices=Channel.choices)
    township = models.ForeignKey(
        Region, on_delete=models.PROTECT, related_name="+", verbose_name=_("accepting township")
    )
    received_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("received by"),
    )
    received_at = models.DateTimeField(_("received at"))
    # 受理: the clocks start on the day the materials are complete (DESIGN.md §4).
    accepted_on = models.DateField(_("accepted (materials complete) on"), null=True, blank=True)
    materials_due = models.DateField(_("missing materials expected by"), null=True, blank=True)
    decision_due = models.DateField(_("decision expected by"), null=True, blank=True)
    status = models.CharField(_("status"), max_length=20, choices=Status.choices)
    separately_registered = models.BooleanField(
        _("separately registered (单独登记)"), default=False
    )
    single_member = models.ForeignKey(
        "beneficiaries.Member",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("for one member alone (单人保)"),
    )
    # --- review and approval (DESIGN.md §4) ---
    step_due = models.DateField(_("current step due"), null=True, blank=True)
    step_started_at = models.DateTimeField(_("current step started at"), null=True, blank=True)
    # How the step's deadline (or the letter's) was counted: the clock (a policy figure) and
    # the day it ran from, so that it can be counted again when the calendar changes.
    step_clock = models.CharField(_("current step's time limit"), max_length=32, blank=True)
    step_from = models.DateField(_("current step counted from"), null=True, blank=True)
    extended_reason = models.TextField(_("reason for the extension"), blank=True)
    needs_appraisal = models.BooleanField(_("democratic appraisal required"), default=False)
    investigated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("investigated by"),
    )
    assessment = models.ForeignKey(
        "eligibility.Assessment",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("assessment"),
    )
    proposed_amount = models.DecimalField(
        _("proposed amount"), max_digits=10, decimal_places=2, null=True, blank=True
    )
    amount_override_reason = models.TextField(_("why the amount differs"), blank=True)
    proposed_class = models.CharField(_("proposed class"), max_length=1, blank=True)
    township_opinion = models.TextField(_("township opinion"), blank=True)
    emergency = models.BooleanField(_("emergency payment first (急难)"), default=False)
    paperwork_due = models.DateField(_("paperwork due"), null=True, blank=True)
    spot_check_draw = models.ForeignKey(
        "SpotCheckDraw",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="applications",
        verbose_name=_("spot-check draw"),
    )
    spot_checked = models.BooleanField(_("in the spot-check sample"), default=False)
    decided_at = models.DateTimeField(_("decided at"), null=True, blank=True)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("decided by"),
    )
    decision_reason = models.TextField(_("reason for the decision"), blank=True)
    rejected_at_step = models.CharField(_("rejected at"), max_length=20, blank=True)
    # 低保/特困: the township proposes a refusal with its reasons; the district decides it.
    refusal_proposed_at = models.CharField(
        _("refusal proposed by the township at"), max_length=20, blank=True
    )
    refusal_reason = models.TextField(_("the township's reasons for refusing"), blank=True)
    letter_due = models.DateField(_("letter due"), null=True, blank=True)
    version = models.PositiveIntegerField(_("version"), default=1)
    history = HistoricalRecords()

    class Meta:
        verbose_name = _("application")
        verbose_name_plural = _("applications")
        ordering = ["-received_at", "-id"]
        indexes = [
            models.Index(fields=["township", "status"], name="application_queue_idx"),
            models.Index(fields=["status", "step_due"], name="application_step_idx"),
            # The list's order: a city-wide list reads its first page from here, not by
            # sorting half a million cases.
            models.Index(fields=["-received_at", "-id"], name="application_newest_idx"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(proposed_amount__isnull=True) | models.Q(proposed_amount__gte=0),
                name="application_amount_not_negative",
            ),
            # One open application per household and programme, or per member for 单人保: a
            # double click or eight windows at once cannot open a second case.
            models.UniqueConstraint(
                fields=["household", "programme"],
                condition=models.Q(status__in=OPEN_STATUSES, single_member__isnull=True),
                name="application_one_open_per_programme",
            ),
            models.UniqueConstraint(
                fields=["single_member", "programme"],
                condition=models.Q(status__in=OPEN_STATUSES, single_member__isnull=False),
                name="application_one_open_per_member",
            ),
        ]

    def __str__(self):
        return self.number

    @property
    def audit_region_code(self) -> str:
        return self.household.region.code

    @property
    def audit_case_key(self) -> str:
        return f"application:{self.pk}"


class ApplicationMaterial(models.Model):
    application = models.ForeignKey(
        Application,
        on_delete=models.CASCADE,
        related_name="materials",
        verbose_name=_("application"),
    )
    material = models.CharField(_("material"), max_length=32, choices=Material.choices)
    required = models.BooleanField(
        _("required"),
        default=True,
        help_text=_("Required for the programme; others were handed in and are kept."),
    )
    received = models.BooleanField(_("handed in"), default=False)
    received_at = models.DateTimeField(_("handed in at"), null=True, blank=True)

    class Meta:
        verbose_name = _("application material")
        verbose_name_plural = _("application materials")
        ordering = ["id"]
        constraints = [
            models.UniqueConstraint(
                fields=["application", "material"], name="application_material_unique"
            )
        ]

    def __str__(self):
        return self.get_material_display()


class Department(models.Model):
    """Who decides a kind of help civil affairs does not (configurable per district)."""

    class Kind(models.TextChoices):
        MEDICAL = "medical", _("Medical assistance")
        EDUCATION = "education", _("Education assistance")
        HOUSING = "housing", _("Housing assistance")
        EMPLOYMENT = "employment", _("Employment assistance")
        DISASTER = "disaster", _("Disaster relief")

    kind = models.CharField(_("handles"), max_length=16, choices=Kind.choices)
    district_code = models.CharField(
        _("district code"), max_length=6, blank=True, help_text=_("Blank: the city-wide default.")
    )
    name = models.CharField(_("department"), max_length=64)
    phone = models.CharField(_("phone"), max_length=20, blank=True)

    class Meta:
        verbose_name = _("department")
        verbose_name_plural = _("departments")
        constraints = [
            models.UniqueConstraint(
                fields=["kind", "district_code"], name="department_one_per_kind_and_district"
            )
        ]

    def __str__(self):
        return self.name


class Referral(models.Model):
    class Status(models.TextChoices):
        OPEN = "open", _("Waiting for the department")
        REPLIED = "replied", _("Replied")

    household = models.ForeignKey(
        Household, on_delete=models.PROTECT, related_name="referrals", verbose_name=_("household")
    )
    kind = models.CharField(_("request"), max_length=16, choices=Department.Kind.choices)
    department = models.ForeignKey(
        Department, on_delete=models.PROTECT, related_name="+", verbose_name=_("department")
    )
    township = models.ForeignKey(
        Region, on_delete=models.PROTECT, related_name="+", verbose_name=_("accepting township")
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("referred by"),
    )
    created_at = models.DateTimeField(_("referred at"))
    due = models.DateField(_("reply due"))
    status = models.CharField(
        _("status"), max_length=16, choices=Status.choices, default=Status.OPEN
    )
    reply = models.TextField(_("reply"), blank=True)
    replied_at = models.DateTimeField(_("replied at"), null=True, blank=True)
    history = HistoricalRecords()

    class Meta:
        verbose_name = _("referral")
        verbose_name_plural = _("referrals")
        ordering = ["due", "id"]
        indexes = [models.Index(fields=["township", "status", "due"], name="referral_queue_idx")]

    def __str__(self):
        return f"{self.get_kind_display()} → {self.department}"

    @property
    def audit_region_code(self) -> str:
        return self.household.region.code

    @property
    def audit_case_key(self) -> str:
        return f"household:{self.household_id}"


class Lead(models.Model):
    """主动发现: a person in urgent need reported by a village worker. The township must make
    contact within a policy number of working days; a lead can become an application."""

    class Urgency(models.TextChoices):
        URGENT = "urgent", _("Urgent (急难)")
        NORMAL = "normal", _("Normal")

    class Status(models.TextChoices):
        OPEN = "open", _("Waiting for contact")
        CONTACTED = "contacted", _("Contacted")
        CONVERTED = "converted", _("Turned into an application")
        CLOSED = "closed", _("Closed without application")

    village = models.ForeignKey(
        Region, on_delete=models.PROTECT, related_name="+", verbose_name=_("village/community")
    )
    household = models.ForeignKey(
        Household,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="leads",
        verbose_name=_("household"),
    )
    person_name = models.CharField(_("person"), max_length=64)
    location = models.CharField(_("where"), max_length=200)
    situation = models.TextField(_("what happened"))
    urgency = models.CharField(
        _("urgency"), max_length=8, choices=Urgency.choices, default=Urgency.NORMAL
    )
    reported_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("reported by"),
    )
    reported_at = models.DateTimeField(_("reported at"))
    contact_due = models.DateField(_("contact due"))
    status = models.CharField(
        _("status"), max_length=12, choices=Status.choices, default=Status.OPEN
    )
    application = models.ForeignKey(
        Application,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        verbose_name=_("application"),
    )
    contacted_at = models.DateTimeField(_("contacted at"), null=True, blank=True)
    contact_note = models.TextField(_("what the contact found"), blank=True)
    history = HistoricalRecords()

    class Meta:
        verbose_name = _("lead")
        verbose_name_plural = _("leads")
        ordering = ["contact_due", "id"]
        indexes = [models.Index(fields=["status", "contact_due"], name="lead_queue_idx")]

    def __str__(self):
        return f"{self.person_name} ({self.village})"

    @property
    def audit_region_code(self) -> str:
        return self.village.code

    @property
    def is_overdue(self) -> bool:
        from django.utils import timezone

        return self.status == self.Status.OPEN and self.contact_due < timezone.localdate()


def _scan_path(instance, filename):
    """Unguessable names: nothing about the family in the path, nothing to enumerate."""
    import uuid

    extension = filename.rsplit(".", 1)[-1].lower()
    return f"scans/{uuid.uuid4().hex}.{extension}"


class Scan(models.Model):
    """A scanned material (ID card, certificate, bill) attached to an application."""

    application = models.ForeignKey(
        Application, on_delete=models.CASCADE, related_name="scans", verbose_name=_("application")
    )
    material = models.CharField(_("material"), max_length=32, choices=Material.choices)
    file = models.FileField(_("file"), upload_to=_scan_path)
    original_name = models.CharField(_("file name"), max_length=200)
    size = models.PositiveIntegerField(_("size (bytes)"))
    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("uploaded by"),
    )
    uploaded_at = models.DateTimeField(_("uploaded at"), auto_now_add=True)

    class Meta:
        verbose_name = _("scan")
        verbose_name_plural = _("scans")
        ordering = ["uploaded_at"]

    def __str__(self):
        return self.original_name

    @property
    def audit_region_code(self) -> str:
        return self.application.household.region.code

    @property
    def audit_case_key(self) -> str:
        return f"application:{self.application_id}"


class HomeVisit(models.Model):
    """A home visit (入户调查) by at least two staff: during the investigation, or the
    district's spot-check before approval."""

    class Kind(models.TextChoices):
        INVESTIGATION = "investigation", _("Investigation")
        SPOT_CHECK = "spot_check", _("District spot-check")

    application = models.ForeignKey(
        Application, on_delete=models.CASCADE, related_name="visits", verbose_name=_("application")
    )
    kind = models.CharField(_("kind"), max_length=16, choices=Kind.choices)
    visited_on = models.DateField(_("visited on"))
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("recorded by"),
    )
    second_staff = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("second member of staff"),
    )
    second_visitor = models.CharField(_("second member of staff (name)"), max_length=64)
    findings = models.TextField(_("what was seen"))
    recorded_at = models.DateTimeField(_("recorded at"), auto_now_add=True)

    class Meta:
        verbose_name = _("home visit")
        verbose_name_plural = _("home visits")
        ordering = ["visited_on", "id"]

    def __str__(self):
        return f"{self.get_kind_display()} {self.visited_on}"


class Appraisal(models.Model):
    """民主评议: a panel of village/resident representatives and others; representatives are
    at least two thirds of the panel (a database constraint)."""

    class Conclusion(models.TextChoices):
        AGREED = "agreed", _("Agreed")
        CONTESTED = "contested", _("Contested: investigate again")

    application = models.ForeignKey(
        Application,
        on_delete=models.CASCADE,
        related_name="appraisals",
        verbose_name=_("application"),
    )
    held_on = models.DateField(_("held on"))
    panel_size = models.PositiveSmallIntegerField(_("panel size"))
    representatives = models.PositiveSmallIntegerField(_("village/resident representatives"))
    conclusion = models.CharField(_("conclusion"), max_length=12, choices=Conclusion.choices)
    note = models.TextField(_("record"), blank=True)
    recorded_at = models.DateTimeField(_("recorded at"), auto_now_add=True, null=True)
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("recorded by"),
    )

    class Meta:
        verbose_name = _("democratic appraisal")
        verbose_name_plural = _("democratic appraisals")
        ordering = ["held_on", "id"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(representatives__lte=models.F("panel_size"))
                & GreaterThanOrEqual(models.F("representatives") * 3, models.F("panel_size") * 2),
                name="appraisal_two_thirds_representatives",
            ),
        ]

    def __str__(self):
        return f"{self.held_on} {self.get_conclusion_display()}"


class SpotCheckDraw(models.Model):
    """The district's spot-check sample (抽查): every separately registered or flagged case,
    plus random others up to the policy share, drawn with a recorded seed so anyone can
    recompute the same sample from the same population."""

    district_code = models.CharField(_("district code"), max_length=12)
    seed = models.BigIntegerField(_("random seed"))
    share = models.DecimalField(_("share"), max_digits=4, decimal_places=2)
    population = models.JSONField(_("cases in the draw (ids)"))
    forced = models.JSONField(_("cases always checked (ids)"))
    selected = models.JSONField(_("cases selected (ids)"))
    drawn_at = models.DateTimeField(_("drawn at"), auto_now_add=True)
    drawn_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("drawn by"),
    )

    class Meta:
        verbose_name = _("spot-check draw")
        verbose_name_plural = _("spot-check draws")
        ordering = ["-drawn_at"]

    def __str__(self):
        return f"{self.district_code} {self.drawn_at:%Y-%m-%d} seed {self.seed}"

    @property
    def audit_region_code(self) -> str:
        return self.district_code
