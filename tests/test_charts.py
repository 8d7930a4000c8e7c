"""Server-side SVG charts for the auditors' dashboard: each chart is parsed as XML and checked for
what a reader sees (one bar per row, lengths in proportion, the reference line, the legend) and
for what must never happen (markup injected through a label, a division by zero on no data)."""

import xml.etree.ElementTree as ET
from decimal import Decimal

import pytest
from django.utils.safestring import SafeString
from django.utils.translation import gettext as _

from reports.charts import bar_chart, grouped_bar_chart, line_chart

NS = {"svg": "http://www.w3.org/2000/svg"}
DISTRICTS = ["渝中区", "江北区", "万州区"]
MONTHS = ["2026-01", "2026-02", "2026-03", "2026-04"]


def parse(svg: SafeString) -> ET.Element:
    assert isinstance(svg, SafeString)
    return ET.fromstring(str(svg))  # noqa: S314 - the charts' own output, not untrusted input


def find(root: ET.Element, tag: str, css_class: str) -> list[ET.Element]:
    return root.findall(f".//svg:{tag}[@class='{css_class}']", NS)


def texts(root: ET.Element) -> list[str]:
    return ["".join(t.itertext()) for t in root.iterfind(".//svg:text", NS)]


def viewbox(root: ET.Element) -> list[float]:
    return [float(n) for n in root.get("viewBox").split()]


@pytest.mark.parametrize(
    "draw",
    [
        lambda: bar_chart([("渝中区", 12)], title="审批时长"),
        lambda: grouped_bar_chart(DISTRICTS, [("申请", [1, 2, 3])], title="申请与批准"),
        lambda: line_chart(MONTHS, [("新增", [1, 2, 3, 4])], title="月度新增"),
        lambda: line_chart([], [], title="月度新增"),
    ],
)
def test_every_chart_is_an_accessible_svg_that_scales(draw):
    root = parse(draw())
    assert root.tag == "{http://www.w3.org/2000/svg}svg"
    assert root.get("role") == "img"
    assert root.get("width") == "100%"
    assert len(viewbox(root)) == 4
    title = root.find("svg:title", NS).text
    assert root.get("aria-label") == title
    assert title in texts(root)
    assert "Noto Sans CJK SC" in root.get("font-family")


def test_bar_chart_draws_one_bar_per_row_in_proportion_to_its_value():
    rows = [("渝中区", 40), ("江北区", 10), ("万州区", Decimal("25.5")), ("涪陵区", 0.0)]
    root = parse(bar_chart(rows, title="平均审批天数", unit="天"))
    bars = find(root, "rect", "bar")
    assert len(bars) == len(rows)
    widths = [float(bar.get("width")) for bar in bars]
    for width, (_label, value) in zip(widths, rows, strict=True):
        assert width == pytest.approx(widths[0] * float(value) / 40, abs=0.2)
    assert [label for label, _v in rows] == [t for t in texts(root) if t in dict(rows)]


def test_bar_chart_prints_values_with_thousands_separators_and_the_unit():
    rows = [("渝中区", 12345), ("江北区", Decimal("1234.5"))]
    root = parse(bar_chart(rows, title="救助金额", unit="元"))
    assert [v.text for v in find(root, "text", "value")] == ["12,345 元", "1,234.50 元"]


def test_bar_chart_takes_a_value_format():
    rows = [("渝中区", Decimal("0.125"))]
    svg = bar_chart(rows, title="逾期率", value_format=lambda v: f"{v:.1%}")
    assert [v.text for v in find(parse(svg), "text", "value")] == ["12.5%"]


def test_bar_chart_grows_taller_with_more_rows():
    few = parse(bar_chart([("渝中区", 1)] * 3, title="户数"))
    many = parse(bar_chart([("渝中区", 1)] * 30, title="户数"))
    assert viewbox(many)[3] > viewbox(few)[3] + 27 * 20


def test_negative_value_draws_no_bar_but_prints_the_real_value():
    root = parse(bar_chart([("渝中区", 10), ("江北区", -3)], title="净增户数"))
    assert float(find(root, "rect", "bar")[1].get("width")) == 0
    assert find(root, "text", "value")[1].text == "-3"


def test_reference_line_sits_where_a_bar_of_that_value_ends():
    rows = [("渝中区", 30), ("江北区", 45)]
    root = parse(bar_chart(rows, title="审批天数", reference=("法定时限 30 天", 30)))
    (line,) = find(root, "line", "reference")
    bar = find(root, "rect", "bar")[0]
    assert float(line.get("x1")) == pytest.approx(float(bar.get("x")) + float(bar.get("width")))
    assert line.get("stroke-dasharray")
    assert find(root, "text", "reference-label")[0].text == "法定时限 30 天"


def test_reference_beyond_every_value_sets_the_scale():
    root = parse(bar_chart([("渝中区", 5)], title="审批天数", reference=("法定时限 30 天", 30)))
    (line,) = find(root, "line", "reference")
    bar = find(root, "rect", "bar")[0]
    reference_length = float(line.get("x1")) - float(bar.get("x"))
    assert float(bar.get("width")) == pytest.approx(reference_length / 6, abs=0.2)
    assert float(line.get("x1")) < viewbox(root)[2]


def test_malicious_labels_and_titles_are_escaped():
    evil = '<script>alert("x")</script>'
    charts = [
        bar_chart([(evil, 1)], title=evil, unit=evil, reference=(evil, 1)),
        grouped_bar_chart([evil], [(evil, [1])], title=evil, unit=evil),
        line_chart([evil], [(evil, [1])], title=evil, unit=evil),
        bar_chart([], title=evil),
    ]
    for svg in charts:
        assert "<script" not in svg
        assert "&lt;script&gt;" in svg
        root = parse(svg)  # and it is still well-formed
        assert root.get("aria-label") == evil
        assert evil in texts(root)


@pytest.mark.parametrize(
    "draw",
    [
        lambda: bar_chart([], title="审批天数"),
        lambda: bar_chart(
            [("渝中区", 0), ("江北区", 0)], title="审批天数", reference=("法定时限", 30)
        ),
        lambda: grouped_bar_chart([], [], title="申请与批准"),
        lambda: grouped_bar_chart(DISTRICTS, [("申请", [0, 0, 0])], title="申请与批准"),
        lambda: line_chart([], [], title="月度新增"),
        lambda: line_chart(MONTHS, [("新增", [0] * 4), ("退出", [0] * 4)], title="月度新增"),
    ],
)
def test_no_data_shows_a_message_instead_of_an_empty_plot(draw):
    root = parse(draw())
    assert [t.text for t in find(root, "text", "no-data")] == [_("No data yet")]
    assert not find(root, "rect", "bar")
    assert not find(root, "polyline", "series")


def test_grouped_bar_chart_draws_categories_times_series_bars_with_a_legend():
    series = [("申请", [30, 20, 10]), ("批准", [15, 20, 0]), ("退回", [3, 1, 2])]
    root = parse(grouped_bar_chart(DISTRICTS, series, title="申请与批准", unit="件"))
    bars = find(root, "rect", "bar")
    assert len(bars) == len(DISTRICTS) * len(series)
    heights = [float(bar.get("height")) for bar in bars]
    assert heights[0] == pytest.approx(2 * heights[1], abs=0.2)  # 渝中区: 申请 30, 批准 15
    assert heights[4] == pytest.approx(heights[3], abs=0.2)  # 江北区: 20 and 20
    legend = find(root, "g", "legend-item")
    assert ["".join(item.itertext()) for item in legend] == ["申请", "批准", "退回"]
    assert set(DISTRICTS) <= set(texts(root))


def test_line_chart_draws_one_line_per_series_with_markers_and_a_legend():
    series = [("新增", [12, 30, 18, 25]), ("退出", [4, 6, 5, 9]), ("复核", [1, 2, 3, 4])]
    root = parse(line_chart(MONTHS, series, title="月度变动", unit="户"))
    lines = find(root, "polyline", "series")
    assert len(lines) == len(series)
    assert all(len(line.get("points").split()) == len(MONTHS) for line in lines)
    assert len({line.get("stroke-dasharray") for line in lines}) == len(series)
    points = root.findall("./*[@class='marker']")  # the legend's markers sit inside its entries
    assert len(points) == len(MONTHS) * len(series)
    legend = find(root, "g", "legend-item")
    assert ["".join(item.itertext()) for item in legend] == ["新增", "退出", "复核"]


@pytest.mark.parametrize(
    ("top", "ticks"),
    [
        (30, ["0", "10", "20", "30"]),
        (87, ["0", "20", "40", "60", "80", "100"]),
        (1234, ["0", "500", "1,000", "1,500"]),
        (Decimal("0.35"), ["0.0", "0.1", "0.2", "0.3", "0.4"]),
        (3, ["0", "1", "2", "3"]),
    ],
)
def test_line_chart_y_axis_has_nice_round_ticks_from_zero(top, ticks):
    root = parse(line_chart(MONTHS[:2], [("新增", [0, top])], title="月度新增"))
    assert [t.text for t in find(root, "text", "tick")] == ticks


def test_line_chart_thins_crowded_month_labels_without_dropping_points():
    months = [f"{year}-{month:02}" for year in (2025, 2026) for month in range(1, 13)]
    root = parse(line_chart(months, [("新增", list(range(24)))], title="两年新增"))
    shown = [t for t in texts(root) if t in months]
    assert shown[0] == "2025-01"
    assert 4 <= len(shown) < len(months)
    assert len(find(root, "polyline", "series")[0].get("points").split()) == len(months)


@pytest.mark.parametrize("chart", [grouped_bar_chart, line_chart])
def test_a_series_that_does_not_match_its_labels_is_refused(chart):
    with pytest.raises(ValueError, match="one value per"):
        chart(DISTRICTS, [("申请", [1, 2])], title="申请与批准")
