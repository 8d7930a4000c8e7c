from django import forms
from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.http import FileResponse, Http404
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from accounts.permissions import role_required
from beneficiaries import selectors as registry
from beneficiaries import services as registry_services
from beneficiaries.views import READ_ROLES
from core.exceptions import DomainError, OutOfScopeError
from core.pagination import CappedPaginator

from . import flows, selectors, services
from .models import Application, Channel, Department, Material, Programme


class IntakeForm(forms.Form):
    programmes = forms.MultipleChoiceField(
        label=gettext_lazy("Assistance decided here"),
        choices=Programme.choices,
        widget=forms.CheckboxSelectMultiple,
        required=False,
    )
    referrals = forms.MultipleChoiceField(
        label=gettext_lazy("Requests for other departments"),
        choices=Department.Kind.choices,
        widget=forms.CheckboxSelectMultiple,
        required=False,
    )
    channel = forms.ChoiceField(label=gettext_lazy("Channel"), choices=Channel.choices)
    close_relative = forms.BooleanField(
        label=gettext_lazy(
            "The applicant or a member is a close relative of civil-affairs staff or a village "
            "cadre (registered separately)"
        ),
        required=False,
    )
    materials = forms.MultipleChoiceField(
        label=gettext_lazy("Materials handed in"),
        choices=Material.choices,
        widget=forms.CheckboxSelectMultiple,
        required=False,
    )
    single_member = forms.ChoiceField(
        label=gettext_lazy("低保 for one member alone (单人保)"),
        required=False,
        help_text=gettext_lazy(
            "For a 低保边缘 family: a member with a grade 1–2 disability, a grade-3 intellectual "
            "or mental disability or a serious illness may apply alone."
        ),
    )

    def __init__(self, *args, household, **kwargs):
        super().__init__(*args, **kwargs)
        self.candidates = {str(m.pk): m for m in services.single_member_choices(household)}
        self.fields["single_member"].choices = [
            ("", gettext_lazy("No: the whole household")),
            *((pk, m.name) for pk, m in self.candidates.items()),
        ]


class MaterialsForm(forms.Form):
    version = forms.IntegerField(widget=forms.HiddenInput)
    received = forms.MultipleChoiceField(
        label=gettext_lazy("Materials handed in"),
        choices=Material.choices,
        widget=forms.CheckboxSelectMultiple,
        required=False,
    )


@role_required(*flows.WINDOW)
def intake(request, household_pk):
    """One form for one visit: every kind of help the family asks for."""
    household = registry.household_get_for_user(user=request.user, pk=household_pk, write=True)
    form = IntakeForm(request.POST or None, household=household)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            result = services.application_intake(
                actor=request.user,
                household=household,
                programmes=data["programmes"],
                referrals=data["referrals"],
                channel=data["channel"],
                materials_received=set(data["materials"]),
                close_relative_declared=data["close_relative"],
                single_member=form.candidates.get(data["single_member"]),
            )
        except DomainError as exc:  # ValidationFailed included
            form.add_error(None, exc.message)
        else:
            messages.success(
                request,
                _("%(a)d application(s) accepted, %(r)d referral(s) sent.")
                % {"a": len(result.applications), "r": len(result.referrals)},
            )
            if result.applications:
                return redirect("applications:detail", pk=result.applications[0].pk)
            return redirect("beneficiaries:detail", pk=household.pk)
    return render(request, "applications/intake.html", {"household": household, "form": form})


class ListFilter(forms.Form):
    q = forms.CharField(label=gettext_lazy("Application or household number"), required=False)
    status = forms.ChoiceField(
        label=gettext_lazy("Status"),
        choices=[("", gettext_lazy("Any")), *Application.Status.choices],
        required=False,
    )
    programme = forms.ChoiceField(
        label=gettext_lazy("Programme"),
        choices=[("", gettext_lazy("Any")), *Programme.choices],
        required=False,
    )
    received_from = forms.DateField(
        label=gettext_lazy("Received from"),
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}),
    )
    received_to = forms.DateField(
        label=gettext_lazy("Received to"),
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}),
    )


@role_required(*READ_ROLES)
def application_list(request):
    """Every application the user may see, filtered and paginated, newest first."""
    form = ListFilter(request.GET or None)
    filters = form.cleaned_data if form.is_valid() else {}
    qs = selectors.application_search(user=request.user, **filters)
    page = CappedPaginator(qs, 25).get_page(request.GET.get("page"))
    query = request.GET.copy()
    query.pop("page", None)
    return render(
        request,
        "applications/list.html",
        {"form": form, "page": page, "query": query.urlencode()},
    )


@role_required(*READ_ROLES)
def detail(request, pk):
    application = selectors.application_get_for_user(user=request.user, pk=pk)
    materials = list(application.materials.all())
    form = MaterialsForm(
        request.POST or None,
        initial={
            "version": application.version,
            "received": [m.material for m in materials if m.received],
        },
    )
    form.fields["received"].choices = [(m.material, m.get_material_display()) for m in materials]
    if request.method == "POST":
        if request.user.role not in flows.WINDOW:
            return render(request, "403.html", status=403)
        if form.is_valid():
            try:
                services.application_materials_update(
                    actor=request.user,
                    application=application,
                    expected_version=form.cleaned_data["version"],
                    received=set(form.cleaned_data["received"]),
                )
            except DomainError as exc:
                messages.error(request, exc.message)
            else:
                messages.success(request, _("Materials saved."))
            return redirect("applications:detail", pk=application.pk)
    return render_detail(request, application, form=form, materials=materials)


def render_detail(
    request, application, *, form=None, materials=None, errors=(), posted=None, status=200
):
    """The case page: its materials and scans, the step it is at with what this user may
    do there, its records (visits, appraisals, notices, objections) and its history."""
    materials = materials if materials is not None else list(application.materials.all())
    if form is None:
        form = MaterialsForm(
            initial={
                "version": application.version,
                "received": [m.material for m in materials if m.received],
            }
        )
        form.fields["received"].choices = [
            (m.material, m.get_material_display()) for m in materials
        ]
    role = request.user.role
    context = {
        "application": application,
        "materials": materials,
        "form": form,
        "missing": [m for m in materials if m.required and not m.received],
        "can_edit": role in flows.WINDOW
        and application.status in (Application.Status.RECEIVED, Application.Status.NEEDS_MATERIALS),
        "scans": application.scans.all(),
        "scan_form": ScanForm(),
        "can_scan": role in flows.WINDOW and application.status in flows.OPEN,
        "can_open_scans": role in services.SCAN_READERS,
        "has_visit": application.visits.exists(),
        "can_withdraw": flows.target(application.status, "withdraw", role),
        "events": _labelled(selectors.application_events(application=application)),
        "errors": errors,
        "posted": posted or {},
        **selectors.review_context(application=application, user=request.user),
    }
    return render(request, "applications/detail.html", context, status=status)


def _labelled(events):
    labels = dict(Application.Status.choices)
    for event in events:
        event.from_label = labels.get(event.from_state, event.from_state)
        event.to_label = labels.get(event.to_state, event.to_state)
        yield event


class WithdrawForm(forms.Form):
    version = forms.IntegerField(widget=forms.HiddenInput)
    reason = forms.CharField(
        label=gettext_lazy("Why the family withdraws (as they said it)"),
        widget=forms.Textarea(attrs={"rows": 2}),
    )
    confirm = forms.BooleanField(
        label=gettext_lazy("I have read this back to the applicant; the withdrawal is final.")
    )


@role_required(*flows.WINDOW)
def withdraw(request, pk):
    """A confirmation page, then the withdrawal: it cannot be undone (a new application
    would be needed)."""
    application = selectors.application_get_for_user(user=request.user, pk=pk)
    form = WithdrawForm(request.POST or None, initial={"version": application.version})
    if request.method == "POST" and form.is_valid():
        try:
            services.application_withdraw(
                actor=request.user,
                application=application,
                expected_version=form.cleaned_data["version"],
                reason=form.cleaned_data["reason"],
            )
        except DomainError as exc:
            messages.error(request, exc.message)
        else:
            messages.success(request, _("The application was withdrawn."))
        return redirect("applications:detail", pk=application.pk)
    return render(request, "applications/withdraw.html", {"application": application, "form": form})


@role_required(*READ_ROLES)
def receipt(request, pk):
    application = selectors.application_get_for_user(user=request.user, pk=pk)
    return render(
        request,
        "applications/receipt.html",
        {
            "application": application,
            "materials": application.materials.all(),
            "missing": application.materials.filter(received=False, required=True),
        },
    )


@role_required(*READ_ROLES)
def notice(request, pk):
    """一次性告知书: everything still missing, listed at once."""
    application = selectors.application_get_for_user(user=request.user, pk=pk)
    return render(
        request,
        "applications/notice.html",
        {
            "application": application,
            "missing": application.materials.filter(received=False, required=True),
        },
    )


@role_required(*flows.WINDOW)
def application_form(request, pk):
    """申请书: the application the head of household signs, prefilled from the register,
    with the members' signatures authorising the economic check. It carries the full ID
    numbers and phone, so printing it is recorded like any other reveal."""
    application = selectors.application_get_for_user(user=request.user, pk=pk)
    household = registry.household_detail(user=request.user, pk=application.household_id)
    registry_services.household_sensitive_view(
        actor=request.user,
        household=household,
        reason=_("Application form %(number)s printed with full ID numbers and phone")
        % {"number": application.number},
    )
    return render(
        request,
        "applications/application_form.html",
        {
            "application": application,
            "household": household,
            "members": household.current_members,
            "summary": registry.counted_summary(household),
        },
    )


@role_required(*flows.WINDOW)
def visit_record(request, pk):
    """入户调查表: the investigation's latest home visit, for both staff and the family to
    sign."""
    application = selectors.application_get_for_user(user=request.user, pk=pk)
    visit = (
        application.visits.select_related("recorded_by", "second_staff")
        .order_by("-visited_on", "-id")
        .first()
    )
    if visit is None:
        raise Http404
    return render(
        request,
        "applications/visit_record.html",
        {
            "application": application,
            "visit": visit,
            "members": application.household.members.filter(is_current=True).order_by("id"),
        },
    )


class ScanForm(forms.Form):
    material = forms.ChoiceField(label=gettext_lazy("Material"), choices=Material.choices)
    file = forms.FileField(label=gettext_lazy("Scan (PDF, PNG or JPEG, at most 10 MB)"))


@require_POST
@role_required(*flows.WINDOW)
def scan_upload(request, pk):
    application = selectors.application_get_for_user(user=request.user, pk=pk)
    form = ScanForm(request.POST, request.FILES)
    if not form.is_valid():
        messages.error(request, _("Choose the material and a file."))
    else:
        try:
            services.scan_upload(
                actor=request.user,
                application=application,
                material=form.cleaned_data["material"],
                uploaded_file=form.cleaned_data["file"],
            )
        except DomainError as exc:
            messages.error(request, exc.message)
        else:
            messages.success(request, _("Scan added."))
    return redirect("applications:detail", pk=application.pk)


@role_required(*READ_ROLES)
def scan_download(request, pk, scan_pk):
    """Only staff who can see the application get the file (404 otherwise); each opening
    is in the audit log."""
    application = selectors.application_get_for_user(user=request.user, pk=pk)
    scan = application.scans.filter(pk=scan_pk).first()
    if scan is None:
        raise Http404
    try:
        services.scan_viewed(actor=request.user, scan=scan)
    except OutOfScopeError:
        raise PermissionDenied from None
    return FileResponse(
        scan.file.open("rb"),
        as_attachment=True,
        filename=f"{application.number}-{scan.material}.{scan.file.name.rsplit('.', 1)[-1]}",
    )
