"""Exports of registers (台账) for auditors and the bureau: each a background job whose file
only its requester may download, until it expires."""

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
