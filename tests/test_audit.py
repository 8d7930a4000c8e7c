import pytest
from django.urls import reverse

from core.audit import audit_record
from core.models import AuditEvent
from regions.models import Region

from .factories import TEST_PASSWORD


def test_admin_edit_is_logged_with_actor_and_before_after(client, tree, cast):
    client.force_login(cast["city_admin"])
    url = reverse("admin:regions_region_change", args=[tree.village.pk])
    response = client.post(
        url,
        {
            "code": tree.village.code,
            "name": "大井巷新社区",
            "level": "village",
            "parent": tree.jiefangbei.pk,
            "is_active": "on",
            "note": "",
        },
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    event = AuditEvent.objects.get(action=AuditEvent.Action.UPDATE, object_id=str(tree.village.pk))
    assert event.actor == cast["city_admin"] and event.actor_name == "city_admin"
    assert event.object_type == "regions.region"
    assert event.region_code == tree.village.code
    assert event.changes == {"name": ["大井巷社区", "大井巷新社区"]}


def test_create_and_delete_are_logged(tree):
    region = Region.objects.create(
        code="500103001009", name="临时社区", level="village", parent=tree.jiefangbei
    )
    pk = region.pk
    region.delete()
    actions = list(
        AuditEvent.objects.filter(object_id=str(pk), object_type="regions.region")
        .order_by("id")
        .values_list("action", flat=True)
    )
    assert actions == [AuditEvent.Action.CREATE, AuditEvent.Action.DELETE]
    created = AuditEvent.objects.get(object_id=str(pk), action=AuditEvent.Action.CREATE)
    assert created.changes["name"] == [None, "临时社区"]


def test_password_change_never_reaches_the_log(cast):
    user = cast["clerk"]
    user.set_password("another-password-123")
    user.save()
    user.full_name = "王新名"
    user.save()
    for event in AuditEvent.objects.filter(object_type="accounts.user"):
        assert "password" not in event.changes
        assert "another-password" not in str(event.changes)


def test_logins_and_failures_are_logged(client, cast):
    assert (
        client.post(
            reverse("accounts:login"), {"username": "clerk", "password": TEST_PASSWORD}
        ).status_code
        == 302
    )
    login = AuditEvent.objects.get(action=AuditEvent.Action.LOGIN)
    assert login.actor == cast["clerk"] and login.region_code == cast["clerk"].jurisdiction.code
    client.post(reverse("accounts:logout"))
    assert AuditEvent.objects.filter(action=AuditEvent.Action.LOGOUT, actor=cast["clerk"]).exists()
    response = client.post(reverse("accounts:login"), {"username": "clerk", "password": "wrong"})
    assert response.status_code == 200 and "用户名或密码错误" in response.content.decode()
    failed = AuditEvent.objects.get(action=AuditEvent.Action.LOGIN_FAILED)
    assert failed.actor is None and failed.reason == "username=clerk"


def _event(code, repr_):
    return audit_record(actor=None, action=AuditEvent.Action.UPDATE, region_code=code, reason=repr_)


@pytest.fixture
def events(tree):
    return {
        "yuzhong": _event(tree.village.code, "渝中事件"),
        "wanzhou": _event(tree.wanzhou_village.code, "万州事件"),
        "citywide": _event("", "全市事件"),
    }


def test_audit_page_is_scoped_to_jurisdiction(client, cast, events):
    client.force_login(cast["auditor_district"])
    page = client.get(reverse("reports:audit_log")).content.decode()
    assert "渝中事件" in page and "万州事件" not in page and "全市事件" not in page

    client.force_login(cast["auditor"])
    page = client.get(reverse("reports:audit_log")).content.decode()
    assert "渝中事件" in page and "万州事件" in page and "全市事件" in page


def test_audit_api_is_scoped_and_filterable(client, cast, events, tree):
    client.force_login(cast["auditor_district"])
    body = client.get("/api/v1/audit-events/", {"action": "update"}).json()
    assert [e["reason"] for e in body["results"]] == ["渝中事件"]
    client.force_login(cast["auditor"])
    body = client.get(
        "/api/v1/audit-events/", {"region_code": tree.wanzhou.prefix, "action": "update"}
    ).json()
    assert [e["reason"] for e in body["results"]] == ["万州事件"]


def test_audit_page_filters_and_empty_state(client, cast, events):
    client.force_login(cast["auditor"])
    page = client.get(reverse("reports:audit_log"), {"action": "login_failed"}).content.decode()
    assert "没有符合筛选条件的审计记录" in page


def test_audit_page_paginates_with_fixed_queries(client, cast, tree, django_assert_max_num_queries):
    AuditEvent.objects.bulk_create(
        AuditEvent(action=AuditEvent.Action.UPDATE, region_code=tree.village.code, reason=f"e{i}")
        for i in range(120)
    )
    client.force_login(cast["auditor"])
    with django_assert_max_num_queries(6):
        page = client.get(reverse("reports:audit_log"), {"page": 3}).content.decode()
    assert "第 3 / 3 页" in page
