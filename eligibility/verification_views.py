from django import forms
from django.contrib import messages
from django.core.paginator import Paginator
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import path
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from accounts.permissions import role_required
from accounts.scoping import scope_to_jurisdiction
from accounts.selectors import region_list
from core.exceptions import DomainError, ValidationFailed
from core.jobs import queue_on_commit
from core.widgets import QuickSelect

from . import tasks, verification
from .models import SharedDataImport, SharedSource, VerificationFinding, VerificationRun

VIEW_ROLES = tuple(verification.RUN_ROLES)


class UploadForm(forms.Form):
    source = forms.ChoiceField(label=gettext_lazy("Department"), choices=SharedSource.choices)
    file = forms.FileField(label=gettext_lazy("File (CSV)"))


class RunForm(forms.Form):
    region_code = forms.ChoiceField(label=gettext_lazy("Region to check"), widget=QuickSelect)

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        regions = region_list(user=user).filter(level__in=["city", "district", "township"])
        self.fields["region_code"].choices = [(r.code, r.name) for r in regions.order_by("code")]
        self.fields["region_code"].initial = user.jurisdiction.code


def _runs(user):
    return scope_to_jurisdiction(VerificationRun.objects.all(), user=user, code_field="region_code")


@role_required(*VIEW_ROLES)
def verification_home(request):
    return render(
        request,
        "eligibility/verification.html",
        {
            "imports": Paginator(
                SharedDataImport.objects.select_related("uploaded_by"), 20
            ).get_page(request.GET.get("imports_page")),
            "runs": Paginator(_runs(request.user), 20).get_page(request.GET.get("page")),
            "upload_form": UploadForm() if request.user.role in verification.IMPORT_ROLES else None,
            "run_form": RunForm(user=request.user),
            "formats": [
                (SharedSource(k).label, ["身份证号", *[h for h, _m in f.columns]], f.kinds)
                for k, f in verification.FORMATS.items()
            ],
        },
    )


@require_POST
@role_required(*verification.IMPORT_ROLES)
def shared_upload(request):
    form = UploadForm(request.POST, request.FILES)
    if not form.is_valid():
        messages.error(request, _("Choose the department and a CSV file."))
        return redirect("eligibility:verification")
    try:
        data_import = verification.shared_import_create(
            actor=request.user,
            source=form.cleaned_data["source"],
            uploaded_file=form.cleaned_data["file"],
        )
    except ValidationFailed as exc:
        messages.error(request, exc.message)
        return redirect("eligibility:verification")
    if data_import.error_count:
        messages.error(
            request,
            _("The file was refused: %(n)d rows have errors; nothing of it is used.")
            % {"n": data_import.error_count},
        )
    else:
        messages.success(request, _("%(n)d records loaded.") % {"n": data_import.row_count})
    return redirect("eligibility:shared_import", pk=data_import.pk)


@role_required(*verification.IMPORT_ROLES)
def shared_import_detail(request, pk):
    data_import = SharedDataImport.objects.filter(pk=pk).first()
    if data_import is None:
        raise Http404
    return render(request, "eligibility/shared_import.html", {"data_import": data_import})


@require_POST
@role_required(*VIEW_ROLES)
def run_start(request):
    form = RunForm(request.POST, user=request.user)
    if not form.is_valid():
        messages.error(request, _("Choose a region in your jurisdiction."))
        return redirect("eligibility:verification")
    try:
        run = verification.verification_run_start(
            actor=request.user, region_code=form.cleaned_data["region_code"]
        )
    except DomainError as exc:
        messages.error(request, exc.message)
        return redirect("eligibility:verification")
    queue_on_commit(tasks.verification_run_execute, run.pk)
    messages.success(request, _("The verification has been queued; this page shows its result."))
    return redirect("eligibility:run", pk=run.pk)


@role_required(*VIEW_ROLES)
def run_detail(request, pk):
    run = _runs(request.user).filter(pk=pk).first()
    if run is None:
        raise Http404
    findings = VerificationFinding.objects.filter(run=run).select_related(
        "household__region", "member"
    )
    return render(
        request,
        "eligibility/run.html",
        {
            "run": run,
            "imports": run.imports.all(),
            "findings": Paginator(findings, 50).get_page(request.GET.get("page")),
        },
    )


verification_urlpatterns = [
    path("", verification_home, name="verification"),
    path("upload/", shared_upload, name="shared_upload"),
    path("imports/<int:pk>/", shared_import_detail, name="shared_import"),
    path("runs/", run_start, name="run_start"),
    path("runs/<int:pk>/", run_detail, name="run"),
]
