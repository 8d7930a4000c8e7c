"""The public site at city scale (issue 18): the standing list is read from its summary rows,
paged by seeking through the village tallies, kept in step with the entitlements, and the
page cache lets one request rebuild a page while the others wait or get the stale copy."""

import datetime as dt
import threading
import time

import pytest
from django.core.cache.backends.locmem import LocMemCache
from django.http import HttpResponse
from django.test import RequestFactory
from django.utils import timezone

from beneficiaries.models import Member
from notices import views
from notices.models import StandingRow, StandingTally
from notices.selectors import StandingList, villages_under
from notices.services import public_changed, standing_catch_up, standing_changed, standing_refresh
from recertification.models import Review
from recertification.services import review_open
from recertification.timeline import entitlement_terminate

from .test_dynamic import ADULT, entitle, household_of
from .test_review import calendar  # noqa: F401 (fixture)


@pytest.fixture
def spread(cast, tree):
    """Seven households on the list in three villages of two districts, one not on it."""
    entitlements = []
    for village, names in (
        (tree.village, ("甲一", "甲二", "甲三")),
        (tree.other_village, ("乙一", "乙二")),
        (tree.wanzhou_village, ("丙一", "丙二")),
    ):
        for name in names:
            household = household_of(cast, tree, (name, "19800101", ADULT))
            household.region = village
            household.save(update_fields=["region"])
            entitlements.append(entitle(household))
    household_of(cast, tree, ("不在册", "19800101", ADULT))
    standing_refresh()
    return entitlements


def test_every_window_of_the_list_is_what_a_plain_ordered_query_gives(spread, tree):
    plain = list(StandingRow.objects.order_by("village_code", "entitlement_id"))
    assert len(plain) == 7
    for prefix in ("", tree.yuzhong.prefix, tree.jiefangbei.prefix, tree.wanzhou.prefix):
        rows = StandingList(prefix)
        wanted = [r for r in plain if r.village_code.startswith(prefix)]
        assert rows.count() == len(wanted)
        for start in range(len(wanted) + 1):
            for stop in range(start, len(wanted) + 2):
                assert rows[start:stop] == wanted[start:stop], (prefix, start, stop)


def test_a_districts_list_has_only_its_villages_with_their_names(spread, tree):
    assert StandingList(tree.wanzhou.prefix).count() == 2
    assert StandingList(tree.yuzhong.prefix).count() == 5
    row = StandingRow.objects.filter(villages_under(tree.other_village.code)).first()
    assert (row.township, row.village, row.masked_name) == ("解放碑街道", "民生路社区", "乙*")
    assert dict(StandingTally.objects.values_list("village_code", "households")) == {
        tree.village.code: 3,
        tree.other_village.code: 2,
        tree.wanzhou_village.code: 2,
    }


def test_page_numbers_beyond_the_end_or_not_numbers_behave_as_before(client, spread, tree):
    page = client.get(f"/gongshi/{tree.yuzhong.code}/?page=99").content.decode()
    assert "甲*" in page and "丙*" not in page  # one page of five: page 99 is the last page
    assert client.get("/gongshi/?page=abc").status_code == 200


def test_the_list_follows_approvals_terminations_and_the_nights_edits(cast, tree, spread):
    household = household_of(cast, tree, ("新来", "19800101", ADULT))
    entitlement = entitle(household)  # written directly: nothing refreshed the list yet
    assert not StandingRow.objects.filter(entitlement=entitlement).exists()
    standing_changed(entitlement)  # as approval does, in its transaction
    assert StandingRow.objects.get(entitlement=entitlement).household_size == 1
    assert StandingTally.objects.get(village_code=tree.village.code).households == 4

    # A member joins by a path that does not refresh the list: the night catches up.
    Member.objects.create(
        household=household,
        name="新成员",
        relation="child",
        birth_date=dt.date(2010, 5, 1),
        employment="student",
    )
    household.save(update_fields=["updated_at"])
    since = timezone.now() - dt.timedelta(minutes=1)
    assert standing_catch_up(since=since) >= 1
    assert StandingRow.objects.get(entitlement=entitlement).household_size == 2

    review_open(entitlement, "迁出", due=timezone.localdate())
    review = Review.objects.get(entitlement=entitlement)
    entitlement_terminate(entitlement, review, timezone.localdate(), cast["district_approver"])
    assert not StandingRow.objects.filter(entitlement=entitlement).exists()
    assert StandingTally.objects.get(village_code=tree.village.code).households == 3


# --- the page cache: one rebuild at a time ------------------------------------------------------


def _slow_view(calls, seconds=0.3):
    def view(request):
        calls.append(1)
        time.sleep(seconds)
        return HttpResponse(f"built {len(calls)}")

    return views.cached_public(view)


def _get(view, results):
    results.append(view(RequestFactory().get("/gongshi/")))


def _together(view, n=12):
    results: list = []
    threads = [threading.Thread(target=_get, args=(view, results)) for _ in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return results


def test_a_cold_cache_is_rebuilt_once_while_the_others_wait_for_it():
    calls: list = []
    results = _together(_slow_view(calls))
    assert len(calls) == 1
    assert {(r.status_code, r.content) for r in results} == {(200, b"built 1")}


def test_a_stale_page_is_served_while_one_request_rebuilds_it():
    calls: list = []
    view = _slow_view(calls)
    _get(view, [])
    public_changed()  # an approval: the copy is stale
    results = _together(view)
    assert len(calls) == 2  # the first build, and one rebuild
    contents = sorted(r.content for r in results)
    assert set(contents) <= {b"built 1", b"built 2"} and b"built 1" in contents
    assert view(RequestFactory().get("/gongshi/")).content == b"built 2"


def test_when_the_rebuild_takes_too_long_the_others_are_asked_to_retry(monkeypatch):
    monkeypatch.setattr(views, "WAIT_SECONDS", 0.2)
    calls: list = []
    results = _together(_slow_view(calls, seconds=1.0), n=4)
    assert len(calls) == 1
    statuses = sorted(r.status_code for r in results)
    assert statuses == [200, 503, 503, 503]
    busy = next(r for r in results if r.status_code == 503)
    assert busy["Retry-After"] == "5"


def test_with_the_cache_unreachable_each_request_builds_its_own_page(monkeypatch):
    # As FailOpenRedisCache answers while Redis is down (on the class: each thread has its own
    # cache object).
    monkeypatch.setattr(LocMemCache, "add", lambda *a, **k: False)
    monkeypatch.setattr(LocMemCache, "get", lambda self, key, default=None, version=None: default)
    monkeypatch.setattr(LocMemCache, "has_key", lambda *a, **k: False)
    calls: list = []
    results = _together(_slow_view(calls, seconds=0.05), n=3)
    assert len(calls) == 3 and {r.status_code for r in results} == {200}


@pytest.mark.usefixtures("calendar")
def test_a_city_page_lists_the_first_notices_and_says_how_many_there_are(
    client, cast, tree, monkeypatch
):
    from .test_review import new_case, to_notice

    monkeypatch.setattr(views, "NOTICES_LISTED", 1)
    to_notice(cast, new_case(cast, tree))
    to_notice(cast, new_case(cast, tree))
    page = client.get("/gongshi/").content.decode()
    assert page.count("/objection/") == 1 and "共 2 条" in page
    village = client.get(f"/gongshi/{tree.village.code}/").content.decode()
    assert village.count("/objection/") == 2 and "共 2 条" not in village  # a village lists all
