"""The likely-duplicates list: computed every night over the whole city, read by the city
admin's report (``beneficiaries.duplicates``, ``/households/duplicates/``)."""

import datetime as dt
import itertools
import random

from django.conf import settings
from django.urls import reverse

from beneficiaries import duplicates, idnumber, services, tasks
from beneficiaries.models import DuplicateCandidate, Member
from core.models import AuditEvent, JobRun
from reports.views import TASK_LABELS

from .factories import make_household, make_id, member_data

SAME_BIRTH = DuplicateCandidate.Kind.SAME_NAME_AND_BIRTH
TYPO = DuplicateCandidate.Kind.ID_TYPO
URL = reverse("beneficiaries:duplicates")


def _people(household, rows) -> list[Member]:
    """Members written straight into ``household``: [(name, ID number)]. The register's
    service checks one household at a time; these tests need thousands of people."""
    members = []
    for name, number in rows:
        parsed = idnumber.parse(number, today=dt.date(2030, 1, 1))
        members.append(
            Member(
                household=household,
                name=name,
                id_number=number,
                birth_date=parsed.birth_date,
                sex=parsed.sex,
                relation=Member.Relation.OTHER,
            )
        )
    return Member.objects.bulk_create(members)


def _pairs(kind) -> set[tuple[str, str]]:
    rows = DuplicateCandidate.objects.filter(kind=kind).select_related("member_a", "member_b")
    return {(row.member_a.id_number, row.member_b.id_number) for row in rows}


def _slow_near_pairs(numbers):
    """The definition, pair by pair: first 17 characters differ in exactly one place."""
    return {
        (a, b)
        for a, b in itertools.combinations(numbers, 2)
        if sum(x != y for x, y in zip(a[:17], b[:17], strict=True)) == 1
    }


def test_near_pairs_are_exactly_the_numbers_one_character_apart():
    rng = random.Random(18)
    # A crowded number space (few areas, days and sequences), so many pairs are one apart.
    numbers = sorted(
        {
            make_id(f"1990010{rng.randint(1, 3)}", area=f"50010{rng.randint(1, 3)}", seq=s)
            for s in (rng.randint(1, 30) for _ in range(400))
        }
    )
    group = [(pk, dt.date(1990, 1, 1), number) for pk, number in enumerate(numbers)]
    found = {(numbers[a], numbers[b]) for a, b in duplicates.near_pairs(group)}
    expected = _slow_near_pairs(numbers)
    assert len(expected) > 100
    assert found == expected
    assert len(list(duplicates.near_pairs(group))) == len(expected)  # each pair once


def test_typo_found_city_wide_beyond_the_old_500_name_cut(cast, tree):
    """The old report compared the first 500 shared names in alphabetical order; the job
    compares every name."""
    household = make_household(cast["clerk"], tree.village)
    _people(
        household,
        [
            (f"测试{i:03d}", make_id(f"19{i // 12 % 100:02d}{i % 12 + 1:02d}01", seq=seq))
            for i in range(600)
            for seq in (1, 25)  # two people of each name, not one character apart
        ],
    )
    right, typo = make_id("19900101", seq=2), make_id("19900101", seq=12)
    _people(household, [("龚敏", right), ("龚敏", typo)])  # sorts after every 测试 name
    tasks.duplicates_find()
    assert (right, typo) in _pairs(TYPO)
    assert (right, typo) in _pairs(SAME_BIRTH)
    assert len(_pairs(SAME_BIRTH)) == 600 + 1  # every shared name and birth date, no cut


def test_a_name_held_by_thousands(cast, tree):
    """A name held by more people than the old report's bound (2,000): its typing errors are
    still found, and a crowd born the same day is listed without every pair of it."""
    household = make_household(cast["clerk"], tree.village)
    start = dt.date(1940, 1, 1)
    born = [start + dt.timedelta(days=3 * i) for i in range(2100)]
    rows = [("王芳", make_id(day.strftime("%Y%m%d"), seq=8)) for day in born]
    right, typo = make_id("19990909", seq=2), make_id("19990909", area="500108", seq=2)
    crowd = [make_id("19850505", seq=2 * k + 100) for k in range(12)]  # born the same day
    trio = [make_id("19860606", seq=s) for s in (100, 202, 304)]
    _people(household, [*rows, *(("王芳", n) for n in [right, typo, *crowd, *trio])])
    tasks.duplicates_find()

    assert (right, typo) in _pairs(TYPO)
    same_birth = _pairs(SAME_BIRTH)
    assert {(trio[0], trio[1]), (trio[0], trio[2]), (trio[1], trio[2])} <= same_birth
    # The crowd of 12: each of the others beside its first record, 11 rows, not 66.
    assert {pair for pair in same_birth if pair[0] in crowd or pair[1] in crowd} == {
        (crowd[0], other) for other in crowd[1:]
    }
    run = JobRun.objects.get(job="duplicates_find")
    assert run.counts["members"] == Member.objects.filter(is_current=True).count()


def _two_member_household(cast, region, name, number, *, head_seq):
    """A household whose second member is ``name`` (the head is nobody's duplicate)."""
    head = member_data(f"户主{head_seq}", id_number=make_id("19500101", seq=head_seq))
    return make_household(
        cast["clerk"], region, members=[head, member_data(name, "spouse", id_number=number)]
    )


def _one_digit_apart(cast, tree):
    """Two 周敏 in two villages whose ID numbers differ in one digit: (the first's household,
    the two numbers)."""
    first, second = make_id("19900101", seq=2), make_id("19900101", seq=12)
    kept = _two_member_household(cast, tree.village, "周敏", first, head_seq=901)
    _two_member_household(cast, tree.other_village, "周敏", second, head_seq=903)
    return kept, first, second


def _entered_by_mistake(cast, household, name):
    """``name`` leaves ``household``'s register as an entry error (the head stays)."""
    services.household_update(
        actor=cast["clerk"],
        household=household,
        expected_version=household.version,
        region=household.region,
        fields={},
        members=[{"id": household.head.pk}],
        removals={household.members.get(name=name).pk: Member.LeaveReason.ENTRY_ERROR},
    )


def test_rerun_replaces_the_set(cast, tree):
    kept, first, second = _one_digit_apart(cast, tree)
    tasks.duplicates_find()
    tasks.duplicates_find()  # twice the same night: the same set, not twice the rows
    assert DuplicateCandidate.objects.count() == 2  # both kinds
    assert _pairs(TYPO) == {(first, second)}

    # 周敏 entered by mistake leaves the register; two others now share a name and birthday.
    _entered_by_mistake(cast, kept, "周敏")
    a, b = make_id("19800303", seq=4), make_id("19800303", seq=36)
    make_household(cast["clerk"], tree.village, members=[member_data("吴刚", id_number=a)])
    make_household(cast["clerk"], tree.village, members=[member_data("吴刚", id_number=b)])
    tasks.duplicates_find()
    assert _pairs(TYPO) == set()
    assert _pairs(SAME_BIRTH) == {(a, b)}
    last = JobRun.objects.filter(job="duplicates_find").first()
    assert last.counts == {"members": 5, "same_name_and_birth": 1, "id_typos": 0}


def test_page_before_the_first_run_says_when_it_runs(client, cast, tree):
    make_household(cast["clerk"], tree.village)
    client.force_login(cast["city_admin"])
    page = client.get(URL).content.decode()
    assert "尚未生成" in page and "03:30" in page
    assert AuditEvent.objects.filter(action="view", actor=cast["city_admin"]).exists()


def test_page_after_a_run_that_found_nothing(client, cast, tree):
    make_household(cast["clerk"], tree.village)
    tasks.duplicates_find()
    client.force_login(cast["city_admin"])
    page = client.get(URL).content.decode()
    assert "尚未生成" not in page
    assert page.count("未发现") == 2  # both lists say so
    assert "共核查全市 1 名在册人员" in page


def test_page_marks_a_pair_once_a_record_has_left(client, cast, tree):
    """The list is the night's: a pair settled during the day stays in its place, marked, so
    the pages hold still while the admin works through them; the next night drops it."""
    kept, _first, second = _one_digit_apart(cast, tree)
    tasks.duplicates_find()
    client.force_login(cast["city_admin"])
    page = client.get(URL).content.decode()
    assert second in page and "已移出登记:" not in page

    _entered_by_mistake(cast, kept, "周敏")
    page = client.get(URL).content.decode()
    assert second in page and page.count("已移出登记:录入错误") == 2  # in both lists

    tasks.duplicates_find()
    page = client.get(URL).content.decode()
    assert second not in page and page.count("未发现") == 2


def test_pages_each_list_on_its_own(client, cast, tree, django_assert_num_queries):
    household = make_household(cast["clerk"], tree.village)
    # 30 names, each held by two people born the same day, numbers not one character apart.
    _people(
        household,
        [
            (f"同名{i:02d}", make_id(f"1970{i % 12 + 1:02d}{i // 12 + 1:02d}", seq=s))
            for i in range(30)
            for s in (1, 25)
        ],
    )
    right, typo = make_id("19900101", seq=2), make_id("19990101", seq=2)
    _people(household, [("龚敏", right), ("龚敏", typo)])  # a typing error in the year only
    tasks.duplicates_find()
    client.force_login(cast["city_admin"])
    client.get(URL)  # the session and the user warm up
    with django_assert_num_queries(13):
        first = client.get(URL).content.decode()
    assert "共 30 对待核查" in first and "同名00" in first and "同名25" not in first
    assert "?birth_page=2" in first
    assert right in first and typo in first  # the typing-error list, on its first page

    second = client.get(URL, {"birth_page": 2, "typo_page": 1}).content.decode()
    assert "同名25" in second and "同名29" in second and "同名00" not in second
    assert "?typo_page=1&amp;birth_page=1" in second  # back, keeping the other list's page
    assert right in second


def test_the_jobs_page_names_the_job(client, cast, tree):
    tasks.duplicates_find()
    client.force_login(cast["city_admin"])
    page = client.get(reverse("reports:jobs")).content.decode()
    assert "查找疑似重复人员" in page


def test_every_scheduled_task_has_a_name_the_city_admin_reads():
    assert {entry["task"] for entry in settings.CELERY_BEAT_SCHEDULE.values()} <= set(TASK_LABELS)


def test_a_page_read_while_the_night_replaces_the_list_leaves_the_gone_pairs_out(cast, tree):
    """The page reads its pairs' ids, then the pairs: a run that replaced the list between the
    two reads (around 03:30) leaves those pairs out instead of failing the page."""
    from beneficiaries.selectors import duplicate_pairs

    _one_digit_apart(cast, tree)
    tasks.duplicates_find()
    ids = list(DuplicateCandidate.objects.order_by("id").values_list("pk", flat=True))
    tasks.duplicates_find()  # new rows, new ids
    assert duplicate_pairs(ids) == []
    fresh = list(DuplicateCandidate.objects.order_by("id").values_list("pk", flat=True))
    assert [pair.pk for pair in duplicate_pairs(fresh)] == fresh
