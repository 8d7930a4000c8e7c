"""Checking a household file (the dry run of an import): every row read, every error
recorded with its row and column, nothing written. ``imports`` runs it and writes the
result."""

from __future__ import annotations

import datetime as dt
import heapq
import itertools
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field

from django.db.models import QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _

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
    header_key,
    read_rows,
    text,
)
from .models import ImportBatch, Member
from .services import duplicate_message
from .templatetags.privacy import mask_sensitive

MAX_STORED_ERRORS = 1000
PROGRESS_EVERY = 5000  # rows between progress updates during the check
_LOOKUP_CHUNK = 900  # ids per IN (...) query; under SQLite's old 999-parameter limit


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


def file_error(code: str, message: str) -> dict:
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
            for chunk in chunks(sorted(codes), _LOOKUP_CHUNK)
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
        for chunk in chunks(sorted(self.ids), _LOOKUP_CHUNK):
            for member in registered_members(chunk):
                message = duplicate_message(member, self.batch.uploaded_by)
                self.report.add(
                    self.ids[member.id_number][0], "id_number", "id_registered", message
                )


def registered_members(numbers: list[str]) -> QuerySet:
    return (
        Member.objects.filter(is_current=True, id_number_digest__in=numbers)
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


def chunks(items: list, size: int) -> Iterator[list]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


def check_file(batch: ImportBatch, *, progress: Callable[[int], None] | None = None):
    return Checker(batch, progress=progress).run(read_rows(batch.file))
