"""What every step of the scale seed shares: the run (its size, day and cursor), the hash that
spreads rows, a timer per step, bulk loading, and deadlines counted once per start day."""

from __future__ import annotations

import datetime as dt
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from types import SimpleNamespace

from django.db import reset_queries

from core.months import add_months

# A household's ordinal g and a salt give a well-spread number in [0, 2^32): multiplicative
# hashing with an xor-shift, so that neighbouring ordinals (and so the households of one
# village) land far apart. Every product stays below 2^63. One expression, no FROM: the
# planner inlines it (a function call per row would cost more than the row).
_Y = "((x * 2654435761 + salt * 97531) %% 4294967296)"
MIX_SQL = f"""
CREATE OR REPLACE FUNCTION pg_temp.seed_mix(x bigint, salt int) RETURNS bigint
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
  SELECT ((({_Y} # ({_Y} >> 16)) %% 4294967296) * 73244475) %% 4294967296
$$;
"""


@dataclass
class Run:
    """One run of the seed: N households, the share receiving 低保, the day it runs."""

    cursor: object
    households: int
    share: float
    today: dt.date
    now: dt.datetime
    write: Callable[[str], None]
    timings: list[tuple[str, float]] = field(default_factory=list)
    # The id before the first row the seed writes, per table (``ids_reserve``).
    bases: dict[str, int] = field(default_factory=dict)

    @property
    def month(self) -> dt.date:
        return self.today.replace(day=1)

    def months_back(self, n: int) -> dt.date:
        return add_months(self.month, -n)

    def sql(self, statement: str, params=None) -> int:
        self.cursor.execute(statement, params or {})
        reset_queries()  # under DEBUG the query log would keep every statement's parameters
        return self.cursor.rowcount

    def value(self, statement: str, params=None):
        self.cursor.execute(statement, params or {})
        return self.cursor.fetchone()[0]

    @contextmanager
    def step(self, label: str) -> Iterator[None]:
        started = time.perf_counter()
        yield
        seconds = time.perf_counter() - started
        self.timings.append((label, seconds))
        self.write(f"  {label:<52} {seconds:7.1f} s")


def session_prepare(run: Run) -> None:
    """Memory for the seed's own session (its plan tables live in temporary tables, its sorts
    and index builds are large) and the hash it spreads rows with."""
    # Only before the session's first temporary table: a session that already used one (a
    # test's connection, after the nightly job's temporary tables) keeps its setting.
    run.sql(
        "DO $$ BEGIN SET LOCAL temp_buffers = '1GB'; "
        "EXCEPTION WHEN invalid_parameter_value THEN NULL; END $$"
    )
    run.sql("SET LOCAL work_mem = '256MB'")
    run.sql("SET LOCAL maintenance_work_mem = '1GB'")
    run.sql(MIX_SQL)


@contextmanager
def bulk_load(run: Run, *tables: str) -> Iterator[None]:
    """Fill big tables with their secondary indexes, unique constraints and foreign keys set
    aside, then rebuild them: one sort per index and one join per foreign key check every row
    at once, where row-by-row maintenance costs several times more. Nothing goes unchecked:
    a row that breaks a constraint makes the rebuild, and so the seed, fail. The primary keys
    stay (other tables' foreign keys point at them)."""
    saved = []
    for table in tables:
        constraints, indexes = _secondary(run, table)
        for name, _definition in constraints:
            run.sql(f'ALTER TABLE {table} DROP CONSTRAINT "{name}"')
        for name, _definition in indexes:
            run.sql(f'DROP INDEX "{name}"')
        saved.append((table, constraints, indexes))
    yield
    with run.step("indexes and keys of " + ", ".join(t.split("_", 1)[1] for t in tables)):
        for table, constraints, indexes in saved:
            for _name, definition in indexes:
                run.sql(definition.replace("%", "%%"))
            # Unique constraints before foreign keys (a key may only point at a unique one).
            for name, definition in sorted(constraints, key=lambda c: c[1].startswith("FOREIGN")):
                run.sql(
                    f'ALTER TABLE {table} ADD CONSTRAINT "{name}" {definition}'.replace("%", "%%")
                )
        # Constraints added back are deferrable like the others: checked at once like them.
        run.sql("SET CONSTRAINTS ALL IMMEDIATE")


def _secondary(run: Run, table: str) -> tuple[list, list]:
    run.cursor.execute(
        """
        SELECT c.conname, pg_get_constraintdef(c.oid) FROM pg_constraint c
        WHERE c.conrelid = %(t)s::regclass AND (c.contype = 'f' OR (c.contype = 'u'
              AND NOT EXISTS (SELECT 1 FROM pg_constraint f
                              WHERE f.contype = 'f' AND f.conindid = c.conindid)))
        ORDER BY c.conname
        """,
        {"t": table},
    )
    constraints = run.cursor.fetchall()
    run.cursor.execute(
        """
        SELECT i.relname, pg_get_indexdef(i.oid) FROM pg_index x
        JOIN pg_class i ON i.oid = x.indexrelid
        WHERE x.indrelid = %(t)s::regclass AND NOT x.indisprimary
          AND NOT EXISTS (SELECT 1 FROM pg_constraint c WHERE c.conindid = x.indexrelid)
        ORDER BY i.relname
        """,
        {"t": table},
    )
    return constraints, run.cursor.fetchall()


def ids_reserve(run: Run, table: str, count: int) -> int:
    """Reserve ``count`` ids of ``table`` (locked against other writers meanwhile); returns the
    id before the first, so the seed can number rows itself and rows can point at each other
    before they exist."""
    run.sql(f"LOCK TABLE {table} IN SHARE ROW EXCLUSIVE MODE")
    run.bases[table] = run.value(
        f"""
        SELECT setval(pg_get_serial_sequence('{table}', 'id'),
                      GREATEST((SELECT COALESCE(MAX(id), 0) FROM {table}),
                               (SELECT last_value FROM pg_sequences
                                WHERE schemaname || '.' || sequencename
                                      = pg_get_serial_sequence('{table}', 'id'))) + %(n)s)
               - %(n)s
        """,
        {"n": count},
    )
    return run.bases[table]


# --- deadlines ------------------------------------------------------------------------------------

# The clocks of the case steps the seed leaves running; "process" is the whole-process limit.
CLOCKS = (
    "investigation_workdays",
    "appraisal_workdays",
    "township_review_workdays",
    "district_review_workdays",
    "reinvestigation_workdays",
    "letter_workdays",
    "materials_workdays",
    "notice_days",
    "process",
)


def deadlines_create(run: Run, days_back: int) -> None:
    """``seed_due(clock, start, due)``: each clock's deadline for every start day of the period,
    counted by the app's own functions on the working-day calendar, so that the nightly
    recount finds nothing to move."""
    from applications.services import process_due
    from applications.workflow import step_deadline
    from core.workdays import WorkdayCalendar
    from eligibility.selectors import policy_figure

    first = run.today - dt.timedelta(days=days_back)
    calendar = WorkdayCalendar.load(first.year, run.today.year + 1)
    seen: dict = {}

    def figure(kind: str, on: dt.date):
        key = (kind, on.replace(day=1))
        if key not in seen:
            seen[key] = policy_figure(kind, on)
        return seen[key]

    case = SimpleNamespace(programme="dibao", accepted_on=None)
    rows = []
    for offset in range(days_back + 1):
        day = first + dt.timedelta(days=offset)
        for clock in CLOCKS:
            if clock == "process":
                due = process_due("dibao", day, figure=figure, calendar=calendar)
            elif clock in ("materials_workdays",):
                due = calendar.add_workdays(day, int(figure(clock, day)))
            else:
                due = step_deadline(case, clock, day, day, figure=figure, calendar=calendar)
            rows.append((clock, day, due))
    run.sql(
        "CREATE TEMP TABLE seed_due (clock text, start date, due date, "
        "PRIMARY KEY (clock, start)) ON COMMIT DROP"
    )
    clocks, starts, dues = zip(*rows, strict=True)
    run.sql(
        "INSERT INTO seed_due SELECT * FROM unnest(%(c)s::text[], %(s)s::date[], %(d)s::date[])",
        {"c": list(clocks), "s": list(starts), "d": list(dues)},
    )
    run.sql("ANALYZE seed_due")


def due(clock: str, start: str) -> str:
    """SQL: the deadline of ``clock`` counted from the date expression ``start``."""
    return due_of(f"'{clock}'", start)


def due_of(clock: str, start: str) -> str:
    """SQL: as ``due``, the clock given as an SQL expression."""
    return f"(SELECT d.due FROM seed_due d WHERE d.clock = {clock} AND d.start = ({start}))"


# --- sealing on the way in ------------------------------------------------------------------------


def copy_sealed(run: Run, source: str, target: str, sealed: dict[str, str | None]) -> int:
    """Copy every row of the temporary table ``source`` (plain values, the columns of
    ``target``) into ``target``, sealing the ``sealed`` columns and filling their digest
    columns on the way (``{"id_number": "id_number_digest", "bank_account_number": None}``),
    with the same ``core.crypto`` calls as ``core.fields.seal_table``. Rows stream out and in
    with COPY, a chunk at a time: written once, sealed, instead of written plain and then
    rewritten row by row, which at millions of rows is most of the cost."""
    import io

    from core import crypto

    run.cursor.execute(
        "SELECT column_name FROM information_schema.columns "
        "WHERE table_name = %(t)s AND table_schema = current_schema() ORDER BY ordinal_position",
        {"t": target},
    )
    columns = [c for (c,) in run.cursor.fetchall()]
    plain = [columns.index(c) for c in sealed]
    digests = [columns.index(d) if d else None for d in sealed.values()]
    names = ", ".join(columns)
    raw = run.cursor.cursor  # psycopg2's own cursor: COPY streams
    low = run.value(f"SELECT min(id) FROM {source}")
    if low is None:
        return 0
    high = run.value(f"SELECT max(id) FROM {source}")
    copied, chunk = 0, 200_000
    for start in range(low, high + 1, chunk):
        out = io.StringIO()
        raw.copy_expert(
            f"COPY (SELECT {names} FROM {source} WHERE id >= {start} AND id < {start + chunk}) "
            "TO STDOUT",
            out,
        )
        lines = out.getvalue().split("\n")[:-1]
        for n, line in enumerate(lines):
            fields = line.split("\t")
            for at, digest_at in zip(plain, digests, strict=True):
                text = fields[at]
                if text and text != "\\N":
                    fields[at] = crypto.seal(text)
                    if digest_at is not None:
                        fields[digest_at] = crypto.digest(text)
                elif digest_at is not None:
                    fields[digest_at] = ""
            lines[n] = "\t".join(fields)
        if lines:
            rows = io.StringIO("\n".join(lines) + "\n")
            raw.copy_expert(f"COPY {target} ({names}) FROM STDIN", rows)
        copied += len(lines)
    return copied
