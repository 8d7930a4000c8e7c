from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from .permissions import is_staff_user, second_factor_pending
from .roles import (
    AUDIT_LOG_READERS,
    BUSINESS_ROLES,
    CASE_READERS,
    SECURITY_EVENT_READERS,
    STATISTICS_READERS,
    Role,
)

PAYROLL_READERS = (Role.DISTRICT_FINANCE, Role.DISTRICT_APPROVER, Role.CITY_ADMIN, Role.AUDITOR)

# (label, url name, roles that see it; empty = every staff role)
NAVIGATION = [
    (_("Home"), "workbench:home", ()),
    (_("Households"), "beneficiaries:search", CASE_READERS),
    (_("Applications"), "applications:list", CASE_READERS),
    (
        _("People in urgent need"),
        "applications:leads",
        (Role.VILLAGE_WORKER, Role.CLERK, Role.TOWNSHIP_REVIEWER),
    ),
    (
        _("Verification"),
        "eligibility:verification",
        (Role.CITY_ADMIN, Role.DISTRICT_APPROVER, Role.TOWNSHIP_REVIEWER),
    ),
    (
        _("Periodic reviews"),
        "recertification:reviews",
        (Role.CLERK, Role.TOWNSHIP_REVIEWER, Role.DISTRICT_APPROVER),
    ),
    (_("Payrolls"), "payments:payrolls", PAYROLL_READERS),
    (_("Failed payments"), "payments:to_fix", (Role.CLERK, Role.TOWNSHIP_REVIEWER)),
    (_("Payment checks"), "payments:checks", (Role.CLERK, Role.TOWNSHIP_REVIEWER)),
    (_("Funds"), "payments:funds", PAYROLL_READERS),
    (_("Dashboard"), "reports:dashboard", STATISTICS_READERS),
    (_("Statistics return"), "reports:statistics", STATISTICS_READERS),
    (_("Performance indicators"), "reports:indicators", STATISTICS_READERS),
    (_("Audit log"), "reports:audit_log", AUDIT_LOG_READERS),
    (_("Security events"), "accounts:security_events", SECURITY_EVENT_READERS),
    (_("Security policy"), "accounts:security_policy", SECURITY_EVENT_READERS),
    (
        _("Register exports"),
        "reports:exports",
        (Role.AUDITOR, Role.CITY_ADMIN, Role.DISTRICT_APPROVER),
    ),
    (_("Scheduled jobs"), "reports:jobs", (Role.CITY_ADMIN,)),
    # The auditor reads the audit log on its own page; its read-only admin pages are a
    # second door to the same log, not a menu of their own.
    (
        _("System administration"),
        "admin:index",
        (Role.CITY_ADMIN, Role.ACCOUNT_ADMIN, Role.SECURITY_ADMIN),
    ),
    (_("API documentation"), "api-docs", ()),
]


def navigation(request):
    user = getattr(request, "user", None)
    if not is_staff_user(user) or second_factor_pending(request):
        return {"nav_items": []}
    path = request.path
    items = []
    for label, url_name, roles in NAVIGATION:
        if roles and user.role not in roles:
            continue
        url = reverse(url_name)
        matches = path == url if url == "/" else path.startswith(url)
        items.append({"label": label, "url": url, "active": matches})
    # Only the most specific match is the current page (/applications/reviews/ is the
    # reviews item, not also the applications item).
    best = max((len(i["url"]) for i in items if i["active"]), default=0)
    for item in items:
        item["active"] = item["active"] and len(item["url"]) == best
    unread = user.alerts.filter(read_at__isnull=True).count()
    return {
        "nav_items": items,
        "unread_alerts": unread,
        "may_declare_relatives": user.role in BUSINESS_ROLES,
    }
