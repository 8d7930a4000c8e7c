"""Shared fixtures: a small region tree and the fixed cast of users, one per role (the three
officers of 三员分立 included: ``account_admin``, ``security_admin``, ``auditor``), plus two in
the wrong place (``clerk_other`` in another district, ``auditor_district`` at district level).
"""

import copy
import os
import shutil
import time
from dataclasses import dataclass
from pathlib import Path

import pytest
from django.test import Client

from accounts.models import Role, User
from chongqing_relief.celery import app as celery_app
from regions.models import Region

from .factories import RegionFactory, UserFactory

celery_app.conf.task_always_eager = True


@pytest.fixture(scope="session")
def django_db_modify_db_settings(django_db_modify_db_settings_parallel_suffix):
    """A ``replica`` database that reads the test database through a second connection, as
    from a standby (TEST MIRROR), for tests/test_replica.py; no other test asks for it. With
    DATABASE_REPLICA_URL set, the settings have made it already."""
    from django.conf import settings

    if "replica" not in settings.DATABASES:
        replica = copy.deepcopy(settings.DATABASES["default"])
        replica["TEST"] = {**replica.get("TEST", {}), "MIRROR": "default"}
        settings.DATABASES["replica"] = replica


@pytest.fixture(autouse=True)
def _fast_and_isolated(settings, tmp_path):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    settings.MEDIA_ROOT = tmp_path / "media"  # uploads never land in the work tree
    settings.CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
    from django.core.cache import cache

    cache.clear()  # the process-wide locmem cache must not carry pages between tests


@dataclass
class Tree:
    city: Region
    yuzhong: Region  # 渝中区
    jiefangbei: Region  # a township in 渝中区
    village: Region  # a community in that township
    other_village: Region  # another community in the same township
    wanzhou: Region  # 万州区, another district
    wanzhou_township: Region
    wanzhou_village: Region


def make_tree() -> Tree:
    city = RegionFactory(code="500000000000", name="重庆市", level="city")
    yuzhong = RegionFactory(code="500103000000", name="渝中区", level="district", parent=city)
    jfb = RegionFactory(code="500103001000", name="解放碑街道", level="township", parent=yuzhong)
    wanzhou = RegionFactory(code="500101000000", name="万州区", level="district", parent=city)
    wz_t = RegionFactory(code="500101001000", name="高笋塘街道", level="township", parent=wanzhou)
    return Tree(
        city=city,
        yuzhong=yuzhong,
        jiefangbei=jfb,
        village=RegionFactory(code="500103001001", name="大井巷社区", level="village", parent=jfb),
        other_village=RegionFactory(
            code="500103001002", name="民生路社区", level="village", parent=jfb
        ),
        wanzhou=wanzhou,
        wanzhou_township=wz_t,
        wanzhou_village=RegionFactory(
            code="500101001001", name="白岩社区", level="village", parent=wz_t
        ),
    )


@pytest.fixture
def tree(db) -> Tree:
    return make_tree()


CAST_ROLES = {
    "clerk": (Role.CLERK, "jiefangbei"),
    "township_reviewer": (Role.TOWNSHIP_REVIEWER, "jiefangbei"),
    "district_approver": (Role.DISTRICT_APPROVER, "yuzhong"),
    "city_admin": (Role.CITY_ADMIN, "city"),
    "auditor": (Role.AUDITOR, "city"),
    "village_worker": (Role.VILLAGE_WORKER, "village"),
    "clerk_other": (Role.CLERK, "wanzhou_township"),
    "auditor_district": (Role.AUDITOR, "yuzhong"),
    "finance": (Role.DISTRICT_FINANCE, "yuzhong"),
    "account_admin": (Role.ACCOUNT_ADMIN, "city"),
    "security_admin": (Role.SECURITY_ADMIN, "city"),
}


@pytest.fixture
def cast(tree) -> dict[str, User]:
    return {
        username: UserFactory(username=username, role=role, jurisdiction=getattr(tree, place))
        for username, (role, place) in CAST_ROLES.items()
    }


# RFC 6238's test secret ("12345678901234567890"), for the test users' authenticator apps.
TEST_TOTP_KEY = "3132333435363738393031323334353637383930"


def second_factor_for(user: User):
    """The user's confirmed authenticator device; one with the test secret if none."""
    from django_otp.plugins.otp_totp.models import TOTPDevice

    from accounts.selectors import second_factor_device

    return second_factor_device(user=user) or TOTPDevice.objects.create(
        user=user, name="authenticator", key=TEST_TOTP_KEY, confirmed=True
    )


def totp_code(device) -> str:
    """A code the device accepts now, as the user's app would show it (waiting for the next
    step if this one's codes were taken)."""
    from chongqing_relief.demo import totp_code_now

    if device.pk:
        device.refresh_from_db()  # last_t: the step of the code last taken
    while (now := totp_code_now(device)) is None:
        time.sleep(1)
    return now[0]


class StaffClient(Client):
    """``force_login`` of a user whose role needs the second factor also passes it, with the
    user's device (one with the test secret if none), as the login page followed by
    ``/login/verify/`` does. ``second_factor=False``: the password step only (test_otp.py
    goes through both pages for real)."""

    def force_login(self, user, backend=None, *, second_factor=True):
        import django_otp

        super().force_login(user, backend)
        if second_factor and user.requires_second_factor:
            session = self.session
            session[django_otp.DEVICE_ID_SESSION_KEY] = second_factor_for(user).persistent_id
            session.save()


@pytest.fixture
def client() -> StaffClient:
    return StaffClient()


CHROMIUM = os.environ.get("CHROMIUM_PATH") or shutil.which("chromium") or "/usr/bin/chromium"


@pytest.fixture(scope="session")
def browser_type_launch_args(browser_type_launch_args):
    """Playwright drives Debian's chromium; its own browser download cannot work here."""
    if not Path(CHROMIUM).exists():
        pytest.skip(f"chromium not found at {CHROMIUM} (CI installs Debian's chromium package)")
    # Playwright's sync API keeps an event loop running in this thread for the rest of the
    # session, and the ORM refuses to run beside one. Browser tests therefore run in their
    # own pytest process (see the Makefile), so this does not weaken the other tests' checks.
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
    return {
        **browser_type_launch_args,
        "executable_path": CHROMIUM,
        "headless": True,
        "args": [
            "--no-sandbox",
            "--disable-gpu",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--no-first-run",
        ],
    }


@pytest.fixture
def browser_context_args(browser_context_args):
    return {**browser_context_args, "locale": "zh-CN", "viewport": {"width": 1280, "height": 800}}


@pytest.hookimpl(trylast=True)
def pytest_collection_modifyitems(config, items):
    """Browser tests run in a process of their own (``pytest -m browser``, as ``make test``
    does): in a mixed run they are skipped, so the others keep Django's async-safety check."""
    browser = [item for item in items if "browser" in item.keywords]
    if browser and len(browser) < len(items):
        skip = pytest.mark.skip(reason="browser tests run on their own: pytest -m browser")
        for item in browser:
            item.add_marker(skip)
