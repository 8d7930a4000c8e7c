"""绩效评价: the performance indicators of each district for a year, and their ranking.

Each indicator is a share (or a rate) with its numerator and denominator, so that an auditor
can check it, and a definition that says what is counted. Every indicator is computed for all
districts at once, a query per indicator grouped by district, and the whole table is cached
for a while: the city's table is one computation shared by every user who opens it."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal

from django.core.cache import cache
from django.db.models import Count, F, Q, Sum
from django.db.models.functions import Substr
from django.utils import timezone, translation
from django.utils.translation import gettext_lazy

from applications.models import Application
from eligibility.models import PolicyValue
from eligibility.selectors import policy_figures
from notices.models import Notice, Objection
from payments import funds
from payments.models import PaymentCheck
from recertification.models import Review
from regions.models import Region

from . import statistics
from .models import ConsumptionSpending, MonthlyFigure, RegisteredPopulation

CACHE_SECONDS = 600
HUNDRED = Decimal(100)


@dataclass(frozen=True)
class Indicator:
    code: str
    label: str
    definition: str
    # True: higher is better, and the indicator counts in the score.
    scored: bool
    # How a ratio is shown: a percentage, or per 1,000.
    scale: Decimal = HUNDRED


DEFINITIONS = (
    Indicator(
        "decided_in_time",
        gettext_lazy("Applications decided within the limit"),
        gettext_lazy(
            "Applications decided (approved or refused) in the year on or before their "
            "decision date (the statutory limit, extensions included) ÷ applications decided "
            "in the year that had a decision date × 100%."
        ),
        True,
    ),
    Indicator(
        "reviews_on_time",
        gettext_lazy("Periodic reviews done on time"),
        gettext_lazy(
            "Reviews due in the year up to today that were decided on or before their due "
            "date ÷ reviews due in the year up to today × 100%."
        ),
        True,
    ),
    Indicator(
        "objection_rate",
        gettext_lazy("Objections per 100 public notices"),
        gettext_lazy("Objections received in the year ÷ public notices posted in the year × 100."),
        False,
    ),
    Indicator(
        "objections_upheld",
        gettext_lazy("Objections taken up"),
        gettext_lazy(
            "Objections resolved in the year after the case was re-investigated over them "
            "(not dismissed as unfounded) ÷ objections resolved in the year × 100%. "
            "Objections resolved before 2026-12 cannot be told apart and count as dismissed."
        ),
        False,
    ),
    Indicator(
        "fund_execution",
        gettext_lazy("Fund execution rate"),
        gettext_lazy(
            "Money sent by the year's approved payrolls (payments refused by the bank or held "
            "back not counted) ÷ the year's allocations, all programmes × 100%."
        ),
        True,
    ),
    Indicator(
        "payment_discrepancy",
        gettext_lazy("Payment check discrepancies"),
        gettext_lazy(
            "Payment checks done in the year where the recipient had not received the amount "
            "in full ÷ payment checks done in the year × 100% (lower is better)."
        ),
        True,
    ),
    Indicator(
        "coverage",
        gettext_lazy("Recipients per 1,000 residents"),
        gettext_lazy(
            "低保 and 特困 recipients (persons) in the district's last month of the year with "
            "an approved payroll ÷ the registered population the city entered for the year "
            "× 1,000."
        ),
        False,
        Decimal(1000),
    ),
    Indicator(
        "standard_share_urban",
        gettext_lazy("Urban 低保 standard as a share of consumption"),
        gettext_lazy(
            "The urban 低保 standard in force in the year's last month × 12 ÷ urban "
            "per-capita consumption spending of the year (entered by the city) × 100%."
        ),
        False,
    ),
    Indicator(
        "standard_share_rural",
        gettext_lazy("Rural 低保 standard as a share of consumption"),
        gettext_lazy(
            "The rural 低保 standard in force in the year's last month × 12 ÷ rural "
            "per-capita consumption spending of the year (entered by the city) × 100%."
        ),
        False,
    ),
)
BY_CODE = {indicator.code: indicator for indicator in DEFINITIONS}
# An indicator where lower is better enters the score as 100 − value.
LOWER_IS_BETTER = {"payment_discrepancy"}


def _district_of(code_field: str):
    return Substr(code_field, 1, 6)


def _year_span(year: int) -> tuple[dt.date, dt.date]:
    """The year's first day and its last day up to today."""
    return dt.date(year, 1, 1), min(dt.date(year, 12, 31), timezone.localdate())


def _pairs(rows, numerator: str, denominator: str) -> dict:
    return {row["d"]: (row[numerator], row[denominator]) for row in rows}


def _decided_in_time(year: int) -> dict:
    rows = (
        Application.objects.filter(
            decided_at__year=year,
            status__in=(Application.Status.APPROVED, Application.Status.REJECTED),
            decision_due__isnull=False,
        )
        .annotate(d=_district_of("township__code"))
        .values("d")
        .annotate(n=Count("id", filter=Q(decided_at__date__lte=F("decision_due"))), of=Count("id"))
    )
    return _pairs(rows, "n", "of")


def _reviews_on_time(year: int) -> dict:
    first, last = _year_span(year)
    rows = (
        Review.objects.filter(kind=Review.Kind.PERIODIC, due__gte=first, due__lte=last)
        .annotate(d=_district_of("township__code"))
        .values("d")
        .annotate(
            n=Count(
                "id",
                filter=Q(status=Review.Status.DECIDED, decided_at__date__lte=F("due")),
            ),
            of=Count("id"),
        )
    )
    return _pairs(rows, "n", "of")


def _objection_rate(year: int) -> dict:
    notices = dict(
        Notice.objects.filter(starts_on__year=year)
        .annotate(d=_district_of("village_code"))
        .values("d")
        .annotate(n=Count("id"))
        .values_list("d", "n")
    )
    objections = dict(
        Objection.objects.filter(received_at__year=year)
        .annotate(d=_district_of("notice__village_code"))
        .values("d")
        .annotate(n=Count("id"))
        .values_list("d", "n")
    )
    return {d: (objections.get(d, 0), notices.get(d, 0)) for d in {*notices, *objections}}


def _objections_upheld(year: int) -> dict:
    rows = (
        Objection.objects.filter(status=Objection.Status.RESOLVED, resolved_at__year=year)
        .annotate(d=_district_of("notice__village_code"))
        .values("d")
        .annotate(n=Count("id", filter=Q(reinvestigated=True)), of=Count("id"))
    )
    return _pairs(rows, "n", "of")


def _fund_execution(year: int, districts) -> dict:
    out: dict = {}
    for row in funds.execution(year=year, districts=districts):
        key = next(d.code[:6] for d in districts if d.pk == row["district_id"])
        spent, allocated = out.get(key, (Decimal(0), Decimal(0)))
        position = row["position"]
        out[key] = (spent + position.spent, allocated + position.allocated)
    return out


def _payment_discrepancy(year: int) -> dict:
    done = (PaymentCheck.Status.DONE, PaymentCheck.Status.DISCREPANCY, PaymentCheck.Status.RESOLVED)
    rows = (
        PaymentCheck.objects.filter(status__in=done, checked_at__year=year)
        .annotate(d=_district_of("township__code"))
        .values("d")
        .annotate(n=Count("id", filter=~Q(outcome=PaymentCheck.Outcome.FULL)), of=Count("id"))
    )
    return _pairs(rows, "n", "of")


def _coverage(year: int) -> dict:
    """Each district's persons in its own last month of the year with anyone paid (a
    district whose latest payroll is not approved yet is not counted as empty)."""
    rows = (
        MonthlyFigure.objects.filter(
            month__year=year, programme__in=statistics.MONTHLY, persons__gt=0
        )
        .annotate(d=_district_of("region_code"))
        .values("d", "month")
        .annotate(n=Sum("persons"))
    )
    latest: dict = {}
    for row in rows:
        if row["d"] not in latest or row["month"] > latest[row["d"]][0]:
            latest[row["d"]] = (row["month"], row["n"])
    persons = {d: n for d, (_month, n) in latest.items()}
    population = {
        code[:6]: n
        for code, n in RegisteredPopulation.objects.filter(year=year).values_list(
            "district__code", "population"
        )
    }
    return {d: (persons.get(d, 0), population.get(d)) for d in {*persons, *population}}


def _standard_shares(year: int, districts) -> dict:
    spending = ConsumptionSpending.objects.filter(year=year).first()
    month = min(dt.date(year, 12, 1), timezone.localdate().replace(day=1))
    out: dict = {"urban": {}, "rural": {}}
    standard_of = policy_figures(PolicyValue.Kind.DIBAO_STANDARD, month)
    for district in districts:
        for residence in ("urban", "rural"):
            standard = standard_of(district.code[:6], residence)
            annual = standard * 12 if standard is not None else None
            out[residence][district.code[:6]] = (
                annual,
                getattr(spending, residence) if spending else None,
            )
    return out


def _processing_days(year: int) -> dict:
    """Per district: the average days from acceptance to decision, and the average days the
    limit allowed those same cases (for the dashboard)."""
    sums: dict = {}
    rows = Application.objects.filter(
        decided_at__year=year,
        status__in=(Application.Status.APPROVED, Application.Status.REJECTED),
        decision_due__isnull=False,
        accepted_on__isnull=False,
    ).values_list("township__code", "accepted_on", "decided_at", "decision_due")
    for code, accepted, decided, due in rows.iterator(chunk_size=5000):
        taken = (timezone.localtime(decided).date() - accepted).days
        allowed = (due - accepted).days
        n, total_taken, total_allowed = sums.get(code[:6], (0, 0, 0))
        sums[code[:6]] = (n + 1, total_taken + taken, total_allowed + allowed)
    return {
        d: (Decimal(t / n).quantize(Decimal("0.1")), Decimal(a / n).quantize(Decimal("0.1")))
        for d, (n, t, a) in sums.items()
    }


def _objection_outcomes(year: int) -> dict:
    rows = (
        Objection.objects.filter(received_at__year=year)
        .annotate(d=_district_of("notice__village_code"))
        .values("d")
        .annotate(
            taken_up=Count("id", filter=Q(reinvestigated=True)),
            dismissed=Count("id", filter=Q(status=Objection.Status.RESOLVED, reinvestigated=False)),
            pending=Count(
                "id", filter=~Q(status=Objection.Status.RESOLVED) & Q(reinvestigated=False)
            ),
        )
    )
    return {row.pop("d"): row for row in rows}


def _check_outcomes(year: int) -> dict:
    rows = (
        PaymentCheck.objects.filter(checked_at__year=year)
        .annotate(d=_district_of("township__code"))
        .values("d", "outcome")
        .annotate(n=Count("id"))
    )
    out: dict = {}
    for row in rows:
        out.setdefault(row["d"], {})[row["outcome"]] = row["n"]
    return out


def _value(indicator: Indicator, numerator, denominator) -> Decimal | None:
    if numerator is None or not denominator:
        return None
    return (Decimal(numerator) / Decimal(denominator) * indicator.scale).quantize(Decimal("0.01"))


def _compute(year: int) -> list[dict]:
    districts = list(
        Region.objects.filter(level=Region.Level.DISTRICT).order_by("code").only("code", "name")
    )
    shares = _standard_shares(year, districts)
    parts = {
        "decided_in_time": _decided_in_time(year),
        "reviews_on_time": _reviews_on_time(year),
        "objection_rate": _objection_rate(year),
        "objections_upheld": _objections_upheld(year),
        "fund_execution": _fund_execution(year, districts),
        "payment_discrepancy": _payment_discrepancy(year),
        "coverage": _coverage(year),
        "standard_share_urban": shares["urban"],
        "standard_share_rural": shares["rural"],
    }
    processing, objections, checks = (
        _processing_days(year),
        _objection_outcomes(year),
        _check_outcomes(year),
    )
    table = []
    for district in districts:
        code = district.code[:6]
        entry = {
            "district": district.code,
            "district_name": district.name,
            "indicators": [],
            "detail": {
                "processing_days": processing.get(code, (None, None))[0],
                "limit_days": processing.get(code, (None, None))[1],
                "objections": objections.get(code, {"taken_up": 0, "dismissed": 0, "pending": 0}),
                "checks": {
                    outcome: checks.get(code, {}).get(outcome, 0)
                    for outcome in PaymentCheck.Outcome.values
                },
            },
        }
        scores = []
        for indicator in DEFINITIONS:
            numerator, denominator = parts[indicator.code].get(district.code[:6], (0, 0))
            value = _value(indicator, numerator, denominator)
            entry["indicators"].append(
                {
                    "code": indicator.code,
                    "label": str(indicator.label),
                    "value": value,
                    "numerator": numerator,
                    "denominator": denominator,
                    "definition": str(indicator.definition),
                }
            )
            if indicator.scored and value is not None:
                value = min(value, HUNDRED)
                scores.append(HUNDRED - value if indicator.code in LOWER_IS_BETTER else value)
        entry["score"] = (sum(scores) / len(scores)).quantize(Decimal("0.01")) if scores else None
        table.append(entry)
    ranked = sorted(
        (e for e in table if e["score"] is not None), key=lambda e: e["score"], reverse=True
    )
    for entry in table:
        entry["rank"] = None
    previous, rank = None, 0
    for position, entry in enumerate(ranked, start=1):
        if entry["score"] != previous:
            rank, previous = position, entry["score"]
        entry["rank"] = rank
    return sorted(table, key=lambda e: (e["rank"] is None, e["rank"] or 0, e["district"]))


def indicator_table(year: int, *, fresh: bool = False) -> list[dict]:
    """Every district's indicators for ``year``, ranked by score (the mean of the scored
    indicators, lower-is-better ones as 100 − value, execution capped at 100%)."""
    key = f"reports:indicators:{year}:{translation.get_language()}"
    if not fresh:
        table = cache.get(key)
        if table is not None:
            return table
    table = _compute(year)
    cache.set(key, table, CACHE_SECONDS)
    return table


def indicators_for(region: Region, year: int, *, fresh: bool = False) -> list[dict]:
    """The table, limited to the districts within ``region`` (the rank stays the city's)."""
    prefix = Region.prefix_of_code(region.code)
    return [e for e in indicator_table(year, fresh=fresh) if e["district"].startswith(prefix)]
