"""Each role's home page: its work queues, gathered from every app."""

import datetime as dt

from django.shortcuts import render
from django.utils import timezone

from accounts.models import Role
from accounts.permissions import role_required
from core import health, workdays

from .panels import panels_for


@role_required()
def home(request):
    """Each role lands on its own page of work queues."""
    context = {"role": request.user.role, "panels": panels_for(request.user)}
    if request.user.role == Role.CITY_ADMIN:
        context.update(_admin_status())
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


def _seen_at(age: int | None):
    return None if age is None else timezone.now() - dt.timedelta(seconds=age)
