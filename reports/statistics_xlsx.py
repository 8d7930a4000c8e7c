"""The monthly statistics return as the bureau files it: an XLSX workbook with one sheet per
administrative level under the region (districts, townships), a row per region, the blocks of
the return side by side under merged headings, and the region's total as the last row."""

from __future__ import annotations

import datetime as dt
import io

from django.utils.translation import gettext as _

from regions.models import Region

from .statistics import BLOCKS, MONTHLY_COLUMNS, TEMPORARY_COLUMNS, level_returns

LEVELS = (
    (Region.Level.DISTRICT, "区县"),
    (Region.Level.TOWNSHIP, "乡镇（街道）"),
)


def _levels_under(region: Region) -> list[tuple[str, str]]:
    order = [Region.Level.CITY, Region.Level.DISTRICT, Region.Level.TOWNSHIP]
    below = order[order.index(region.level) + 1 :] if region.level in order else []
    return [(level, title) for level, title in LEVELS if level in below] or [
        (region.level, LEVELS[-1][1])
    ]


def _cells(result: dict) -> list:
    cells = []
    for programme, residence, _title in BLOCKS:
        block = result[programme][residence]
        cells += [block[key] for key, _label in MONTHLY_COLUMNS]
    cells += [result["temporary"][key] for key, _label in TEMPORARY_COLUMNS]
    return cells


def workbook(region: Region, month: dt.date) -> bytes:
    from openpyxl import Workbook
    from openpyxl.styles import Alignment, Font
    from openpyxl.utils import get_column_letter

    book = Workbook()
    book.remove(book.active)
    bold, centre = (
        Font(bold=True),
        Alignment(horizontal="center", vertical="center", wrap_text=True),
    )
    for level, title in _levels_under(region):
        sheet = book.create_sheet(title)
        sheet.append(
            [
                _("%(region)s social assistance statistics, %(month)s")
                % {"region": region.name, "month": f"{month:%Y-%m}"}
            ]
        )
        sheet["A1"].font = Font(bold=True, size=14)
        heads, labels = [_("Region"), _("Region code")], ["", ""]
        for _p, _r, block_title in BLOCKS:
            heads += [str(block_title)] + [""] * (len(MONTHLY_COLUMNS) - 1)
            labels += [str(label) for _key, label in MONTHLY_COLUMNS]
        heads += [_("Temporary assistance (临时救助)")] + [""] * (len(TEMPORARY_COLUMNS) - 1)
        labels += [str(label) for _key, label in TEMPORARY_COLUMNS]
        sheet.append(heads)
        sheet.append(labels)
        column = 3
        for width in [len(MONTHLY_COLUMNS)] * len(BLOCKS) + [len(TEMPORARY_COLUMNS)]:
            sheet.merge_cells(
                start_row=2, start_column=column, end_row=2, end_column=column + width - 1
            )
            column += width
        for row in (2, 3):
            for cell in sheet[row]:
                cell.font, cell.alignment = bold, centre
        results = level_returns(region, level, month)
        for result in results[:-1]:
            sheet.append([result["region_name"], result["region"], *_cells(result)])
        sheet.append([_("Total"), results[-1]["region"], *_cells(results[-1])])
        for cell in sheet[sheet.max_row]:
            cell.font = bold
        sheet.freeze_panes = "C4"
        sheet.column_dimensions["A"].width = 16
        sheet.column_dimensions["B"].width = 14
        for index in range(3, column):
            sheet.column_dimensions[get_column_letter(index)].width = 11
    with io.BytesIO() as out:
        book.save(out)
        return out.getvalue()
