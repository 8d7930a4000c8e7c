import re

import pytest
from django.urls import reverse

HEADINGS = {
    "clerk": "窗口受理工作台",
    "township_reviewer": "乡镇审核工作台",
    "district_approver": "区县审批工作台",
    "city_admin": "市级管理",
    "auditor": "审计工作台",
    "village_worker": "村(社区)救助员工作台",
}


@pytest.mark.parametrize(("role", "heading"), HEADINGS.items())
def test_each_role_lands_on_its_own_chinese_home(client, cast, role, heading):
    client.force_login(cast[role])
    page = client.get(reverse("workbench:home")).content.decode()
    assert f"<h1>{heading}</h1>" in page
    assert cast[role].jurisdiction.name in page
    assert 'lang="zh-hans"' in page


def test_login_redirects_to_role_home(client, cast):
    from .factories import TEST_PASSWORD

    response = client.post(
        reverse("accounts:login"),
        {"username": "township_reviewer", "password": TEST_PASSWORD},
        follow=True,
    )
    assert "乡镇审核工作台" in response.content.decode()


@pytest.mark.parametrize(
    ("role", "shown", "hidden"),
    [
        ("clerk", ["首页", "接口文档"], ["审计日志", "系统管理"]),
        ("auditor", ["首页", "审计日志"], ["系统管理"]),
        ("city_admin", ["首页", "系统管理"], ["审计日志"]),
        ("account_admin", ["首页", "系统管理"], ["审计日志"]),
    ],
)
def test_navigation_by_role(client, cast, role, shown, hidden):
    client.force_login(cast[role])
    nav = re.search(r'<nav class="mainnav".*?</nav>', client.get("/").content.decode(), re.S)[0]
    for label in shown:
        assert label in nav
    for label in hidden:
        assert label not in nav


def test_login_page_is_chinese_and_self_contained(client, db):
    page = client.get(reverse("accounts:login")).content.decode()
    assert "工作人员登录" in page and "用户名" in page and "密码" in page
    # Every asset is served by the app itself: no absolute URLs to other hosts.
    assert not re.search(r'(src|href)="(https?:)?//', page)


def test_english_is_available(client, cast):
    client.force_login(cast["clerk"])
    client.post(reverse("set_language"), {"language": "en"})
    assert "<h1>Window clerk workbench</h1>" in client.get("/").content.decode()


def test_static_assets_are_served(client, db, settings):
    settings.WHITENOISE_USE_FINDERS = True  # as under DEBUG; production uses collectstatic
    for path in [
        "/static/css/app.css",
        "/static/django_htmx/htmx-2.min.js",
        "/static/drf_spectacular_sidecar/swagger-ui-dist/swagger-ui-bundle.js",
    ]:
        response = client.get(path)
        assert response.status_code == 200, path


def test_swagger_ui_works_offline(client, cast):
    client.force_login(cast["clerk"])
    page = client.get(reverse("api-docs")).content.decode()
    assert "drf_spectacular_sidecar/swagger-ui-dist" in page
    assert "cdn." not in page and "unpkg" not in page


def test_openapi_schema_documents_scoped_endpoints(client, cast):
    client.force_login(cast["clerk"])
    response = client.get(reverse("api-schema"), {"format": "json"})
    schema = response.json()
    assert schema["openapi"].startswith("3.")
    assert {"/api/v1/regions/", "/api/v1/audit-events/", "/api/v1/me/"} <= set(schema["paths"])
    assert {"cookieAuth", "knoxApiToken"} <= set(schema["components"]["securitySchemes"])


def test_token_authentication(client, cast):
    from .factories import TEST_PASSWORD

    token = client.post(
        "/api/v1/auth/token/", {"username": "clerk", "password": TEST_PASSWORD}
    ).json()["token"]
    client.logout()
    response = client.get("/api/v1/me/", headers={"Authorization": f"Token {token}"})
    assert response.status_code == 200
    assert response.json()["role"] == "clerk"
    assert response.json()["jurisdiction"]["code"] == cast["clerk"].jurisdiction.code
    bad = client.get("/api/v1/me/", headers={"Authorization": "Token not-a-token"})
    assert bad.status_code in (401, 403)


def test_the_admin_shows_each_role_its_own_models(client, cast):
    """The city administrator keeps the policy data but no longer the accounts, which are
    the account administrator's (三员分立); other roles do not enter."""
    client.force_login(cast["city_admin"])
    assert client.get(reverse("admin:accounts_user_changelist")).status_code == 403
    assert client.get(reverse("admin:core_calendarday_changelist")).status_code == 200
    client.force_login(cast["account_admin"])
    assert client.get(reverse("admin:accounts_user_changelist")).status_code == 200
    assert client.get(reverse("admin:core_calendarday_changelist")).status_code == 403
    index = client.get(reverse("admin:index")).content.decode()
    assert "/admin/accounts/user/" in index and "/admin/core/" not in index
    client.force_login(cast["district_approver"])
    assert client.get(reverse("admin:accounts_user_changelist")).status_code == 302
    assert client.get(reverse("admin:regions_region_changelist")).status_code == 302


@pytest.mark.parametrize(
    ("role", "shown", "hidden"),
    [
        (
            "account_admin",
            ["/admin/accounts/user/", "/admin/"],
            ["/households/", "/applications/", "/reports/audit/", "/security/events/"],
        ),
        (
            "security_admin",
            ["/security/events/", "/security/policy/", "/admin/"],
            ["/households/", "/applications/", "/reports/audit/"],
        ),
        ("auditor", ["/reports/audit/", "/security/events/", "/households/"], ["/admin/"]),
    ],
)
def test_the_officers_home_and_menu_show_only_their_own_work(client, cast, role, shown, hidden):
    client.force_login(cast[role])
    page = client.get("/").content.decode()
    nav = re.search(r'<nav class="mainnav".*?</nav>', page, re.S)[0]
    assert all(f'href="{url}"' in page for url in shown), role
    assert not any(f'href="{url}"' in nav for url in hidden), role
    header = re.search(r'<header class="topbar">.*?</header>', page, re.S)[0]
    assert "/applications/relatives/" not in header  # officers touch no case


def test_forbidden_page_is_friendly(client, cast):
    client.force_login(cast["clerk"])
    response = client.get(reverse("reports:audit_log"))
    assert response.status_code == 403
    assert "无权访问" in response.content.decode()


def test_the_quick_select_writes_what_django_s_select_writes():
    """The long region lists are written in one pass (core.widgets.QuickSelect): the same
    options, escaped the same, the chosen one selected, groups kept."""
    import re

    from django import forms

    from core.widgets import QuickSelect

    choices = [("", "全部"), ("1", "<b>x&y</b>"), ("组", [("2", "两路"), ("3", '"引号"')])]

    class Both(forms.Form):
        quick = forms.ChoiceField(choices=choices, widget=QuickSelect, required=False)
        plain = forms.ChoiceField(choices=choices, required=False)

    form = Both({"quick": "2", "plain": "2"})
    quick = str(form["quick"]).replace("quick", "x")
    plain = re.sub(r">\s+<", "><", str(form["plain"]).replace("plain", "x"))
    assert quick == plain
    assert '<option value="2" selected>两路</option>' in quick and "&lt;b&gt;" in quick
