from django.core.paginator import Paginator
from django.shortcuts import render

from accounts.models import Role
from accounts.permissions import role_required
from beneficiaries.templatetags.privacy import mask_sensitive
from core.audit import change_rows

from .filters import AuditEventFilter
from .selectors import audit_event_list

PAGE_SIZE = 50


@role_required(Role.AUDITOR, Role.CITY_ADMIN)
def audit_log(request):
    events = AuditEventFilter(request.GET, queryset=audit_event_list(user=request.user))
    page = Paginator(events.qs, PAGE_SIZE).get_page(request.GET.get("page"))
    for event in page.object_list:
        event.change_rows = change_rows(event, mask=mask_sensitive)
    query = request.GET.copy()
    query.pop("page", None)
    return render(
        request,
        "reports/audit_log.html",
        {
            "filter": events,
            "page": page,
            "query": query.urlencode(),
        },
    )


@role_required(Role.CITY_ADMIN)
def job_runs(request):
    """The scheduled jobs' run log: when each ran, how long, what it did, how it ended."""
    from django.core.paginator import Paginator
    from django_celery_beat.models import PeriodicTask

    from core.models import JobRun

    page = Paginator(JobRun.objects.all(), 50).get_page(request.GET.get("page"))
    return render(
        request,
        "reports/jobs.html",
        {
            "page": page,
            "schedules": PeriodicTask.objects.select_related("crontab", "interval").order_by(
                "name"
            ),
        },
    )
