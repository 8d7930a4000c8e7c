"""Checks on a household's composition that every write path shares: the clerk's form, the
API and the file import. Pure functions over plain data; they return problems, they do not
raise, so a form or an import report can show all of them at once."""

from __future__ import annotations

import datetime as dt
from collections import Counter
from collections.abc import Iterable

from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _

from . import idnumber, people
from .models import Member

HEAD_MIN_AGE = 16

Problem = tuple[str, str]  # (field path such as "members.2.id_number", message)


def member_problems(members: list[dict], *, today: dt.date) -> list[Problem]:
    """Problems with a household's list of members (each a dict of Member fields)."""
    problems: list[Problem] = []
    heads = [i for i, m in enumerate(members) if m.get("relation") == Member.Relation.HEAD]
    if not members:
        problems.append(("members", _("A household needs at least one member.")))
    elif len(heads) != 1:
        problems.append(
            (
                "members",
                _("Mark exactly one member as head of household; %(n)d are marked.")
                % {"n": len(heads)},
            )
        )
    seen = Counter(idnumber.normalize(m.get("id_number", "")) for m in members)
    for i, member in enumerate(members):
        problems += [(f"members.{i}.{field}", msg) for field, msg in _one_member(member, today)]
        number = idnumber.normalize(member.get("id_number", ""))
        if number and seen[number] > 1:
            problems.append(
                (f"members.{i}.id_number", _("This ID number is entered twice in this household."))
            )
        if i in heads and _age(number, today) is not None and _age(number, today) < HEAD_MIN_AGE:
            problems.append(
                (
                    f"members.{i}.relation",
                    _("The head of household must be at least %(age)d years old.")
                    % {"age": HEAD_MIN_AGE},
                )
            )
    return problems


def _one_member(member: dict, today: dt.date) -> Iterable[tuple[str, str]]:
    try:
        idnumber.parse(member.get("id_number", ""), today=today)
    except ValidationError as exc:
        yield "id_number", exc.messages[0]
    if not member.get("name", "").strip():
        yield "name", _("Enter the member's name.")
    lives_with = member.get("lives_with_household", True)
    if not lives_with and not member.get("absence_reason"):
        yield "absence_reason", _("Say why this member does not live with the household.")
    if member.get("disability_type") and not member.get("disability_grade"):
        yield "disability_grade", _("Enter the disability grade (1–4).")
    if member.get("disability_grade") and not member.get("disability_type"):
        yield "disability_type", _("Enter the type of disability for this grade.")
    recorded = _recorded_capacity(member, today)
    if recorded and not (member.get("labour_capacity_reason") or "").strip():
        yield (
            "labour_capacity_reason",
            _(
                "Age and disability give “%(derived)s”; say why this member's labour capacity is "
                "different."
            )
            % {"derived": Member.Labour(_derived_capacity(member, today)).label},
        )


def _derived_capacity(member: dict, today: dt.date) -> str:
    try:
        born = idnumber.parse(member.get("id_number", ""), today=today).birth_date
    except ValidationError:
        born = None
    return people.labour_capacity(
        birth_date=born,
        as_of=today,
        recorded="",
        kind=member.get("disability_type") or "",
        grade=member.get("disability_grade") if member.get("disability_type") else None,
    )


def _recorded_capacity(member: dict, today: dt.date) -> str:
    """The labour capacity to store: blank (derived) unless it differs from what age and
    disability give. Under 16 and from 60 nothing overrides the age rule."""
    recorded = member.get("labour_capacity") or ""
    derived = _derived_capacity(member, today)
    try:
        born = idnumber.parse(member.get("id_number", ""), today=today).birth_date
    except ValidationError:
        born = None
    age = people.age_on(born, today)
    forced = age is not None and (age < people.CHILD_UNDER or age >= people.ELDERLY_FROM)
    return "" if forced or recorded == derived else recorded


def _age(number: str, today: dt.date) -> int | None:
    try:
        return idnumber.age_on(idnumber.parse(number, today=today).birth_date, today)
    except ValidationError:
        return None


def derived_member_fields(member: dict, *, today: dt.date) -> dict:
    """The fields never typed: sex and birth date from the ID number, the self-care level from
    the six daily-living items; and an absence reason only when absent."""
    parsed = idnumber.parse(member["id_number"], today=today)
    not_done = sum(not member.get(item, True) for item in Member.DAILY_LIVING_ITEMS)
    return {
        "id_number": parsed.number,
        "sex": parsed.sex,
        "birth_date": parsed.birth_date,
        "self_care": Member.self_care_level(not_done),
        "absence_reason": ""
        if member.get("lives_with_household", True)
        else member.get("absence_reason", ""),
        "disability_grade": member.get("disability_grade")
        if member.get("disability_type")
        else None,
        "labour_capacity": (capacity := _recorded_capacity(member, today)),
        "labour_capacity_reason": (member.get("labour_capacity_reason") or "").strip()
        if capacity
        else "",
        # The reviewer's decision on an "other" absence stands until the reason changes.
        **(
            {}
            if member.get("absence_reason") == Member.Absence.OTHER
            and not member.get("lives_with_household", True)
            else {"absence_counted": None, "absence_decision": ""}
        ),
    }
