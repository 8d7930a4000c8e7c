"""The recipients register one row per person (保障对象名册, 按人): each counted member of a
household paid as a whole, and the member alone of a 单人保, with the household's entitlement
beside them. The same entitlements, scope and filters as the register by household."""

from __future__ import annotations

from django.db.models import Count, F, FilteredRelation, OuterRef, Q, Subquery

from beneficiaries.models import Member
from beneficiaries.people import counted_q

from .registers import (
    ENTITLEMENT_STATUS,
    PROGRAMMES,
    RESIDENCE,
    Register,
    _entitlements,
    _id,
    _month,
)

SEX = {value: str(label) for value, label in Member.Sex.choices}
RELATION = {value: str(label) for value, label in Member.Relation.choices}
DISABILITY = {value: str(label) for value, label in Member.Disability.choices}

FIELDS = [
    "household__number",
    "person__name",
    "person__id_number",
    "person__sex",
    "person__birth_date",
    "person__relation",
    "person__disability_type",
    "person__disability_grade",
    "household__region__parent__parent__name",
    "household__region__parent__name",
    "household__region__name",
    "household__residence_type",
    "programme",
    "monthly_amount",
    "counted_size",
    "klass",
    "start_month",
    "status",
    "source",
]


def _rows(export, user):
    members = Q(household__members__is_current=True) & counted_q("household__members__")
    size = (
        Member.objects.filter(counted_q(), household=OuterRef("household"), is_current=True)
        .order_by()
        .values("household")
        .annotate(n=Count("id"))
        .values("n")
    )
    return (
        _entitlements(export, user)
        .annotate(counted_size=Subquery(size))
        .annotate(
            person=FilteredRelation(
                "household__members",
                # As the statistics return counts them: the counted members of a household
                # paid as a whole; the member helped alone, whatever the household's state.
                condition=(Q(member__isnull=True) & members)
                | Q(household__members__id=F("member_id")),
            )
        )
        .filter(person__isnull=False)
        .order_by("id", "person__id")
        .values_list(*FIELDS)
    )


def _row(v, export):
    return [
        v[0],
        v[1],
        _id(v[2], export),
        SEX.get(v[3], v[3]),
        v[4].strftime("%Y-%m-%d") if v[4] else "",
        RELATION.get(v[5], v[5]),
        DISABILITY.get(v[6], v[6]) if v[6] else "",
        v[7] if v[7] is not None else "",
        v[8] or "",
        v[9] or "",
        v[10] or "",
        RESIDENCE.get(v[11], v[11]),
        PROGRAMMES.get(v[12], v[12]),
        v[13],
        v[14],
        v[15],
        _month(v[16]),
        ENTITLEMENT_STATUS.get(v[17], v[17]),
        v[18],
    ]


RECIPIENTS_BY_PERSON = Register(
    [
        "户编号",
        "姓名",
        "身份证号",
        "性别",
        "出生日期",
        "与户主关系",
        "残疾类别",
        "残疾等级",
        "区县",
        "乡镇(街道)",
        "村(社区)",
        "城乡",
        "救助项目",
        "户月保障金额(元)",
        "共同生活人数",
        "类别",
        "起始月份",
        "状态",
        "批准依据",
    ],
    _rows,
    _row,
)
