"""Guards found in review: region integrity, token secrecy, admin login, health probes,
language default, failed-login logging, demo seeding in production."""

import pytest
from django.core.exceptions import ValidationError
from django.core.management import CommandError, call_command
from django.urls import reverse
from simple_history.utils import bulk_create_with_history

from accounts.scoping import in_jurisdiction
from core.models import AuditEvent
from regions.models import Region


@pytest.mark.parametrize(
    ("code", "level", "parent"),
    [
        ("500103001000", "district", "city"),  # a township code at district level
        ("500101002000", "township", "yuzhong"),  # not under the parent's prefix
        ("500103002001", "township", "yuzhong"),  # trailing digits where zeros belong
        ("500103001005", "village", "yuzhong"),  # parent two levels up
    ],
)
def test_region_clean_rejects_codes_that_would_move_jurisdictions(tree, code, level, parent):
    region = Region(code=code, name="x", level=level, parent=getattr(tree, parent))
    with pytest.raises(ValidationError):
        region.full_clean()


def test_region_clean_accepts_a_proper_child(tree):
    Region(code="500103001009", name="新社区", level="village", parent=tree.jiefangbei).full_clean()


def test_admin_cannot_change_code_level_or_parent(client, cast, tree):
    client.force_login(cast["city_admin"])
    url = reverse("admin:regions_region_change", args=[tree.jiefangbei.pk])
    client.post(
        url,
        {
            "name": "解放碑街道",
            "code": "500103000000",
            "level": "district",
            "is_active": "on",
            "note": "",
        },
    )
    tree.jiefangbei.refresh_from_db()
    assert (tree.jiefangbei.code, tree.jiefangbei.level) == ("500103001000", "township")
    assert not in_jurisdiction(cast["clerk"], "500103002001")


def test_edit_of_a_bulk_seeded_row_logs_the_true_before_value(client, cast, tree):
    (seeded,) = bulk_create_with_history(
        [Region(code="500103001008", name="旧名社区", level="village", parent=tree.jiefangbei)],
        Region,
    )
    seeded = Region.objects.get(code="500103001008")
    client.force_login(cast["city_admin"])
    client.post(
        reverse("admin:regions_region_change", args=[seeded.pk]),
        {"name": "新名社区", "is_active": "on", "note": ""},
    )
    event = AuditEvent.objects.get(action="update", object_id=str(seeded.pk))
    assert event.changes == {"name": ["旧名社区", "新名社区"]}


def test_api_tokens_are_not_in_the_admin(client, cast):
    client.force_login(cast["city_admin"])
    assert client.get("/admin/authtoken/tokenproxy/").status_code == 404


def test_admin_login_sends_to_staff_login(client, db):
    response = client.get("/admin/login/?next=/admin/")
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("accounts:login"))


def test_admin_login_for_logged_in_non_admin_is_403_not_a_loop(client, cast):
    client.force_login(cast["clerk"])
    assert client.get("/admin/login/?next=/admin/").status_code == 403


def test_healthz_is_exempt_from_https_redirect_and_answers_head(client, db, settings):
    settings.SECURE_SSL_REDIRECT = True
    assert client.get("/healthz").status_code == 200
    assert client.head("/healthz").status_code == 200
    assert client.get(reverse("accounts:login")).status_code == 301


def test_english_browser_still_gets_chinese(client, db):
    page = client.get(reverse("accounts:login"), headers={"Accept-Language": "en-US,en;q=0.9"})
    assert "工作人员登录" in page.content.decode()


def test_failed_login_never_logs_the_typed_text(client, cast):
    client.post(reverse("accounts:login"), {"username": "my-secret-pass", "password": "x"})
    event = AuditEvent.objects.get(action=AuditEvent.Action.LOGIN_FAILED)
    assert "my-secret-pass" not in event.reason and event.reason == "unknown username"


def test_seed_demo_refuses_in_production(db, settings):
    settings.DEBUG = False
    with pytest.raises(CommandError):
        call_command("seed_demo")


def test_repeated_wrong_passwords_lock_the_account_from_that_address(client, cast):
    from .factories import TEST_PASSWORD

    url = reverse("accounts:login")
    for _ in range(4):
        assert client.post(url, {"username": "clerk", "password": "wrong"}).status_code == 200
    assert client.post(url, {"username": "clerk", "password": "wrong"}).status_code == 429
    locked = client.post(url, {"username": "clerk", "password": TEST_PASSWORD})
    assert locked.status_code == 429 and "登录已锁定" in locked.content.decode()
    other = client.post(
        url, {"username": "clerk", "password": TEST_PASSWORD}, REMOTE_ADDR="10.9.8.7"
    )
    assert other.status_code == 302  # the real clerk at another desk is not locked out


def test_demo_data_puts_a_case_at_each_step_and_runs_again_without_adding(db, settings):
    from applications.models import Application, Lead
    from beneficiaries.models import Entitlement
    from chongqing_relief.demo import demo_seed

    settings.DEBUG = True
    demo_seed()
    statuses = set(Application.objects.values_list("status", flat=True))
    assert statuses == {"needs_materials", "investigating", "noticed", "approved"}
    # Four approved families to pay next month, one with a mistyped card number (held).
    assert Entitlement.objects.count() == 4 and Lead.objects.count() == 1
    from accounts.models import User
    from payments.accounts import account_problem
    from payments.models import FundAllocation

    problems = [
        account_problem(e.household.bank_account_name, e.household.bank_account_number)
        for e in Entitlement.objects.select_related("household")
    ]
    assert sum(bool(p) for p in problems) == 1
    assert User.objects.filter(role="district_finance").count() == 1
    allocations = FundAllocation.objects.count()
    assert allocations >= 5
    demo_seed()
    assert Application.objects.count() == 7 and Lead.objects.count() == 1
    assert FundAllocation.objects.count() == allocations
