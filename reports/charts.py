"""Server-side SVG charts for the auditors' dashboard (审计看板): horizontal bars, grouped bars and
lines, returned as an inline ``<svg>`` that needs no JavaScript, scales to a phone's width and
prints in greyscale. Every label and attribute is escaped by ``_tag``, so a district name cannot
inject markup; the words a chart prints itself go through gettext.

Text widths are estimated (a CJK character is one em, anything else about 0.6 em) because the
server cannot measure fonts; layouts leave room accordingly and widen rather than clip.
"""

from __future__ import annotations

import math
import unicodedata
from collections.abc import Callable, Sequence
from decimal import Decimal

from django.forms.utils import flatatt
from django.utils.html import format_html
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import gettext as _

Number = int | float | Decimal
Series = Sequence[tuple[str, Sequence[Number]]]

WIDTH = 640
PAD = 16
FONT_SIZE = 13
TITLE_SIZE = 15
HEADER = 44  # the title line and the gap beneath it
ROW = 28  # one bar of bar_chart with its gap
PLOT_HEIGHT = 220
TEXT, MUTED, AXIS, GRID, REFERENCE = "#222", "#666", "#999", "#e4e4e4", "#b2182b"
# Grey values about 30, 160, 120 and 85: neighbouring series stay apart when printed in grey,
# and lines differ by dash and marker shape as well.
PALETTE = ("#14213d", "#e69f00", "#2a9d8f", "#7b3294")
DASHES = ("none", "7 3", "2 3", "9 3 2 3")
SVG = {
    "xmlns": "http://www.w3.org/2000/svg",
    "role": "img",
    "width": "100%",
    "font_family": '"Noto Sans CJK SC", sans-serif',
    "font_size": FONT_SIZE,
    "fill": TEXT,
}
CENTRED = {"text_anchor": "middle"}
RIGHT = {"text_anchor": "end", "dy": "0.35em"}
LINE = {"fill": "none", "stroke_width": 2, "stroke_linejoin": "round"}
REFERENCE_LINE = {"stroke": REFERENCE, "stroke_width": 1.5, "stroke_dasharray": "5 4"}
# A white outline keeps a printed value readable where the reference line crosses it.
HALO = {"stroke": "#fff", "stroke_width": 3, "stroke_linejoin": "round", "paint_order": "stroke"}
REFERENCE_TEXT = {"text_anchor": "middle", "fill": REFERENCE, **HALO}
MARKERS = (
    None,  # a circle
    ((-3.5, -3.5), (3.5, -3.5), (3.5, 3.5), (-3.5, 3.5)),
    ((0, -5), (5, 0), (0, 5), (-5, 0)),
    ((0, -5), (4.5, 3.5), (-4.5, 3.5)),
)


def text_width(text: str, size: float = FONT_SIZE) -> float:
    return sum(size if unicodedata.east_asian_width(c) in "WF" else 0.6 * size for c in text)


def format_value(value: Number) -> str:
    return f"{value:,}" if isinstance(value, int) else f"{value:,.2f}"


def nice_ticks(top: float) -> tuple[list[float], int]:
    """0 and steps of 1, 2 or 5 × 10ⁿ reaching ``top``, with the decimals their labels need.
    Three or four intervals where such a step exists, else five (0, 2, …, 10 beats 0, 5, 10)."""
    base = 10.0 ** math.floor(math.log10(top / 10))
    steps = [m * base for m in (1, 2, 5, 10, 20, 50)]

    def intervals(step: float) -> int:
        return math.ceil(round(top / step, 9))

    i = next(i for i, step in enumerate(steps) if intervals(step) <= 4)
    step = steps[i - 1] if intervals(steps[i]) < 3 else steps[i]
    decimals = max(0, -math.floor(math.log10(step) + 1e-9))
    return [k * step for k in range(intervals(step) + 1)], decimals


def _tag(name: str, content: str = "", **attrs) -> SafeString:
    """One SVG element; ``class_`` becomes ``class``, ``font_size`` becomes ``font-size``."""
    attrs = {
        k.rstrip("_").replace("_", "-"): round(v, 1) if isinstance(v, float) else v
        for k, v in attrs.items()
    }
    return format_html("<{}{}>{}</{}>", name, flatatt(attrs), content, name)


def _join(parts: Sequence[str]) -> SafeString:
    return mark_safe("".join(parts))  # noqa: S308 - every part was built by _tag


def _svg(width: float, height: float, title: str, parts: Sequence[str]) -> SafeString:
    width = max(width, text_width(title, TITLE_SIZE) + 2 * PAD)
    heading = _tag(
        "text", title, class_="chart-title", x=PAD, y=26, font_size=TITLE_SIZE, font_weight="bold"
    )
    box = f"0 0 {round(width, 1)} {round(height, 1)}"
    content = _join([_tag("title", title), heading, *parts])
    return _tag("svg", content, aria_label=title, viewBox=box, **SVG)


def _no_data(title: str) -> SafeString:
    message = _tag("text", _("No data yet"), class_="no-data", x=WIDTH / 2, y=84, **CENTRED)
    return _svg(WIDTH, 120, title, [message])


def _colour(index: int) -> str:
    return PALETTE[index % len(PALETTE)]


def _marker(index: int, x: float, y: float, tooltip: str = "") -> SafeString:
    shape, style = MARKERS[index % len(MARKERS)], {"fill": _colour(index), "stroke": "#fff"}
    tip = _tag("title", tooltip) if tooltip else ""
    if shape is None:
        return _tag("circle", tip, class_="marker", cx=x, cy=y, r=4, **style)
    points = " ".join(f"{x + dx:.1f},{y + dy:.1f}" for dx, dy in shape)
    return _tag("polygon", tip, class_="marker", points=points, **style)


def _bar_swatch(index: int, x: float, y: float) -> SafeString:
    return _tag("rect", x=x + 3, y=y - 6, width=12, height=12, fill=_colour(index))


def _line_swatch(index: int, x: float, y: float) -> SafeString:
    dash = DASHES[index % len(DASHES)]
    line = _tag("line", x1=x, y1=y, x2=x + 18, y2=y, stroke=_colour(index), stroke_dasharray=dash)
    return _join([line, _marker(index, x + 9, y)])


def _legend(labels: Sequence[str], swatch: Callable, width: float) -> tuple[list, float]:
    """Legend entries left to right under the title, wrapping; returns them and their height."""
    parts, x, line = [], PAD, 0
    for index, label in enumerate(labels):
        entry = 24 + text_width(label) + 18
        if x > PAD and x + entry > width - PAD:
            x, line = PAD, line + 1
        y = HEADER + line * 20
        text = _tag("text", label, x=x + 24, y=y, dy="0.35em")
        parts.append(_tag("g", _join([swatch(index, x, y), text]), class_="legend-item"))
        x += entry
    return parts, (line + 1) * 20


def _scale(series: Series, count: int) -> tuple[list[float], int, float] | None:
    """The y ticks, their decimals and the plot's left edge; None when there is nothing to
    draw, so an empty or all-zero chart never divides by zero."""
    if any(len(values) != count for _label, values in series):
        raise ValueError("every series needs one value per category or label")
    top = max([float(v) for _label, values in series for v in values] + [0.0])
    if top <= 0:
        return None
    ticks, decimals = nice_ticks(top)
    return ticks, decimals, PAD + max(text_width(f"{t:,.{decimals}f}") for t in ticks) + 8


def _axes(series: Series, swatch: Callable, scale, width: float, unit: str):
    """Legend, unit caption and y axis with grid lines; returns them, the plot's bottom edge
    and the function placing a value on the y axis."""
    ticks, decimals, left = scale
    parts, legend_height = _legend([label for label, _values in series], swatch, width)
    bottom = HEADER + legend_height + (26 if unit else 10) + PLOT_HEIGHT

    def y_of(value: Number) -> float:
        return bottom - PLOT_HEIGHT * max(float(value), 0) / ticks[-1]

    for tick in ticks:
        y, label = y_of(tick), f"{tick:,.{decimals}f}"
        parts.append(
            _tag("line", x1=left, y1=y, x2=width - PAD, y2=y, stroke=GRID if tick else AXIS)
        )
        parts.append(_tag("text", label, class_="tick", x=left - 6, y=y, **RIGHT))
    if unit:
        caption = _("Unit: %(unit)s") % {"unit": unit}
        parts.append(_tag("text", caption, x=PAD, y=bottom - PLOT_HEIGHT - 16, fill=MUTED))
    return parts, bottom, y_of


def bar_chart(
    rows: Sequence[tuple[str, Number]],
    *,
    title: str,
    unit: str = "",
    reference: tuple[str, Number] | None = None,
    value_format: Callable[[Number], str] | None = None,
) -> SafeString:
    """One horizontal bar per ``(label, value)``, the value printed at its end; ``reference``
    draws a dashed vertical line such as the statutory limit (法定时限)."""
    rows = list(rows)
    top = max([float(value) for _label, value in rows] + [0.0])
    if top <= 0:
        return _no_data(title)
    if reference:
        top = max(top, float(reference[1]))
    suffix = f" {unit}" if unit else ""
    texts = [(value_format or format_value)(value) + suffix for _label, value in rows]
    left = PAD + max(text_width(label) for label, _value in rows) + 8
    value_room = max(text_width(text) for text in texts) + 8
    area = max(WIDTH - left - value_room - PAD, 240)
    width = left + area + value_room + PAD
    y0 = HEADER + (22 if reference else 0)
    bottom = y0 + len(rows) * ROW
    parts, values = [_tag("line", x1=left, y1=y0 - 4, x2=left, y2=bottom - 4, stroke=AXIS)], []
    for i, ((label, value), text) in enumerate(zip(rows, texts, strict=True)):
        y, length = y0 + i * ROW, area * max(float(value), 0) / top
        tip = _tag("title", f"{label}: {text}")
        parts += [
            _tag("text", label, x=left - 8, y=y + 10, **RIGHT),
            _tag("rect", tip, class_="bar", x=left, y=y, width=length, height=20, fill=PALETTE[0]),
        ]
        values.append(
            _tag("text", text, class_="value", x=left + length + 4, y=y + 10, dy="0.35em", **HALO)
        )
    if reference:
        label, x = reference[0], left + area * max(float(reference[1]), 0) / top
        half = text_width(label) / 2  # keep the whole label inside the chart
        text_x = min(max(x, left + half), width - PAD - half)
        parts += [
            _tag("line", class_="reference", x1=x, y1=y0 - 10, x2=x, y2=bottom, **REFERENCE_LINE),
            _tag("text", label, class_="reference-label", x=text_x, y=y0 - 14, **REFERENCE_TEXT),
        ]
    parts += values  # drawn last, so their outline masks the reference line
    return _svg(width, bottom + PAD, title, parts)


def grouped_bar_chart(
    categories: Sequence[str], series: Series, *, title: str, unit: str = ""
) -> SafeString:
    """Vertical bars, one group per category and one bar per series within it, with a legend.
    The chart widens rather than let category labels overlap."""
    scale = _scale(series, len(categories))
    if not categories or scale is None:
        return _no_data(title)
    left = scale[2]
    group = max(
        len(series) * 12 + 12,
        max(text_width(c) for c in categories) + 10,
        (WIDTH - left - PAD) / len(categories),
    )
    width = left + group * len(categories) + PAD
    parts, bottom, y_of = _axes(series, _bar_swatch, scale, width, unit)
    bar = min((group - 12) / len(series), 28)
    for i, category in enumerate(categories):
        x0 = left + i * group + (group - bar * len(series)) / 2
        for s, (label, values) in enumerate(series):
            y = y_of(values[i])
            tip = _tag("title", f"{label} · {category}: {format_value(values[i])}")
            box = {"x": x0 + s * bar, "y": y, "width": bar - 1, "height": bottom - y}
            parts.append(_tag("rect", tip, class_="bar", fill=_colour(s), **box))
        parts.append(_tag("text", category, x=left + (i + 0.5) * group, y=bottom + 20, **CENTRED))
    return _svg(width, bottom + 28 + PAD, title, parts)


def line_chart(labels: Sequence[str], series: Series, *, title: str, unit: str = "") -> SafeString:
    """One line per series over ``labels`` (months such as "2026-01"), with point markers, a
    legend and a y axis from 0. Crowded x labels are thinned to every second, third, … one."""
    scale = _scale(series, len(labels))
    if not labels or scale is None:
        return _no_data(title)
    left = scale[2]
    label_width = max(text_width(label) for label in labels)
    inset = max(12, label_width / 2 - PAD + 2)  # room for the last x label at the right edge
    span = WIDTH - PAD - inset - (left + inset)
    pitch = span / max(len(labels) - 1, 1)
    every = math.ceil((label_width + 8) / pitch)

    def x_at(i: int) -> float:
        return left + inset + (pitch * i if len(labels) > 1 else span / 2)

    parts, bottom, y_of = _axes(series, _line_swatch, scale, WIDTH, unit)
    parts += [
        _tag("text", label, x=x_at(i), y=bottom + 20, **CENTRED)
        for i, label in enumerate(labels)
        if i % every == 0
    ]
    for s, (name, values) in enumerate(series):
        points = [(x_at(i), y_of(value)) for i, value in enumerate(values)]
        line = " ".join(f"{x:.1f},{y:.1f}" for x, y in points)
        style = {"stroke": _colour(s), "stroke_dasharray": DASHES[s % len(DASHES)], **LINE}
        parts.append(_tag("polyline", class_="series", points=line, **style))
        parts += [
            _marker(s, x, y, f"{name} {labels[i]}: {format_value(values[i])}")
            for i, (x, y) in enumerate(points)
        ]
    return _svg(WIDTH, bottom + 28 + PAD, title, parts)
