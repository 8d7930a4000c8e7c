"""The dashboard (审计看板) of a region: each panel a chart drawn on the server, the numbers
behind it as a table, and that table as a download. Read from the statistics return and the
indicator table (both precomputed or cached), never from the payments themselves."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from decimal import Decimal

from django.utils.safestring import SafeString
from django.utils.translation import gettext as _

from regions.models import Region

from . import charts, indicators, statistics

ZERO = Decimal("0.00")


@dataclass
class Panel:
    name: str
    title: str
    chart: SafeString
    columns: list[str]
    rows: list[list] = field(default_factory=list)
    note: str = ""


def _grouped(categories, series, **kwargs) -> SafeString:
    """A grouped bar chart of the categories with any figure (the table lists them all: a
    city's 38 districts, most of them empty in a month, would drown the few that are not)."""
    keep = [i for i in range(len(categories)) if any(values[i] for _label, values in series)]
    return charts.grouped_bar_chart(
        [categories[i] for i in keep],
        [(label, [values[i] for i in keep]) for label, values in series],
        **kwargs,
    )


def _bars(rows, **kwargs) -> SafeString:
    """A bar chart of the rows that have a figure (None: nothing to count there)."""
    return charts.bar_chart(
        [(label, value) for label, value in rows if value is not None], **kwargs
    )


def rows_level(region: Region) -> str:
    """The level a region's dashboard shows as rows: districts of the city, townships of a
    district, the township itself."""
    if region.level == Region.Level.CITY:
        return Region.Level.DISTRICT
    return Region.Level.TOWNSHIP


def _both(result: dict, programme: str, key: str):
    block = result[programme]
    return block["urban"][key] + block["rural"][key]


def _recipients(returns: list[dict], month: dt.date) -> Panel:
    rows = [
        [
            r["region_name"],
            _both(r, "dibao", "households"),
            _both(r, "dibao", "persons"),
            _both(r, "tekun", "households"),
            _both(r, "tekun", "persons"),
            r["temporary"]["households"],
        ]
        for r in returns
    ]
    title = _("Recipients by region and programme, %(month)s") % {"month": f"{month:%Y-%m}"}
    return Panel(
        "recipients",
        title,
        _grouped(
            [row[0] for row in rows[:-1]],
            [
                (_("低保 persons"), [row[2] for row in rows[:-1]]),
                (_("特困 persons"), [row[4] for row in rows[:-1]]),
            ],
            title=title,
            unit=_("persons"),
        ),
        [
            _("Region"),
            _("低保 households"),
            _("低保 persons"),
            _("特困 households"),
            _("特困 persons"),
            _("临时救助 cases"),
        ],
        rows,
    )


def _amounts(returns: list[dict], month: dt.date) -> Panel:
    rows = []
    for r in returns:
        dibao = r["dibao"]["urban"]["amount_cumulative"] + r["dibao"]["rural"]["amount_cumulative"]
        tekun = r["tekun"]["urban"]["amount_cumulative"] + r["tekun"]["rural"]["amount_cumulative"]
        temporary = r["temporary"]["amount_cumulative"]
        rows.append([r["region_name"], dibao, tekun, temporary, dibao + tekun + temporary])
    title = _("Spent this year to %(month)s by region and programme") % {"month": f"{month:%Y-%m}"}
    wan = [[row[0], *[(v / 10000).quantize(Decimal("0.01")) for v in row[1:]]] for row in rows]
    return Panel(
        "amounts",
        title,
        _grouped(
            [row[0] for row in wan[:-1]],
            [
                (_("低保"), [row[1] for row in wan[:-1]]),
                (_("特困"), [row[2] for row in wan[:-1]]),
                (_("临时救助"), [row[3] for row in wan[:-1]]),
            ],
            title=title,
            unit=_("10,000 yuan"),
        ),
        [_("Region"), _("低保 (yuan)"), _("特困 (yuan)"), _("临时救助 (yuan)"), _("Total (yuan)")],
        rows,
    )


def _flows(region: Region, month: dt.date) -> Panel:
    series = statistics.monthly_series(region, month.year, month)
    title = _("低保 and 特困 entitlements starting and ending by month, %(year)d") % {
        "year": month.year
    }
    return Panel(
        "flows",
        title,
        charts.line_chart(
            [row["month"] for row in series],
            [
                (_("starting"), [row["entered"] for row in series]),
                (_("ending"), [row["left"] for row in series]),
            ],
            title=title,
            unit=_("entitlements"),
        ),
        [
            _("Month"),
            _("Entitlements starting this month"),
            _("Entitlements last paid this month"),
            _("Persons"),
        ],
        [[row["month"], row["entered"], row["left"], row["persons"]] for row in series],
    )


def _indicator(entry: dict, code: str) -> dict:
    return next(i for i in entry["indicators"] if i["code"] == code)


def _processing(table: list[dict], year: int) -> Panel:
    rows = [
        [
            e["district_name"],
            e["detail"]["processing_days"],
            e["detail"]["limit_days"],
            _indicator(e, "decided_in_time")["value"],
        ]
        for e in table
    ]
    limits = [row[2] for row in rows if row[2] is not None]
    reference = (
        (
            _("average limit %(days)s days") % {"days": round(sum(limits) / len(limits), 1)},
            sum(limits) / len(limits),
        )
        if limits
        else None
    )
    title = _("Days from acceptance to decision, %(year)d") % {"year": year}
    return Panel(
        "processing",
        title,
        _bars(
            [(row[0], row[1]) for row in rows],
            title=title,
            unit=_("days"),
            reference=reference,
        ),
        [
            _("District"),
            _("Average days taken"),
            _("Average days allowed"),
            _("Decided in time (%)"),
        ],
        rows,
        _indicator(table[0], "decided_in_time")["definition"] if table else "",
    )


def _share_panel(
    table, year, name, code, title, unit_note, *, unit="%", value_label=None, reference=True
) -> Panel:
    rows = []
    for e in table:
        item = _indicator(e, code)
        rows.append([e["district_name"], item["numerator"], item["denominator"], item["value"]])
    full = title % {"year": year}
    return Panel(
        name,
        full,
        _bars(
            [(row[0], row[3]) for row in rows],
            title=full,
            unit=unit,
            reference=(_("100%"), 100) if reference else None,
        ),
        [_("District"), *unit_note, value_label or _("Share (%)")],
        rows,
        _indicator(table[0], code)["definition"] if table else "",
    )


def _objections(table: list[dict], year: int) -> Panel:
    rows = [
        [
            e["district_name"],
            e["detail"]["objections"]["taken_up"],
            e["detail"]["objections"]["dismissed"],
            e["detail"]["objections"]["pending"],
        ]
        for e in table
    ]
    title = _("Objections received in %(year)d and how they ended") % {"year": year}
    return Panel(
        "objections",
        title,
        _grouped(
            [row[0] for row in rows],
            [
                (_("taken up"), [row[1] for row in rows]),
                (_("found unfounded"), [row[2] for row in rows]),
                (_("still open"), [row[3] for row in rows]),
            ],
            title=title,
        ),
        [_("District"), _("Taken up (re-investigated)"), _("Found unfounded"), _("Still open")],
        rows,
    )


def _checks(table: list[dict], year: int) -> Panel:
    rows = []
    for e in table:
        checks = e["detail"]["checks"]
        done = checks["full"] + checks["partly"] + checks["not_received"]
        rows.append(
            [
                e["district_name"],
                done,
                checks["full"],
                checks["partly"],
                checks["not_received"],
                _indicator(e, "payment_discrepancy")["value"],
            ]
        )
    title = _("Payment checks in %(year)d") % {"year": year}
    return Panel(
        "checks",
        title,
        _grouped(
            [row[0] for row in rows],
            [
                (_("received in full"), [row[2] for row in rows]),
                (_("in part"), [row[3] for row in rows]),
                (_("not received"), [row[4] for row in rows]),
            ],
            title=title,
        ),
        [
            _("District"),
            _("Checks done"),
            _("Received in full"),
            _("Received in part"),
            _("Not received"),
            _("Discrepancy rate (%)"),
        ],
        rows,
    )


def panels(region: Region, month: dt.date) -> list[Panel]:
    month = month.replace(day=1)
    returns = statistics.level_returns(region, rows_level(region), month)
    table = indicators.indicators_for(region, month.year)
    year = month.year
    return [
        _recipients(returns, month),
        _amounts(returns, month),
        _share_panel(
            table,
            year,
            "coverage",
            "coverage",
            _("低保 and 特困 recipients per 1,000 residents, %(year)d"),
            [_("Recipients"), _("Registered population")],
            unit="‰",
            value_label=_("Per 1,000"),
            reference=False,
        ),
        _flows(region, month),
        _processing(table, year),
        _share_panel(
            table,
            year,
            "reviews",
            "reviews_on_time",
            _("Periodic reviews done on time, %(year)d"),
            [_("Done on time"), _("Due")],
        ),
        _objections(table, year),
        _share_panel(
            table,
            year,
            "funds",
            "fund_execution",
            _("Fund execution, %(year)d"),
            [_("Spent (yuan)"), _("Allocated (yuan)")],
        ),
        _checks(table, year),
    ]
