"""The residents' pages (no login, no JavaScript, a phone's width): lookups answer on the
same page after a POST (the ID tail never travels in a URL, and is not shown again);
standards and the self-check. Nothing here may be cached on the way."""

from __future__ import annotations

from django.shortcuts import render
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache

from core import ratelimit
from regions.models import Region

from . import forms, lookups, selfcheck, services
from .standards import standards_of


def _too_many() -> str:
    return _("Too many lookups; please try again in an hour.")


NOT_FOUND = {
    "progress": lambda: _(
        "No case matches this receipt number and ID number. Check both on your receipt and "
        "try again."
    ),
    "payments": lambda: _(
        "No household matches this household number and ID number. Check both on your "
        "decision letter and try again."
    ),
    "objection": lambda: _("No objection has this reference number."),
}


def hub(request):
    return render(request, "residents/hub.html")


def _lookup(request, *, kind, form_class, key_field, find, template):
    form = form_class(request.POST or None)
    context = {"form": form}
    if request.method == "POST" and form.is_valid():
        key = form.cleaned_data[key_field].strip()
        outcome, found = services.lookup(
            kind=kind,
            key=key,
            address=ratelimit.client_address(request),
            find=lambda: find(form.cleaned_data),
        )
        context["found"] = found
        context["error"] = {"refused": _too_many(), "no_match": NOT_FOUND[kind]()}.get(outcome)
        # Shown again with the number, never with the ID tail.
        context["form"] = form_class(initial={key_field: key})
    # A page (not the API): an answer that finds nothing is still a page with its form.
    return render(request, template, context)


@never_cache
def progress(request):
    return _lookup(
        request,
        kind="progress",
        form_class=forms.ProgressForm,
        key_field="receipt_number",
        find=lambda data: lookups.progress(data["receipt_number"], data["id_tail"]),
        template="residents/progress.html",
    )


@never_cache
def payments(request):
    return _lookup(
        request,
        kind="payments",
        form_class=forms.PaymentsForm,
        key_field="household_number",
        find=lambda data: lookups.payments(data["household_number"], data["id_tail"]),
        template="residents/payments.html",
    )


@never_cache
def objection(request):
    """An objection's state by its reference (the reference alone: it shows no one's data)."""
    form = forms.ObjectionForm(request.GET if "reference" in request.GET else None)
    context = {"form": form}
    if form.is_bound and form.is_valid():
        key = form.cleaned_data["reference"].strip().upper()
        outcome, found = services.lookup(
            kind="objection",
            key=key,
            address=ratelimit.client_address(request),
            find=lambda: lookups.objection(key),
        )
        context["found"] = found
        context["error"] = {"refused": _too_many(), "no_match": NOT_FOUND["objection"]()}.get(
            outcome
        )
    return render(request, "residents/objection.html", context)


def standards(request):
    form = forms.DistrictForm(request.GET or None)
    district = rows = None
    if form.is_bound and form.is_valid():
        district = form.cleaned_data["district"]
        rows = standards_of(district.code)
    return render(
        request,
        "residents/standards.html",
        {"form": form, "district": district, "rows": rows},
    )


@never_cache
def self_check(request):
    form = forms.SelfCheckForm(request.POST or None)
    context = {"form": form}
    if request.method == "POST" and form.is_valid():
        district = Region.objects.get(code=form.cleaned_data["district"])
        context.update(selfcheck.check(selfcheck.answers_from(form.cleaned_data)))
        context["window"] = selfcheck.window_of(district)
        context["checked"] = True
    return render(request, "residents/self_check.html", context)
