"""Security to 等保 2.0 level 3 (issue 17): each defect found by the security test, with a
test that failed before its fix."""

import pytest
from django.urls import reverse
from django.utils.translation import gettext as _

from accounts.models import User
from core.models import AuditEvent
from core.services import calendar_seed_from_package

from .factories import TEST_PASSWORD

NEW_PASSWORD = "Another-secret-2027"
KEY = 15  # knox.settings.CONSTANTS.TOKEN_KEY_LENGTH: the part of a token its owner sees listed


def _account_events(user):
    return AuditEvent.objects.filter(object_type="accounts.user", object_id=str(user.pk))


def test_a_password_set_by_the_admin_is_logged_and_must_be_changed(client, cast):
    clerk = cast["clerk"]
    client.force_login(cast["account_admin"])
    response = client.post(
        f"/admin/accounts/user/{clerk.pk}/password/",
        {
            "password1": "Admin-chosen-2027",
            "password2": "Admin-chosen-2027",
            "usable_password": "true",
        },
    )
    assert response.status_code == 302
    clerk.refresh_from_db()
    assert clerk.must_change_password
    set_by_admin = _("Password set by someone else: it must be changed at the next login")
    event = _account_events(clerk).get(action="update", reason=set_by_admin)
    assert event.actor == cast["account_admin"]
    assert "pbkdf2" not in str(event.changes)  # never the hash

    # The next login goes to the password page, and nothing else opens until it is changed.
    client.logout()
    client.post(reverse("accounts:login"), {"username": "clerk", "password": "Admin-chosen-2027"})
    assert client.get("/").url == reverse("accounts:password_change")
    assert client.get("/households/").status_code == 302
    changed = client.post(
        reverse("accounts:password_change"),
        {
            "old_password": "Admin-chosen-2027",
            "new_password1": NEW_PASSWORD,
            "new_password2": NEW_PASSWORD,
        },
    )
    assert changed.status_code == 302
    clerk.refresh_from_db()
    assert not clerk.must_change_password
    assert client.get("/households/").status_code == 200
    own = _account_events(clerk).filter(reason=_("Password changed by its owner")).get()
    assert own.actor == clerk


def test_the_api_refuses_a_user_who_must_change_the_password(client, cast):
    User.objects.filter(pk=cast["clerk"].pk).update(must_change_password=True)
    client.force_login(User.objects.get(pk=cast["clerk"].pk))
    assert client.get("/api/v1/households/").status_code == 403


def test_role_jurisdiction_and_activation_changes_are_logged(cast, tree):
    clerk = cast["clerk"]
    clerk.role, clerk.jurisdiction, clerk.is_active = "township_reviewer", tree.jiefangbei, False
    clerk.save()
    event = _account_events(clerk).filter(action="update").latest("occurred_at")
    assert event.changes["role"] == ["clerk", "township_reviewer"]
    assert event.changes["is_active"] == [True, False]


def test_an_account_created_by_the_admin_starts_with_a_password_to_change(client, cast, tree):
    client.force_login(cast["account_admin"])
    response = client.post(
        "/admin/accounts/user/add/",
        {
            "username": "newclerk",
            "full_name": "新窗口",
            "role": "clerk",
            "jurisdiction": tree.jiefangbei.pk,
            "password1": "Admin-chosen-2027",
            "password2": "Admin-chosen-2027",
            "usable_password": "true",
        },
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    user = User.objects.get(username="newclerk")
    assert user.must_change_password
    assert _account_events(user).filter(action="create", actor=cast["account_admin"]).exists()


def test_issuing_a_token_is_logged(client, cast):
    response = client.post(
        "/api/v1/auth/token/",
        {"username": "clerk", "password": TEST_PASSWORD},
        content_type="application/json",
    )
    assert response.status_code == 200
    key = response.json()["token"][:KEY]
    assert _account_events(cast["clerk"]).filter(reason__contains=key).exists()


@pytest.mark.parametrize("body", ["{", "[]", '{"username": 1}'])
def test_a_malformed_token_request_is_a_400_not_a_500(client, body):
    response = client.post("/api/v1/auth/token/", body, content_type="application/json")
    assert response.status_code == 400


def test_the_audit_log_masks_id_phone_and_account_numbers_everywhere(client, cast, tree):
    from .factories import make_household, make_id, member_data

    id_number = make_id("19660606", seq=71)
    make_household(
        cast["clerk"],
        tree.village,
        members=[member_data("周审计", id_number=id_number)],
        phone="13912345678",
        bank_account_number="6228480000009876543",
    )
    raw = [id_number, "13912345678", "6228480000009876543"]
    # Stored masked: the log itself holds no full number, whoever reads its rows.
    stored = [str(e.changes) for e in AuditEvent.objects.all()]
    assert not any(value in text for text in stored for value in raw)
    assert any("500103********" in text for text in stored)
    client.force_login(cast["auditor"])
    api = client.get("/api/v1/audit-events/", {"page_size": 200}).content.decode()
    assert "500103********" in api
    event = next(e for e in AuditEvent.objects.all() if "500103********" in str(e.changes))
    admin_page = client.get(f"/admin/core/auditevent/{event.pk}/change/").content.decode()
    assert "500103********" in admin_page  # the auditor reads it there, masked
    audit_page = client.get("/reports/audit/").content.decode()
    for shown in (api, admin_page, audit_page):
        for value in raw:
            assert value not in shown


def test_production_refuses_a_cache_each_worker_keeps_alone(settings):
    from core.checks import shared_cache

    settings.DEBUG = False
    settings.CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
    assert [e.id for e in shared_cache(None)] == ["core.E001"]
    settings.CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": "redis://127.0.0.1:6379/1",
        }
    }
    assert shared_cache(None) == []


def test_a_forged_forwarded_for_does_not_dodge_the_token_throttle(client, cast):
    """No proxy is trusted unless configured: twenty-one tries, each claiming another
    address, are one client."""
    codes = [
        client.post(
            "/api/v1/auth/token/",
            {"username": "clerk", "password": "wrong"},
            content_type="application/json",
            HTTP_X_FORWARDED_FOR=f"203.0.113.{n}",
        ).status_code
        for n in range(21)
    ]
    assert codes[-1] == 429


def test_every_answer_has_a_content_security_policy_and_staff_pages_are_not_stored(client, cast):
    public = client.get("/gongshi/")
    assert "script-src 'self'" in public["Content-Security-Policy"]
    assert "camera=()" in public["Permissions-Policy"]
    client.force_login(cast["clerk"])
    page = client.get("/households/")
    assert page["Cache-Control"] == "no-store"
    assert "frame-ancestors 'none'" in page["Content-Security-Policy"]
    assert "<script>" not in page.content.decode()  # no inline script for the policy to block


def test_health_tells_anonymous_callers_only_up_or_down(client, cast):
    anonymous = client.get("/healthz")
    assert anonymous.json() == {"status": "up"}
    client.force_login(cast["city_admin"])
    assert "database" in client.get("/healthz").json()


def test_the_person_check_does_not_tell_another_district_where_someone_is(client, cast, tree):
    from .factories import make_household, make_id, member_data

    id_number = make_id("19750505", seq=81)
    home = make_household(
        cast["clerk"], tree.village, members=[member_data("吴某", id_number=id_number)]
    )
    client.force_login(cast["clerk_other"])
    text = client.post(
        "/households/person-check/", {"members-0-id_number": id_number}
    ).content.decode()
    assert home.number not in text and tree.village.name not in text and "吴某" not in text
    assert "其他辖区" not in text and "另一" not in text
    assert "乡镇" in text  # moved through the township that holds the record


def _household_body(tree, **member):
    from .factories import HOUSEHOLD_FIELDS, make_id, member_data

    return {
        **HOUSEHOLD_FIELDS,
        "region_code": tree.village.code,
        "members": [member_data(**{"id_number": make_id("19800808", seq=91), **member})],
    }


def test_names_phones_and_accounts_refuse_hidden_characters_and_letters(client, cast, tree):
    client.force_login(cast["clerk"])
    for member, fields in (
        ({"name": "王\u202e明"}, {}),  # right-to-left override
        ({"name": "王\u200b明"}, {}),  # zero-width space
        ({"name": "王\x07明"}, {}),  # a control character
        ({}, {"phone": "138abc01234"}),
        ({}, {"bank_account_number": "62284800000O1234"}),
    ):
        body = {**_household_body(tree, **member), **fields}
        response = client.post("/api/v1/households/", body, content_type="application/json")
        assert response.status_code == 400, (member, fields)


def test_an_id_number_typed_with_spaces_is_normalised_first(client, cast, tree):
    from .factories import make_id

    client.force_login(cast["clerk"])
    spaced = make_id("19800808", seq=91)
    spaced = f"{spaced[:6]} {spaced[6:14]} {spaced[14:]}"
    response = client.post(
        "/api/v1/households/",
        _household_body(tree, id_number=spaced),
        content_type="application/json",
    )
    assert response.status_code == 201, response.json()


def test_a_visit_before_the_application_is_refused(cast, tree):
    import datetime as dt

    from applications import review
    from core.exceptions import ValidationFailed

    from .test_review import act, new_case

    calendar_seed_from_package()
    case = new_case(cast, tree)
    act(cast["clerk"], case, "start_investigation")
    with pytest.raises(ValidationFailed) as refused:
        review.home_visit_record(
            actor=cast["clerk"],
            application=case,
            kind="investigation",
            visited_on=dt.date(1900, 1, 1),
            second_staff=User.objects.get(username="village_worker"),
            findings="家中陈设简陋",
        )
    assert refused.value.errors[0][0] == "visited_on"


def _token(client, username="clerk"):
    response = client.post(
        "/api/v1/auth/token/",
        {"username": username, "password": TEST_PASSWORD},
        content_type="application/json",
    )
    assert response.status_code == 200, response.content
    return response.json()["token"]


def _me(client, token):
    return client.get("/api/v1/me/", headers={"Authorization": f"Token {token}"}).status_code


def test_tokens_are_stored_hashed_and_expire(client, cast):
    import datetime as dt

    from django.utils import timezone
    from knox.models import AuthToken

    token = _token(client)
    stored = AuthToken.objects.get(user=cast["clerk"])
    assert token not in (stored.digest, stored.token_key) and stored.token_key == token[:KEY]
    assert stored.expiry is not None and _me(client, token) == 200
    AuthToken.objects.filter(pk=stored.pk).update(expiry=timezone.now() - dt.timedelta(seconds=1))
    assert _me(client, token) in (401, 403)


def test_a_token_dies_with_a_password_change_a_deactivation_and_a_logout(client, cast):
    clerk = cast["clerk"]
    token = _token(client)
    clerk.set_password(NEW_PASSWORD)
    clerk.save()
    assert _me(client, token) in (401, 403)
    User.objects.filter(pk=clerk.pk).update(must_change_password=False)
    token = _token(client, "township_reviewer")
    reviewer = cast["township_reviewer"]
    reviewer.is_active = False
    reviewer.save()
    assert _me(client, token) in (401, 403)
    token = _token(client, "auditor")
    client.force_login(cast["auditor"])
    client.post(reverse("accounts:logout"))
    assert _me(client, token) in (401, 403)


def test_owners_list_and_revoke_their_tokens_and_nobody_else_s(client, cast):
    first, second = _token(client), _token(client)
    other = _token(client, "township_reviewer")
    client.force_login(cast["clerk"])
    listed = client.get("/api/v1/auth/tokens/").json()
    assert sorted(t["token_key"] for t in listed) == sorted([first[:KEY], second[:KEY]])
    assert first not in str(listed)
    assert client.delete(f"/api/v1/auth/tokens/{first[:KEY]}/").status_code == 204
    assert client.delete(f"/api/v1/auth/tokens/{other[:KEY]}/").status_code == 404
    client.logout()
    assert _me(client, first) in (401, 403) and _me(client, other) == 200
    # The account administrator lists and revokes, never mints.
    client.force_login(cast["account_admin"])
    assert client.get("/admin/knox/authtoken/").status_code == 200
    assert client.get("/admin/knox/authtoken/add/").status_code == 403


def _pdf() -> bytes:
    import io

    from pypdf import PdfWriter

    writer, out = PdfWriter(), io.BytesIO()
    writer.add_blank_page(width=595, height=842)
    writer.write(out)
    return out.getvalue()


def test_a_scan_is_checked_whole_not_by_its_first_bytes(client, cast, settings, tmp_path):
    from django.core.files.uploadedfile import SimpleUploadedFile

    from applications.models import Scan
    from applications.services import application_intake

    from .factories import make_household, member_data
    from .test_applications import PNG

    settings.MEDIA_ROOT = tmp_path
    calendar_seed_from_package()
    tree_village = cast["village_worker"].jurisdiction
    home = make_household(cast["clerk"], tree_village, members=[member_data()])
    (case,) = application_intake(
        actor=cast["clerk"],
        household=home,
        programmes=["dibao"],
        referrals=[],
        channel="window",
        materials_received=set(),
    ).applications
    client.force_login(cast["clerk"])

    def upload(content, name):
        return client.post(
            reverse("applications:scan_upload", args=[case.pk]),
            {"material": "id_card", "file": SimpleUploadedFile(name, content)},
        )

    upload(_pdf() + b"MZ\\x90\\x00" + b"\\x00" * 512, "trojan.pdf")  # an executable glued on
    upload(b"%PDF-1.7\\nMZ\\x90\\x00 this is a program", "fake.pdf")  # a header, nothing else
    upload(PNG[:40], "cut.png")  # a picture cut short
    assert Scan.objects.count() == 0
    upload(_pdf(), "scan.pdf")
    upload(PNG, "id.png")
    assert Scan.objects.count() == 2


def test_an_oversized_upload_is_cut_off_before_its_body_is_read(client, cast, settings, tmp_path):
    import io
    import os

    from django.core.files.uploadedfile import SimpleUploadedFile
    from PIL import Image

    from applications.models import Scan
    from applications.services import application_intake

    from .factories import make_household, member_data

    settings.MEDIA_ROOT = tmp_path
    settings.UPLOAD_MAX_BYTES = 64 * 1024
    calendar_seed_from_package()
    home = make_household(
        cast["clerk"], cast["village_worker"].jurisdiction, members=[member_data()]
    )
    (case,) = application_intake(
        actor=cast["clerk"],
        household=home,
        programmes=["dibao"],
        referrals=[],
        channel="window",
        materials_received=set(),
    ).applications
    big = io.BytesIO()
    Image.frombytes("RGB", (300, 300), os.urandom(300 * 300 * 3)).save(big, "PNG")
    assert big.tell() > settings.UPLOAD_MAX_BYTES  # a real picture, only too big
    client.force_login(cast["clerk"])
    response = client.post(
        reverse("applications:scan_upload", args=[case.pk]),
        {"material": "id_card", "file": SimpleUploadedFile("big.png", big.getvalue())},
    )
    assert response.status_code < 500
    assert not Scan.objects.exists()


def test_the_audit_log_is_a_hash_chain_that_names_the_first_broken_link(cast, tree):
    from django.core.management import call_command
    from django.core.management.base import CommandError
    from django.db import connection

    from core import auditchain

    for name in ("甲社区", "乙社区", "丙社区"):
        tree.village.__class__.objects.create(
            code=f"5001030019{len(name) + ord(name[0]) % 90:02d}",
            name=name,
            level="village",
            parent=tree.jiefangbei,
        )
    assert auditchain.seal_pending()["sealed"] == AuditEvent.objects.count()
    verdict = auditchain.verify()
    assert verdict.broken_at is None and verdict.checked == AuditEvent.objects.count()
    call_command("audit_verify")
    victim = AuditEvent.objects.order_by("id")[2]
    with connection.cursor() as cursor:  # a database administrator edits the log directly
        if connection.vendor == "postgresql":
            cursor.execute("SET session_replication_role = replica")  # triggers off
        cursor.execute("UPDATE core_auditevent SET reason = 'edited' WHERE id = %s", [victim.pk])
        if connection.vendor == "postgresql":
            cursor.execute("SET session_replication_role = DEFAULT")
    assert auditchain.verify().broken_at == victim.pk
    with pytest.raises(CommandError, match=str(victim.pk)):
        call_command("audit_verify")


def _untriggered(sql: str, params: list) -> None:
    """A database administrator editing the log directly (triggers off on PostgreSQL)."""
    from django.db import connection

    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute("SET session_replication_role = replica")
        cursor.execute(sql, params)
        if connection.vendor == "postgresql":
            cursor.execute("SET session_replication_role = DEFAULT")


def test_an_event_committed_late_is_chained_not_reported_as_tampering(db):
    from core import auditchain

    for pk in (1001, 1002, 1004):
        AuditEvent.objects.create(id=pk, action="update", reason=f"事件{pk}")
    auditchain.seal_pending()
    # 1003's transaction began before 1004's and committed after 1004 was sealed.
    AuditEvent.objects.create(id=1003, action="update", reason="事件1003")
    assert auditchain.verify() == auditchain.Verdict(checked=3, unsealed=1, broken_at=None)
    assert auditchain.seal_pending()["sealed"] == 1
    assert auditchain.verify() == auditchain.Verdict(checked=4, unsealed=0, broken_at=None)
    assert AuditEvent.objects.get(pk=1003).chain_position == 4


def test_a_removed_event_is_found_and_retention_deletions_are_not(db):
    import datetime as dt

    from django.utils import timezone

    from core import auditchain

    events = [AuditEvent.objects.create(action="update", reason=f"事件{i}") for i in range(6)]
    auditchain.seal_pending()
    _untriggered(
        "UPDATE core_auditevent SET occurred_at = %s WHERE id IN (%s, %s)",
        [timezone.now() - dt.timedelta(days=200), events[0].pk, events[1].pk],
    )
    AuditEvent.objects.filter(pk__in=[events[0].pk, events[1].pk]).delete()  # past retention
    assert auditchain.verify() == auditchain.Verdict(checked=4, unsealed=0, broken_at=None)
    _untriggered("DELETE FROM core_auditevent WHERE id = %s", [events[3].pk])
    assert auditchain.verify().broken_at == events[4].pk


def test_on_postgresql_the_audit_log_refuses_changes_and_early_deletion(cast):
    import datetime as dt

    from django.db import DatabaseError, connection, transaction
    from django.utils import timezone

    if connection.vendor != "postgresql":
        pytest.skip("the append-only trigger is PostgreSQL's (CI runs it)")
    event = AuditEvent.objects.create(action="update", reason="原始")
    with pytest.raises(DatabaseError), transaction.atomic():
        AuditEvent.objects.filter(pk=event.pk).update(reason="篡改")
    with pytest.raises(DatabaseError), transaction.atomic():
        AuditEvent.objects.filter(pk=event.pk).delete()
    # Sealing once is allowed: the seal and the place in the chain, together.
    AuditEvent.objects.filter(pk=event.pk).update(seal="a" * 64, chain_position=10**12)
    with pytest.raises(DatabaseError), transaction.atomic():
        AuditEvent.objects.filter(pk=event.pk).update(seal="b" * 64)
    with pytest.raises(DatabaseError), transaction.atomic():
        AuditEvent.objects.filter(pk=event.pk).update(chain_position=10**12 + 1)
    old = AuditEvent.objects.create(action="update", reason="七个月前")
    with connection.cursor() as cursor:
        cursor.execute("SET session_replication_role = replica")  # triggers off: age it
        cursor.execute(
            "UPDATE core_auditevent SET occurred_at = %s WHERE id = %s",
            [timezone.now() - dt.timedelta(days=200), old.pk],
        )
        cursor.execute("SET session_replication_role = DEFAULT")
    AuditEvent.objects.filter(pk=old.pk).delete()  # past the retention period
    assert not AuditEvent.objects.filter(pk=old.pk).exists()


def test_no_template_has_inline_script_the_policy_would_block():
    """The Content-Security-Policy allows scripts from the app's files only: an inline
    handler or script block would silently stop working (a print or confirm button)."""
    import re
    from pathlib import Path

    root = Path(__file__).resolve().parent.parent
    offenders = []
    for template in root.glob("**/templates/**/*.html"):
        if ".venv" in template.parts:
            continue
        text = template.read_text(encoding="utf-8")
        if re.search(r"\son[a-z]+\s*=", text) or re.search(r"<script(?![^>]*\ssrc=)[^>]*>", text):
            offenders.append(str(template.relative_to(root)))
    assert offenders == []


# --- 三员分立: the account administrator, the security administrator, the auditor -------------


def test_the_account_administrator_reads_neither_the_audit_log_nor_case_data(client, cast, tree):
    from .factories import make_household

    home = make_household(cast["clerk"], tree.village)
    client.force_login(cast["account_admin"])
    refused = [
        "/reports/audit/",
        "/api/v1/audit-events/",
        "/admin/core/auditevent/",
        "/security/events/",
        "/api/v1/security-events/",
        "/households/",
        f"/households/{home.pk}/",
        "/api/v1/households/",
        f"/api/v1/households/{home.pk}/",
        "/applications/",
        "/api/v1/applications/",
        "/api/v1/entitlements/",
        "/payments/",
        "/api/v1/payrolls/",
        "/reports/statistics/",
        "/reports/exports/",
    ]
    assert {url: client.get(url).status_code for url in refused} == dict.fromkeys(refused, 403)
    # What is left to it: the accounts.
    assert client.get("/admin/accounts/user/").status_code == 200
    assert client.get(f"/admin/accounts/user/{cast['clerk'].pk}/history/").status_code == 403


def test_the_auditor_changes_neither_accounts_nor_case_data(client, cast, tree):
    from .factories import make_household

    home = make_household(cast["clerk"], tree.village)
    client.force_login(cast["auditor"])
    added = client.post(
        "/admin/accounts/user/add/",
        {"username": "mole", "role": "clerk", "jurisdiction": tree.jiefangbei.pk},
    )
    assert added.status_code == 403  # it enters the admin for the audit log only
    assert not User.objects.filter(username="mole").exists()
    changed = client.post(
        f"/admin/accounts/user/{cast['auditor'].pk}/change/",
        {"username": "auditor", "role": "city_admin", "jurisdiction": tree.city.pk},
    )
    assert changed.status_code == 403
    assert User.objects.get(pk=cast["auditor"].pk).role == "auditor"
    body = _household_body(tree)
    assert (
        client.post("/api/v1/households/", body, content_type="application/json").status_code == 403
    )
    patch = client.patch(
        f"/api/v1/households/{home.pk}/", {"address": "别处"}, content_type="application/json"
    )
    assert patch.status_code == 403
    home.refresh_from_db()
    assert home.address != "别处"
    assert client.post(f"/households/{home.pk}/edit/", {}).status_code == 403


def test_the_security_administrator_reads_security_events_and_no_case_data(client, cast, tree):
    from .factories import make_household

    make_household(cast["clerk"], tree.village)  # case data, logged
    client.post(reverse("accounts:login"), {"username": "clerk", "password": "wrong-one"})
    client.force_login(cast["account_admin"])
    client.post(
        f"/admin/accounts/user/{cast['village_worker'].pk}/change/",
        {
            "username": "village_worker",
            "role": "village_worker",
            "jurisdiction": tree.other_village.pk,
            "is_active": "on",
        },
    )
    AuditEvent.objects.create(
        action="create", object_type="otp_totp.totpdevice", reason="second factor added"
    )
    client.force_login(cast["security_admin"])
    page = client.get("/security/events/").content.decode()
    assert "username=clerk" in page  # the failed login
    assert tree.other_village.name in page  # the jurisdiction change, before and after
    assert "second factor added" in page
    api = client.get("/api/v1/security-events/", {"page_size": 200}).json()["results"]
    kinds = {event["object_type"] for event in api}
    assert kinds <= {"accounts.user", "otp_totp.totpdevice", ""}
    assert not any(event["object_type"].startswith("beneficiaries.") for event in api)
    for url in ("/households/", "/api/v1/households/", "/reports/audit/", "/admin/accounts/user/"):
        assert client.get(url).status_code == 403, url


def test_nobody_changes_their_own_role_or_makes_an_officer(client, cast, tree):
    from accounts import services
    from core.exceptions import OutOfScopeError

    me = cast["account_admin"]
    client.force_login(me)
    # Its own account is an officer's: read-only, its password set on the server.
    own = client.post(
        f"/admin/accounts/user/{me.pk}/change/",
        {"username": me.username, "role": "city_admin", "jurisdiction": tree.city.pk},
    )
    assert own.status_code == 403
    assert client.get(f"/admin/accounts/user/{me.pk}/password/").status_code == 403
    me.refresh_from_db()
    assert me.role == "account_admin"
    # No officer's account is made or changed in the admin.
    form = client.get("/admin/accounts/user/add/").content.decode()
    assert 'value="clerk"' in form and 'value="auditor"' not in form
    made = client.post(
        "/admin/accounts/user/add/",
        {
            "username": "second_auditor",
            "role": "auditor",
            "jurisdiction": tree.city.pk,
            "password1": "Admin-chosen-2027",
            "password2": "Admin-chosen-2027",
            "usable_password": "true",
        },
    )
    assert made.status_code == 200 and not User.objects.filter(username="second_auditor").exists()
    auditor = cast["auditor"]
    assert client.get(f"/admin/accounts/user/{auditor.pk}/password/").status_code == 403
    # The service refuses it too, whoever calls it.
    me.role = "city_admin"
    with pytest.raises(OutOfScopeError):
        services.account_save(actor=cast["account_admin"], user=me, changed=["role"])
    clerk = cast["clerk"]
    clerk.role = "security_admin"
    with pytest.raises(OutOfScopeError):
        services.account_save(actor=cast["account_admin"], user=clerk, changed=["role"])
    # The city administrator no longer reaches the accounts at all.
    client.force_login(cast["city_admin"])
    city = cast["city_admin"]
    assert client.get("/admin/accounts/user/add/").status_code == 403
    assert (
        client.post(
            f"/admin/accounts/user/{city.pk}/change/",
            {"username": city.username, "role": "account_admin", "jurisdiction": tree.city.pk},
        ).status_code
        == 403
    )
    assert User.objects.get(pk=city.pk).role == "city_admin"


def test_an_account_change_by_the_account_administrator_is_logged(client, cast, tree):
    reviewer = cast["township_reviewer"]
    client.force_login(cast["account_admin"])
    response = client.post(
        f"/admin/accounts/user/{reviewer.pk}/change/",
        {
            "username": reviewer.username,
            "role": "district_approver",
            "jurisdiction": tree.yuzhong.pk,
        },
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    event = _account_events(reviewer).filter(action="update").latest("occurred_at")
    assert event.actor == cast["account_admin"]
    assert event.changes["role"] == ["township_reviewer", "district_approver"]
    assert event.changes["is_active"] == [True, False]


def test_an_officer_is_made_on_the_server_and_changes_the_password_first(tree, monkeypatch):
    from django.core.management import call_command

    monkeypatch.setenv("OFFICER_PASSWORD", "Server-chosen-2027")
    call_command("officer_create", "sec2", "--role", "security_admin", "--noinput")
    call_command(
        "officer_create", "aud2", "--role", "auditor", "--region", tree.yuzhong.code, "--noinput"
    )
    security = User.objects.get(username="sec2")
    assert security.role == "security_admin" and security.jurisdiction == tree.city
    assert security.must_change_password
    assert User.objects.get(username="aud2").jurisdiction == tree.yuzhong
    assert _account_events(security).filter(action="create").exists()


def test_lifting_a_lockout_is_the_security_administrator_s_and_logged(client, cast, settings):
    from axes.models import AccessAttempt

    settings.AXES_FAILURE_LIMIT = 2
    for _try in range(2):
        client.post(reverse("accounts:login"), {"username": "clerk", "password": "wrong-one"})
    attempt = AccessAttempt.objects.get(username="clerk")
    assert attempt.failures_since_start == 2
    client.force_login(cast["security_admin"])
    policy = client.get("/security/policy/").content.decode()
    assert f"/security/lockouts/{attempt.pk}/lift/" in policy and "LOGIN_FAILURE_LIMIT" in policy
    client.force_login(cast["auditor"])  # reads the policy, lifts nothing
    assert (
        f"/security/lockouts/{attempt.pk}/lift/"
        not in client.get("/security/policy/").content.decode()
    )
    assert client.post(f"/security/lockouts/{attempt.pk}/lift/").status_code == 403
    client.force_login(cast["security_admin"])
    assert client.post(f"/security/lockouts/{attempt.pk}/lift/").status_code == 302
    assert not AccessAttempt.objects.exists()
    event = AuditEvent.objects.get(object_type="axes.accessattempt")
    assert event.actor == cast["security_admin"] and "clerk" in event.reason
    assert event.region_code == cast["clerk"].jurisdiction.code
    client.logout()
    assert (
        client.post(
            reverse("accounts:login"), {"username": "clerk", "password": TEST_PASSWORD}
        ).status_code
        == 302
    )  # in again


def test_a_token_revoked_in_the_admin_is_logged(client, cast):
    from knox.models import AuthToken

    instance, _key = AuthToken.objects.create(user=cast["clerk"])
    client.force_login(cast["account_admin"])
    response = client.post(f"/admin/knox/authtoken/{instance.pk}/delete/", {"post": "yes"})
    assert response.status_code == 302
    assert not AuthToken.objects.exists()
    event = _account_events(cast["clerk"]).get(action="delete")
    assert event.actor == cast["account_admin"] and instance.token_key in event.reason


def test_only_the_auditors_export_the_audit_log(cast, tree):
    from core.exceptions import OutOfScopeError
    from reports import services

    for role in ("city_admin", "district_approver"):
        with pytest.raises(OutOfScopeError):
            services.export_request(
                actor=cast[role], register="audit_events", fmt="csv", region=tree.yuzhong
            )
    assert services.export_request(
        actor=cast["auditor"], register="audit_events", fmt="csv", region=tree.yuzhong
    )
