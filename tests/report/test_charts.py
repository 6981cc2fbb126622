"""The report's SVG drawing: date axes, y ticks, bars, the heat-map scale and escaping."""

from __future__ import annotations

import re
from datetime import date, timedelta

import pytest

from etl.report import charts
from etl.report.charts import DayAxis, Series, _nice_ticks

D = date(2026, 10, 5)


@pytest.mark.parametrize(
    ("days", "step", "count"),
    [
        pytest.param(1, 1, 1, id="one-day"),
        pytest.param(8, 1, 8, id="a-week-every-day"),
        pytest.param(9, 2, 5, id="nine-days-every-other"),
        pytest.param(21, 3, 7, id="three-weeks"),
        pytest.param(60, 14, 5, id="two-months-fortnightly"),
        pytest.param(400, 56, 8, id="a-year-every-eight-weeks"),
    ],
)
def test_day_axis_ticks(days: int, step: int, count: int) -> None:
    """At most eight labelled days, evenly spaced from the first day."""
    ticks = DayAxis(D, D + timedelta(days=days - 1)).ticks()
    assert ticks == [D + timedelta(days=i * step) for i in range(count)]


@pytest.mark.parametrize(
    ("top", "integer", "ticks"),
    [
        pytest.param(0, True, [0, 1], id="nothing"),
        pytest.param(5, True, [0, 2, 4, 6], id="small-counts"),
        pytest.param(962, True, [0, 250, 500, 750, 1000], id="hundreds"),
        pytest.param(1.0, False, [0, 0.25, 0.5, 0.75, 1.0], id="a-rate"),
        pytest.param(0.6, True, [0, 1], id="counts-never-fractional"),
    ],
)
def test_nice_ticks(top: float, integer: bool, ticks: list[float]) -> None:
    """Y ticks start at 0, reach the top, and step by 1, 2, 2.5 or 5 times a power of ten."""
    assert _nice_ticks(top, integer=integer) == ticks


def test_year_shown_when_it_changes() -> None:
    """Date labels are '5 Oct'; the year is added on the first label of a new year."""
    axis = DayAxis(date(2026, 12, 20), date(2027, 1, 10))
    svg = charts.day_bars(axis, [Series("m", charts.PRIMARY, {date(2026, 12, 20): 1.0})], "messages", "x")
    labels = re.findall(r'text-anchor="middle">([^<]+)</text>', svg)
    assert labels == ["20 Dec", "23 Dec", "26 Dec", "29 Dec", "1 Jan 2027", "4 Jan", "7 Jan", "10 Jan"]


def test_single_day_bar_is_not_a_slab() -> None:
    """With one day in the range the bar stays at most 44 units wide, centred."""
    svg = charts.day_bars(DayAxis(D, D), [Series("m", charts.PRIMARY, {D: 3.0})], "messages", "x")
    (bar,) = re.findall(r'<rect class="mark" x="([\d.]+)" y="[\d.]+" width="([\d.]+)"', svg)
    assert float(bar[1]) == 44
    assert float(bar[0]) + 22 == pytest.approx((charts.LEFT + charts.WIDTH - charts.RIGHT) / 2)


def test_heat_colours() -> None:
    """Zero is light grey; colours darken with the value; the peak is the darkest stop."""
    assert charts.heat_color(0, 10) == "#f1f3f5"
    assert charts.heat_color(10, 10) == "#1b2466"
    darkness = [sum(int(charts.heat_color(v, 10)[k : k + 2], 16) for k in (1, 3, 5)) for v in range(1, 11)]
    assert darkness == sorted(darkness, reverse=True)


def test_text_is_escaped_in_content_and_attributes() -> None:
    """Names reach the SVG and the legend escaped, quotes included, and long labels are shortened."""
    name = '"><img src=x onerror=alert(1)>'
    svg = charts.hbars([(name, 2.0)], charts.PRIMARY, "uses", name)
    assert "<img" not in svg
    assert 'aria-label="&quot;&gt;&lt;img src=x onerror=alert(1)&gt;"' in svg
    assert ">&quot;&gt;&lt;img src=x on…</text>" in svg
    assert "<title>&quot;&gt;&lt;img src=x onerror=alert(1)&gt;: 2 uses</title>" in svg
    legend = charts.legend([Series(name, "#000000", {})])
    assert legend == (
        '<ul class="legend"><li><span class="swatch" style="background:#000000"></span>'
        "&quot;&gt;&lt;img src=x onerror=alert(1)&gt;</li></ul>"
    )


def test_lines_name_their_series_when_there_are_several() -> None:
    """With several series each dot's text names its series; a lone series keeps the short text."""
    a = Series("daily", charts.PRIMARY, {D: 2.0})
    b = Series("weekly", charts.PALETTE[1], {D: 5.0})
    axis = DayAxis(D, D)
    assert re.findall(r"<title>([^<]+)</title>", charts.day_lines(axis, [a, b], "people", "x")) == [
        "Mon 5 Oct 2026 · daily: 2 people",
        "Mon 5 Oct 2026 · weekly: 5 people",
    ]
    assert re.findall(r"<title>([^<]+)</title>", charts.day_lines(axis, [a], "people", "x")) == [
        "Mon 5 Oct 2026: 2 people"
    ]


def test_bars_with_details() -> None:
    """An item's details follow its figure in the hover text."""
    svg = charts.hbars([("👍", 5.0), ("🔥", 1.0)], charts.PRIMARY, "added", "x", details=["1 back", "<b>"])
    assert re.findall(r"<title>([^<]+)</title>", svg) == ["👍: 5 added (1 back)", "🔥: 1 added (&lt;b&gt;)"]


def test_cohort_heatmap() -> None:
    """One row per cohort, one cell per week since it with the active share as colour and text."""
    svg = charts.cohort_heatmap([(D, 4, [4, 2, 0]), (D + timedelta(days=7), 2, [2, 1])], "Retention")
    assert re.findall(r"<title>([^<]+)</title>", svg) == [
        "Cohort of Mon 5 Oct 2026 (4 people), week 0: 4 active (100%)",
        "Cohort of Mon 5 Oct 2026 (4 people), week 1: 2 active (50%)",
        "Cohort of Mon 5 Oct 2026 (4 people), week 2: 0 active (0%)",
        "Cohort of Mon 12 Oct 2026 (2 people), week 0: 2 active (100%)",
        "Cohort of Mon 12 Oct 2026 (2 people), week 1: 1 active (50%)",
    ]
    fills = re.findall(r'<rect class="mark" [^>]*fill="(#[0-9a-f]{6})"', svg)
    assert fills == ["#1b2466", charts.heat_color(0.5, 1), "#f1f3f5", "#1b2466", charts.heat_color(0.5, 1)]
    cells = re.findall(r'<text class="(cell-dark|cell-light)"[^>]*>([^<]+)</text>', svg)
    assert cells == [
        ("cell-dark", "100%"),
        ("cell-dark", "50%"),
        ("cell-light", "0%"),
        ("cell-dark", "100%"),
        ("cell-dark", "50%"),
    ]
    labels = re.findall(r'<text class="(?:label|value)"[^>]*>([^<]+)</text>', svg)
    assert labels == ["5 Oct", "4", "12 Oct", "2"]
    # 150 + 12 + 3 weeks x 50 wide, 22 + 2 rows x 26 + 4 high, drawn at most 1.25 times that size
    assert svg.startswith('<svg style="max-width:390px" class="chart-svg cohort" viewBox="0 0 312 78" ')
