"""The roles, and the tables of who may do what with them (DESIGN.md §1).

三员分立 (separation of administrative duties, 等保 2.0 level 3): running the system is split
between three officers, none of whom can do another's part:

- the account administrator (系统管理员, ``account_admin``) creates and edits staff accounts:
  role, jurisdiction, activation, password resets, API tokens. Nothing else: no case data,
  no audit log, no security events.
- the security administrator (安全管理员, ``security_admin``) reads the security events
  (logins, failed logins and lockouts, password and account changes, API tokens, second
  factors) and keeps the security policy (lifts login lockouts). No accounts, no case data.
- the auditor (审计管理员, ``auditor``) reads the audit log and, read-only, the case data and
  reports of its jurisdiction. It changes nothing.

The city administrator is the bureau's business administrator (policy figures, the
working-day calendar, regions, schedules); it no longer manages accounts, and, being one of
the administrators the audit log watches, does not read it either.

The officers' own accounts are set up on the server (``createsuperuser`` makes the first
account administrator, ``manage.py officer_create`` the others), never in the admin: an
account administrator who could make an auditor's account, or reset an auditor's password,
could read the audit log under that name.
"""

from django.db import models
from django.utils.translation import gettext_lazy as _

from regions.models import Region


class Role(models.TextChoices):
    CLERK = "clerk", _("Window clerk")
    TOWNSHIP_REVIEWER = "township_reviewer", _("Township reviewer")
    DISTRICT_APPROVER = "district_approver", _("District approver")
    CITY_ADMIN = "city_admin", _("City administrator")
    AUDITOR = "auditor", _("Auditor")
    VILLAGE_WORKER = "village_worker", _("Village social-assistance worker")
    DISTRICT_FINANCE = "district_finance", _("District funds officer")
    ACCOUNT_ADMIN = "account_admin", _("Account administrator")
    SECURITY_ADMIN = "security_admin", _("Security administrator")


# The region levels a role's jurisdiction may be.
ROLE_LEVELS: dict[str, tuple[str, ...]] = {
    Role.CLERK: (Region.Level.TOWNSHIP,),
    Role.TOWNSHIP_REVIEWER: (Region.Level.TOWNSHIP,),
    Role.DISTRICT_APPROVER: (Region.Level.DISTRICT,),
    Role.CITY_ADMIN: (Region.Level.CITY,),
    Role.AUDITOR: (Region.Level.DISTRICT, Region.Level.CITY),
    Role.VILLAGE_WORKER: (Region.Level.VILLAGE,),
    Role.DISTRICT_FINANCE: (Region.Level.DISTRICT,),
    Role.ACCOUNT_ADMIN: (Region.Level.CITY,),
    Role.SECURITY_ADMIN: (Region.Level.CITY,),
}

# The three officers (三员). Their accounts are set up on the server only.
OFFICER_ROLES = frozenset({Role.ACCOUNT_ADMIN, Role.SECURITY_ADMIN, Role.AUDITOR})
# Everybody who works on cases, payments or policy: the roles the account administrator gives,
# and the staff who declare their close relatives (近亲属).
BUSINESS_ROLES = tuple(role for role in Role.values if role not in OFFICER_ROLES)
# Who reads case data (households, applications, entitlements, reviews): every business role
# but the district's funds officer, who sees payments only, and the auditor. Never the
# account or security administrator.
CASE_READERS = tuple(
    role
    for role in Role.values
    if role not in (Role.DISTRICT_FINANCE, Role.ACCOUNT_ADMIN, Role.SECURITY_ADMIN)
)
# Who reads the statistics return, the dashboard and the 绩效评价 (the auditors and the bureau).
STATISTICS_READERS = (Role.AUDITOR, Role.CITY_ADMIN, Role.DISTRICT_APPROVER)
# Who reads the audit log (its page, its API, its admin pages, its register export).
AUDIT_LOG_READERS = (Role.AUDITOR,)
# Who reads the security events (the audit log's account and login part).
SECURITY_EVENT_READERS = (Role.SECURITY_ADMIN, Role.AUDITOR)
# Who keeps the security policy (lifts a login lockout).
SECURITY_POLICY_KEEPERS = (Role.SECURITY_ADMIN,)
# Who passes a second factor (an authenticator app's code, TOTP) after the password: those who
# approve money or pay it out, and the administrators (of the bureau, of accounts, of security
# policy). Any other user may enrol one voluntarily and is then asked for it too.
SECOND_FACTOR_ROLES = frozenset(
    {
        Role.DISTRICT_APPROVER,
        Role.DISTRICT_FINANCE,
        Role.CITY_ADMIN,
        Role.ACCOUNT_ADMIN,
        Role.SECURITY_ADMIN,
    }
)

# --- the Django admin ----------------------------------------------------------------------------

_VIEW = frozenset({"view"})
_ALL = frozenset({"view", "add", "change", "delete"})

# role → model → what it may do there. A model missing from a role's row is invisible to it;
# a role without a row does not enter the admin at all.
ADMIN_ACCESS: dict[str, dict[str, frozenset[str]]] = {
    Role.ACCOUNT_ADMIN: {
        # Deactivated, never deleted: what an account did stays attributable to it.
        "accounts.user": frozenset({"view", "add", "change"}),
        "knox.authtoken": frozenset({"view", "delete"}),  # listed and revoked, never minted
        "regions.region": _VIEW,  # to choose a jurisdiction
    },
    Role.SECURITY_ADMIN: {
        # django-axes' records: lockouts, failed and successful logins with their addresses.
        # Lockouts are lifted on the security page, where it is logged.
        "axes.accessattempt": _VIEW,
        "axes.accessfailurelog": _VIEW,
        "axes.accesslog": _VIEW,
    },
    Role.AUDITOR: {"core.auditevent": _VIEW},
    Role.CITY_ADMIN: {
        "accounts.staffrelative": _ALL,
        "core.calendarday": _ALL,
        "regions.region": _ALL,
        "eligibility.policyvalue": _ALL,
        "eligibility.temporaryrate": _ALL,
        "django_celery_beat.periodictask": _ALL,
        "django_celery_beat.crontabschedule": _ALL,
        "django_celery_beat.intervalschedule": _ALL,
        "django_celery_beat.clockedschedule": _ALL,
        "django_celery_beat.solarschedule": _ALL,
    },
}


def admin_may(user, perm: str) -> bool:
    """``perm`` is Django's ``"app_label.action_model"``, e.g. ``"accounts.change_user"``."""
    if not (user.is_active and user.is_authenticated):
        return False
    app_label, _dot, codename = perm.partition(".")
    action, _sep, model = codename.partition("_")
    return action in ADMIN_ACCESS.get(user.role, {}).get(f"{app_label}.{model}", ())


def admin_may_enter(user, app_label: str) -> bool:
    if not (user.is_active and user.is_authenticated):
        return False
    return any(label.startswith(app_label + ".") for label in ADMIN_ACCESS.get(user.role, {}))
