from django.core.paginator import Paginator
from django.shortcuts import render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

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


# What the city admin reads instead of task paths, job names and counter keys.
TASK_LABELS = {
    "recertification.tasks.nightly": gettext_lazy("Nightly dynamic management"),
    "core.tasks.heartbeat": gettext_lazy("Background worker heartbeat"),
    "celery.backend_cleanup": gettext_lazy("Clean up finished task results"),
    "recertification.tasks.household_changes": gettext_lazy(
        "Review households whose situation changed"
    ),
}
JOB_LABELS = {
    "classes_rederive": gettext_lazy("Re-derive classes A/B/C"),
    "reviews_open_due": gettext_lazy("Open the periodic reviews that come due"),
    "notices_close_expired": gettext_lazy("Close public notices whose period is over"),
    "overdue_alert": gettext_lazy("Alert staff about overdue work"),
    "phase_outs_end": gettext_lazy("End phased-out assistance"),
    "entitlements_recalculate": gettext_lazy("Recalculate with a new standard"),
    "household_events_process": gettext_lazy("Review households whose situation changed"),
    "calendar_check": gettext_lazy("Check next year's working-day calendar"),
    "deadlines_recompute": gettext_lazy("Count deadlines again after a calendar change"),
}
COUNT_LABELS = {
    "changed": gettext_lazy("classes changed"),
    "A": gettext_lazy("to class A"),
    "B": gettext_lazy("to class B"),
    "C": gettext_lazy("to class C"),
    "opened": gettext_lazy("reviews opened"),
    "townships": gettext_lazy("townships"),
    "alerts": gettext_lazy("alerts sent"),
    "cases_to_district": gettext_lazy("cases on to the district"),
    "terminations_to_district": gettext_lazy("terminations on to the district"),
    "failed": gettext_lazy("failed"),
    "reviews": gettext_lazy("overdue reviews"),
    "steps": gettext_lazy("overdue case steps"),
    "referrals": gettext_lazy("overdue referrals"),
    "leads": gettext_lazy("overdue contacts"),
    "ended": gettext_lazy("ended"),
    "checked": gettext_lazy("checked"),
    "changes": gettext_lazy("changes"),
    "reviews_opened": gettext_lazy("reviews opened"),
    "suspended": gettext_lazy("payments suspended"),
    "case_deadlines": gettext_lazy("cases with a deadline moved"),
    "referral_deadlines": gettext_lazy("referrals with a deadline moved"),
    "lead_deadlines": gettext_lazy("leads with a deadline moved"),
}


def _schedule(task) -> str:
    """A schedule in words: every day at 02:00, every 60 seconds."""
    cron = task.crontab
    if cron is not None:
        daily = (cron.day_of_week, cron.day_of_month, cron.month_of_year) == ("*", "*", "*")
        if daily and cron.hour.isdigit() and cron.minute.isdigit():
            return _("Every day at %(time)s (%(zone)s)") % {
                "time": f"{int(cron.hour):02d}:{int(cron.minute):02d}",
                "zone": cron.timezone,
            }
        return str(cron)
    if task.interval is not None:
        return (
            _("Every %(n)d seconds") % {"n": task.interval.every}
            if (task.interval.period == "seconds")
            else str(task.interval)
        )
    return ""


@role_required(Role.CITY_ADMIN)
def job_runs(request):
    """The scheduled jobs' run log: when each ran, how long, what it did, how it ended."""
    from django.core.paginator import Paginator
    from django_celery_beat.models import PeriodicTask

    from core.models import JobRun

    page = Paginator(JobRun.objects.all(), 50).get_page(request.GET.get("page"))
    for run in page.object_list:
        run.label = JOB_LABELS.get(run.job, run.job)
        run.count_rows = [(COUNT_LABELS.get(k, k), v) for k, v in (run.counts or {}).items()]
    schedules = list(PeriodicTask.objects.select_related("crontab", "interval").order_by("name"))
    for task in schedules:
        task.label = TASK_LABELS.get(task.task, task.name)
        task.when = _schedule(task)
    return render(request, "reports/jobs.html", {"page": page, "schedules": schedules})
