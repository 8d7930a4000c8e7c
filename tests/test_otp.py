"""Second factor (issue 17): district approvers, district funds officers and the city admin pass
an authenticator app's code (TOTP) after the password, on the web and for an API token; other
users may enrol one. Every code refused and every change of a device is in the audit log."""

import datetime as dt
from base64 import b32decode

import pytest
from django.core.management import CommandError, call_command
from django.urls import reverse
from django.utils.translation import gettext as _
from django_otp.plugins.otp_totp.models import TOTPDevice

from accounts.roles import SECOND_FACTOR_ROLES, Role
from core.models import AuditEvent

from .conftest import StaffClient, second_factor_for, totp_code
from .factories import TEST_PASSWORD

VERIFY = "/login/verify/"
ENROL = "/account/two-factor/"


def _account_events(user, **filters):
    return AuditEvent.objects.filter(object_type="accounts.user", object_id=str(user.pk), **filters)


def _password_login(client, username, password=TEST_PASSWORD):
    response = client.post(reverse("accounts:login"), {"username": username, "password": password})
    assert response.status_code == 302, "the password is right"


def _wrong(code: str) -> str:
    return f"{(int(code) + 1) % 1_000_000:06d}"


def test_the_roles_that_need_it():
    assert {
        Role.DISTRICT_APPROVER,
        Role.DISTRICT_FINANCE,
        Role.CITY_ADMIN,
        Role.ACCOUNT_ADMIN,
        Role.SECURITY_ADMIN,
    } == SECOND_FACTOR_ROLES


def test_an_approver_passes_the_code_after_the_password(client, cast):
    approver = cast["district_approver"]
    device = second_factor_for(approver)
    _password_login(client, "district_approver")
    response = client.get("/households/")
    assert response.status_code == 302 and response.url == f"{VERIFY}?next=/households/"
    page = client.get(response.url)
    assert page.status_code == 200 and 'name="otp"' in page.content.decode()
    assert client.get("/").status_code == 302  # no nav, no home before the code

    code = totp_code(device)
    refused = client.post(VERIFY, {"otp": _wrong(code), "next": "/households/"})
    assert refused.status_code == 200
    wrong_code = _("This code is wrong or was already used. Type the code your app shows now.")
    assert wrong_code in refused.content.decode()
    assert client.get("/households/").status_code == 302
    failed = _account_events(approver, action=AuditEvent.Action.LOGIN_FAILED).get()
    assert failed.actor == approver and "web" in failed.reason  # the channel is named

    device.refresh_from_db()
    device.throttling_failure_timestamp -= dt.timedelta(seconds=5)  # past the 1 s back-off
    device.save(update_fields=["throttling_failure_timestamp"])
    passed = client.post(VERIFY, {"otp": code, "next": "/households/"})
    assert passed.status_code == 302 and passed.url == "/households/"
    assert client.get("/households/").status_code == 200
    assert client.get("/admin/").status_code == 302  # not a city admin: the admin's own login
    assert _account_events(approver, action=AuditEvent.Action.LOGIN).count() == 2  # both steps


def test_an_approver_who_has_not_passed_it_opens_no_page_and_no_endpoint(client, cast):
    approver = cast["district_approver"]
    second_factor_for(approver)
    client.force_login(approver, second_factor=False)
    for path in ("/", "/households/", "/payments/", "/reports/dashboard/", "/password/"):
        response = client.get(path)
        assert response.status_code == 302 and response.url.startswith(VERIFY), path
    for path in ("/api/v1/me/", "/api/v1/households/", "/api/v1/payrolls/", "/api/docs/"):
        response = client.get(path)
        assert response.status_code == 403, path
    assert "/login/verify/" in client.get("/api/v1/me/").json()["detail"]
    assert client.get("/healthz").status_code == 200
    assert client.get(ENROL).status_code == 302  # the password alone replaces no device
    assert client.post(reverse("accounts:logout")).status_code == 302

    # The same user, having passed it, opens them.
    client.force_login(approver)
    assert client.get("/households/").status_code == 200
    assert client.get("/api/v1/me/").status_code == 200


def test_a_funds_officer_and_the_city_admin_need_it_too(client, cast):
    for user, page in ((cast["finance"], "/payments/"), (cast["city_admin"], "/admin/")):
        client.force_login(user, second_factor=False)
        assert client.get(page).url.startswith(VERIFY)
        client.force_login(user)
        assert client.get(page).status_code == 200


def test_without_a_device_the_approver_enrols_first(client, cast):
    approver = cast["district_approver"]
    _password_login(client, "district_approver")
    to_verify = client.get("/households/")
    to_enrol = client.get(to_verify.url)
    assert to_enrol.url == f"{ENROL}?next=%2Fhouseholds%2F"
    page = client.get(to_enrol.url).content.decode()
    assert "<svg" in page and "otpauth://totp/Chongqing%20Relief%3Adistrict_approver" in page
    assert client.get("/households/").status_code == 302  # still nothing else
    key = client.session["second_factor_pending_key"]
    secret = page.split('<code class="secret">')[1].split("</code>")[0].replace(" ", "")
    assert b32decode(secret).hex() == key  # what the page shows is the secret to be stored
    assert not TOTPDevice.objects.filter(user=approver).exists()  # nothing stored on sight

    unsaved = TOTPDevice(user=approver, key=key)
    code = totp_code(unsaved)
    refused = client.post(ENROL, {"otp": _wrong(code), "next": "/households/"})
    assert refused.status_code == 200 and not TOTPDevice.objects.filter(user=approver).exists()
    enrolled = client.post(ENROL, {"otp": code, "next": "/households/"})
    assert enrolled.status_code == 302 and enrolled.url == "/households/"
    assert client.get("/households/").status_code == 200
    device = TOTPDevice.objects.get(user=approver, confirmed=True)
    assert device.key == key
    event = _account_events(approver, action=AuditEvent.Action.CREATE).get(
        reason=_("Second factor enrolled (authenticator app)")
    )
    assert event.actor == approver and key not in str(event.changes)

    # The next login asks for the code from the app just set up.
    client.post(reverse("accounts:logout"))
    _password_login(client, "district_approver")
    assert client.get("/").url.startswith(VERIFY)
    client.post(VERIFY, {"otp": totp_code(device)})
    assert client.get("/").status_code == 200


def test_a_code_is_taken_once(client, cast):
    approver = cast["district_approver"]
    device = second_factor_for(approver)
    _password_login(client, "district_approver")
    code = totp_code(device)
    assert client.post(VERIFY, {"otp": code}).status_code == 302
    other = StaffClient()
    _password_login(other, "district_approver")
    assert other.post(VERIFY, {"otp": code}).status_code == 200  # replayed: refused
    assert other.get("/").status_code == 302


def test_wrong_codes_are_throttled_and_each_refusal_is_logged(client, cast, settings):
    settings.OTP_TOTP_THROTTLE_FACTOR = 30  # waits of 30 s, 60 s, 120 s…: no race with the test
    approver = cast["district_approver"]
    device = second_factor_for(approver)
    _password_login(client, "district_approver")
    code = totp_code(device)
    client.post(VERIFY, {"otp": _wrong(code)})
    # Right away the right code is refused too: after a wrong one, the next one waits.
    throttled = client.post(VERIFY, {"otp": code})
    assert throttled.status_code == 200 and 'class="field-error"' in throttled.content.decode()
    assert client.get("/").status_code == 302
    device.refresh_from_db()
    assert device.throttling_failure_count == 1  # a refused try does not count again
    reasons = list(
        _account_events(approver, action=AuditEvent.Action.LOGIN_FAILED).values_list(
            "reason", flat=True
        )
    )
    too_many = _("Second-factor code refused: too many wrong codes (%(channel)s)")
    assert len(reasons) == 2 and too_many % {"channel": "web"} in reasons

    for _n in range(3):  # three more wrong codes, each after its wait
        device.refresh_from_db()
        device.throttling_failure_timestamp -= dt.timedelta(hours=1)
        device.save(update_fields=["throttling_failure_timestamp"])
        client.post(VERIFY, {"otp": _wrong(code)})
    device.refresh_from_db()
    assert device.throttling_failure_count == 4
    allowed, throttle = device.verify_is_allowed()
    assert not allowed
    assert throttle["locked_until"] == device.throttling_failure_timestamp + dt.timedelta(
        seconds=30 * 2**3
    )


def test_an_api_token_needs_the_code_for_these_roles(client, cast):
    approver = cast["district_approver"]
    url = "/api/v1/auth/token/"
    body = {"username": "district_approver", "password": TEST_PASSWORD}
    not_enrolled = client.post(url, body)
    assert not_enrolled.status_code == 400 and not_enrolled.json()["code"] == "otp_not_enrolled"

    device = second_factor_for(approver)
    missing = client.post(url, body)
    assert missing.status_code == 400 and missing.json()["code"] == "otp_required"
    assert missing.json()["field"] == "otp" and "otp" in missing.json()["detail"]
    code = totp_code(device)
    wrong = client.post(url, {**body, "otp": _wrong(code)})
    assert wrong.status_code == 400 and wrong.json()["code"] == "otp_invalid"
    assert "API" in _account_events(approver, action=AuditEvent.Action.LOGIN_FAILED).get().reason

    device.refresh_from_db()
    device.throttling_failure_timestamp -= dt.timedelta(seconds=5)
    device.save(update_fields=["throttling_failure_timestamp"])
    issued = client.post(url, {**body, "otp": code})
    assert issued.status_code == 200
    me = client.get("/api/v1/me/", headers={"Authorization": f"Token {issued.json()['token']}"})
    assert me.status_code == 200 and me.json()["role"] == "district_approver"
    assert client.post(url, {**body, "otp": code}).status_code == 400  # a code is taken once

    # A clerk (no device) gets a token with the password alone.
    clerk = client.post(url, {"username": "clerk", "password": TEST_PASSWORD})
    assert clerk.status_code == 200


def test_the_admin_resets_a_lost_device_and_the_user_enrols_again(client, cast):
    approver = cast["district_approver"]
    device = second_factor_for(approver)
    theirs = StaffClient()
    theirs.force_login(approver)
    assert theirs.get("/households/").status_code == 200
    token = client.post(
        "/api/v1/auth/token/",
        {"username": "district_approver", "password": TEST_PASSWORD, "otp": totp_code(device)},
    ).json()["token"]

    client.force_login(cast["account_admin"])
    changelist = client.get(reverse("admin:accounts_user_changelist"))
    assert changelist.status_code == 200 and "reset_second_factor" in changelist.content.decode()
    response = client.post(
        reverse("admin:accounts_user_changelist"),
        {"action": "reset_second_factor", "_selected_action": [approver.pk, cast["clerk"].pk]},
    )
    assert response.status_code == 302
    assert not TOTPDevice.objects.filter(user=approver).exists()
    event = _account_events(approver, action=AuditEvent.Action.DELETE).get(
        reason=_("Second factor reset by the account administrator: to be enrolled again")
    )
    assert event.actor == cast["account_admin"]
    assert not _account_events(cast["clerk"], action=AuditEvent.Action.DELETE).exists()
    # Never an officer's (set up on the server) nor one's own.
    for officer in ("auditor", "account_admin"):
        second_factor_for(cast[officer])
        client.post(
            reverse("admin:accounts_user_changelist"),
            {"action": "reset_second_factor", "_selected_action": [cast[officer].pk]},
        )
        assert TOTPDevice.objects.filter(user=cast[officer]).exists()

    # The session open on the lost device no longer counts: the next page is the enrolment.
    to_verify = theirs.get("/households/")
    assert to_verify.url.startswith(VERIFY)
    assert theirs.get(to_verify.url).url.startswith(ENROL)
    assert theirs.get("/api/v1/me/").status_code == 403
    me = StaffClient().get("/api/v1/me/", headers={"Authorization": f"Token {token}"})
    assert me.status_code in (401, 403)


def test_secrets_are_not_in_the_admin(client, cast):
    second_factor_for(cast["district_approver"])
    client.force_login(cast["city_admin"])
    assert client.get("/admin/otp_totp/totpdevice/").status_code == 404


def test_a_clerk_is_not_asked_but_may_enrol(client, cast):
    clerk = cast["clerk"]
    _password_login(client, "clerk")
    assert client.get("/").status_code == 200
    assert client.get(VERIFY).status_code == 302
    assert client.get("/api/v1/me/").status_code == 200

    page = client.get(ENROL)
    assert page.status_code == 200 and "<svg" in page.content.decode()
    key = client.session["second_factor_pending_key"]
    assert (
        client.post(ENROL, {"otp": totp_code(TOTPDevice(user=clerk, key=key))}).status_code == 302
    )
    device = TOTPDevice.objects.get(user=clerk)

    # Enrolled, the clerk is asked for the code at the next login, like the approver.
    client.post(reverse("accounts:logout"))
    _password_login(client, "clerk")
    assert client.get("/").url.startswith(VERIFY)
    assert client.get("/api/v1/me/").status_code == 403
    client.post(VERIFY, {"otp": totp_code(device)})
    assert client.get("/").status_code == 200

    # Removing it takes a current code (an open session is not enough).
    assert client.post(ENROL, {"otp": _wrong(totp_code(device))}).status_code == 200
    assert TOTPDevice.objects.filter(user=clerk).exists()
    device.refresh_from_db()
    device.throttling_failure_timestamp -= dt.timedelta(seconds=5)
    device.save(update_fields=["throttling_failure_timestamp"])
    assert client.post(ENROL, {"otp": totp_code(device)}).status_code == 302
    assert not TOTPDevice.objects.filter(user=clerk).exists()
    removed = _account_events(clerk, action=AuditEvent.Action.DELETE).get()
    assert removed.reason == _("Second factor removed by its owner") and removed.actor == clerk
    client.post(reverse("accounts:logout"))
    _password_login(client, "clerk")
    assert client.get("/").status_code == 200


def test_the_code_may_be_typed_with_spaces_or_full_width_digits(client, cast):
    device = second_factor_for(cast["finance"])
    _password_login(client, "finance")
    code = totp_code(device)
    full_width = "".join(chr(ord(d) + 0xFEE0) for d in code)
    assert client.post(VERIFY, {"otp": f"{full_width[:3]} {full_width[3:]}"}).status_code == 302
    assert client.get("/payments/").status_code == 200


def test_the_second_factor_comes_before_the_password_change(client, cast):
    from accounts.models import User

    approver = cast["district_approver"]
    device = second_factor_for(approver)
    User.objects.filter(pk=approver.pk).update(must_change_password=True)
    _password_login(client, "district_approver")
    assert client.get("/").url.startswith(VERIFY)
    assert client.post(VERIFY, {"otp": totp_code(device)}).status_code == 302
    assert client.get("/").url == reverse("accounts:password_change")
    assert client.get("/password/").status_code == 200


# --- The demo -------------------------------------------------------------------------------


@pytest.mark.django_db
def test_demo_approver_passes_with_the_code_of_demo_otp(client, settings, capsys):
    from chongqing_relief.demo import DEMO_PASSWORD, DEMO_TOTP_KEY, demo_seed

    settings.DEBUG = True
    demo_seed()
    for username in ("district_approver", "district_finance", "city_admin"):
        assert TOTPDevice.objects.get(user__username=username, confirmed=True).key == DEMO_TOTP_KEY
    assert not TOTPDevice.objects.filter(user__username="clerk").exists()

    _password_login(client, "district_approver", DEMO_PASSWORD)
    assert client.get("/").url.startswith(VERIFY)
    call_command("demo_otp", "district_approver")
    code = capsys.readouterr().out.strip()
    assert len(code) == 6 and code.isdigit()
    assert client.post(VERIFY, {"otp": code}).status_code == 302
    assert client.get("/").status_code == 200

    with pytest.raises(CommandError, match="the password is enough"):
        call_command("demo_otp", "clerk")
    TOTPDevice.objects.filter(user__username="city_admin").update(key="ab" * 20)
    with pytest.raises(CommandError, match="not a demo account"):
        call_command("demo_otp", "city_admin")
    settings.DEBUG = False
    with pytest.raises(CommandError, match="DJANGO_DEBUG=0"):
        call_command("demo_otp", "district_approver")
