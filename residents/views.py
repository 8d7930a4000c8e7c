"""The residents' pages (no login, no JavaScript, a phone's width): lookups answer on the
same page after a POST (the ID tail never travels in a URL); standards and the self-check."""

from __future__ import annotations

from django.shortcuts import render
from django.utils.translation import gettext as _

from core import ratelimit
from regions.models import Region

from . import forms, lookups, selfcheck, services
from .standards import standards_of


def hub(request):
    return render(request, "residents/hub.html")


def _lookup(request, *, kind, form_class, key_field, find, template):
    form = form_class(request.POST or None)
    context = {"form": form}
    status = 200
    if request.method == "POST" and form.is_valid():
        key = form.cleaned_data[key_field].strip()
        address = ratelimit.client_address(request)
        if services.too_many(kind=kind, key=key, address=address):
            context["error"] = _("Too many lookups; please try again in an hour.")
            status = 429
        else:
            found = find(form.cleaned_data)
            services.lookup_record(kind=kind, key=key, found=found is not None, address=address)
            if found is None:
                context["error"] = {
                    "progress": _(
                        "No case matches this receipt number and ID number. Check both on "
                        "your receipt and try again."
                    ),
                    "payments": _(
                        "No household matches this household number and ID number. Check "
                        "both on your decision letter and try again."
                    ),
                }[kind]
                status = 404
            else:
                context["found"] = found
    return render(request, template, context, status=status)


def progress(request):
    return _lookup(
        request,
        kind="progress",
        form_class=forms.ProgressForm,
        key_field="receipt_number",
        find=lambda data: lookups.progress(data["receipt_number"], data["id_tail"]),
        template="residents/progress.html",
    )


def payments(request):
    return _lookup(
        request,
        kind="payments",
        form_class=forms.PaymentsForm,
        key_field="household_number",
        find=lambda data: lookups.payments(data["household_number"], data["id_tail"]),
        template="residents/payments.html",
    )


def objection(request):
    """An objection's state by its reference (the reference alone: it shows no one's data)."""
    form = forms.ObjectionForm(request.GET if "reference" in request.GET else None)
    context, status = {"form": form}, 200
    if form.is_bound and form.is_valid():
        key = form.cleaned_data["reference"].strip().upper()
        address = ratelimit.client_address(request)
        if services.too_many(kind="objection", key=key, address=address):
            context["error"], status = _("Too many lookups; please try again in an hour."), 429
        else:
            found = lookups.objection(key)
            services.lookup_record(
                kind="objection", key=key, found=found is not None, address=address
            )
            if found is None:
                context["error"] = _("No objection has this reference number.")
                status = 404
            context["found"] = found
    return render(request, "residents/objection.html", context, status=status)


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


def self_check(request):
    form = forms.SelfCheckForm(request.POST or None)
    context = {"form": form}
    if request.method == "POST" and form.is_valid():
        district = Region.objects.get(code=form.cleaned_data["district"])
        context.update(selfcheck.check(selfcheck.answers_from(form.cleaned_data)))
        context["window"] = selfcheck.window_of(district)
        context["checked"] = True
    return render(request, "residents/self_check.html", context)
