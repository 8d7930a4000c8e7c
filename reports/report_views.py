"""The statistics return, the dashboard and the 绩效评价 in the browser: each readable for the
user's jurisdiction, each table downloadable, each figure of the return traced to its rows.
They read from the replica when there is one (core.dbrouters): figures a few seconds old are
good enough for a report, and the primary is left to the casework. The figures the city
enters are written and read back on the primary."""

from __future__ import annotations

from decimal import Decimal, InvalidOperation

from django import forms
from django.contrib import messages
from django.core.paginator import Paginator
from django.db import transaction
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.http import content_disposition_header, urlencode
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from accounts.models import Role
from accounts.permissions import role_required
from beneficiaries import idnumber
from beneficiaries.models import Member, Programme
from core.dbrouters import reading_from_replica, replica_in_use
from core.exceptions import DomainError, ValidationFailed
from core.jobs import BACKGROUND_UNREACHABLE, JobRun, queue
from payments.models import PayrollLine
from regions.models import Region

from . import dashboard, indicators, services, statistics, tasks, writers
from .models import ConsumptionSpending, RegisteredPopulation
from .selectors import report_month, report_region, report_year
from .statistics_xlsx import workbook

READERS = services.STATISTICS_READERS
BLOCK_CHOICES = [
    *[(f"{p}-{r}", title) for p, r, title in statistics.BLOCKS],
    ("temporary", gettext_lazy("临时救助")),
]
SEX = dict(Member.Sex.choices)
LINE_KIND, LINE_STATUS = dict(PayrollLine.Kind.choices), dict(PayrollLine.Status.choices)


def _place(request):
    """The region and month asked for, or the user's own and last month with a message."""
    try:
        region = report_region(user=request.user, code=request.GET.get("region", ""))
        month = report_month(request.GET.get("month", ""), region)
    except DomainError as exc:
        messages.error(request, exc.message)
        return request.user.jurisdiction, report_month("", request.user.jurisdiction)
    return region, month


def _trail(region: Region) -> list[Region]:
    trail, node = [], region
    while node is not None:
        trail.append(node)
        node = node.parent
    return trail[::-1]


def _last_computed():
    return (
        JobRun.objects.filter(job="statistics_refresh", status=JobRun.Status.DONE)
        .order_by("-finished_at")
        .values_list("finished_at", flat=True)
        .first()
    )


# --- the monthly statistics return ------------------------------------------------------------


@role_required(*READERS)
@reading_from_replica()
def statistics_return(request):
    region, month = _place(request)
    block = request.GET.get("block", "dibao-urban")
    if block not in dict(BLOCK_CHOICES):
        block = "dibao-urban"
    returns = statistics.level_returns(region, dashboard.rows_level(region), month)
    programme, _sep, residence = block.partition("-")
    columns = (
        statistics.TEMPORARY_COLUMNS if programme == "temporary" else statistics.MONTHLY_COLUMNS
    )
    rows = []
    for index, result in enumerate(returns):  # the region's own total comes last
        cells = result[programme][residence] if residence else result[programme]
        total = index == len(returns) - 1
        # The whole city is too large to list: its rows are reached district by district.
        traceable = not (total and region.level == Region.Level.CITY)
        rows.append(
            {
                "name": result["region_name"],
                "code": result["region"],
                "total": total,
                "cells": [
                    {
                        "value": cells[key],
                        "url": _rows_url(result["region"], month, programme, residence, key)
                        if traceable and statistics.traced_figure(key)
                        else "",
                    }
                    for key, _label in columns
                ],
            }
        )
    query = {"region": region.code, "month": f"{month:%Y-%m}"}
    return render(
        request,
        "reports/statistics.html",
        {
            "region": region,
            "trail": _trail(region),
            "month": month,
            "current_block": block,
            "blocks": BLOCK_CHOICES,
            "columns": [label for _key, label in columns],
            "rows": rows,
            "query": urlencode(query),
            "computed": statistics.computed_at(region, month),
            "last_run": _last_computed(),
            "may_refresh": request.user.role == Role.CITY_ADMIN,
            "from_replica": replica_in_use(),
        },
    )


def _rows_url(code, month, programme, residence, key) -> str:
    return (
        reverse("reports:statistics_rows")
        + "?"
        + urlencode(
            {
                "region": code,
                "month": f"{month:%Y-%m}",
                "programme": programme,
                "residence": residence,
                "figure": statistics.traced_figure(key),
            }
        )
    )


@role_required(*READERS)
@reading_from_replica()
def statistics_download(request):
    region, month = _place(request)
    response = HttpResponse(
        workbook(region, month),
        content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    )
    name = _("statistics-%(region)s-%(month)s.xlsx") % {
        "region": region.name,
        "month": f"{month:%Y-%m}",
    }
    response["Content-Disposition"] = content_disposition_header(True, name)
    return response


@role_required(*READERS)
@reading_from_replica()
def statistics_rows(request):
    """The rows behind one figure of the return (members, payments or entitlements)."""
    region, month = _place(request)
    programme = request.GET.get("programme", "")
    residence = request.GET.get("residence", "")
    figure = request.GET.get("figure", "")
    if (
        programme not in statistics.PROGRAMMES
        or residence not in ("", *statistics.RESIDENCES)
        or figure not in statistics.FIGURES
        or region.level == Region.Level.CITY
    ):
        raise Http404
    rows = statistics.rows_behind(
        user=request.user,
        region=region,
        month=month,
        programme=programme,
        residence=residence,
        figure=figure,
    )
    if figure in statistics.PERSON_FIGURES:
        kind = "persons"
    elif figure in statistics.FLOW_FIGURES:
        kind = "flows"
    elif figure == "households" and programme != Programme.TEMPORARY:
        kind = "households"
    else:
        kind = "lines"
    result = statistics.return_for(region, month)
    block = result[programme][residence] if residence else result[programme]
    # A district's rows are its own payroll's (a few thousand): counted, not assumed.
    page = Paginator(rows, 50).get_page(request.GET.get("page"))
    shown = []
    for row in page:
        *cells, household = row
        if kind == "persons":
            cells[2:4] = [idnumber.mask(cells[2]), SEX.get(cells[3], "")]
        elif kind == "lines":
            cells[3], cells[5] = LINE_KIND.get(cells[3]), LINE_STATUS.get(cells[5])
        link = 1 if kind == "lines" else 0  # the household number
        shown.append(
            {
                "cells": cells,
                "link": link,
                "url": reverse("beneficiaries:detail", args=[household]),
            }
        )
    columns = (
        statistics.TEMPORARY_COLUMNS
        if programme == Programme.TEMPORARY
        else statistics.MONTHLY_COLUMNS
    )
    labels = dict(columns) | {"amount": _("Spent this month (yuan)")}
    query = urlencode(
        {
            "region": region.code,
            "month": f"{month:%Y-%m}",
            "programme": programme,
            "residence": residence,
            "figure": figure,
        }
    )
    return render(
        request,
        "reports/statistics_rows.html",
        {
            "region": region,
            "month": month,
            "programme": dict(Programme.choices)[programme],
            "residence": {"urban": _("urban"), "rural": _("rural")}.get(residence, ""),
            "figure": labels.get(figure, figure),
            "value": block.get(figure),
            "kind": kind,
            "rows": shown,
            "page": page,
            "query": query,
            "from_replica": replica_in_use(),
            "back": reverse("reports:statistics")
            + "?"
            + urlencode(
                {
                    "region": region.parent.code if region.parent_id else region.code,
                    "month": f"{month:%Y-%m}",
                    "block": f"{programme}-{residence}" if residence else programme,
                }
            ),
        },
    )


@role_required(Role.CITY_ADMIN)
def statistics_refresh(request):
    if request.method != "POST":
        return redirect("reports:statistics")
    try:
        month = report_month(request.POST.get("month", ""))
    except ValidationFailed as exc:
        messages.error(request, exc.message)
        return redirect("reports:statistics")
    services.statistics_refresh_request(actor=request.user, month=month)
    if not queue(tasks.statistics_refresh, month.isoformat()):
        messages.error(request, BACKGROUND_UNREACHABLE)
        return redirect("reports:statistics")
    messages.success(
        request,
        _("The figures of %(month)s are being computed; reload this page in a few minutes.")
        % {"month": f"{month:%Y-%m}"},
    )
    return redirect(reverse("reports:statistics") + "?" + urlencode({"month": f"{month:%Y-%m}"}))


# --- the dashboard ------------------------------------------------------------------------------


@role_required(*READERS)
@reading_from_replica()
def dashboard_page(request):
    region, month = _place(request)
    return render(
        request,
        "reports/dashboard.html",
        {
            "region": region,
            "trail": _trail(region),
            "month": month,
            "panels": dashboard.panels(region, month),
            "query": urlencode({"region": region.code, "month": f"{month:%Y-%m}"}),
            "last_run": _last_computed(),
            "from_replica": replica_in_use(),
        },
    )


def _csv(columns, rows, name: str) -> HttpResponse:
    response = HttpResponse(content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = content_disposition_header(True, name)
    writers.write_csv([str(c) for c in columns], rows, response, lambda _n: None)
    return response


@role_required(*READERS)
@reading_from_replica()
def dashboard_table(request, name):
    region, month = _place(request)
    panel = next((p for p in dashboard.panels(region, month) if p.name == name), None)
    if panel is None:
        raise Http404
    return _csv(panel.columns, panel.rows, f"{panel.title}-{region.name}.csv")


# --- 绩效评价 --------------------------------------------------------------------------------


def _indicator_page_data(request):
    try:
        region = report_region(user=request.user, code=request.GET.get("region", ""))
        year = report_year(request.GET.get("year", ""))
    except DomainError as exc:
        messages.error(request, exc.message)
        region, year = request.user.jurisdiction, timezone.localdate().year
    return region, year, indicators.indicators_for(region, year)


@role_required(*READERS)
@reading_from_replica()
def indicator_page(request):
    region, year, table = _indicator_page_data(request)
    return render(
        request,
        "reports/indicators.html",
        {
            "region": region,
            "year": year,
            "table": table,
            "definitions": indicators.DEFINITIONS,
            "query": urlencode({"region": region.code, "year": year}),
            "may_enter": request.user.role == Role.CITY_ADMIN,
            "from_replica": replica_in_use(),
        },
    )


@role_required(*READERS)
@reading_from_replica()
def indicator_download(request):
    region, year, table = _indicator_page_data(request)
    columns = [_("Rank"), _("District"), _("Score")]
    for definition in indicators.DEFINITIONS:
        label = str(definition.label)
        columns += [
            label,
            _("%(label)s: numerator") % {"label": label},
            _("%(label)s: denominator") % {"label": label},
        ]
    rows = []
    for entry in table:
        row = [
            entry["rank"] or "",
            entry["district_name"],
            entry["score"] if entry["score"] is not None else "",
        ]
        for item in entry["indicators"]:
            row += [
                item["value"] if item["value"] is not None else "",
                item["numerator"],
                item["denominator"] if item["denominator"] is not None else "",
            ]
        rows.append(row)
    return _csv(
        columns,
        rows,
        _("performance-%(year)d-%(region)s.csv") % {"year": year, "region": region.name},
    )


# --- the figures the city enters ------------------------------------------------------------


class FiguresForm(forms.Form):
    year = forms.IntegerField(min_value=2000, max_value=2100, widget=forms.HiddenInput)
    urban = forms.DecimalField(
        label=gettext_lazy("Urban per-capita consumption spending (yuan per year)"),
        required=False,
        min_value=Decimal("0.01"),
        decimal_places=2,
    )
    rural = forms.DecimalField(
        label=gettext_lazy("Rural per-capita consumption spending (yuan per year)"),
        required=False,
        min_value=Decimal("0.01"),
        decimal_places=2,
    )
    source = forms.CharField(
        label=gettext_lazy("Source (e.g. the statistics yearbook)"), max_length=200, required=False
    )


@role_required(Role.CITY_ADMIN)
def figures(request):
    """户籍人口 per district and 人均消费支出 for a year, entered by the city."""
    year = report_year(request.POST.get("year") or request.GET.get("year", ""))
    districts = list(Region.objects.filter(level=Region.Level.DISTRICT).order_by("code"))
    entered = dict(
        RegisteredPopulation.objects.filter(year=year).values_list("district_id", "population")
    )
    spending = ConsumptionSpending.objects.filter(year=year).first()
    form = FiguresForm(request.POST or None, initial={"year": year})
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            with transaction.atomic():
                unchanged = spending is not None and (
                    spending.urban,
                    spending.rural,
                    spending.source,
                ) == (data["urban"], data["rural"], data["source"])
                if (data["urban"] or data["rural"]) and not unchanged:
                    services.consumption_set(
                        actor=request.user,
                        year=data["year"],
                        urban=data["urban"] or Decimal(0),
                        rural=data["rural"] or Decimal(0),
                        source=data["source"],
                    )
                for district in districts:
                    raw = request.POST.get(f"population-{district.pk}", "").strip().replace(",", "")
                    if not raw:
                        continue
                    try:
                        value = int(Decimal(raw))
                    except (InvalidOperation, ValueError):
                        raise ValidationFailed(
                            [
                                (
                                    "",
                                    _("%(district)s: enter the population as a whole number.")
                                    % {"district": district.name},
                                )
                            ]
                        ) from None
                    if entered.get(district.pk) == value:
                        continue  # unchanged: no audit event for a figure nobody touched
                    services.population_set(
                        actor=request.user,
                        district=district,
                        year=data["year"],
                        population=value,
                        source=data["source"],
                    )
        except DomainError as exc:
            for message in exc.messages:
                messages.error(request, message)
        else:
            messages.success(
                request, _("The figures of %(year)d are saved.") % {"year": data["year"]}
            )
            return redirect(reverse("reports:figures") + f"?year={data['year']}")
    if spending and request.method != "POST":
        form = FiguresForm(
            initial={
                "year": year,
                "urban": spending.urban,
                "rural": spending.rural,
                "source": spending.source,
            }
        )
    return render(
        request,
        "reports/figures.html",
        {
            "form": form,
            "year": year,
            "rows": [
                {
                    "district": d,
                    "value": request.POST.get(f"population-{d.pk}", entered.get(d.pk, "")),
                }
                for d in districts
            ],
        },
    )
