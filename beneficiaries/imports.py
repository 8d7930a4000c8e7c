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
import datetime as dt
import heapq
import io
import itertools
import logging
import os
import re
import uuid
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field

from django.db import IntegrityError, transaction
from django.db.models import OuterRef, QuerySet, Subquery
from django.shortcuts import get_object_or_404
from django.utils import timezone
from django.utils.translation import gettext as _
from simple_history.utils import bulk_create_with_history

from accounts.models import Role, User
from accounts.scoping import in_jurisdiction, scope_to_jurisdiction
from core.audit import audit_record
from core.exceptions import ConflictError, OutOfScopeError, ValidationFailed
from core.models import AuditEvent
from core.services import sequence_allocate
from regions.models import Region

from . import rules
from .import_format import (
    COLUMNS,
    HOUSEHOLD_KEYS,
    ID_AT,
    MEMBER_KEYS,
    PARSERS,
    RELATION_AT,
    CellError,
    FileUnreadable,
    estimate_rows,
    extension,
    header_key,
    read_rows,
    text,
)
from .models import Household, ImportBatch, Member
from .services import duplicate_message
from .templatetags.privacy import mask_sensitive

logger = logging.getLogger(__name__)

IMPORT_ROLES = frozenset({Role.DISTRICT_APPROVER, Role.CITY_ADMIN})
EXTENSIONS = (".csv", ".xlsx")
MAX_UPLOAD_MB = 50
MAX_STORED_ERRORS = 1000
CHUNK = 2000  # households per round of inserts; rows per INSERT statement
PROGRESS_EVERY = 5000  # rows between progress updates during the check
_LOOKUP_CHUNK = 900  # ids per IN (...) query; under SQLite's old 999-parameter limit

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


# --- The report -------------------------------------------------------------------------------


class Report:
    """All errors counted; the first ``MAX_STORED_ERRORS`` by row number kept, one per cell."""

    def __init__(self, labels: dict[str, str], positions: dict[str, int]):
        self.labels, self.positions = labels, positions
        self.count = 0
        self._cells: set[tuple[int | None, str]] = set()
        self._heap: list[tuple] = []  # max-heap by (row, position) through negated keys
        self._seq = itertools.count()
        self._all: list[tuple] = []  # every error, for the downloadable report

    def add(self, row: int | None, key: str, code: str, message: str) -> None:
        if (row, key) in self._cells:
            return  # the first, most specific problem of a cell is enough
        self._cells.add((row, key))
        self.count += 1
        order = (-(row or 0), -self.positions.get(key, -1), -next(self._seq))
        error = {"row": row, "column": self.labels.get(key, key), "code": code, "message": message}
        self._all.append((row or 0, self.positions.get(key, -1), error))
        if len(self._heap) < MAX_STORED_ERRORS:
            heapq.heappush(self._heap, (order, error))
        elif order > self._heap[0][0]:
            heapq.heapreplace(self._heap, (order, error))

    def has(self, row: int, key: str) -> bool:
        return (row, key) in self._cells

    def errors(self) -> list[dict]:
        return [error for _order, error in sorted(self._heap, reverse=True)]

    def all_errors(self) -> list[dict]:
        return [error for _row, _position, error in sorted(self._all, key=lambda e: e[:2])]


def _file_error(code: str, message: str) -> dict:
    return {"row": None, "column": "", "code": code, "message": message}


# --- Checking ---------------------------------------------------------------------------------


@dataclass(slots=True)
class Group:
    """The rows of one household_ref."""

    ref: str
    rows: list[int] = field(default_factory=list)
    members: list[tuple] = field(default_factory=list)  # parsed values in MEMBER_KEYS order
    other_cells: dict[tuple, list[int]] = field(default_factory=dict)  # household cells → rows
    head_row: int | None = None
    head_cells: tuple = ()
    relation_error: bool = False
    household: dict | None = None  # parsed household values once the head's row is valid
    village: str = ""  # the village code once it is well-formed, checked even if others fail

    def member_dicts(self) -> list[dict]:
        return [dict(zip(MEMBER_KEYS, values, strict=True)) for values in self.members]


@dataclass
class CheckResult:
    report: Report
    groups: list[Group]
    total_rows: int
    region_ids: dict[str, int]  # village code → region id
    id_rows: dict[str, int]  # ID number → first row

    @property
    def member_count(self) -> int:
        return sum(len(group.rows) for group in self.groups)


class Checker:
    """One pass over the rows (cells checked, rows grouped), then the household rules per
    group, then two set-based lookups: village codes and ID numbers already registered."""

    def __init__(self, batch: ImportBatch, *, progress: Callable[[int], None] | None = None):
        self.batch, self.progress = batch, progress
        self.today = timezone.localdate()
        self.report = Report({c.key: c.header for c in COLUMNS}, {})
        self.index: dict[int, str] = {}  # cell position → column key
        self.groups: dict[str, Group] = {}
        self.ids: dict[str, tuple[int, str]] = {}  # ID number → (first row, household_ref)
        self.region_ids: dict[str, int] = {}
        self.total = 0

    def run(self, rows: Iterable[tuple[int, list]]) -> CheckResult:
        try:
            self._read(iter(rows))
        except FileUnreadable as exc:
            self.report.add(None, "", "file_unreadable", str(exc))
        if not self.report.count and not self.total:
            self.report.add(None, "", "no_rows", _("The file has no data rows below the header."))
        if not self.report.has(None, ""):
            self._check_groups()
            self._check_villages()
            self._check_registered()
        return CheckResult(
            self.report,
            list(self.groups.values()),
            self.total,
            self.region_ids,
            {number: row for number, (row, _ref) in self.ids.items()},
        )

    def _read(self, rows: Iterator[tuple[int, list]]) -> None:
        header = next(rows, None)
        if header is None or not self._header(header[1]):
            return
        for number, cells in rows:
            values = {key: cells[i] for i, key in self.index.items() if i < len(cells)}
            if any(text(v) for v in values.values()):
                self.total += 1
                self._row(number, values)
            if self.progress and number % PROGRESS_EVERY == 0:
                self.progress(number - 1)

    def _header(self, cells: list) -> bool:
        by_name = {name: c for c in COLUMNS for name in c.names()}
        for position, cell in enumerate(cells):
            column = by_name.get(header_key(text(cell)))
            if column is None:
                continue  # a district's extra column: ignored
            if column.key in self.index.values():
                message = _("Two columns both mean “%(column)s”.") % {"column": column.header}
                self.report.add(1, column.key, "duplicate_column", message)
            self.index[position] = column.key
            self.report.labels[column.key] = text(cell)
            self.report.positions[column.key] = position
        missing = [c.header for c in COLUMNS if c.required and c.key not in self.index.values()]
        if missing:
            message = _(
                "The file lacks the required columns: %(columns)s. Download the template to "
                "see the expected headers."
            ) % {"columns": "、".join(missing)}
            self.report.add(None, "", "missing_columns", message)
        return not self.report.count

    def _row(self, number: int, values: dict) -> None:
        member = tuple(self._cell(number, key, values.get(key)) for key in MEMBER_KEYS)
        ref = self._cell(number, "household_ref", values.get("household_ref"))
        if not ref:
            return
        group = self.groups.get(ref) or self.groups.setdefault(ref, Group(ref))
        group.rows.append(number)
        group.members.append(member)
        group.relation_error |= self.report.has(number, "relation")
        cells = tuple(text(values.get(key)) for key in HOUSEHOLD_KEYS)
        if member[RELATION_AT] == Member.Relation.HEAD and not group.head_row:
            group.head_row, group.head_cells = number, cells
        elif any(cells):
            group.other_cells.setdefault(cells, []).append(number)
        self._note_id(number, ref, member[ID_AT])

    def _cell(self, number: int, key: str, raw):
        """The parsed value, or after reporting the problem, the value of a blank cell."""
        try:
            return PARSERS[key](raw, today=self.today)
        except CellError as exc:
            self.report.add(number, key, exc.code, exc.message)
        try:
            return PARSERS[key](None, today=self.today)
        except CellError:
            return text(raw)

    def _note_id(self, number: int, ref: str, id_number: str) -> None:
        if not id_number:
            return
        first = self.ids.setdefault(id_number, (number, ref))
        if first[0] != number and first[1] != ref:  # within a household: the rules say so
            message = _("This ID number is already on row %(row)d of this file.") % {
                "row": first[0]
            }
            self.report.add(number, "id_number", "id_in_file", message)

    def _check_groups(self) -> None:
        for group in self.groups.values():
            self._household(group)
            self._consistency(group)
            self._members(group)

    def _household(self, group: Group) -> None:
        if group.head_row is None:
            return  # the member rules report the missing head
        values, ok = {}, True
        for key, raw in zip(HOUSEHOLD_KEYS, group.head_cells, strict=True):
            values[key] = self._cell(group.head_row, key, raw)
            ok = ok and not self.report.has(group.head_row, key)
        group.household = values if ok else None
        if not self.report.has(group.head_row, "village_code"):
            group.village = values["village_code"]

    def _consistency(self, group: Group) -> None:
        if group.head_row is None:
            return
        head = [
            _canonical(key, raw, self.today)
            for key, raw in zip(HOUSEHOLD_KEYS, group.head_cells, strict=True)
        ]
        for cells, rows in group.other_cells.items():
            for i, (key, raw) in enumerate(zip(HOUSEHOLD_KEYS, cells, strict=True)):
                if raw and _canonical(key, raw, self.today) != head[i]:
                    message = _(
                        "Differs from the head of household's row (row %(row)d: “%(value)s”); "
                        "leave it blank or write the same."
                    ) % {"row": group.head_row, "value": mask_sensitive(key, group.head_cells[i])}
                    for row in rows:
                        self.report.add(row, key, "household_mismatch", message)

    def _members(self, group: Group) -> None:
        for path, message in rules.member_problems(group.member_dicts(), today=self.today):
            if path == "members":
                if not group.relation_error:
                    self.report.add(group.rows[0], "relation", "household", message)
                continue
            _prefix, index, key = path.split(".", 2)
            self.report.add(group.rows[int(index)], key, "member", message)

    def _check_villages(self) -> None:
        groups = [g for g in self.groups.values() if g.village]
        codes = {g.village for g in groups}
        regions = {
            r.code: r
            for chunk in _chunks(sorted(codes), _LOOKUP_CHUNK)
            for r in Region.objects.filter(code__in=chunk).only(
                "code", "name", "level", "is_active"
            )
        }
        scope = Region.objects.get(code=self.batch.region_code).prefix
        for group in groups:
            code = group.village
            problem = _village_problem(regions.get(code), code, scope)
            if problem:
                self.report.add(group.head_row, "village_code", *problem)
            else:
                self.region_ids[code] = regions[code].pk

    def _check_registered(self) -> None:
        """ID numbers that are already a current member somewhere: one query per chunk."""
        for chunk in _chunks(sorted(self.ids), _LOOKUP_CHUNK):
            for member in registered_members(chunk):
                message = duplicate_message(member, self.batch.uploaded_by)
                self.report.add(
                    self.ids[member.id_number][0], "id_number", "id_registered", message
                )


def registered_members(numbers: list[str]) -> QuerySet:
    return (
        Member.objects.filter(is_current=True, id_number__in=numbers)
        .select_related("household__region")
        .only(
            "id_number", "household__number", "household__region__code", "household__region__name"
        )
    )


def _canonical(key: str, raw: str, today: dt.date):
    try:
        return PARSERS[key](raw, today=today)
    except CellError:
        return ("invalid", raw)


def _village_problem(region: Region | None, code: str, scope: str) -> tuple[str, str] | None:
    params = {"code": code, "name": region.name if region else ""}
    if region is None:
        return "village_unknown", _("No region has the code %(code)s.") % params
    if region.level != Region.Level.VILLAGE:
        return "village_level", _("%(name)s (%(code)s) is not a village or community.") % params
    if not code.startswith(scope):
        return "village_scope", _("%(name)s (%(code)s) is outside your jurisdiction.") % params
    if not region.is_active:
        return "village_inactive", _("%(name)s no longer takes new registrations.") % params
    return None


def _chunks(items: list, size: int) -> Iterator[list]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


def check_file(batch: ImportBatch, *, progress: Callable[[int], None] | None = None):
    return Checker(batch, progress=progress).run(read_rows(batch.file))


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
    for groups in _chunks(result.groups, CHUNK):
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
    found = re.search(r"\(id_number\)=\((\w+)\)", str(exc))
    row = result.id_rows.get(found[1]) if found and result else None
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
    return _file_error(
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
    Runs outside a transaction so that its progress is visible; each write is one UPDATE."""
    if not _move(batch_id, "check", processed_rows=0, error_count=0, errors=[]):
        return  # not waiting for a check (any more)
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
    since the dry run), then insert everything in one transaction, or nothing."""
    batch = ImportBatch.objects.select_related("uploaded_by__jurisdiction").get(pk=batch_id)
    if batch.status != S.COMMITTING:
        return  # already finished: a redelivered task
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
