"""Settings come from the environment and fail loudly on bad values. Each case starts a fresh
interpreter, since settings are read once per process."""

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
GOOD_KEY = "k" * 20 + "-production-secret-key-of-enough-length-0123456789"
PROD_SERVICES = {
    "DATABASE_URL": "postgres://u@db.example:5432/relief",
    "CELERY_BROKER_URL": "redis://redis.example:6379/0",
    # Rate limits and the public pages' cache are shared by the workers (core.E001).
    "REDIS_URL": "redis://redis.example:6379/1",
    # Encryption at rest (core.crypto): keys from the environment, never derived.
    "ENCRYPTION_KEYS": "A" * 43,
    "SEARCH_HASH_KEYS": "B" * 43,
}
PROD = {
    "DJANGO_DEBUG": "0",
    "SECRET_KEY": GOOD_KEY,
    "ALLOWED_HOSTS": "relief.example",
    **PROD_SERVICES,
}


def load_settings(env: dict[str, str], *extra_args: str) -> subprocess.CompletedProcess:
    clean = {
        k: v
        for k, v in os.environ.items()
        if k
        not in {
            "SECRET_KEY",
            "DJANGO_DEBUG",
            "ALLOWED_HOSTS",
            "DATABASE_URL",
            "DJANGO_ALLOW_ASYNC_UNSAFE",
        }
    }
    clean["DJANGO_SETTINGS_MODULE"] = "chongqing_relief.settings"
    code = "import django; django.setup(); from django.conf import settings; print(settings.DEBUG)"
    args = extra_args or ("-c", code)
    return subprocess.run(  # noqa: S603 (our own interpreter and module)
        [sys.executable, *args],
        cwd=ROOT,
        env={**clean, **env},
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_development_defaults_start():
    result = load_settings({})
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "True"


@pytest.mark.parametrize(
    ("env", "message"),
    [
        (
            {"DJANGO_DEBUG": "0", "ALLOWED_HOSTS": "relief.example", **PROD_SERVICES},
            "SECRET_KEY must be set",
        ),
        (
            {"DJANGO_DEBUG": "0", "ALLOWED_HOSTS": "relief.example", "SECRET_KEY": "short"},
            "at least 50 characters",
        ),
        ({"DJANGO_DEBUG": "0", "SECRET_KEY": GOOD_KEY}, "ALLOWED_HOSTS must be set"),
        (
            {"DJANGO_DEBUG": "0", "SECRET_KEY": GOOD_KEY, "ALLOWED_HOSTS": "relief.example"},
            "ENCRYPTION_KEYS and SEARCH_HASH_KEYS must be set",
        ),
        ({"ENCRYPTION_KEYS": "too-short"}, "32-byte keys in URL-safe base64"),
        ({"DJANGO_DEBUG": "maybe"}, "DJANGO_DEBUG must be a boolean"),
        ({"SESSION_COOKIE_AGE": "eight hours"}, "SESSION_COOKIE_AGE must be an integer"),
        ({"DATABASE_URL": "nosuchdb://x"}, "DATABASE_URL is not a valid database URL"),
    ],
)
def test_bad_configuration_refuses_to_start(env, message):
    result = load_settings(env)
    assert result.returncode != 0
    assert "ImproperlyConfigured" in result.stderr and message in result.stderr


def test_production_settings_pass_deploy_checks():
    result = load_settings(
        PROD,
        "manage.py",
        "check",
        "--deploy",
        "--fail-level",
        "WARNING",
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "no issues" in result.stdout
