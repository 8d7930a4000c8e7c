"""Pages of the funds (资金统筹): execution by district and the allocations by source."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from django import forms
from django.contrib import messages
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from accounts.models import Role
from accounts.permissions import role_required
from beneficiaries.models import Programme
from core.exceptions import DomainError
from core.months import add_months
from regions.models import Region

from . import funds, services
from .models import FundAllocation
from .views import FINANCE, PAYROLL_READERS, districts_of, errors_of, flash, form_errors

# --- funds ------------------------------------------------------------------------------------


class AllocationForm(forms.Form):
    year = forms.IntegerField(label=gettext_lazy("Year"), min_value=2000, max_value=2100)
    district = forms.ModelChoiceField(
        label=gettext_lazy("District"), queryset=Region.objects.none()
    )
    programme = forms.ChoiceField(label=gettext_lazy("Programme"), choices=Programme.choices)
    source = forms.ChoiceField(label=gettext_lazy("Source"), choices=FundAllocation.Source.choices)
    amount = forms.DecimalField(
        label=gettext_lazy("Amount (yuan)"), max_digits=14, decimal_places=2, min_value=0
    )
    note = forms.CharField(label=gettext_lazy("Document or note"), required=False, max_length=200)

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["district"].queryset = districts_of(user)


@role_required(*PAYROLL_READERS)
def fund_execution(request):
    """资金统筹: allocated, spent and the share per district and programme for a year."""
    try:
        year = int(request.GET.get("year", ""))
    except ValueError:
        year = timezone.localdate().year
    districts = districts_of(request.user)
    rows = funds.execution(year=year, districts=districts)
    names = {d.pk: d.name for d in districts}
    warning = services.warning_share(dt.date(year, 1, 1))
    for row in rows:
        row["district"] = names.get(row["district_id"], "")
        row["programme_label"] = Programme(row["programme"]).label
        share = row["position"].share
        row["percent"] = None if share is None else (share * 100).quantize(Decimal("0.01"))
        row["level"] = (
            "over"
            if share is not None and share > 1
            else "warn"
            if share and share >= warning
            else ""
        )
    can_allocate = request.user.role in (FINANCE, Role.CITY_ADMIN)
    form = None
    if can_allocate:
        form = AllocationForm(
            user=request.user,
            initial={
                "year": year,
                "district": request.user.jurisdiction if request.user.role == FINANCE else None,
            },
        )
    allocations = FundAllocation.objects.filter(year=year, district__in=districts).select_related(
        "district", "created_by"
    )
    return render(
        request,
        "payments/funds.html",
        {
            "year": year,
            "years": [year - 1, year, year + 1],
            "rows": rows,
            "warning_percent": (warning * 100).quantize(Decimal("1")),
            "form": form,
            "allocations": allocations,
            "next_month": add_months(timezone.localdate().replace(day=1), 1),
        },
    )


@require_POST
@role_required(FINANCE, Role.CITY_ADMIN)
def allocation_set(request):
    form = AllocationForm(request.POST, user=request.user)
    year = request.POST.get("year", "")
    year = year if year.isdigit() else ""
    if not form.is_valid():
        flash(request, form_errors(form))
        return redirect(reverse("payments:funds") + f"?year={year}")
    data = form.cleaned_data
    try:
        services.allocation_set(
            actor=request.user,
            year=data["year"],
            district=data["district"],
            programme=data["programme"],
            source=data["source"],
            amount=data["amount"],
            note=data["note"],
        )
    except DomainError as exc:
        flash(request, errors_of(exc))
    else:
        messages.success(request, _("The allocation is recorded."))
    return redirect(reverse("payments:funds") + f"?year={data['year']}")
