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
from accounts.selectors import region_list
from beneficiaries import selectors as registry
from core.exceptions import DomainError

from . import flows, selectors, services
from .models import Lead, Programme


class LeadForm(forms.Form):
    village = forms.ModelChoiceField(label=gettext_lazy("Village/community"), queryset=None)
    person_name = forms.CharField(label=gettext_lazy("Person"), max_length=64)
    location = forms.CharField(label=gettext_lazy("Where"), max_length=200)
    situation = forms.CharField(
        label=gettext_lazy("What happened"), widget=forms.Textarea(attrs={"rows": 3})
    )
    urgency = forms.ChoiceField(label=gettext_lazy("Urgency"), choices=Lead.Urgency.choices)

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["village"].queryset = region_list(user=user).filter(level="village")


class ConvertForm(forms.Form):
    household_number = forms.CharField(label=gettext_lazy("Household number"), max_length=20)
    programmes = forms.MultipleChoiceField(
        label=gettext_lazy("Programmes"),
        choices=Programme.choices,
        widget=forms.CheckboxSelectMultiple,
    )


@role_required(*services.LEAD_REPORTERS)
def leads(request):
    form = LeadForm(request.POST or None, user=request.user)
    if request.method == "POST" and form.is_valid():
        try:
            services.lead_report(actor=request.user, **form.cleaned_data)
        except DomainError as exc:
            form.add_error(None, exc.message)
        else:
            messages.success(request, _("Reported. The township has been asked to make contact."))
            return redirect("applications:leads")
    page = Paginator(selectors.lead_list(user=request.user), 20).get_page(request.GET.get("page"))
    return render(
        request,
        "applications/leads.html",
        {
            "form": form,
            "page": page,
            "convert_form": ConvertForm(),
            "contact_form": ContactForm(),
            "can_convert": request.user.role in flows.WINDOW,
        },
    )


@require_POST
@role_required(*flows.WINDOW)
def lead_convert(request, pk):
    lead = selectors.lead_list(user=request.user).filter(pk=pk).first()
    if lead is None:
        raise Http404
    form = ConvertForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("Enter the household number and tick a programme."))
        return redirect("applications:leads")
    household = (
        registry.household_scope(user=request.user)
        .filter(number=form.cleaned_data["household_number"].strip())
        .first()
    )
    if household is None:
        messages.error(
            request, _("No household with this number in your jurisdiction; register it first.")
        )
        return redirect("applications:leads")
    try:
        result = services.lead_convert(
            actor=request.user,
            lead=lead,
            household=household,
            programmes=form.cleaned_data["programmes"],
        )
    except DomainError as exc:
        messages.error(request, exc.message)
        return redirect("applications:leads")
    return redirect("applications:detail", pk=result.applications[0].pk)


class ContactForm(forms.Form):
    outcome = forms.ChoiceField(
        label=gettext_lazy("Outcome"),
        choices=[
            (Lead.Status.CONTACTED, gettext_lazy("Contacted, to be followed up")),
            (Lead.Status.CLOSED, gettext_lazy("Closed: no application needed")),
        ],
    )
    note = forms.CharField(label=gettext_lazy("What the contact found"), max_length=2000)


@require_POST
@role_required(*flows.WINDOW)
def lead_contact(request, pk):
    lead = selectors.lead_list(user=request.user).filter(pk=pk).first()
    if lead is None:
        raise Http404
    form = ContactForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("Choose the outcome and write down what the contact found."))
        return redirect("applications:leads")
    try:
        services.lead_contact(actor=request.user, lead=lead, **form.cleaned_data)
    except DomainError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, _("Contact recorded."))
    return redirect("applications:leads")


@require_POST
@role_required(*flows.WINDOW)
def referral_reply(request, pk):
    referral = selectors.referral_list(user=request.user).filter(pk=pk).first()
    if referral is None:
        raise Http404
    try:
        services.referral_reply(
            actor=request.user, referral=referral, reply=request.POST.get("reply", "")
        )
    except DomainError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, _("Reply recorded."))
    return redirect("beneficiaries:detail", pk=referral.household_id)


lead_urlpatterns = [
    path("leads/", leads, name="leads"),
    path("leads/<int:pk>/convert/", lead_convert, name="lead_convert"),
    path("leads/<int:pk>/contact/", lead_contact, name="lead_contact"),
    path("referrals/<int:pk>/reply/", referral_reply, name="referral_reply"),
]
