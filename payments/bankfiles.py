"""The files exchanged with the bank (惠民惠农财政补贴资金"一卡通"): the payment file sent for an
approved payroll, and the result file the bank returns.

The payment file has the columns of ``COLUMNS`` and a last row 合计 with the line count and
the total; it is written row by row to a temporary file (never all in memory) and its
SHA-256 recorded. The result file has the same columns plus 状态 (成功/失败) and 失败原因."""

from __future__ import annotations

import codecs
import csv
import hashlib
import io
import tempfile
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation

from django.utils.translation import gettext as _

COLUMNS = ["序号", "参考号", "户号", "姓名", "身份证号", "开户银行", "银行账号", "金额", "摘要"]
RESULT_COLUMNS = [*COLUMNS, "状态", "失败原因"]
TOTAL_LABEL = "合计"
PAID, FAILED = "成功", "失败"
CHUNK = 2000


# 摘要 as the recipient's bank statement shows it: short (banks cut the field at ~20 characters),
# in Chinese whatever the user's language, since the bank prints it.
SUMMARY = {
    "dibao": "低保金",
    "tekun": "特困供养金",
    "temporary": "临时救助金",
    "expenditure": "支出型救助金",
}


def download_name(bank_file) -> str:
    """The name a downloaded bank file is saved under: district, programme, month."""
    payroll = bank_file.payroll
    return (
        f"发放清册-{payroll.district.name}-{payroll.get_programme_display()}"
        f"-{payroll.month:%Y%m}.{bank_file.format}"
    )


def summary(line, programme: str) -> str:
    """摘要: what the payment is for."""
    kind = {
        "regular": "",
        "arrears": "补发",
        "reissue": "重发",
        "one_off": "",
    }[line.kind]
    return f"{line.month:%Y年%m月}{SUMMARY.get(programme, '救助金')}{kind}"


def rows(lines, programme: str):
    """The file's rows (without the heading), ending with the 合计 row."""
    count, total = 0, Decimal("0.00")
    for count, line in enumerate(lines, start=1):
        total += line.amount
        yield [
            count,
            line.reference,
            line.household.number,
            line.payee_name,
            line.payee_member.id_number if line.payee_member_id else "",
            line.bank_name,
            line.account_number,
            f"{line.amount:.2f}",
            summary(line, programme),
        ]
    yield [TOTAL_LABEL, f"{count}", "", "", "", "", "", f"{total:.2f}", ""]


def write_csv(rows_iter, target) -> str:
    """UTF-8 with a BOM (Excel opens it in Chinese), written a chunk of rows at a time;
    returns the SHA-256."""
    sha = hashlib.sha256()
    buffer = io.StringIO()
    writer = csv.writer(buffer)

    def flush(prefix: bytes = b""):
        data = prefix + buffer.getvalue().encode("utf-8")
        sha.update(data)
        target.write(data)
        buffer.seek(0)
        buffer.truncate()

    writer.writerow(COLUMNS)
    flush(codecs.BOM_UTF8)
    for n, row in enumerate(rows_iter, start=1):
        writer.writerow(row)
        if n % CHUNK == 0:
            flush()
    flush()
    return sha.hexdigest()


def write_xlsx(rows_iter, target) -> str:
    """One sheet, written in openpyxl's streaming mode; returns the SHA-256."""
    from openpyxl import Workbook

    book = Workbook(write_only=True)
    sheet = book.create_sheet("发放清册")
    sheet.append(COLUMNS)
    for row in rows_iter:
        # Numbers of accounts and IDs stay text (Excel would round them); amounts are numbers.
        sheet.append(
            [
                value if i == 0 else Decimal(value) if i == 7 and value else str(value)
                for i, value in enumerate(row)
            ]
        )
    with tempfile.TemporaryFile() as scratch:
        book.save(scratch)
        scratch.seek(0)
        sha = hashlib.sha256()
        while chunk := scratch.read(1 << 20):
            sha.update(chunk)
            target.write(chunk)
    return sha.hexdigest()


# --- the bank's result ------------------------------------------------------------------------


@dataclass
class ResultRow:
    number: int  # the row's line number in the file (heading is row 1)
    reference: str
    household_number: str
    account_number: str
    amount: Decimal | None
    status: str
    reason: str


@dataclass
class ResultFile:
    rows: list[ResultRow] = field(default_factory=list)
    problems: list[dict] = field(default_factory=list)  # whole-file problems


def result_read(upload) -> ResultFile:
    """The result file's rows (CSV or XLSX, told apart by content). A file without the
    expected heading is refused as a whole."""
    head = upload.read(4)
    upload.seek(0)
    if head == b"PK\x03\x04":
        table = _xlsx_rows(upload)
    else:
        raw = upload.read()
        try:
            text = raw.decode("utf-8-sig")
        except UnicodeDecodeError:
            try:
                text = raw.decode("gb18030")
            except UnicodeDecodeError:
                return ResultFile(
                    problems=[{"row": 0, "problem": _("The file is not readable text.")}]
                )
        table = list(csv.reader(io.StringIO(text)))
    result = ResultFile()
    if not table:
        result.problems.append({"row": 0, "problem": _("The file is empty.")})
        return result
    heading = [str(cell or "").strip() for cell in table[0]]
    missing = [name for name in RESULT_COLUMNS if name not in heading]
    if missing:
        result.problems.append(
            {
                "row": 1,
                "problem": _("Columns missing from the heading: %(columns)s")
                % {"columns": "、".join(missing)},
            }
        )
        return result
    at = {name: heading.index(name) for name in RESULT_COLUMNS}
    for number, cells in enumerate(table[1:], start=2):
        cells = [str(cell if cell is not None else "").strip() for cell in cells]
        if not any(cells) or cells[0] == TOTAL_LABEL:
            continue
        cells += [""] * (len(heading) - len(cells))
        try:
            amount = Decimal(cells[at["金额"]]).quantize(Decimal("0.01"))
        except (InvalidOperation, ValueError):
            amount = None
        result.rows.append(
            ResultRow(
                number=number,
                reference=cells[at["参考号"]],
                household_number=cells[at["户号"]],
                account_number=cells[at["银行账号"]],
                amount=amount,
                status=cells[at["状态"]],
                reason=cells[at["失败原因"]],
            )
        )
    return result


def _xlsx_rows(upload) -> list[list]:
    from openpyxl import load_workbook

    book = load_workbook(upload, read_only=True, data_only=True)
    try:
        sheet = book.worksheets[0]
        return [list(row) for row in sheet.iter_rows(values_only=True)]
    finally:
        book.close()
