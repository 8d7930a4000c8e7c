"""Settings for Chongqing Relief, read from the environment.

Development defaults need no server: SQLite in ``var/`` and Celery's filesystem broker.
Production (``DJANGO_DEBUG=0``) refuses to start without a real ``SECRET_KEY`` and
``ALLOWED_HOSTS``. A malformed value fails loudly at start-up.
"""

import base64
import datetime as dt
import hashlib
import os
from pathlib import Path

import dj_database_url
from celery.schedules import crontab
from django.core.exceptions import ImproperlyConfigured
from django.utils.translation import gettext_lazy as _

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = Path(os.environ.get("VAR_DIR", BASE_DIR / "var"))

_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off", ""}


def env_bool(name: str, default: bool) -> bool:
    raw = os.environ.get(name)
    if raw is None:
        return default
    value = raw.strip().lower()
    if value in _TRUE:
        return True
    if value in _FALSE:
        return False
    raise ImproperlyConfigured(f"{name} must be a boolean (1/0, true/false), not {raw!r}")


def env_int(name: str, default: int) -> int:
    raw = os.environ.get(name)
    if raw is None:
        return default
    try:
        return int(raw)
    except ValueError:
        raise ImproperlyConfigured(f"{name} must be an integer, not {raw!r}") from None


def env_float(name: str, default: float) -> float:
    raw = os.environ.get(name)
    if raw is None:
        return default
    try:
        value = float(raw)
    except ValueError:
        raise ImproperlyConfigured(f"{name} must be a number, not {raw!r}") from None
    if not 0 < value < 1000:
        raise ImproperlyConfigured(f"{name} must be a positive number, not {raw!r}")
    return value


def env_list(name: str, default: list[str]) -> list[str]:
    raw = os.environ.get(name)
    if raw is None:
        return default
    return [item.strip() for item in raw.split(",") if item.strip()]


DEBUG = env_bool("DJANGO_DEBUG", True)

_DEV_SECRET_KEY = "dev-only-insecure-key-do-not-use-in-production"  # noqa: S105 (refused unless DEBUG)
SECRET_KEY = os.environ.get("SECRET_KEY", "")
if not SECRET_KEY:
    if not DEBUG:
        raise ImproperlyConfigured("SECRET_KEY must be set when DJANGO_DEBUG=0.")
    SECRET_KEY = _DEV_SECRET_KEY
elif not DEBUG and (SECRET_KEY == _DEV_SECRET_KEY or len(SECRET_KEY) < 50):
    raise ImproperlyConfigured("SECRET_KEY must be a random string of at least 50 characters.")


ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", ["127.0.0.1", "localhost", "[::1]"] if DEBUG else [])
if not DEBUG and not ALLOWED_HOSTS:
    raise ImproperlyConfigured("ALLOWED_HOSTS must be set when DJANGO_DEBUG=0.")
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS", [])


def _dev_key(purpose: str) -> list[str]:
    digest = hashlib.sha256(f"{purpose}:{SECRET_KEY}".encode()).digest()
    return [base64.urlsafe_b64encode(digest).decode().rstrip("=")]


# Encryption at rest (core.crypto): ID, bank and phone numbers in the database and every file
# under MEDIA_ROOT. Comma-separated 32-byte URL-safe base64 keys (`manage.py rotate_keys
# --new-key` makes one); the first seals or hashes, all listed ones open or are searched.
# Keep them out of the database and its backups. Development derives its keys from SECRET_KEY.
ENCRYPTION_KEYS = env_list("ENCRYPTION_KEYS", [])
SEARCH_HASH_KEYS = env_list("SEARCH_HASH_KEYS", [])
if not DEBUG and not (ENCRYPTION_KEYS and SEARCH_HASH_KEYS):
    raise ImproperlyConfigured(
        "ENCRYPTION_KEYS and SEARCH_HASH_KEYS must be set when DJANGO_DEBUG=0 (run "
        "'manage.py rotate_keys --new-key' for a key)."
    )
for _key in ENCRYPTION_KEYS + SEARCH_HASH_KEYS:
    try:
        _raw_key = base64.urlsafe_b64decode(_key + "=" * (-len(_key) % 4))
    except ValueError:
        _raw_key = b""
    if len(_raw_key) != 32:
        raise ImproperlyConfigured(
            "ENCRYPTION_KEYS and SEARCH_HASH_KEYS take 32-byte keys in URL-safe base64."
        )
ENCRYPTION_KEYS = ENCRYPTION_KEYS or _dev_key("field-encryption")
SEARCH_HASH_KEYS = SEARCH_HASH_KEYS or _dev_key("search-hash")

INSTALLED_APPS = [
    "accounts.admin_site.CityAdminConfig",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "rest_framework",
    "accounts.apps.KnoxConfig",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "django_filters",
    "django_htmx",
    "simple_history",
    "django_celery_beat",
    "axes",
    "django_otp",
    "django_otp.plugins.otp_totp",
    # Project apps, in their layer order (DESIGN.md §12; import-linter holds the line).
    "core",
    "regions",
    "accounts",
    "beneficiaries",
    "eligibility",
    "notices",
    "applications",
    "recertification",
    "payments",
    "residents",
    "reports",
    "workbench",
    "chongqing_relief",  # project-wide commands (seed_demo)
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "core.middleware.SecurityHeadersMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "core.middleware.DefaultLanguageMiddleware",
    "core.middleware.FriendlyNotFoundMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django_otp.middleware.OTPMiddleware",
    "accounts.middleware.SecondFactorRequiredMiddleware",
    "accounts.middleware.PasswordChangeRequiredMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    "simple_history.middleware.HistoryRequestMiddleware",
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "chongqing_relief.urls"
WSGI_APPLICATION = "chongqing_relief.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "django.template.context_processors.i18n",
                "accounts.context_processors.navigation",
            ],
        },
    },
]

# --- Database -------------------------------------------------------------------------------
_default_db_url = f"sqlite:///{VAR_DIR / 'db.sqlite3'}"
if not DEBUG and not os.environ.get("DATABASE_URL"):
    raise ImproperlyConfigured("DATABASE_URL must be set when DJANGO_DEBUG=0 (PostgreSQL).")
try:
    DATABASES = {
        "default": dj_database_url.parse(
            os.environ.get("DATABASE_URL", _default_db_url),
            conn_max_age=env_int("DATABASE_CONN_MAX_AGE", 0 if DEBUG else 60),
            conn_health_checks=True,
        )
    }
except ValueError as exc:
    raise ImproperlyConfigured(f"DATABASE_URL is not a valid database URL: {exc}") from None

if DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql":
    DATABASES["default"].setdefault("OPTIONS", {})["connect_timeout"] = env_int(
        "DATABASE_CONNECT_TIMEOUT", 5
    )
    # Pages are short queries: JIT compilation, which PostgreSQL starts on a high cost
    # estimate, cost 70 ms of a city-wide search and saved nothing. PostgreSQL's default
    # random_page_cost (4) prices an index probe for a spinning disk; on SSD or a cached
    # database it makes the planner read a million households in turn instead of a
    # district's through its index (the payments to fix: 190 → 33 ms at 1,000,000).
    DATABASES["default"]["OPTIONS"]["options"] = "-c jit=off -c random_page_cost=" + str(
        env_float("DATABASE_RANDOM_PAGE_COST", 1.1)
    )
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # WAL and immediate transactions let the web server, worker and beat share one file.
    DATABASES["default"]["OPTIONS"] = {
        "timeout": 20,
        "transaction_mode": "IMMEDIATE",
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
    }

# Reports on a read replica (docs/operations.md): with a PostgreSQL streaming standby of
# DATABASE_URL here, exports, the statistics return, the dashboard and the indicators read
# from it (core.dbrouters); every write and every other read stays on DATABASE_URL.
_replica_url = os.environ.get("DATABASE_REPLICA_URL", "")
if _replica_url:
    try:
        _replica = dj_database_url.parse(
            _replica_url,
            conn_max_age=DATABASES["default"]["CONN_MAX_AGE"],
            conn_health_checks=True,
        )
    except ValueError as exc:
        raise ImproperlyConfigured(
            f"DATABASE_REPLICA_URL is not a valid database URL: {exc}"
        ) from None
    if {_replica["ENGINE"], DATABASES["default"]["ENGINE"]} != {"django.db.backends.postgresql"}:
        raise ImproperlyConfigured(
            "DATABASE_REPLICA_URL must be a PostgreSQL standby of a PostgreSQL DATABASE_URL."
        )
    _replica["OPTIONS"] = {
        # A report that waited for a replica that is down would time out too: fail fast and
        # read from the primary (core.dbrouters).
        "connect_timeout": env_int("DATABASE_REPLICA_CONNECT_TIMEOUT", 2),
        # Nothing writes through this connection: a bug that tried would fail here too.
        "options": DATABASES["default"]["OPTIONS"]["options"]
        + " -c default_transaction_read_only=on",
    }
    # Tests read the test database through a second connection, as from a standby.
    _replica["TEST"] = {"MIRROR": "default"}
    DATABASES["replica"] = _replica
    DATABASE_ROUTERS = ["core.dbrouters.ReplicaRouter"]

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
AUTH_USER_MODEL = "accounts.User"

# --- Cache ----------------------------------------------------------------------------------
REDIS_URL = os.environ.get("REDIS_URL", "")
if REDIS_URL:
    CACHES = {
        "default": {
            # While Redis is unreachable, pages are computed afresh rather than failing, and the
            # rate limits refuse what they cannot count (core.cache, core.ratelimit). A Redis
            # that does not answer counts as unreachable after a second, not a page's timeout.
            "BACKEND": "core.cache.FailOpenRedisCache",
            "LOCATION": REDIS_URL,
            "OPTIONS": {"socket_connect_timeout": 1, "socket_timeout": 1},
        }
    }
else:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}

# Residents' lookups (progress, payments, objections), counted in the cache (shared by the
# workers when it is Redis): attempts an hour per address; failed lookups an hour of one
# number from one address, and of one number from everywhere.
PUBLIC_LOOKUPS_PER_ADDRESS_HOUR = env_int("PUBLIC_LOOKUPS_PER_ADDRESS_HOUR", 30)
PUBLIC_LOOKUPS_PER_NUMBER_HOUR = env_int("PUBLIC_LOOKUPS_PER_NUMBER_HOUR", 10)
PUBLIC_LOOKUP_FAILURES_PER_NUMBER_HOUR = env_int("PUBLIC_LOOKUP_FAILURES_PER_NUMBER_HOUR", 50)

# Uploads: a request bigger than this is cut off before its body is read (scans are at most
# 10 MB, household imports a few MB; core.uploads).
UPLOAD_MAX_BYTES = env_int("UPLOAD_MAX_BYTES", 32 * 1024 * 1024)
FILE_UPLOAD_HANDLERS = [
    "core.uploads.SizeLimitUploadHandler",
    "django.core.files.uploadhandler.MemoryFileUploadHandler",
    "django.core.files.uploadhandler.TemporaryFileUploadHandler",
]

# --- Authentication -------------------------------------------------------------------------
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {
        "NAME": "django.contrib.auth.password_validation.MinimumLengthValidator",
        "OPTIONS": {"min_length": 10},
    },
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
# Repeated wrong passwords lock that username from that address for a while (django-axes).
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]
AXES_FAILURE_LIMIT = env_int("LOGIN_FAILURE_LIMIT", 5)
AXES_COOLOFF_TIME = env_int("LOGIN_LOCKOUT_MINUTES", 15) / 60  # hours
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_RESET_ON_SUCCESS = True
AXES_VERBOSE = False
AXES_LOCKOUT_TEMPLATE = "accounts/locked_out.html"
# The client's address, for the lockout as for every rate limit: from the trusted proxies only.
AXES_CLIENT_IP_CALLABLE = "core.ratelimit.client_address"
LOGIN_URL = "accounts:login"
LOGIN_REDIRECT_URL = "workbench:home"
LOGOUT_REDIRECT_URL = "accounts:login"
SESSION_COOKIE_AGE = env_int("SESSION_COOKIE_AGE", 8 * 60 * 60)  # one working day
# Second factor (django-otp, TOTP) for the roles in accounts.models.SECOND_FACTOR_ROLES. After
# n wrong codes in a row the next is refused for factor × 2^(n-1) seconds (0 would switch the
# throttle off: refused); the account administrator resets a lost device.
OTP_TOTP_ISSUER = "Chongqing Relief"  # the account's name in the authenticator app
OTP_TOTP_THROTTLE_FACTOR = env_int("OTP_THROTTLE_FACTOR", 1)
if OTP_TOTP_THROTTLE_FACTOR < 1:
    raise ImproperlyConfigured("OTP_THROTTLE_FACTOR must be at least 1 (seconds).")
OTP_ADMIN_HIDE_SENSITIVE_DATA = True  # no secret or QR code in any admin page

# --- Internationalisation -------------------------------------------------------------------
LANGUAGE_CODE = "zh-hans"
LANGUAGES = [("zh-hans", _("Simplified Chinese")), ("en", _("English"))]
LOCALE_PATHS = [BASE_DIR / "locale"]
TIME_ZONE = "Asia/Shanghai"
USE_I18N = True
USE_TZ = True

# --- Static files (all served by the app itself: government intranets have no internet) ----
STATIC_URL = "static/"
STATICFILES_DIRS = [BASE_DIR / "static"]
STATIC_ROOT = Path(os.environ.get("STATIC_ROOT", BASE_DIR / "staticfiles"))
STORAGES = {
    # Uploaded scans, import files, exports and bank files: sealed on disk (core.storage).
    "default": {"BACKEND": "core.storage.EncryptedFileSystemStorage"},
    "staticfiles": {
        "BACKEND": (
            "django.contrib.staticfiles.storage.StaticFilesStorage"
            if DEBUG
            else "whitenoise.storage.CompressedManifestStaticFilesStorage"
        )
    },
}
MEDIA_ROOT = Path(os.environ.get("MEDIA_ROOT", VAR_DIR / "media"))

# --- Security (production) ------------------------------------------------------------------
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", not DEBUG)
SECURE_REDIRECT_EXEMPT = [r"^healthz$"]  # load-balancer probes speak plain HTTP
SESSION_COOKIE_SECURE = not DEBUG
CSRF_COOKIE_SECURE = not DEBUG
SESSION_COOKIE_HTTPONLY = True
SECURE_HSTS_SECONDS = env_int("SECURE_HSTS_SECONDS", 0 if DEBUG else 31536000)
SECURE_HSTS_INCLUDE_SUBDOMAINS = not DEBUG
SECURE_HSTS_PRELOAD = env_bool("SECURE_HSTS_PRELOAD", not DEBUG)
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"

# --- REST framework and OpenAPI -------------------------------------------------------------
REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "accounts.authentication.SecondFactorSessionAuthentication",
        "knox.auth.TokenAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["accounts.permissions.IsActiveStaff"],
    "DEFAULT_PAGINATION_CLASS": "core.api.Pagination",
    "DEFAULT_FILTER_BACKENDS": ["django_filters.rest_framework.DjangoFilterBackend"],
    "DEFAULT_SCHEMA_CLASS": "core.schema.AutoSchema",
    "EXCEPTION_HANDLER": "core.api.exception_handler",
    "DEFAULT_THROTTLE_RATES": {"token": "20/minute"},
    # Proxies in front of the app: the client address is taken that many hops from the right
    # of X-Forwarded-For, so a client cannot choose its own throttle key.
    # Trust none unless told: with 0 the connection's own address counts, so a client that
    # writes X-Forwarded-For itself chooses nothing. Set it to the proxies in front.
    "NUM_PROXIES": env_int("NUM_PROXIES", 0),
}
# API tokens (django-rest-knox): stored as a hash, valid TOKEN_TTL_HOURS, at most a few per
# user; they die with a password change, a deactivation or a logout (accounts.signals).
REST_KNOX = {
    "TOKEN_TTL": dt.timedelta(hours=env_int("TOKEN_TTL_HOURS", 8)),
    "TOKEN_LIMIT_PER_USER": 5,
    "AUTO_REFRESH": False,
    "AUTH_HEADER_PREFIX": "Token",
}
SPECTACULAR_SETTINGS = {
    "TITLE": "重庆市困难群众救助管理系统 API",
    "DESCRIPTION": "Chongqing Relief case-management API. Every endpoint is scoped to the "
    "caller's jurisdiction.",
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "SERVE_PERMISSIONS": ["accounts.permissions.IsActiveStaff"],
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "COMPONENT_SPLIT_REQUEST": True,
    # Bodies are documented as JSON: nested input (members, incomes) and null cannot be sent
    # as a form. Views that take a file say so themselves (multipart).
    "PARSER_WHITELIST": ["rest_framework.parsers.JSONParser"],
    "ENUM_NAME_OVERRIDES": {
        "ApplicationProgrammeEnum": "applications.models.Programme",
        "ReferralKindEnum": "applications.models.Department.Kind",
        "EntitlementClassEnum": "beneficiaries.models.Entitlement.Klass",
        "DisabilityKindEnum": "eligibility.api.DISABILITY_KINDS",
        "RecordedLabourCapacityEnum": "eligibility.api.RECORDED_CAPACITIES",
    },
}

# --- Celery ---------------------------------------------------------------------------------
CELERY_BROKER_URL = os.environ.get("CELERY_BROKER_URL", "filesystem://")
if not DEBUG and CELERY_BROKER_URL.startswith("filesystem://"):
    raise ImproperlyConfigured(
        "CELERY_BROKER_URL must be a real broker (Redis) when DJANGO_DEBUG=0: the filesystem "
        "broker only works on one machine."
    )
BROKER_DIR = VAR_DIR / "broker"
CELERY_BROKER_TRANSPORT_OPTIONS = (
    {
        # Sender and consumer share one folder: messages written by the web process are
        # picked up by the worker on the same machine.
        "data_folder_in": str(BROKER_DIR),
        "data_folder_out": str(BROKER_DIR),
        "store_processed": False,
    }
    if CELERY_BROKER_URL.startswith("filesystem://")
    # A task taken by a worker that then vanished whole (its machine went down) is delivered
    # again after this many seconds: longer than any task runs. Every worker looks for such
    # tasks every CELERY_UNACKED_RESTORE_SECONDS (one small Redis scan each time).
    else {
        "visibility_timeout": env_int("CELERY_VISIBILITY_TIMEOUT", 3600),
        "unacked_restore_interval": env_int("CELERY_UNACKED_RESTORE_SECONDS", 60),
        "unacked_restore_throttle": 1,
    }
)
CELERY_TASK_IGNORE_RESULT = True
CELERY_TASK_ALWAYS_EAGER = env_bool("CELERY_TASK_ALWAYS_EAGER", False)
# A task's message is acknowledged when the task ends, so work cut short runs again; every task
# is idempotent (core.jobs). A worker process killed mid-task (the OOM killer, kill -9) would
# still have its message acknowledged as failed: it is sent again instead, after a pause, at
# most Task.max_retries (3) times, so a task that kills its worker every time cannot loop
# forever; and put back in the queue if even that cannot be sent.
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_RETRY_ON_WORKER_LOST = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_TASK_ANNOTATIONS = {
    "*": {"default_retry_delay": env_int("CELERY_WORKER_LOST_RETRY_SECONDS", 30)}
}
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TIMEZONE = TIME_ZONE
CELERY_BEAT_SCHEDULER = "django_celery_beat.schedulers:DatabaseScheduler"
CELERY_BEAT_SCHEDULE = {
    "heartbeat": {"task": "core.tasks.heartbeat", "schedule": 60.0},
    # Changes on households with assistance open their reviews within a minute.
    "household-changes": {"task": "recertification.tasks.household_changes", "schedule": 60.0},
    # Export files (registers with personal data) are deleted once expired.
    "exports-purge": {"task": "reports.tasks.exports_purge", "schedule": 3600.0},
    # New audit events are sealed into the hash chain (core.auditchain).
    "audit-seal": {"task": "core.tasks.audit_seal", "schedule": 60.0},
    # Work recorded as waiting that no worker holds (queued while the broker was down, or
    # left by a worker that died) is sent again.
    "queued-work-resend": {"task": "chongqing_relief.tasks.queued_work_resend", "schedule": 300.0},
    # The likely-duplicates list of the whole city (the city admin's report reads it), between
    # the nightly jobs at 02:00 and the statistics.
    "duplicates-find": {
        "task": "beneficiaries.tasks.duplicates_find",
        "schedule": crontab(hour=3, minute=30),
    },
    # The statistics return of last month and this month, after the nightly jobs.
    "statistics-refresh": {
        "task": "reports.tasks.statistics_refresh",
        "schedule": crontab(hour=4, minute=30),
    },
}
# The worker beats every minute; past this many seconds without a beat it counts as stopped
# (the city admin's home page and /healthz say so).
WORKER_HEARTBEAT_STALE_SECONDS = env_int("WORKER_HEARTBEAT_STALE_SECONDS", 300)

# --- Logging --------------------------------------------------------------------------------
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": os.environ.get("LOG_LEVEL", "INFO")},
    "loggers": {"axes": {"level": "WARNING"}},  # every failed login is in the audit log
}

# The serverless defaults keep their files in var/; create it so a fresh clone just runs.
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3" or CELERY_BROKER_URL.startswith(
    "filesystem://"
):
    BROKER_DIR.mkdir(parents=True, exist_ok=True)
if DEBUG:
    STATIC_ROOT.mkdir(parents=True, exist_ok=True)  # WhiteNoise warns when it is missing
