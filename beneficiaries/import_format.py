"""The file format of the household import (批量导入): reading CSV and XLSX, the columns, how
each cell is parsed, and the downloadable template. One row per member; docs/import.md is the
users' guide.

Every header may be the English key or the Chinese header (full-width brackets, spaces and a
trailing * are ignored). Choice columns take the code or a Chinese name, flags 是/否, 1/0,
yes/no or true/false. Household columns are read from the head's row.
"""

from __future__ import annotations

import codecs
import csv
import datetime as dt
import io
import os
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass

import openpyxl
from django.core.exceptions import ValidationError
from django.db.models.fields.files import FieldFile
from django.utils.translation import gettext as _
from stdnum.cn import ric

from . import idnumber
from .models import Member, ResidenceType
from .services import HOUSEHOLD_FIELDS, MEMBER_FIELDS

Parser = Callable[..., object]  # parse(raw cell, *, today) -> value, or raise CellError


# --- Reading the file -------------------------------------------------------------------------


class FileUnreadable(Exception):
    """The file as a whole cannot be read; the message says what to do."""


def extension(name: str) -> str:
    return os.path.splitext(name)[1].lower()


def read_rows(file: FieldFile) -> Iterator[tuple[int, list]]:
    """(row number as the user sees it, cells) for each row of the file; row 1 is the header."""
    with file.open("rb") as handle:
        if extension(file.name) == ".xlsx":
            yield from _xlsx_rows(handle)
        else:
            yield from _csv_rows(handle)


def _csv_encoding(handle) -> str:
    """UTF-8 (with or without BOM) if the whole file decodes as such, else GB18030, which is
    what Excel in China writes for "CSV (逗号分隔)"."""
    decoder = codecs.getincrementaldecoder("utf-8")()
    try:
        while chunk := handle.read(1 << 20):
            decoder.decode(chunk)
        decoder.decode(b"", final=True)
    except UnicodeDecodeError:
        return "gb18030"
    finally:
        handle.seek(0)
    return "utf-8-sig"


def _csv_rows(handle) -> Iterator[tuple[int, list]]:
    stream = io.TextIOWrapper(handle, encoding=_csv_encoding(handle), newline="")
    try:
        yield from enumerate(csv.reader(stream), start=1)
    except (UnicodeDecodeError, csv.Error) as exc:
        raise FileUnreadable(
            _("The file is neither UTF-8 nor GB18030 text. In Excel, save it as “CSV UTF-8”.")
        ) from exc
    finally:
        stream.detach()


def _xlsx_rows(handle) -> Iterator[tuple[int, list]]:
    message = _(
        "The file could not be read as an Excel workbook (.xlsx). Open it in Excel and save "
        "it again as .xlsx or as CSV."
    )
    try:
        workbook = openpyxl.load_workbook(handle, read_only=True, data_only=True)
    except Exception as exc:
        raise FileUnreadable(message) from exc
    try:
        # Read-only mode yields an empty row for each row missing from the sheet's XML, so
        # the count is the row number Excel shows.
        yield from enumerate(workbook.worksheets[0].iter_rows(values_only=True), start=1)
    except (KeyError, ValueError, OSError) as exc:
        raise FileUnreadable(message) from exc
    finally:
        workbook.close()


def estimate_rows(file: FieldFile) -> int:
    """Data rows, roughly, for the progress bar: lines of a CSV, the sheet's stated size."""
    with file.open("rb") as handle:
        if extension(file.name) != ".xlsx":
            lines = sum(chunk.count(b"\n") for chunk in iter(lambda: handle.read(1 << 20), b""))
            return max(lines - 1, 0)
        try:
            workbook = openpyxl.load_workbook(handle, read_only=True)
        except Exception:
            return 0  # the check reports it
        rows = workbook.worksheets[0].max_row or 1
        workbook.close()
        return max(rows - 1, 0)


# --- The columns ------------------------------------------------------------------------------


class CellError(Exception):
    """A cell's value is not acceptable; ``code`` says which check failed."""

    def __init__(self, code: str, message: str):
        super().__init__(message)
        self.code, self.message = code, message


def text(value) -> str:
    """A cell as text: Excel's whole numbers without ".0", dates as YYYY-MM-DD."""
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    elif isinstance(value, dt.datetime):
        value = value.date()
    return str(value).strip()


def _required(value: str) -> str:
    if not value:
        raise CellError("required", _("This cell is empty; it needs a value."))
    return value


def _string(max_length: int, *, required: bool = False, digits: str = "") -> Parser:
    """Text up to ``max_length``; ``digits`` also allowed besides 0-9 for number columns."""

    def parse(raw, *, today: dt.date) -> str:
        value = _required(text(raw)) if required else text(raw)
        if len(value) > max_length:
            message = _("At most %(max)d characters; this has %(n)d.")
            raise CellError("too_long", message % {"max": max_length, "n": len(value)})
        if digits and set(value) - set(digits + "0123456789"):
            raise CellError("not_digits", _("Only digits are allowed here."))
        return value

    return parse


def _exact_number(raw) -> None:
    """Excel keeps 15 significant digits of a number: an ID or account number typed into a
    number cell has lost its last digits, and only the user can type them again."""
    if isinstance(raw, int | float) and not isinstance(raw, bool) and abs(raw) >= 1e15:
        raise CellError(
            "excel_number",
            _(
                "Excel stored this as a number and dropped the digits after the 15th. Format "
                "the column as text in Excel and type the number again."
            ),
        )


_account_text = _string(32, digits=" ")


def _account(raw, *, today: dt.date) -> str:
    _exact_number(raw)
    return _account_text(raw, today=today).replace(" ", "")


def _id_number(raw, *, today: dt.date) -> str:
    _exact_number(raw)
    try:
        return idnumber.parse(_required(text(raw)), today=today).number
    except ValidationError as exc:
        raise CellError(f"id_{exc.code}", exc.messages[0]) from None


def _village_code(raw, *, today: dt.date) -> str:
    value = _required(text(raw))
    if not re.fullmatch(r"[0-9]{12}", value):
        raise CellError("village_format", _("A village code has 12 digits."))
    return value


_YES, _NO = {"是", "1", "true", "yes", "y", "t", "√"}, {"否", "0", "false", "no", "n", "f", "×"}


def _flag(default: bool) -> Parser:
    def parse(raw, *, today: dt.date) -> bool:
        value = text(raw).lower()
        if value in _YES or value in _NO:
            return value in _YES
        if value:
            raise CellError("invalid_flag", _("Write 是 or 否 (1/0, yes/no, true/false work too)."))
        return default

    return parse


def _choice(names: dict[str, tuple[str, ...]], *, required: bool = False) -> Parser:
    """A code, or one of its Chinese names (the first is the one shown in messages)."""
    lookup = {code: code for code in names} | {n: code for code, ns in names.items() for n in ns}
    shown = "、".join(ns[0] for ns in names.values() if ns)

    def parse(raw, *, today: dt.date) -> str:
        value = _required(text(raw)) if required else text(raw)
        if value.lower() not in lookup:
            message = _("“%(value)s” is not one of: %(choices)s.")
            raise CellError("invalid_choice", message % {"value": value, "choices": shown})
        return lookup[value.lower()]

    return parse


_GRADES = {
    spelling: grade
    for grade, chinese in enumerate("一二三四", start=1)
    for spelling in (str(grade), f"{grade}级", chinese, f"{chinese}级")
}


def _grade(raw, *, today: dt.date) -> int | None:
    value = text(raw).replace(" ", "")
    if value and value not in _GRADES:
        raise CellError("invalid_grade", _("The disability grade is 1, 2, 3 or 4 (一级 to 四级)."))
    return _GRADES.get(value)


R, A, L, D = Member.Relation, Member.Absence, Member.Labour, Member.Disability
RELATIONS = {
    R.HEAD: ("户主", "本人"),
    R.SPOUSE: ("配偶", "妻", "夫", "妻子", "丈夫"),
    R.CHILD: ("子女", "子", "女", "儿子", "女儿"),
    R.PARENT: ("父母", "父亲", "母亲"),
    R.GRANDCHILD: ("孙子女", "孙子", "孙女", "外孙子女", "外孙子", "外孙女"),
    R.GRANDPARENT: ("祖父母", "祖父", "祖母", "外祖父母", "外祖父", "外祖母"),
    R.SIBLING: ("兄弟姐妹", "兄弟", "姐妹", "兄", "弟", "姐", "妹"),
    R.OTHER: ("其他",),
}
ABSENCES = {
    "": (),
    A.STUDY: ("求学", "在外求学", "上学", "就学"),
    A.WORK: ("务工", "外出务工", "在外工作"),
    A.MILITARY: ("服兵役", "服役", "参军"),
    A.PRISON: ("服刑", "服刑人员", "在押", "prisoner"),
    A.REHAB: ("强制隔离戒毒", "戒毒", "强制隔离"),
    A.RELIGIOUS: ("宗教教职人员", "出家", "clergy"),
    A.MISSING: ("失踪", "下落不明"),
    A.OTHER: ("其他",),
}
LABOUR = {
    "": ("派生", "按年龄和残疾"),  # blank: derived from age and disability
    L.FULL: ("完全", "完全劳动能力", "有劳动能力"),
    L.PARTIAL: ("部分", "部分劳动能力", "部分丧失劳动能力"),
    L.NONE: ("无", "无劳动能力", "丧失劳动能力"),
}
DISABILITIES = {
    D.NONE: ("无", "否"),
    **{
        code: (name, f"{name}残疾")
        for code, name in zip(
            (D.VISUAL, D.HEARING, D.SPEECH, D.PHYSICAL, D.INTELLECTUAL, D.MENTAL, D.MULTIPLE),
            ("视力", "听力", "言语", "肢体", "智力", "精神", "多重"),
            strict=True,
        )
    },
}
RESIDENCE = {
    ResidenceType.URBAN: ("城镇", "城市", "非农业"),
    ResidenceType.RURAL: ("农村", "农业"),
}


_labour_choice = _choice(LABOUR)


def _labour(raw, *, today: dt.date) -> str:
    return _labour_choice(raw, today=today)


@dataclass(frozen=True)
class Column:
    key: str  # the English header, and the field it fills
    header: str  # the Chinese header of the template
    parse: Parser
    required: bool = False  # the file must have this column
    aliases: tuple[str, ...] = ()

    def names(self) -> set[str]:
        return {header_key(name) for name in (self.key, self.header, *self.aliases)}


COLUMNS = (
    Column("household_ref", "户编号", _string(64, required=True), True),
    Column("village_code", "村(社区)代码", _village_code, True, ("村(社区)编码", "村代码")),
    Column("address", "地址", _string(200, required=True), True, ("家庭住址", "住址")),
    Column("residence_type", "城乡类别", _choice(RESIDENCE, required=True), True),
    Column("phone", "联系电话", _string(20, digits="+-() "), aliases=("电话",)),
    Column("bank_name", "开户银行", _string(64)),
    Column("bank_account_name", "户名", _string(64), aliases=("账户名",)),
    Column("bank_account_number", "银行账号", _account, aliases=("账号",)),
    Column("poverty_registered", "建档立卡", _flag(False)),
    Column("marginal", "低保边缘", _flag(False)),
    Column("employs_others", "雇佣他人", _flag(False)),
    Column("separately_registered", "单独登记", _flag(False)),
    Column("separate_registration_reason", "单独登记原因", _string(200)),
    Column("name", "姓名", _string(64, required=True), True),
    Column("id_number", "身份证号", _id_number, True, ("身份证号码", "公民身份号码")),
    Column("relation", "与户主关系", _choice(RELATIONS, required=True), True),
    Column("lives_with_household", "共同生活", _flag(True)),
    Column("absence_reason", "不共同生活原因", _choice(ABSENCES)),
    Column("hukou_local", "本地户籍", _flag(True)),
    Column("labour_capacity", "劳动能力", _labour),
    Column("labour_capacity_reason", "劳动能力认定理由", _string(200)),
    Column("disability_type", "残疾类别", _choice(DISABILITIES)),
    Column("disability_grade", "残疾等级", _grade),
    Column("serious_illness", "重特大疾病", _flag(False)),
    Column("studying_abroad_self_funded", "自费出国留学", _flag(False)),
    Column("works_without_income_proof", "有稳定工作无收入证明", _flag(False)),
)
PARSERS = {column.key: column.parse for column in COLUMNS}
# Household columns are read from the head's row; member columns from every row.
HOUSEHOLD_KEYS = tuple(c.key for c in COLUMNS if c.key in {"village_code", *HOUSEHOLD_FIELDS})
MEMBER_KEYS = tuple(c.key for c in COLUMNS if c.key in MEMBER_FIELDS)
RELATION_AT, ID_AT = MEMBER_KEYS.index("relation"), MEMBER_KEYS.index("id_number")


def header_key(value: str) -> str:
    value = value.replace("（", "(").replace("）", ")").replace("*", "").replace(" ", "")
    return value.strip().lower()


def template_rows(*, village_code: str) -> list[list[str]]:
    """The template: Chinese headers and one example household of three."""
    district = village_code[:6]

    def person(birth: str, sequence: str) -> str:
        body = f"{district}{birth}{sequence}"
        return body + ric.calc_check_digit(body + "0")

    household = {
        "household_ref": "示例001",
        "village_code": village_code,
        "address": "示例路1号2单元3楼",
        "residence_type": "城镇",
        "phone": "13800000000",
        "bank_name": "中国农业银行",
        "bank_account_name": "张国强",
        "bank_account_number": "6228480000000000000",
        "poverty_registered": "否",
        "marginal": "否",
        "employs_others": "否",
        "separately_registered": "否",
    }
    members = [
        {**household, "name": "张国强", "id_number": person("19680305", "031"), "relation": "户主"},
        {
            "household_ref": "示例001",
            "name": "李秀英",
            "id_number": person("19700812", "042"),
            "relation": "配偶",
            "labour_capacity": "部分",
            "labour_capacity_reason": "经评估可从事轻体力劳动",
            "disability_type": "肢体",
            "disability_grade": "二级",
            "serious_illness": "是",
        },
        {
            "household_ref": "示例001",
            "name": "张小明",
            "id_number": person("20090115", "013"),
            "relation": "子女",
        },
    ]
    defaults = {"lives_with_household": "是", "hukou_local": "是", "serious_illness": "否"}
    return [[c.header for c in COLUMNS]] + [
        [{**defaults, **member}.get(c.key, "") for c in COLUMNS] for member in members
    ]
