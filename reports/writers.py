"""Writing a register to CSV (UTF-8 with a BOM, so Excel opens Chinese) or XLSX (openpyxl's
streaming mode), a chunk of rows at a time. A text cell that a spreadsheet would read as a
formula (it begins with = + - @, a tab or a carriage return) is neutralised with a leading
apostrophe."""

from __future__ import annotations

import codecs
import csv
import io
import tempfile
from collections.abc import Callable, Iterable
from decimal import Decimal

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
CHUNK = 2000


def neutralise(value):
    if isinstance(value, str) and value.startswith(FORMULA_STARTS):
        return "'" + value
    return value


def write_csv(columns: list[str], rows: Iterable[list], target, progress: Callable) -> int:
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    count = 0

    def flush(prefix: bytes = b""):
        target.write(prefix + buffer.getvalue().encode("utf-8"))
        buffer.seek(0)
        buffer.truncate()

    writer.writerow(columns)
    flush(codecs.BOM_UTF8)
    for count, row in enumerate(rows, start=1):
        writer.writerow([neutralise(v) for v in row])
        if count % CHUNK == 0:
            flush()
            progress(count)
    flush()
    return count


def write_xlsx(columns: list[str], rows: Iterable[list], target, progress: Callable) -> int:
    from openpyxl import Workbook

    book = Workbook(write_only=True)
    sheet = book.create_sheet("台账")
    sheet.append(columns)
    count = 0
    for count, row in enumerate(rows, start=1):
        sheet.append([v if isinstance(v, (int, Decimal)) else neutralise(str(v)) for v in row])
        if count % CHUNK == 0:
            progress(count)
    with tempfile.TemporaryFile() as scratch:
        book.save(scratch)
        scratch.seek(0)
        while chunk := scratch.read(1 << 20):
            target.write(chunk)
    return count
