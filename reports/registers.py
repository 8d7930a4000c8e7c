"""The registers (台账) an export writes: for each, its Chinese column headings and its rows,
read through the app's scoping selectors, filtered by region, programme and period, as
plain values (never model instances: a city-wide register is a million rows, streamed)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass

from django.db.models import Q
from django.utils import timezone

from accounts.selectors import audit_event_list
from applications.models import Application, Channel, Department, Referral
from applications.selectors import application_list, referral_list
from beneficiaries import idnumber
from beneficiaries.models import Entitlement, Programme
from beneficiaries.templatetags.privacy import mask_sensitive
from core.audit import change_rows
from notices.models import Notice, Objection
from notices.selectors import objection_list
from payments.models import Overpayment, PayrollLine
from payments.selectors import line_list, overpayment_list
from recertification.models import Review
from recertification.selectors import entitlement_list, review_list
from regions.models import Region

from .models import Export

CHUNK = 2000
PROGRAMMES = dict(Programme.choices)
RESIDENCE = {"urban": "城镇", "rural": "农村"}


@dataclass(frozen=True)
class Register:
    columns: list[str]
    # (export, user) → the rows' queryset, scoped, filtered and ordered
    queryset: Callable
    # (row values, export) → the row's cells
    row: Callable


def _labels(choices) -> dict:
    return {value: str(label) for value, label in choices}


def _id(value: str, export: Export) -> str:
    return value if export.full_identifiers else idnumber.mask(value or "")


def _local(value) -> str:
    return timezone.localtime(value).strftime("%Y-%m-%d %H:%M") if value else ""


def _day(value) -> str:
    return value.strftime("%Y-%m-%d") if value else ""


def _month(value) -> str:
    return value.strftime("%Y-%m") if value else ""


def _where(export: Export, region_field: str, date_field: str | None, programme_field: str | None):
    where = Q(**{f"{region_field}__startswith": Region.prefix_of_code(export.region.code)})
    if export.programme and programme_field:
        where &= Q(**{programme_field: export.programme})
    if date_field and export.date_from:
        where &= Q(**{f"{date_field}__gte": export.date_from})
    if date_field and export.date_to:
        where &= Q(**{f"{date_field}__lte": export.date_to})
    return where


# --- applications -------------------------------------------------------------------------

APPLICATION_STATUS = _labels(Application.Status.choices)
CHANNEL = _labels(Channel.choices)
APPLICATION_FIELDS = [
    "number",
    "household__number",
    "household__head__name",
    "household__head__id_number",
    "household__region__parent__parent__name",
    "household__region__parent__name",
    "household__region__name",
    "programme",
    "channel",
    "received_at",
    "status",
    "proposed_amount",
    "decided_at",
    "decided_by__full_name",
    "decision_reason",
]


def _applications(export, user):
    return (
        application_list(user=user)
        .filter(_where(export, "household__region__code", "received_at__date", "programme"))
        .order_by("id")
        .values_list(*APPLICATION_FIELDS)
    )


def _application_row(v, export):
    return [
        v[0],
        v[1],
        v[2] or "",
        _id(v[3] or "", export),
        v[4] or "",
        v[5] or "",
        v[6] or "",
        PROGRAMMES.get(v[7], v[7]),
        CHANNEL.get(v[8], v[8]),
        _local(v[9]),
        APPLICATION_STATUS.get(v[10], v[10]),
        v[11] if v[11] is not None else "",
        _local(v[12]),
        v[13] or "",
        v[14] or "",
    ]


# --- entitlements (保障对象名册, one row per household) ----------------------------------------

ENTITLEMENT_STATUS = _labels(Entitlement.Status.choices)
ENTITLEMENT_FIELDS = [
    "household__number",
    "household__head__name",
    "household__head__id_number",
    "household__region__parent__parent__name",
    "household__region__parent__name",
    "household__region__name",
    "household__residence_type",
    "programme",
    "monthly_amount",
    "klass",
    "start_month",
    "end_month",
    "status",
    "next_review",
    "source",
    "approved_at",
]


def _entitlements(export, user):
    qs = entitlement_list(user=user).filter(
        _where(export, "household__region__code", None, "programme")
    )
    # In force at some time in the period.
    if export.date_to:
        qs = qs.filter(start_month__lte=export.date_to)
    if export.date_from:
        qs = qs.filter(Q(end_month__isnull=True) | Q(end_month__gte=export.date_from))
    return qs.order_by("id").values_list(*ENTITLEMENT_FIELDS)


def _entitlement_row(v, export):
    return [
        v[0],
        v[1] or "",
        _id(v[2] or "", export),
        v[3] or "",
        v[4] or "",
        v[5] or "",
        RESIDENCE.get(v[6], v[6]),
        PROGRAMMES.get(v[7], v[7]),
        v[8],
        v[9],
        _month(v[10]),
        _month(v[11]),
        ENTITLEMENT_STATUS.get(v[12], v[12]),
        _day(v[13]),
        v[14],
        _local(v[15]),
    ]


# --- payroll lines ------------------------------------------------------------------------

LINE_KIND = _labels(PayrollLine.Kind.choices)
LINE_STATUS = _labels(PayrollLine.Status.choices)
LINE_FIELDS = [
    "reference",
    "payroll__month",
    "month",
    "household__number",
    "payee_name",
    "payee_member__id_number",
    "household__region__parent__parent__name",
    "household__region__parent__name",
    "payroll__programme",
    "kind",
    "amount",
    "status",
    "hold_reason",
    "failure_reason",
    "bank_name",
    "account_number",
]


def _payroll_lines(export, user):
    return (
        line_list(user=user)
        .filter(_where(export, "household__region__code", "payroll__month", "payroll__programme"))
        .exclude(payroll__status__in=["generating", "cancelled", "failed"])
        .order_by("id")
        .values_list(*LINE_FIELDS)
    )


def _payroll_line_row(v, export):
    account = v[15] or ""
    return [
        v[0],
        _month(v[1]),
        _month(v[2]),
        v[3],
        v[4] or "",
        _id(v[5] or "", export),
        v[6] or "",
        v[7] or "",
        PROGRAMMES.get(v[8], v[8]),
        LINE_KIND.get(v[9], v[9]),
        v[10],
        LINE_STATUS.get(v[11], v[11]),
        v[12] or v[13] or "",
        v[14] or "",
        account if export.full_identifiers else ("*" * max(len(account) - 4, 3) + account[-4:]),
    ]


# --- overpayments -------------------------------------------------------------------------

OVERPAYMENT_STATUS = _labels(Overpayment.Status.choices)
OVERPAYMENT_FIELDS = [
    "household__number",
    "household__head__name",
    "township__name",
    "entitlement__programme",
    "month",
    "paid",
    "due",
    "amount",
    "status",
    "note",
    "resolved_at",
]


def _overpayments(export, user):
    return (
        overpayment_list(user=user)
        .filter(_where(export, "household__region__code", "month", "entitlement__programme"))
        .order_by("id")
        .values_list(*OVERPAYMENT_FIELDS)
    )


def _overpayment_row(v, export):
    return [
        v[0],
        v[1] or "",
        v[2],
        PROGRAMMES.get(v[3], v[3]),
        _month(v[4]),
        v[5],
        v[6],
        v[7],
        OVERPAYMENT_STATUS.get(v[8], v[8]),
        v[9] or "",
        _local(v[10]),
    ]


# --- referrals, reviews, objections -------------------------------------------------------------

REFERRAL_KIND = _labels(Department.Kind.choices)
REFERRAL_STATUS = _labels(Referral.Status.choices)
REFERRAL_FIELDS = [
    "household__number",
    "household__head__name",
    "township__name",
    "kind",
    "department__name",
    "created_at",
    "due",
    "status",
    "reply",
    "replied_at",
]


def _referrals(export, user):
    return (
        referral_list(user=user)
        .filter(_where(export, "household__region__code", "created_at__date", None))
        .order_by("id")
        .values_list(*REFERRAL_FIELDS)
    )


def _referral_row(v, export):
    return [
        v[0],
        v[1] or "",
        v[2] or "",
        REFERRAL_KIND.get(v[3], v[3]),
        v[4] or "",
        _local(v[5]),
        _day(v[6]),
        REFERRAL_STATUS.get(v[7], v[7]),
        v[8] or "",
        _local(v[9]),
    ]


REVIEW_KIND = _labels(Review.Kind.choices)
REVIEW_STATUS = _labels(Review.Status.choices)
REVIEW_OUTCOME = _labels(Review.Outcome.choices)
REVIEW_FIELDS = [
    "entitlement__household__number",
    "entitlement__household__head__name",
    "township__name",
    "entitlement__programme",
    "entitlement__klass",
    "kind",
    "opened_at",
    "due",
    "status",
    "visited_on",
    "outcome",
    "new_amount",
    "new_class",
    "reason",
    "decided_at",
]


def _reviews(export, user):
    return (
        review_list(user=user)
        .filter(
            _where(export, "entitlement__household__region__code", "due", "entitlement__programme")
        )
        .order_by("id")
        .values_list(*REVIEW_FIELDS)
    )


def _review_row(v, export):
    return [
        v[0],
        v[1] or "",
        v[2] or "",
        PROGRAMMES.get(v[3], v[3]),
        v[4],
        REVIEW_KIND.get(v[5], v[5]),
        _local(v[6]),
        _day(v[7]),
        REVIEW_STATUS.get(v[8], v[8]),
        _day(v[9]),
        REVIEW_OUTCOME.get(v[10], v[10] or ""),
        v[11] if v[11] is not None else "",
        v[12] or "",
        v[13] or "",
        _local(v[14]),
    ]


NOTICE_KIND = _labels(Notice.Kind.choices)
OBJECTION_STATUS = _labels(Objection.Status.choices)
# Who objected (name, contact) is never exported: objectors are protected.
OBJECTION_FIELDS = [
    "notice__application__number",
    "notice__application__household__number",
    "notice__review__entitlement__household__number",
    "notice__kind",
    "notice__starts_on",
    "notice__ends_on",
    "received_at",
    "text",
    "status",
    "resolution",
    "resolved_at",
]


def _objections(export, user):
    prefix = Region.prefix_of_code(export.region.code)
    qs = objection_list(user=user).filter(
        Q(notice__application__household__region__code__startswith=prefix)
        | Q(notice__review__entitlement__household__region__code__startswith=prefix)
    )
    if export.date_from:
        qs = qs.filter(received_at__date__gte=export.date_from)
    if export.date_to:
        qs = qs.filter(received_at__date__lte=export.date_to)
    return qs.order_by("id").values_list(*OBJECTION_FIELDS)


def _objection_row(v, export):
    return [
        v[0] or "",
        v[1] or v[2] or "",
        NOTICE_KIND.get(v[3], v[3]),
        f"{_day(v[4])} – {_day(v[5])}",
        _local(v[6]),
        v[7] or "",
        OBJECTION_STATUS.get(v[8], v[8]),
        v[9] or "",
        _local(v[10]),
    ]


# --- the audit log ------------------------------------------------------------------------


def _audit_events(export, user):
    prefix = Region.prefix_of_code(export.region.code)
    qs = audit_event_list(user=user).filter(region_code__startswith=prefix)
    if export.date_from:
        qs = qs.filter(occurred_at__date__gte=export.date_from)
    if export.date_to:
        qs = qs.filter(occurred_at__date__lte=export.date_to)
    return qs.order_by("id")


def _audit_row(event, export):
    mask = None if export.full_identifiers else mask_sensitive
    changes = "; ".join(
        f"{label}: {before} → {after}" for label, before, after in change_rows(event, mask=mask)
    )
    return [
        _local(event.occurred_at),
        event.actor_name or "系统",
        event.get_action_display(),
        event.object_repr,
        event.region_code,
        event.from_state,
        event.to_state,
        event.reason,
        changes,
    ]


REGISTERS: dict[str, Register] = {
    Export.Register.APPLICATIONS: Register(
        [
            "申请编号",
            "户编号",
            "户主姓名",
            "户主身份证号",
            "区县",
            "乡镇(街道)",
            "村(社区)",
            "救助项目",
            "受理渠道",
            "受理时间",
            "状态",
            "拟保障金额(元)",
            "决定时间",
            "决定人",
            "决定理由",
        ],
        _applications,
        _application_row,
    ),
    Export.Register.ENTITLEMENTS: Register(
        [
            "户编号",
            "户主姓名",
            "户主身份证号",
            "区县",
            "乡镇(街道)",
            "村(社区)",
            "城乡",
            "救助项目",
            "月保障金额(元)",
            "类别",
            "起始月份",
            "终止月份",
            "状态",
            "下次复核",
            "批准依据",
            "批准时间",
        ],
        _entitlements,
        _entitlement_row,
    ),
    Export.Register.PAYROLL_LINES: Register(
        [
            "参考号",
            "清册月份",
            "所属月份",
            "户编号",
            "账户名",
            "身份证号",
            "区县",
            "乡镇(街道)",
            "救助项目",
            "类型",
            "金额(元)",
            "状态",
            "原因",
            "开户银行",
            "银行账号",
        ],
        _payroll_lines,
        _payroll_line_row,
    ),
    Export.Register.REFERRALS: Register(
        [
            "户编号",
            "户主姓名",
            "乡镇(街道)",
            "转办事项",
            "承办部门",
            "转办时间",
            "答复期限",
            "状态",
            "部门答复",
            "答复时间",
        ],
        _referrals,
        _referral_row,
    ),
    Export.Register.REVIEWS: Register(
        [
            "户编号",
            "户主姓名",
            "乡镇(街道)",
            "救助项目",
            "类别",
            "复核类型",
            "开启时间",
            "到期日",
            "状态",
            "入户或申报日期",
            "复核结果",
            "调整后金额(元)",
            "调整后类别",
            "理由",
            "决定时间",
        ],
        _reviews,
        _review_row,
    ),
    Export.Register.OBJECTIONS: Register(
        [
            "申请编号",
            "户编号",
            "公示类型",
            "公示期",
            "收到时间",
            "异议内容",
            "状态",
            "处理结果",
            "处理时间",
        ],
        _objections,
        _objection_row,
    ),
    Export.Register.OVERPAYMENTS: Register(
        [
            "户编号",
            "户主姓名",
            "乡镇(街道)",
            "救助项目",
            "所属月份",
            "已发(元)",
            "应发(元)",
            "多发(元)",
            "状态",
            "说明",
            "处理时间",
        ],
        _overpayments,
        _overpayment_row,
    ),
    Export.Register.AUDIT_EVENTS: Register(
        ["时间", "操作人", "操作", "对象", "区域代码", "原状态", "新状态", "理由", "变更内容"],
        _audit_events,
        _audit_row,
    ),
}


def register_rows(export: Export, user, spec: Register | None = None) -> tuple[int, Iterator[list]]:
    """The register's row count and its rows, streamed in chunks."""
    spec = spec or REGISTERS[export.register]
    qs = spec.queryset(export, user)
    total = qs.count()
    return total, (spec.row(values, export) for values in qs.iterator(chunk_size=CHUNK))
