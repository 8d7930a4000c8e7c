"""The monthly statistics return (民政统计月报 / 低保对象综合统计表).

A month's figures come from that month's committed payrolls (approved, sent or reconciled):
who was on them (households, and the counted members of each, by group) and what they sent
(every line of the month that did not fail at the bank or stay held, arrears and re-issues
included). ``compute`` writes them once per township (``MonthlyFigure``); ``return_for`` adds
townships up to any level. The conditions that choose the rows behind a figure are written
once here and used both to count them and to list them (the drill-down), so every figure can
be traced to its rows."""

from __future__ import annotations

import calendar
import datetime as dt
from collections import defaultdict
from dataclasses import dataclass
from decimal import Decimal

from django.db import transaction
from django.db.models import Count, Exists, F, OuterRef, Q, Sum
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from accounts.scoping import scope_to_jurisdiction
from beneficiaries.models import Entitlement, Household, Member, Programme
from beneficiaries.people import counted_q
from core.money import fen
from eligibility.models import PolicyValue
from eligibility.selectors import policy_figures
from payments.funds import NOT_SPENT
from payments.models import COMMITTED_PAYROLL, Payroll, PayrollLine
from regions.models import Region

from .models import MonthlyFigure, RegisteredPopulation

# The blocks of the return: 低保 and 特困 urban and rural, and 临时救助.
MONTHLY = (Programme.DIBAO, Programme.TEKUN)
PROGRAMMES = (*MONTHLY, Programme.TEMPORARY)
RESIDENCES = ("urban", "rural")
ADULT_FROM, ELDERLY_FROM = 18, 60
IN_WORK = ("employed", "self_employed", "farming")
UNEMPLOYED = ("unemployed",)
IN_SCHOOL = ("compulsory", "high_school", "higher")
STANDARD = {
    Programme.DIBAO: PolicyValue.Kind.DIBAO_STANDARD,
    Programme.TEKUN: PolicyValue.Kind.TEKUN_BASIC,
}
ZERO = Decimal("0.00")
COUNTS = (
    "households",
    "persons",
    "elderly",
    "adults",
    "adults_employed",
    "adults_unemployed",
    "adults_other",
    "minors",
    "students",
    "women",
    "disabled",
    "entered",
    "left",
)
# The figures a drill-down lists members for (the others list payments).
PERSON_FIGURES = (
    "persons",
    "elderly",
    "adults",
    "adults_employed",
    "adults_unemployed",
    "adults_other",
    "minors",
    "students",
    "women",
    "disabled",
)


def month_end(month: dt.date) -> dt.date:
    return month.replace(day=calendar.monthrange(month.year, month.month)[1])


def _born_by(month: dt.date, years: int) -> dt.date:
    """The latest birth date of someone ``years`` old or older on the month's last day."""
    end = month_end(month)
    day = min(end.day, calendar.monthrange(end.year - years, end.month)[1])
    return end.replace(year=end.year - years, day=day)


def group_q(figure: str, month: dt.date) -> Q:
    """The members a person figure counts (ages on the month's last day)."""
    elderly, adult = _born_by(month, ELDERLY_FROM), _born_by(month, ADULT_FROM)
    adults = Q(birth_date__lte=adult, birth_date__gt=elderly)
    minors = Q(birth_date__gt=adult)
    return {
        "persons": Q(),
        "elderly": Q(birth_date__lte=elderly),
        "adults": adults,
        "adults_employed": adults & Q(employment__in=IN_WORK),
        "adults_unemployed": adults & Q(employment__in=UNEMPLOYED),
        "adults_other": adults & ~Q(employment__in=(*IN_WORK, *UNEMPLOYED)),
        "minors": minors,
        "students": minors & Q(schooling__in=IN_SCHOOL),
        "women": Q(sex=Member.Sex.FEMALE),
        "disabled": ~Q(disability_type=""),
    }[figure]


def payrolls_of(month: dt.date, districts=None):
    payrolls = Payroll.objects.filter(
        month=month, status__in=COMMITTED_PAYROLL, programme__in=PROGRAMMES
    )
    return payrolls if districts is None else payrolls.filter(district__in=districts)


def case_lines(payrolls):
    """The lines that make a household a recipient of the month: its monthly payment, or a
    临时救助 decision paid."""
    return PayrollLine.objects.filter(
        payroll__in=payrolls, kind__in=(PayrollLine.Kind.REGULAR, PayrollLine.Kind.ONE_OFF)
    )


def spent_lines(payrolls):
    return PayrollLine.objects.filter(payroll__in=payrolls).exclude(status__in=NOT_SPENT)


def household_members(payrolls):
    """The counted members of the households paid as a whole (one row per member and line)."""
    via = "household__payments__"
    return Member.objects.filter(
        counted_q(),
        Q(**{f"{via}entitlement__isnull": True}) | Q(**{f"{via}entitlement__member__isnull": True}),
        is_current=True,
        **{f"{via}payroll__in": payrolls, f"{via}kind__in": ("regular", "one_off")},
    )


def single_members(payrolls):
    """The members paid alone (单人保), one row per member and line."""
    via = "single_entitlements__payments__"
    return Member.objects.filter(**{f"{via}payroll__in": payrolls, f"{via}kind": "regular"})


def _cells():
    return defaultdict(lambda: {**dict.fromkeys(COUNTS, 0), "amount": ZERO})


@transaction.atomic
def compute(*, month: dt.date, districts=None) -> int:
    """Write the month's figures for ``districts`` (every district when None), replacing what
    was there; returns the number of rows written."""
    month = month.replace(day=1)
    payrolls = payrolls_of(month, districts)
    cells = _cells()
    township = "household__region__parent_id"

    by_line = {"t": F(township), "r": F("household__residence_type"), "p": F("payroll__programme")}
    for row in (
        case_lines(payrolls)
        .values(**by_line)
        .annotate(households=Count("household", distinct=True), cases=Count("id"))
    ):
        cell = cells[(row["t"], row["p"], row["r"])]
        cell["households"] = row["cases" if row["p"] == Programme.TEMPORARY else "households"]
    for row in spent_lines(payrolls).values(**by_line).annotate(total=Sum("amount")):
        cells[(row["t"], row["p"], row["r"])]["amount"] = fen(row["total"])

    groups = {figure: Count("id", filter=group_q(figure, month)) for figure in PERSON_FIGURES}
    for members, via in (
        (household_members(payrolls), "household__payments__"),
        (single_members(payrolls), "single_entitlements__payments__"),
    ):
        by_member = {"t": F(township), "r": F("household__residence_type")}
        for row in members.values(**by_member, p=F(f"{via}payroll__programme")).annotate(**groups):
            cell = cells[(row["t"], row["p"], row["r"])]
            for figure in PERSON_FIGURES:
                cell[figure] += row[figure]

    entitlements = Entitlement.objects.filter(programme__in=MONTHLY)
    if districts is not None:
        codes = [Region.prefix_of_code(d.code) for d in districts]
        where = Q()
        for code in codes:
            where |= Q(household__region__code__startswith=code)
        entitlements = entitlements.filter(where)
    by_entitlement = {"t": F(township), "r": F("household__residence_type"), "p": F("programme")}
    for field, flow in (("start_month", "entered"), ("end_month", "left")):
        for row in (
            entitlements.filter(**{field: month}).values(**by_entitlement).annotate(n=Count("id"))
        ):
            cells[(row["t"], row["p"], row["r"])][flow] = row["n"]

    codes = dict(Region.objects.filter(pk__in={t for t, _p, _r in cells}).values_list("pk", "code"))
    stale = MonthlyFigure.objects.filter(month=month)
    if districts is not None:
        stale = stale.filter(township__parent__in=districts)
    stale.delete()
    now = timezone.now()
    MonthlyFigure.objects.bulk_create(
        MonthlyFigure(
            month=month,
            township_id=t,
            region_code=codes[t],
            programme=p,
            residence=r,
            computed_at=now,
            **values,
        )
        for (t, p, r), values in cells.items()
    )
    return len(cells)


# --- reading the return ---------------------------------------------------------------------


@dataclass
class Context:
    """What every row of a return shares, read once: the standards in force that month (one
    query per figure) and the year's registered population by district."""

    month: dt.date
    standards: dict
    population: dict
    districts: dict

    @classmethod
    def of(cls, month: dt.date) -> Context:
        month = month.replace(day=1)
        population = dict(
            RegisteredPopulation.objects.filter(year=month.year).values_list(
                "district__code", "population"
            )
        )
        districts = dict(
            Region.objects.filter(level=Region.Level.DISTRICT)
            .values("parent__code")
            .annotate(n=Count("id"))
            .values_list("parent__code", "n")
        )
        standards = {p: policy_figures(kind, month) for p, kind in STANDARD.items()}
        return cls(month, standards, population, districts)

    def standard(self, programme: str, residence: str, region: Region):
        """The standard in force in the region's district (a city has several: none)."""
        if programme not in self.standards or region.level == Region.Level.CITY:
            return None
        return self.standards[programme](region.code[:6], residence)

    def population_of(self, region: Region) -> int | None:
        """户籍人口 of a district, or of the city when every district is entered; None below a
        district or when it is not entered."""
        if region.level == Region.Level.DISTRICT:
            return self.population.get(region.code)
        if region.level != Region.Level.CITY:
            return None
        entered = [n for code, n in self.population.items() if code.startswith(region.code[:2])]
        return sum(entered) if entered and len(entered) == self.districts.get(region.code) else None


def _block(rows_now: dict, rows_year: dict, standard, population) -> dict:
    persons, persons_year = rows_now.get("persons", 0), rows_year.get("persons", 0)
    amount, amount_year = rows_now.get("amount", ZERO), rows_year.get("amount", ZERO)
    block = {figure: rows_now.get(figure, 0) for figure in COUNTS}
    block.update(
        persons_cumulative=persons_year,
        amount=amount,
        amount_cumulative=amount_year,
        amount_wan=fen(amount / 10000),
        amount_cumulative_wan=fen(amount_year / 10000),
        average_per_person=fen(amount / persons) if persons else None,
        average_per_person_cumulative=fen(amount_year / persons_year) if persons_year else None,
        standard=standard,
        population_share=(
            (Decimal(persons) / population * 100).quantize(Decimal("0.01")) if population else None
        ),
    )
    return block


def figures(within: Region, regions, month: dt.date) -> dict:
    """For ``within`` and each of ``regions`` under it (by code), the sums of this month and of
    the year to date, per (programme, residence) and per (programme, "") for both. Summed by
    the database per township; the townships are then added up to the regions asked for."""
    month = month.replace(day=1)
    keys = {Region.prefix_of_code(r.code): r.code for r in {within, *regions}}
    rows = MonthlyFigure.objects.filter(
        month__year=month.year,
        month__lte=month,
        region_code__startswith=Region.prefix_of_code(within.code),
    )
    sums = {f"sum_{field}": Sum(field) for field in ("amount", *COUNTS)}
    out: dict = defaultdict(lambda: {"now": _cells(), "year": _cells()})
    for part, qs in (("year", rows), ("now", rows.filter(month=month))):
        for row in qs.values("region_code", "programme", "residence").annotate(**sums):
            code = row["region_code"]
            totals = {field: row[f"sum_{field}"] for field in ("amount", *COUNTS)}
            for key in {keys.get(code[:length]) for length in (2, 6, 9, 12)} - {None}:
                for cell in ((row["programme"], row["residence"]), (row["programme"], "")):
                    _add(out[key][part][cell], totals)
    return out


def _add(total: dict, row: dict) -> None:
    for key in total:
        total[key] += row[key]


def return_for(
    region: Region, month: dt.date, sums: dict | None = None, context: Context | None = None
) -> dict:
    """The return of ``region`` for ``month``: the API's blocks."""
    month = month.replace(day=1)
    context = context or Context.of(month)
    if sums is None:
        sums = figures(region, [], month)[region.code]
    population = context.population_of(region)
    result = {"region": region.code, "region_name": region.name, "month": f"{month:%Y-%m}"}
    for programme in MONTHLY:
        result[programme] = {
            residence: _block(
                sums["now"][(programme, residence)],
                sums["year"][(programme, residence)],
                context.standard(programme, residence, region),
                population,
            )
            for residence in RESIDENCES
        }
    result["temporary"] = _block(
        sums["now"][(Programme.TEMPORARY, "")],
        sums["year"][(Programme.TEMPORARY, "")],
        None,
        population,
    )
    return result


def level_returns(region: Region, level: str, month: dt.date) -> list[dict]:
    """The return of each region of ``level`` under ``region`` (districts of the city,
    townships of a district or of the city), in code order, and the region's own last; a
    township's is itself alone."""
    context = Context.of(month)
    prefix = Region.prefix_of_code(region.code)
    rows = []
    if level != region.level:
        rows = list(Region.objects.filter(code__startswith=prefix, level=level).order_by("code"))
    sums = figures(region, rows, month)
    return [return_for(row, month, sums[row.code], context) for row in rows] + [
        return_for(region, month, sums[region.code], context)
    ]


def computed_at(region: Region, month: dt.date):
    """When the month's figures in ``region`` were last computed (None: never)."""
    return (
        MonthlyFigure.objects.filter(
            month=month.replace(day=1), region_code__startswith=Region.prefix_of_code(region.code)
        )
        .order_by("-computed_at")
        .values_list("computed_at", flat=True)
        .first()
    )


# --- the rows behind a figure (drill-down) -----------------------------------------------------

LINE_FIGURES = ("households", "amount")
FLOW_FIGURES = ("entered", "left")
FIGURES = (*PERSON_FIGURES, *LINE_FIGURES, *FLOW_FIGURES)


def rows_behind(*, user, region: Region, month: dt.date, programme: str, residence: str, figure):
    """The rows a figure of ``region`` counts, as plain values in a stable order, read within
    the user's jurisdiction: members for the person figures, payments for households and
    amounts, entitlements for the flows. ``residence`` blank: urban and rural."""
    month = month.replace(day=1)
    # Payrolls are per district: the region's district's, never the city's 40 (a district's
    # rows are then a few thousand lines, not half a million); households are found by
    # their villages' ids, through the region index.
    district = Region.objects.filter(code=region.code[:6] + "000000").first()
    payrolls = payrolls_of(month, [district]).filter(programme=programme)
    villages = list(
        Region.objects.filter(
            code__startswith=Region.prefix_of_code(region.code), level=Region.Level.VILLAGE
        ).values_list("id", flat=True)
    )
    place = Q(household__region_id__in=villages)
    if residence:
        place &= Q(household__residence_type=residence)
    if figure in PERSON_FIGURES:
        columns = (
            "household__number",
            "name",
            "id_number",
            "sex",
            "birth_date",
            "household__region__parent__name",
            "household_id",
        )
        members = [
            scope_to_jurisdiction(qs, user=user, code_field="household__region__code")
            .filter(place, group_q(figure, month))
            .order_by()
            .values_list(*columns)
            for qs in (household_members(payrolls), single_members(payrolls))
        ]
        return members[0].union(members[1], all=True).order_by("household__number", "name")
    if figure in FLOW_FIGURES:
        field = "start_month" if figure == "entered" else "end_month"
        return (
            scope_to_jurisdiction(
                Entitlement.objects.all(), user=user, code_field="household__region__code"
            )
            .filter(place, programme=programme, **{field: month})
            .order_by("household__number", "id")
            .values_list(
                "household__number",
                "household__head__name",
                "monthly_amount",
                "start_month",
                "end_month",
                "household__region__parent__name",
                "household_id",
            )
        )
    if figure == "households" and programme != Programme.TEMPORARY:
        paid = case_lines(payrolls).filter(household=OuterRef("pk"))
        households = Q(region_id__in=villages) & Q(Exists(paid))
        if residence:
            households &= Q(residence_type=residence)
        return (
            scope_to_jurisdiction(Household.objects.all(), user=user, code_field="region__code")
            .filter(households)
            .order_by("number")
            .values_list("number", "head__name", "region__parent__name", "id")
        )
    lines = case_lines(payrolls) if figure == "households" else spent_lines(payrolls)
    return (
        scope_to_jurisdiction(lines, user=user, code_field="household__region__code")
        .filter(place)
        .order_by("reference")
        .values_list(
            "reference",
            "household__number",
            "payee_name",
            "kind",
            "amount",
            "status",
            "household__region__parent__name",
            "household_id",
        )
    )


# --- the columns of the return, as the bureau lays them out ---------------------------------------

BLOCKS = (
    ("dibao", "urban", _("Urban 低保")),
    ("dibao", "rural", _("Rural 低保")),
    ("tekun", "urban", _("Urban 特困")),
    ("tekun", "rural", _("Rural 特困")),
)
MONTHLY_COLUMNS = (
    ("households", pgettext_lazy("statistics", "Households")),
    ("persons", _("Persons")),
    ("persons_cumulative", _("Person-months this year")),
    ("elderly", _("Aged 60+")),
    ("adults", _("Adults 18–59")),
    ("adults_employed", _("of whom in work")),
    ("adults_unemployed", _("of whom unemployed")),
    ("adults_other", _("of whom not in the labour force")),
    ("minors", _("Minors")),
    ("students", _("of whom in school")),
    ("women", _("Women")),
    ("disabled", _("Disabled")),
    ("amount_wan", _("Spent this month (10,000 yuan)")),
    ("amount_cumulative_wan", _("Spent this year (10,000 yuan)")),
    ("average_per_person", _("Monthly average per person (yuan)")),
    ("average_per_person_cumulative", _("Monthly average per person this year (yuan)")),
    ("standard", _("Standard (yuan per person per month)")),
    ("population_share", _("Share of the registered population (%)")),
    ("entered", _("Entitlements starting this month")),
    ("left", _("Entitlements last paid this month")),
)
TEMPORARY_COLUMNS = (
    ("households", pgettext_lazy("statistics", "Cases")),
    ("persons", _("Persons")),
    ("amount_wan", _("Spent this month (10,000 yuan)")),
    ("amount_cumulative_wan", _("Spent this year (10,000 yuan)")),
)
# Which figure a derived column is traced through (a column absent here has no rows behind it).
TRACED_BY = {
    "persons_cumulative": None,
    "amount_wan": "amount",
    "amount_cumulative_wan": None,
    "average_per_person": None,
    "average_per_person_cumulative": None,
    "standard": None,
    "population_share": None,
}


def traced_figure(column: str) -> str | None:
    return TRACED_BY.get(column, column)


def monthly_series(region: Region, year: int, until: dt.date) -> list[dict]:
    """Month by month up to ``until``: entitlements starting and ending, and persons paid, of
    低保 and 特困 in ``region`` (the dashboard's flows)."""
    rows = (
        MonthlyFigure.objects.filter(
            month__year=year,
            month__lte=until,
            programme__in=MONTHLY,
            region_code__startswith=Region.prefix_of_code(region.code),
        )
        .values("month")
        .annotate(entered=Sum("entered"), left=Sum("left"), persons=Sum("persons"))
        .order_by("month")
    )
    found = {row["month"]: row for row in rows}
    months = [dt.date(year, m, 1) for m in range(1, until.month + 1)] if until.year == year else []
    return [
        {
            "month": f"{month:%Y-%m}",
            "entered": found.get(month, {}).get("entered") or 0,
            "left": found.get(month, {}).get("left") or 0,
            "persons": found.get(month, {}).get("persons") or 0,
        }
        for month in months
    ]
