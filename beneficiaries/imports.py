"""Household import (批量导入): a district migrating its existing list of households and members
from a CSV or XLSX file. Every step is a service below; the slow ones run in Celery
(``beneficiaries.tasks``)::

    upload ─► uploaded ─► checking ─► invalid                  (every row error listed)
                                  └─► valid ─► committing ─► committed   (one transaction)
                                                          └─► failed     (nothing imported)

The file has one row per member and a header in row 1 (the English keys or the Chinese
headers of ``COLUMNS``). Rows are grouped into households by ``household_ref``, the district's
own key; household columns are read from the head's row, and other rows of the household may
repeat them or leave them blank but not contradict them. docs/import.md is the users' guide.
"""

from __future__ import annotations

import csv
import io
import logging
import os
import re
import uuid

from django.db import IntegrityError, transaction
from django.db.models import OuterRef, QuerySet, Subquery
from django.shortcuts import get_object_or_404
from django.utils import timezone
from django.utils.translation import gettext as _
from simple_history.utils import bulk_create_with_history

from accounts.models import Role, User
from accounts.scoping import in_jurisdiction, scope_to_jurisdiction
from core import crypto
from core.audit import audit_record
from core.exceptions import ConflictError, OutOfScopeError, ValidationFailed
from core.jobs import exclusive
from core.models import AuditEvent
from core.services import sequence_allocate
from regions.models import Region

from . import rules
from .import_check import CheckResult, Group, Report, check_file, chunks, file_error
from .import_format import (
    estimate_rows,
    extension,
)
from .models import Household, ImportBatch, Member

logger = logging.getLogger(__name__)

IMPORT_ROLES = frozenset({Role.DISTRICT_APPROVER, Role.CITY_ADMIN})
EXTENSIONS = (".csv", ".xlsx")
MAX_UPLOAD_MB = 50
CHUNK = 2000  # households per round of inserts; rows per INSERT statement

S = ImportBatch.Status
# The batch's state machine: (from, action) → to. Every change is a conditional UPDATE on the
# "from" status, so a redelivered task or a second click cannot run a step twice.
FLOW = {
    (S.UPLOADED, "check"): S.CHECKING,
    (S.CHECKING, "check"): S.CHECKING,  # the worker died mid-check; the task is redelivered
    (S.CHECKING, "pass"): S.VALID,
    (S.CHECKING, "reject"): S.INVALID,
    (S.VALID, "commit"): S.COMMITTING,  # the uploader or a city administrator
    (S.COMMITTING, "finish"): S.COMMITTED,
    (S.COMMITTING, "fail"): S.FAILED,
}
RUNNING = frozenset({S.UPLOADED, S.CHECKING, S.COMMITTING})


def _move(batch_id: int, action: str, **fields) -> bool:
    """Apply ``action`` if the batch is in a state that allows it; True if it was."""
    sources = [source for (source, name) in FLOW if name == action]
    target = FLOW[(sources[0], action)]
    return bool(
        ImportBatch.objects.filter(pk=batch_id, status__in=sources).update(status=target, **fields)
    )


# --- Writing ----------------------------------------------------------------------------------


def _allocate_numbers(result: CheckResult) -> dict[str, str]:
    """Household numbers for every group, one block per district. Allocated in their own
    short transaction, so window clerks of the district are not held up by the import;
    numbers of an import that then fails stay unused, as ``sequence_allocate`` allows."""
    by_district: dict[str, list[Group]] = {}
    for group in result.groups:
        by_district.setdefault(group.household["village_code"][:6], []).append(group)
    numbers = {}
    for district, groups in by_district.items():
        block = sequence_allocate(name=f"household:{district}", count=len(groups))
        numbers.update({g.ref: f"{district}{n:08d}" for g, n in zip(groups, block, strict=True)})
    return numbers


@transaction.atomic
def _write(batch: ImportBatch, result: CheckResult, numbers: dict[str, str], actor: User) -> None:
    reason = _("Household import, batch %(id)d") % {"id": batch.pk}  # fits history's 100
    for groups in chunks(result.groups, CHUNK):
        _write_chunk(groups, result, numbers, actor, reason)
    summary = _("Imported %(households)d households and %(members)d members from %(file)s.")
    audit_record(
        actor=actor,
        action=AuditEvent.Action.CREATE,
        obj=batch,
        reason=summary
        % {
            "households": len(result.groups),
            "members": result.member_count,
            "file": batch.original_name,
        },
    )
    if not _move(batch.pk, "finish", finished_at=timezone.now()):
        raise ConflictError(_("The import batch changed while it was being imported."))


def _write_chunk(groups, result: CheckResult, numbers, actor: User, reason: str) -> None:
    """Households, their members (with history), then the heads; history for the households
    last, so their first history record shows the head."""
    today = timezone.localdate()
    households = [
        Household(
            number=numbers[g.ref],
            region_id=result.region_ids[g.household["village_code"]],
            created_by=actor,
            **{k: v for k, v in g.household.items() if k != "village_code"},
        )
        for g in groups
    ]
    Household.objects.bulk_create(households, batch_size=CHUNK)
    members = [
        Member(household=household, **{**data, **rules.derived_member_fields(data, today=today)})
        for household, group in zip(households, groups, strict=True)
        for data in group.member_dicts()
    ]
    bulk_create_with_history(
        members, Member, batch_size=CHUNK, default_user=actor, default_change_reason=reason
    )
    heads = {m.household_id: m.pk for m in members if m.relation == Member.Relation.HEAD}
    for household in households:
        household.head_id = heads[household.pk]
    # One UPDATE per chunk: cheaper than bulk_update's CASE of 2,000 branches.
    head = Member.objects.filter(household=OuterRef("pk"), relation=Member.Relation.HEAD)
    Household.objects.filter(pk__in=heads).update(head=Subquery(head.values("pk")[:1]))
    Household.history.bulk_history_create(
        households, batch_size=CHUNK, default_user=actor, default_change_reason=reason
    )
    # Bulk writes send no history signal: one audit event per household, so each household's
    # change history and its jurisdiction's audit log show where it came from.
    region_codes = {pk: code for code, pk in result.region_ids.items()}
    AuditEvent.objects.bulk_create(
        [
            AuditEvent(
                actor=actor,
                actor_name=actor.get_username(),
                action=AuditEvent.Action.CREATE,
                object_type="beneficiaries.household",
                object_id=str(h.pk),
                object_repr=h.number,
                region_code=region_codes[h.region_id],
                case_key=h.audit_case_key,
                reason=reason,
            )
            for h in households
        ],
        batch_size=CHUNK,
    )


def _race_error(exc: IntegrityError, result: CheckResult | None) -> dict:
    """The unique constraint fired: someone registered one of these people meanwhile."""
    # The constraint is on the number's keyed hash (the number itself is encrypted).
    found = re.search(r"\(id_number_digest\)=\((\w+)\)", str(exc))
    by_digest = {crypto.digest(n): row for n, row in result.id_rows.items()} if result else {}
    row = by_digest.get(found[1]) if found else None
    message = _(
        "An ID number in this file was registered elsewhere while the import was running. "
        "Nothing was imported; upload the file again to see which row."
    )
    if row:
        message = _(
            "The ID number on this row was registered elsewhere while the import was running. "
            "Nothing was imported; upload the file again."
        )
    column = result.report.labels["id_number"] if row else ""
    return {"row": row, "column": column, "code": "id_registered_meanwhile", "message": message}


def _unexpected_error() -> dict:
    return file_error(
        "unexpected",
        _(
            "An unexpected error stopped the work; nothing was imported. Try again, or tell "
            "the system administrator if it happens again."
        ),
    )


# --- Services ---------------------------------------------------------------------------------


def import_batch_create(*, actor: User, uploaded_file) -> ImportBatch:
    """Store an uploaded file under an unguessable name; the caller queues its check
    (``tasks.import_check``). The file is written before the transaction, which then only
    inserts the batch."""
    if actor.role not in IMPORT_ROLES:
        raise OutOfScopeError(_("Only district approvers and city administrators may import."))
    name = os.path.basename(uploaded_file.name or "")
    suffix = extension(name)
    if suffix not in EXTENSIONS:
        raise ValidationFailed([("file", _("Upload a .csv or .xlsx file."))])
    if not uploaded_file.size:
        raise ValidationFailed([("file", _("The file is empty."))])
    if uploaded_file.size > MAX_UPLOAD_MB * 1024 * 1024:
        message = _("The file is larger than %(max)d MB; split it into several files.")
        raise ValidationFailed([("file", message % {"max": MAX_UPLOAD_MB})])
    batch = ImportBatch(
        original_name=name[:200], uploaded_by=actor, region_code=actor.jurisdiction.code
    )
    batch.file.save(f"{uuid.uuid4().hex}{suffix}", uploaded_file, save=False)
    batch.save()
    return batch


def import_batch_check(*, batch_id: int) -> None:
    """The dry run: read the whole file and record every error; nothing else is written.
    Runs outside a transaction so that its progress is visible; each write is one UPDATE.
    One worker at a time checks a batch; a re-delivered task starts the check again."""
    with exclusive(f"import_check:{batch_id}") as mine:
        if mine and _move(batch_id, "check", processed_rows=0, error_count=0, errors=[]):
            _check(batch_id)


def _check(batch_id: int) -> None:
    batch = ImportBatch.objects.select_related("uploaded_by__jurisdiction").get(pk=batch_id)
    progress = ImportBatch.objects.filter(pk=batch_id)
    try:
        progress.update(total_rows=estimate_rows(batch.file))
        result = check_file(batch, progress=lambda rows: progress.update(processed_rows=rows))
    except Exception:
        _move(batch_id, "reject", error_count=1, errors=[_unexpected_error()])
        raise
    _move(
        batch_id,
        "reject" if result.report.count else "pass",
        total_rows=result.total_rows,
        processed_rows=result.total_rows,
        household_count=len(result.groups),
        member_count=result.member_count,
        error_count=result.report.count,
        errors=result.report.errors(),
        error_report=_save_error_report(result.report) if result.report.count else "",
        finished_at=timezone.now(),
    )


def _save_error_report(report: Report) -> str:
    """Every error (not only the first 1,000 shown on the page) as a CSV file with a BOM."""
    from django.core.files.base import ContentFile
    from django.core.files.storage import default_storage

    buffer = io.StringIO()
    buffer.write("\ufeff")
    writer = csv.writer(buffer)
    writer.writerow([_("Row"), _("Column"), _("Problem")])
    for error in report.all_errors():
        writer.writerow([error["row"] or "", csv_safe(error["column"]), csv_safe(error["message"])])
    name = f"imports/{uuid.uuid4().hex}-errors.csv"
    return default_storage.save(name, ContentFile(buffer.getvalue().encode("utf-8")))


def csv_safe(value: str) -> str:
    """Cells Excel would run as a formula (they may echo text from the uploaded file)."""
    return f"'{value}" if value[:1] in ("=", "+", "-", "@") else value


def can_commit(user: User, batch: ImportBatch) -> bool:
    return (
        user.role in IMPORT_ROLES
        and in_jurisdiction(user, batch.region_code)
        and (user.pk == batch.uploaded_by_id or user.role == Role.CITY_ADMIN)
    )


@transaction.atomic
def import_batch_commit(*, actor: User, batch_id: int) -> ImportBatch:
    """Confirm a checked file: the import itself runs in the background (the caller queues
    ``tasks.import_commit``)."""
    batch = ImportBatch.objects.select_for_update().get(pk=batch_id)
    if not can_commit(actor, batch):
        raise OutOfScopeError(
            _("Only the person who uploaded this file or a city administrator may import it.")
        )
    if (batch.status, "commit") not in FLOW:
        raise ConflictError(
            _("This file cannot be imported now: %(status)s.")
            % {"status": batch.get_status_display()}
        )
    batch.status = FLOW[(batch.status, "commit")]
    batch.save(update_fields=["status"])
    return batch


def import_batch_apply(*, batch_id: int, actor_id: int | None = None) -> None:
    """The worker's side of the commit: check the file again (the register may have changed
    since the dry run), then insert everything in one transaction, or nothing. A second
    delivery while a worker imports it does nothing."""
    with exclusive(f"import_apply:{batch_id}") as mine:
        batch = ImportBatch.objects.select_related("uploaded_by__jurisdiction").get(pk=batch_id)
        if mine and batch.status == S.COMMITTING:  # else held, or finished: a redelivered task
            _apply(batch, actor_id)


def _apply(batch: ImportBatch, actor_id: int | None) -> None:
    batch_id = batch.pk
    actor = User.objects.get(pk=actor_id) if actor_id else batch.uploaded_by
    result = None
    try:
        result = check_file(batch)
        if result.report.count:
            errors, count = result.report.errors(), result.report.count
        else:
            _write(batch, result, _allocate_numbers(result), actor)
            return
    except IntegrityError as exc:
        logger.warning("import batch %s rolled back: %s", batch_id, exc)
        errors, count = [_race_error(exc, result)], 1
    except Exception:
        _move(batch_id, "fail", error_count=1, errors=[_unexpected_error()])
        raise
    _move(batch_id, "fail", error_count=count, errors=errors, finished_at=timezone.now())


# --- Selectors --------------------------------------------------------------------------------


def import_batch_list(*, user: User) -> QuerySet:
    batches = ImportBatch.objects.select_related("uploaded_by").order_by("-created_at", "-pk")
    return scope_to_jurisdiction(batches, user=user, code_field="region_code")


def import_batch_get_for_user(*, user: User, pk: int) -> ImportBatch:
    """The batch if it is inside the user's jurisdiction, else 404."""
    return get_object_or_404(import_batch_list(user=user), pk=pk)


def example_village_code(*, user: User) -> str:
    """A real village of the user's jurisdiction for the template's example household."""
    villages = Region.objects.filter(level=Region.Level.VILLAGE, is_active=True)
    code = (
        scope_to_jurisdiction(villages, user=user, code_field="code")
        .values_list("code", flat=True)
        .first()
    )
    return code or "500103001001"
