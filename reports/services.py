"""Every write of the reports app: asking for an export and writing it (DESIGN.md §10)."""

from __future__ import annotations

import datetime as dt
import tempfile
from decimal import Decimal

from django.core.files import File
from django.core.files.storage import default_storage
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts import permissions
from accounts.models import Role
from accounts.scoping import in_jurisdiction
from core.audit import audit_record
from core.dbrouters import reading_from_replica
from core.exceptions import OutOfScopeError, ValidationFailed
from core.jobs import exclusive, heartbeat
from core.models import AuditEvent
from core.months import add_months
from regions.models import Region

from . import registers, registers_people, statistics, writers
from .models import ConsumptionSpending, Export, RegisteredPopulation

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
    per_member: bool = False,
) -> Export:
    """Ask for a register; the file is written by the task ``reports.tasks.export_run``
    queued by the caller once this commits."""
    if actor.role not in EXPORTERS:
        raise OutOfScopeError(_("Your role does not export registers."))
    if register == Export.Register.AUDIT_EVENTS and actor.role not in permissions.AUDIT_LOG_READERS:
        raise OutOfScopeError(_("Only the auditors export the audit log."))
    if not in_jurisdiction(actor, region.code):
        raise OutOfScopeError(_("The region is outside your jurisdiction."))
    errors = []
    if register not in Export.Register.values:
        errors.append(("register", _("Choose a register.")))
    if fmt not in Export.Format.values:
        errors.append(("format", _("Choose CSV or XLSX.")))
    if per_member and register != Export.Register.ENTITLEMENTS:
        errors.append(("per_member", _("Only the recipients register has a row per person.")))
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
        per_member=per_member,
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
    parts = [_("one row per person")] if export.per_member else []
    if export.programme:
        parts.append(export.get_programme_display())
    if export.date_from or export.date_to:
        parts.append(f"{export.date_from or '…'} – {export.date_to or '…'}")
    return (", " + ", ".join(str(p) for p in parts)) if parts else ""


def register_of(export: Export) -> registers.Register:
    if export.per_member:
        return registers_people.RECIPIENTS_BY_PERSON
    return registers.REGISTERS[export.register]


def export_run(*, export_id: int) -> Export:
    """Write the file, once: a second worker finds the export held and does nothing; a
    worker killed midway takes its lock with it and the re-delivered task writes the file
    again. Rows are streamed from the database to a temporary file; progress is recorded as
    they go."""
    with exclusive(f"export_run:{export_id}") as mine:
        export = Export.objects.select_related("region", "requested_by").get(pk=export_id)
        if not mine or export.status not in (Export.Status.QUEUED, Export.Status.RUNNING):
            return export
        Export.objects.filter(pk=export.pk).update(status=Export.Status.RUNNING)
        return _export_write(export)


def _export_write(export: Export) -> Export:
    try:
        spec = register_of(export)
        writer = writers.write_csv if export.format == "csv" else writers.write_xlsx
        name = f"exports/{export.pk}-{export.register}.{export.format}"
        with tempfile.TemporaryFile() as scratch:
            # The register's rows come from the replica when there is one (core.dbrouters); the
            # export's own record, its progress and its audit events are written to the
            # primary, where the requester's page reads them.
            with reading_from_replica():
                total, rows = registers.register_rows(export, export.requested_by, spec)

                def progress(done: int) -> None:
                    Export.objects.filter(pk=export.pk).update(
                        rows=done, progress=min(99, done * 100 // max(total, 1))
                    )
                    heartbeat()

                count = writer(spec.columns, rows, scratch, progress)
            scratch.seek(0)
            default_storage.delete(name)  # a killed run's file: replaced, not left behind
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


# --- the statistics return and the figures the city enters ----------------------------------------

STATISTICS_READERS = permissions.STATISTICS_READERS


def statistics_refresh(*, months: list[dt.date] | None = None) -> dict:
    """Compute the return's figures city-wide: by default last month (its bank results are
    still coming in), this month and next month (a payroll is often approved before its
    month begins). Nightly by beat, or when the city asks."""
    this_month = timezone.localdate().replace(day=1)
    months = months or [add_months(this_month, n) for n in (-1, 0, 1)]
    written = 0
    for month in months:
        written += statistics.compute(month=month)
        heartbeat()
    return {"months": len(months), "rows": written}


def statistics_refresh_request(*, actor, month: dt.date) -> None:
    """The city asks for a month's figures now (after approving a payroll late in the day);
    the caller queues ``reports.tasks.statistics_refresh`` once this commits."""
    if actor.role != Role.CITY_ADMIN:
        raise OutOfScopeError(_("Only the city administrator recomputes the statistics."))
    audit_record(
        actor=actor,
        action=AuditEvent.Action.UPDATE,
        reason=_("Statistics of %(month)s recomputed on request") % {"month": f"{month:%Y-%m}"},
    )


def _city_only(actor) -> None:
    if actor.role != Role.CITY_ADMIN:
        raise OutOfScopeError(_("Only the city administrator enters these figures."))


@transaction.atomic
def population_set(
    *, actor, district: Region, year: int, population: int, source: str = ""
) -> RegisteredPopulation:
    """户籍人口 of a district for a year (entered again, it replaces the figure; logged)."""
    _city_only(actor)
    if district.level != Region.Level.DISTRICT:
        raise ValidationFailed([("district", _("Choose a district."))])
    if population <= 0:
        raise ValidationFailed([("population", _("The population must be above zero."))])
    row = RegisteredPopulation.objects.filter(district=district, year=year).first()
    before = row.population if row else None
    row, _created = RegisteredPopulation.objects.update_or_create(
        district=district, year=year, defaults={"population": population, "source": source}
    )
    audit_record(
        actor=actor,
        action=AuditEvent.Action.UPDATE,
        obj=row,
        changes={"population": [before, population]},
        reason=source,
    )
    return row


@transaction.atomic
def consumption_set(
    *, actor, year: int, urban: Decimal, rural: Decimal, source: str = ""
) -> ConsumptionSpending:
    """居民人均消费支出 of the city for a year (entered again, it replaces the figures)."""
    _city_only(actor)
    if urban <= 0 or rural <= 0:
        raise ValidationFailed([("urban", _("Enter both figures, above zero."))])
    row = ConsumptionSpending.objects.filter(year=year).first()
    before = [str(row.urban), str(row.rural)] if row else None
    row, _created = ConsumptionSpending.objects.update_or_create(
        year=year, defaults={"urban": urban, "rural": rural, "source": source}
    )
    audit_record(
        actor=actor,
        action=AuditEvent.Action.UPDATE,
        obj=row,
        changes={"urban, rural": [before, [str(urban), str(rural)]]},
        reason=source,
    )
    return row
