"""Household files uploaded for import (CSV/XLSX): their check and commit."""

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _


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
