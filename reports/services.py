"""Every write of the reports app: asking for an export and writing it (DESIGN.md §10)."""

from __future__ import annotations

import datetime as dt
import tempfile

from django.core.files import File
from django.core.files.storage import default_storage
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.models import Role
from accounts.scoping import in_jurisdiction
from core.audit import audit_record
from core.exceptions import OutOfScopeError, ValidationFailed
from core.jobs import heartbeat
from core.models import AuditEvent
from regions.models import Region

from . import registers, writers
from .models import Export

# Who exports registers: the auditors and the bureau (city, district).
EXPORTERS = (Role.AUDITOR, Role.CITY_ADMIN, Role.DISTRICT_APPROVER)
# Who may ask for full ID numbers (stating a purpose, logged).
FULL_IDENTIFIERS = (Role.AUDITOR, Role.CITY_ADMIN)
# How long a finished file can be downloaded.
AVAILABLE_FOR = dt.timedelta(hours=24)


@transaction.atomic
def export_request(
    *,
    actor,
    register: str,
    fmt: str,
    region: Region,
    programme: str = "",
    date_from: dt.date | None = None,
    date_to: dt.date | None = None,
    full_identifiers: bool = False,
    purpose: str = "",
) -> Export:
    """Ask for a register; the file is written by the task ``reports.tasks.export_run``
    queued by the caller once this commits."""
    if actor.role not in EXPORTERS:
        raise OutOfScopeError(_("Your role does not export registers."))
    if not in_jurisdiction(actor, region.code):
        raise OutOfScopeError(_("The region is outside your jurisdiction."))
    errors = []
    if register not in Export.Register.values:
        errors.append(("register", _("Choose a register.")))
    if fmt not in Export.Format.values:
        errors.append(("format", _("Choose CSV or XLSX.")))
    if date_from and date_to and date_from > date_to:
        errors.append(("to", _("The end of the period is before its start.")))
    purpose = purpose.strip()
    if full_identifiers and actor.role not in FULL_IDENTIFIERS:
        errors.append(("full_identifiers", _("Your role exports masked ID numbers only.")))
    elif full_identifiers and not purpose:
        errors.append(("purpose", _("State why the full ID numbers are needed (it is logged).")))
    if errors:
        raise ValidationFailed(errors)
    export = Export.objects.create(
        requested_by=actor,
        register=register,
        format=fmt,
        region=region,
        programme=programme or "",
        date_from=date_from,
        date_to=date_to,
        full_identifiers=full_identifiers,
        purpose=purpose,
    )
    audit_record(
        actor=actor,
        action=AuditEvent.Action.CREATE,
        obj=export,
        reason=_("%(register)s of %(region)s%(filters)s%(ids)s")
        % {
            "register": export.get_register_display(),
            "region": region.name,
            "filters": _describe(export),
            "ids": _("; full ID numbers: %(purpose)s") % {"purpose": purpose}
            if full_identifiers
            else "",
        },
    )
    return export


def _describe(export: Export) -> str:
    parts = []
    if export.programme:
        parts.append(export.get_programme_display())
    if export.date_from or export.date_to:
        parts.append(f"{export.date_from or '…'} – {export.date_to or '…'}")
    return (", " + ", ".join(str(p) for p in parts)) if parts else ""


def export_run(*, export_id: int) -> Export:
    """Write the file, once: a second worker finds the export claimed. Rows are streamed
    from the database to a temporary file; progress is recorded as they go."""
    claimed = Export.objects.filter(pk=export_id, status=Export.Status.QUEUED).update(
        status=Export.Status.RUNNING
    )
    export = Export.objects.select_related("region", "requested_by").get(pk=export_id)
    if not claimed:
        return export
    try:
        total, rows = registers.register_rows(export, export.requested_by)

        def progress(done: int) -> None:
            Export.objects.filter(pk=export.pk).update(
                rows=done, progress=min(99, done * 100 // max(total, 1))
            )
            heartbeat()

        writer = writers.write_csv if export.format == "csv" else writers.write_xlsx
        columns = registers.REGISTERS[export.register].columns
        name = f"exports/{export.pk}-{export.register}.{export.format}"
        with tempfile.TemporaryFile() as scratch:
            count = writer(columns, rows, scratch, progress)
            scratch.seek(0)
            path = default_storage.save(name, File(scratch, name=name))
    except Exception as exc:
        Export.objects.filter(pk=export.pk).update(
            status=Export.Status.FAILED, error=str(exc)[:2000], finished_at=timezone.now()
        )
        raise
    with transaction.atomic():
        now = timezone.now()
        Export.objects.filter(pk=export.pk).update(
            status=Export.Status.DONE,
            rows=count,
            progress=100,
            path=path,
            finished_at=now,
            expires_at=now + AVAILABLE_FOR,
        )
        export.refresh_from_db()
        audit_record(
            actor=export.requested_by,
            action=AuditEvent.Action.TRANSITION,
            obj=export,
            from_state=Export.Status.RUNNING,
            to_state=Export.Status.DONE,
            reason=_("%(n)d rows written") % {"n": count},
        )
    return export


def export_open(*, actor, export: Export):
    """The finished file, for its requester only, until it expires; each download is
    logged."""
    if export.requested_by_id != actor.pk:
        raise OutOfScopeError(_("Only whoever asked for an export downloads it."))
    if export.status != Export.Status.DONE or not export.path:
        raise ValidationFailed([("", _("The file is not ready."))])
    if export.expires_at and export.expires_at < timezone.now():
        raise ValidationFailed([("", _("The file has expired; ask for the export again."))])
    audit_record(
        actor=actor,
        action=AuditEvent.Action.VIEW,
        obj=export,
        reason=_("Export downloaded (%(n)d rows)") % {"n": export.rows},
    )
    return default_storage.open(export.path, "rb")


def exports_purge() -> dict:
    """Delete the files of expired exports (every hour, by beat): a register with ID numbers
    does not stay on disk after its requester's 24 hours."""
    purged = 0
    expired = Export.objects.filter(expires_at__lt=timezone.now()).exclude(path="")
    for export in expired.iterator():
        default_storage.delete(export.path)
        Export.objects.filter(pk=export.pk).update(path="")
        purged += 1
    return {"purged": purged}
