from django import forms
from django.contrib import messages
from django.core.paginator import Paginator
from django.http import FileResponse, Http404
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from accounts import permissions
from accounts.models import Role
from accounts.permissions import role_required
from accounts.selectors import audit_event_list, region_list
from beneficiaries.models import Programme
from beneficiaries.templatetags.privacy import mask_sensitive
from core.audit import events_page
from core.exceptions import DomainError
from core.jobs import queue_on_commit
from core.widgets import QuickSelect
from regions.models import Region

from . import services, tasks
from .api import download_name
from .filters import AuditEventFilter
from .models import Export


@role_required(*permissions.AUDIT_LOG_READERS)
def audit_log(request):
    events = AuditEventFilter(request.GET, queryset=audit_event_list(user=request.user))
    return render(
        request, "reports/audit_log.html", events_page(request, events, mask=mask_sensitive)
    )


# What the city admin reads instead of task paths, job names and counter keys.
TASK_LABELS = {
    "recertification.tasks.nightly": gettext_lazy("Nightly dynamic management"),
    "core.tasks.heartbeat": gettext_lazy("Background worker heartbeat"),
    "celery.backend_cleanup": gettext_lazy("Clean up finished task results"),
    "recertification.tasks.household_changes": gettext_lazy(
        "Review households whose situation changed"
    ),
    "reports.tasks.exports_purge": gettext_lazy("Delete expired export files"),
    "reports.tasks.statistics_refresh": gettext_lazy("Compute the monthly statistics return"),
    "beneficiaries.tasks.duplicates_find": gettext_lazy("Find likely duplicate people"),
    "core.tasks.audit_seal": gettext_lazy("Seal new audit events into the hash chain"),
    "chongqing_relief.tasks.queued_work_resend": gettext_lazy(
        "Send again the work no worker has finished"
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
    "standing_catch_up": gettext_lazy("Bring the public list of households up to date"),
    "deadlines_recompute": gettext_lazy("Count deadlines again after a calendar change"),
    "exports_purge": gettext_lazy("Delete expired export files"),
    "statistics_refresh": gettext_lazy("Compute the monthly statistics return"),
    "duplicates_find": gettext_lazy("Find likely duplicate people"),
    "audit_seal": gettext_lazy("Seal new audit events into the hash chain"),
    "queued_work_resend": gettext_lazy("Send again the work no worker has finished"),
}
COUNT_LABELS = {
    "changed": gettext_lazy("classes changed"),
    "A": gettext_lazy("to class A"),
    "B": gettext_lazy("to class B"),
    "C": gettext_lazy("to class C"),
    "opened": gettext_lazy("reviews opened"),
    "villages": gettext_lazy("villages brought up to date"),
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
    "purged": gettext_lazy("files deleted"),
    "payrolls": gettext_lazy("payrolls sent again"),
    "exports": gettext_lazy("exports sent again"),
    "verifications": gettext_lazy("verification runs sent again"),
    "import_checks": gettext_lazy("import checks sent again"),
    "imports": gettext_lazy("imports sent again"),
    "members": gettext_lazy("people checked"),
    "same_name_and_birth": gettext_lazy("same name and birth date"),
    "id_typos": gettext_lazy("ID numbers one character apart"),
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


# --- register exports -----------------------------------------------------------------------


class ExportForm(forms.Form):
    register = forms.ChoiceField(label=gettext_lazy("Register"), choices=Export.Register.choices)
    format = forms.ChoiceField(label=gettext_lazy("Format"), choices=Export.Format.choices)
    region = forms.ModelChoiceField(
        label=gettext_lazy("Region"), queryset=Region.objects.none(), widget=QuickSelect
    )
    programme = forms.ChoiceField(
        label=gettext_lazy("Programme"),
        required=False,
        choices=[("", gettext_lazy("Any")), *Programme.choices],
    )
    date_from = forms.DateField(
        label=gettext_lazy("From"), required=False, widget=forms.DateInput(attrs={"type": "date"})
    )
    date_to = forms.DateField(
        label=gettext_lazy("To"), required=False, widget=forms.DateInput(attrs={"type": "date"})
    )
    per_member = forms.BooleanField(
        label=gettext_lazy("Recipients register: one row per counted member"), required=False
    )
    full_identifiers = forms.BooleanField(
        label=gettext_lazy("Full ID numbers (auditors and the city only; logged)"), required=False
    )
    purpose = forms.CharField(
        label=gettext_lazy("Purpose (required for full ID numbers)"),
        required=False,
        max_length=200,
    )

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["region"].queryset = (
            region_list(user=user).exclude(level=Region.Level.VILLAGE).order_by("code")
        )
        self.fields["region"].initial = user.jurisdiction_id
        if user.role not in permissions.AUDIT_LOG_READERS:
            self.fields["register"].choices = [
                (value, label)
                for value, label in Export.Register.choices
                if value != Export.Register.AUDIT_EVENTS
            ]
        if user.role not in services.FULL_IDENTIFIERS:
            del self.fields["full_identifiers"]
            del self.fields["purpose"]


@role_required(*services.EXPORTERS)
def exports(request):
    """The user's exports, newest first, with the form to ask for one; the list follows
    the running ones."""
    form = ExportForm(request.POST or None, user=request.user)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            export = services.export_request(
                actor=request.user,
                register=data["register"],
                fmt=data["format"],
                region=data["region"],
                programme=data["programme"],
                date_from=data["date_from"],
                date_to=data["date_to"],
                full_identifiers=data.get("full_identifiers", False),
                per_member=data["per_member"],
                purpose=data.get("purpose", ""),
            )
        except DomainError as exc:
            errors = exc.messages
            for error in errors:
                messages.error(request, error)
        else:
            queue_on_commit(tasks.export_run, export.pk)
            messages.success(request, _("The export is being written; this page follows it."))
            return redirect("reports:exports")
    mine = Export.objects.filter(requested_by=request.user).select_related("region")
    page = Paginator(mine, 20).get_page(request.GET.get("page"))
    running = any(e.status in (Export.Status.QUEUED, Export.Status.RUNNING) for e in page)
    template = "reports/_exports_list.html" if request.htmx else "reports/exports.html"
    return render(
        request,
        template,
        {"form": form, "page": page, "query": "", "running": running, "now": timezone.now()},
    )


@role_required(*services.EXPORTERS)
def export_download(request, pk):
    export = (
        Export.objects.filter(pk=pk, requested_by=request.user).select_related("region").first()
    )
    if export is None:
        raise Http404
    try:
        handle = services.export_open(actor=request.user, export=export)
    except DomainError as exc:
        messages.error(request, exc.message)
        return redirect("reports:exports")
    response = FileResponse(handle, as_attachment=True, filename=download_name(export))
    response["Cache-Control"] = "no-store"
    return response
