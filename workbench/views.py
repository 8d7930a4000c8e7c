"""Each role's home page: its work queues, gathered from every app."""

import datetime as dt

from django.shortcuts import render
from django.utils import timezone

from accounts.models import Role, User
from accounts.permissions import role_required
from accounts.selectors import lockout_list, security_event_list
from core import health, workdays

from .panels import panels_for


@role_required()
def home(request):
    """Each role lands on its own page of work queues."""
    context = {"role": request.user.role, "panels": panels_for(request.user)}
    if request.user.role == Role.CITY_ADMIN:
        context.update(_admin_status())
    elif request.user.role == Role.ACCOUNT_ADMIN:
        context.update(_account_status())
    elif request.user.role == Role.SECURITY_ADMIN:
        context.update(_security_status(request.user))
    return render(request, f"workbench/home/{request.user.role}.html", context)


def _admin_status() -> dict:
    today = timezone.localdate()
    # Deadlines run into next year from autumn on, so next year's calendar is needed early.
    years = [today.year, today.year + 1] if today >= dt.date(today.year, 9, 1) else [today.year]
    return {
        "missing_calendar_years": workdays.missing_years(years),
        "database_state": health.database_state(),
        "heartbeat_seen_at": _seen_at(health.heartbeat_ages()["worker"]),
        "worker_state": health.worker_state(),
    }


def _account_status() -> dict:
    active = User.objects.filter(is_active=True)
    return {
        "active_accounts": active.count(),
        "passwords_to_change": active.filter(must_change_password=True).count(),
    }


def _security_status(user) -> dict:
    since = timezone.now() - dt.timedelta(hours=24)
    failed = security_event_list(user=user).filter(action="login_failed", occurred_at__gte=since)
    return {
        "failed_logins": failed.count(),
        "lockouts": sum(1 for attempt in lockout_list(user=user) if attempt.locked),
    }


def _seen_at(age: int | None):
    return None if age is None else timezone.now() - dt.timedelta(seconds=age)
