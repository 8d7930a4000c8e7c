"""Pages of the household import: upload, the check report, confirmation, downloads. For
district approvers and city administrators; a batch outside the user's jurisdiction is 404."""

import csv

from django import forms
from django.contrib import messages
from django.core.paginator import Paginator
from django.http import FileResponse, HttpResponse
from django.shortcuts import redirect, render
from django.urls import path
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from accounts.models import Role
from accounts.permissions import role_required
from core.exceptions import DomainError, ValidationFailed
from core.jobs import queue_on_commit

from . import imports, tasks
from .import_format import template_rows

BATCHES_PER_PAGE = 20
ERRORS_PER_PAGE = 50
POLL_SECONDS = 2

importer_required = role_required(Role.DISTRICT_APPROVER, Role.CITY_ADMIN)


class UploadForm(forms.Form):
    file = forms.FileField(
        label=gettext_lazy("File (.csv or .xlsx)"),
        widget=forms.ClearableFileInput(attrs={"accept": ".csv,.xlsx"}),
    )


class CommitForm(forms.Form):
    confirm = forms.BooleanField(required=True)


@importer_required
@require_http_methods(["GET", "POST"])
def import_list(request):
    form = UploadForm(request.POST or None, request.FILES or None)
    if request.method == "POST" and form.is_valid():
        try:
            batch = imports.import_batch_create(
                actor=request.user, uploaded_file=form.cleaned_data["file"]
            )
        except ValidationFailed as exc:
            for _field, message in exc.errors:
                form.add_error("file", message)
        else:
            queue_on_commit(tasks.import_check, batch.pk)
            messages.success(request, _("File uploaded; it is being checked."))
            return redirect("beneficiaries:import_detail", pk=batch.pk)
    batches = imports.import_batch_list(user=request.user)
    page = Paginator(batches, BATCHES_PER_PAGE).get_page(request.GET.get("page"))
    return render(
        request,
        "beneficiaries/import_list.html",
        {"form": form, "page": page, "max_mb": imports.MAX_UPLOAD_MB},
        status=400 if form.errors else 200,
    )


@importer_required
@require_GET
def import_detail(request, pk: int):
    batch = imports.import_batch_get_for_user(user=request.user, pk=pk)
    running = batch.status in imports.RUNNING
    context = {
        "batch": batch,
        "page": Paginator(batch.errors, ERRORS_PER_PAGE).get_page(request.GET.get("page")),
        "running": running,
        "poll_seconds": POLL_SECONDS,
        "percent": _percent(batch) if running else 100,
        "can_commit": batch.status == batch.Status.VALID
        and imports.can_commit(request.user, batch),
        "more_errors": max(batch.error_count - len(batch.errors), 0),
    }
    # While the check or the import runs, the page polls itself for just its body.
    template = "import_detail_body.html" if request.htmx else "import_detail.html"
    return render(request, f"beneficiaries/{template}", context)


def _percent(batch) -> int:
    if not batch.total_rows:
        return 0
    return min(100, batch.processed_rows * 100 // batch.total_rows)


@importer_required
@require_POST
def import_commit(request, pk: int):
    batch = imports.import_batch_get_for_user(user=request.user, pk=pk)
    if not CommitForm(request.POST).is_valid():
        messages.error(request, _("Tick the box to confirm that you have checked the report."))
    else:
        try:
            imports.import_batch_commit(actor=request.user, batch_id=batch.pk)
        except DomainError as exc:
            messages.error(request, exc.message)
        else:
            queue_on_commit(tasks.import_commit, batch.pk, request.user.pk)
            messages.success(request, _("The import has started; this page shows its progress."))
    return redirect("beneficiaries:import_detail", pk=batch.pk)


@importer_required
@require_GET
def import_errors_csv(request, pk: int):
    batch = imports.import_batch_get_for_user(user=request.user, pk=pk)
    if batch.error_report:  # every error, written by the check
        return FileResponse(
            batch.error_report.open("rb"),
            as_attachment=True,
            filename=f"import-{batch.pk}-errors.csv",
            content_type="text/csv; charset=utf-8",
        )
    response = _csv_response(f"import-{batch.pk}-errors.csv")
    writer = csv.writer(response)
    writer.writerow([_("Row"), _("Column"), _("Problem")])
    for error in batch.errors:
        writer.writerow(
            [
                error["row"] or "",
                imports.csv_safe(error["column"]),
                imports.csv_safe(error["message"]),
            ]
        )
    more = batch.error_count - len(batch.errors)
    if more > 0:
        message = _("…and %(n)d more errors not listed. Correct these and upload the file again.")
        writer.writerow(["", "", message % {"n": more}])
    return response


@importer_required
@require_GET
def import_template(request):
    response = _csv_response("household-import-template.csv")
    village_code = imports.example_village_code(user=request.user)
    csv.writer(response).writerows(template_rows(village_code=village_code))
    return response


def _csv_response(filename: str) -> HttpResponse:
    """CSV with a UTF-8 BOM, so that Excel opens the Chinese correctly."""
    response = HttpResponse(content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    response.write("\ufeff")
    return response


import_urlpatterns = [
    path("", import_list, name="import_list"),
    path("template.csv", import_template, name="import_template"),
    path("<int:pk>/", import_detail, name="import_detail"),
    path("<int:pk>/errors.csv", import_errors_csv, name="import_errors_csv"),
    path("<int:pk>/commit/", import_commit, name="import_commit"),
]
