"""The likely-duplicates list (疑似重复人员) for the city admin: pairs of current members who
may be one person entered twice, found every night over the whole city and kept in
``DuplicateCandidate``; the report page only reads it.

Two kinds of pair, both within people of the same name:

- the same birth date under different ID numbers (one person registered under two numbers);
- ID numbers whose first 17 characters differ in one place: one digit mistyped, the check
  digit then computed for the wrong number (a wrong check digit alone is refused at entry).

ID numbers are encrypted at rest, so the comparison runs in Python: one pass streams every
current member whose name someone else also holds, in name order and a chunk at a time, so
memory holds one name's members and the pairs found, never the register."""

from __future__ import annotations

import datetime as dt
import itertools
from collections import defaultdict
from collections.abc import Iterable, Iterator

from django.db import transaction
from django.db.models import Count
from django.utils import timezone

from core.jobs import heartbeat

from .models import DuplicateCandidate, Member

Kind = DuplicateCandidate.Kind
# Read this many members per round trip; the job tells the run log it is alive every
# HEARTBEAT_EVERY members.
CHUNK = 5000
HEARTBEAT_EVERY = 100_000
# Up to this many people sharing a name and birth date, every pair is listed (45 at most);
# a larger group (a common name born on a common day, or a batch entered wrongly) lists each
# member once, beside the group's first record: the admin sees every record without reading
# thousands of pairs that say the same thing.
ALL_PAIRS_UP_TO = 10
# The characters compared: the check digit (the 18th) follows from the other 17.
COMPARED = 17
# Where the typo search splits a number: the address code and birth year and month before,
# the day and the sequence after, so that both sides tell people apart.
SPLIT = 12

# (member_a id, member_b id), member_a id < member_b id.
Pair = tuple[int, int]
# (id, birth date, ID number) of one member.
Person = tuple[int, dt.date, str]


def duplicates_find() -> dict:
    """Find the likely duplicates of the whole city and replace the stored list with them.
    Idempotent: run twice, the second run writes the same set."""
    found_at = timezone.now()
    found: dict[str, list[Pair]] = {Kind.SAME_NAME_AND_BIRTH: [], Kind.ID_TYPO: []}
    for group in _name_groups():
        found[Kind.SAME_NAME_AND_BIRTH].extend(same_birth_pairs(group))
        found[Kind.ID_TYPO].extend(sorted(near_pairs(group)))
    _replace(found, found_at)
    return {
        "members": Member.objects.filter(is_current=True).count(),
        "same_name_and_birth": len(found[Kind.SAME_NAME_AND_BIRTH]),
        "id_typos": len(found[Kind.ID_TYPO]),
    }


def _name_groups() -> Iterator[list[Person]]:
    """The current members of each name held by two or more of them (a name nobody else
    holds has no pair), one name at a time, sorted by birth date."""
    shared = (
        Member.objects.filter(is_current=True)
        .values("name")
        .annotate(n=Count("id"))
        .filter(n__gt=1)
        .values("name")
    )
    rows = (
        Member.objects.filter(is_current=True, name__in=shared)
        .order_by("name", "birth_date", "id")
        .values_list("name", "id", "birth_date", "id_number")
        .iterator(chunk_size=CHUNK)
    )
    for _name, members in itertools.groupby(_alive(rows), key=lambda row: row[0]):
        yield [(pk, birth, number) for _name, pk, birth, number in members]


def _alive(rows: Iterator[tuple]) -> Iterator[tuple]:
    """The rows, telling the run log now and then that the job is still at work."""
    for n, row in enumerate(rows, 1):
        if n % HEARTBEAT_EVERY == 0:
            heartbeat()
        yield row


def same_birth_pairs(group: list[Person]) -> Iterator[Pair]:
    """Pairs of the same birth date and different numbers, in birth-date order."""
    for _birth, people in itertools.groupby(group, key=lambda p: p[1]):
        yield from _birth_group_pairs(list(people))


def _birth_group_pairs(people: list[Person]) -> Iterator[Pair]:
    if len(people) > ALL_PAIRS_UP_TO:
        first = people[0]
        candidates: Iterable = ((first, other) for other in people[1:])
    else:
        candidates = itertools.combinations(people, 2)
    for a, b in candidates:
        if a[2] != b[2]:
            yield a[0], b[0]


def near_pairs(group: list[Person]) -> Iterator[Pair]:
    """Pairs whose first 17 characters differ in exactly one place. Two such numbers agree
    wholly on one side of ``SPLIT`` (the place lies on the other), so numbers are first
    bucketed by each side and only a bucket's few members are compared, place by place: the
    work grows with the group, not with its pairs (a common name has thousands of holders:
    millions of pairs)."""
    for places, kept in (
        (range(0, SPLIT), slice(SPLIT, COMPARED)),
        (range(SPLIT, COMPARED), slice(0, SPLIT)),
    ):
        alike: dict[str, list[tuple[int, str]]] = defaultdict(list)
        for pk, _birth, number in group:
            alike[number[kept]].append((pk, number))
        for bucket in alike.values():
            if len(bucket) > 1:
                yield from _one_place_apart(bucket, places)


def _one_place_apart(bucket: list[tuple[int, str]], places: range) -> Iterator[Pair]:
    """Pairs of ``bucket`` that differ in exactly one of ``places``: for each place, the
    numbers alike everywhere else share a key, and hold at most one number per digit there."""
    for place in places:
        rest: dict[str, list[tuple[int, str]]] = defaultdict(list)
        for pk, number in bucket:
            rest[number[:place] + number[place + 1 : COMPARED]].append((pk, number[place]))
        for same in rest.values():
            for (pk_a, digit_a), (pk_b, digit_b) in itertools.combinations(same, 2):
                if digit_a != digit_b:
                    yield min(pk_a, pk_b), max(pk_a, pk_b)


@transaction.atomic
def _replace(found: dict[str, list[Pair]], found_at: dt.datetime) -> None:
    """The new list replaces the old at once: until this commits, the page reads the old."""
    DuplicateCandidate.objects.all().delete()
    for kind, pairs in found.items():
        for start in range(0, len(pairs), CHUNK):
            DuplicateCandidate.objects.bulk_create(
                DuplicateCandidate(member_a_id=a, member_b_id=b, kind=kind, found_at=found_at)
                for a, b in pairs[start : start + CHUNK]
            )
