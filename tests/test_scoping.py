import pytest
from django.contrib.auth.models import AnonymousUser
from django.core.exceptions import ValidationError

from accounts.models import Role, User
from accounts.scoping import in_jurisdiction, scope_to_jurisdiction
from accounts.selectors import region_list
from regions.models import Region


def codes(qs):
    return set(qs.values_list("code", flat=True))


def test_clerk_sees_only_own_township(tree, cast):
    assert codes(region_list(user=cast["clerk"])) == {
        tree.jiefangbei.code,
        tree.village.code,
        tree.other_village.code,
    }


def test_district_and_city_scopes(tree, cast):
    yuzhong = codes(region_list(user=cast["district_approver"]))
    assert tree.village.code in yuzhong and tree.wanzhou_village.code not in yuzhong
    assert codes(region_list(user=cast["auditor"])) == codes(Region.objects.all())


def test_village_worker_sees_only_own_village(tree, cast):
    assert codes(region_list(user=cast["village_worker"])) == {tree.village.code}


def test_other_district_clerk_sees_nothing_of_yuzhong(tree, cast):
    visible = region_list(user=cast["clerk_other"])
    assert tree.village.code not in codes(visible)
    assert visible.filter(code__startswith="500103").count() == 0


@pytest.mark.parametrize("who", ["anonymous", "inactive"])
def test_fails_closed(tree, cast, who):
    user = AnonymousUser() if who == "anonymous" else cast["clerk"]
    if who == "inactive":
        user.is_active = False
    qs = scope_to_jurisdiction(Region.objects.all(), user=user, code_field="code")
    assert qs.count() == 0
    assert not in_jurisdiction(user, tree.village.code)


def test_prefix_is_not_fooled_by_similar_codes(tree, cast):
    # 500103001 is the clerk's township; 5001030010xx villages are inside, 500103002 is not.
    assert in_jurisdiction(cast["clerk"], "500103001999")
    assert not in_jurisdiction(cast["clerk"], "500103002001")


@pytest.mark.parametrize(
    ("role", "place", "ok"),
    [
        (Role.CLERK, "jiefangbei", True),
        (Role.CLERK, "yuzhong", False),
        (Role.DISTRICT_APPROVER, "jiefangbei", False),
        (Role.AUDITOR, "city", True),
        (Role.AUDITOR, "yuzhong", True),
        (Role.AUDITOR, "village", False),
        (Role.CITY_ADMIN, "yuzhong", False),
        (Role.VILLAGE_WORKER, "village", True),
    ],
)
def test_role_jurisdiction_level(tree, role, place, ok):
    user = User(username="x", role=role, jurisdiction=getattr(tree, place))
    if ok:
        user.full_clean(exclude=["password"])
    else:
        with pytest.raises(ValidationError) as exc:
            user.full_clean(exclude=["password"])
        assert "jurisdiction" in exc.value.message_dict


def test_api_region_list_is_scoped_and_paginated(client, tree, cast):
    client.force_login(cast["clerk"])
    body = client.get("/api/v1/regions/").json()
    assert body["count"] == 3
    assert {r["code"] for r in body["results"]} == codes(region_list(user=cast["clerk"]))
    body = client.get("/api/v1/regions/", {"level": "village"}).json()
    assert body["count"] == 2


def test_api_region_list_query_count_is_fixed(client, tree, cast, django_assert_num_queries):
    from tests.factories import RegionFactory

    client.force_login(cast["auditor"])
    # session + user (+jurisdiction) + count + page, whatever the number of rows
    with django_assert_num_queries(5):
        client.get("/api/v1/regions/")
    for i in range(30):
        RegionFactory(code=f"500103001{100 + i:03d}", level="village", parent=tree.jiefangbei)
    with django_assert_num_queries(5):
        assert len(client.get("/api/v1/regions/?page_size=200").json()["results"]) == 38


def test_createsuperuser_makes_the_account_administrator(tree):
    """The first user makes everybody else's account (三员分立: the city administrator no
    longer manages accounts)."""
    user = User.objects.create_superuser("root", "root@example.invalid", "x-long-password-1")
    assert user.role == Role.ACCOUNT_ADMIN and user.jurisdiction == tree.city
