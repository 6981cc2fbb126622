"""Inline SVG charts for the HTML report: small, dependency-free, and every text escaped.

Each function returns one ``<svg>`` element that scales to its container (``viewBox``, CSS width
100%). Every drawn data point is an element with ``class="mark"`` and an SVG ``<title>`` child, which
browsers show as hover text, so the report needs no JavaScript. Text from the data (names, terms,
commands) is user content: it only ever reaches the output through :func:`esc`.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from html import escape

__all__ = [
    "JOIN_COLOR",
    "LEAVE_COLOR",
    "OTHER_COLOR",
    "PALETTE",
    "PRIMARY",
    "DayAxis",
    "Series",
    "cohort_heatmap",
    "day_bars",
    "day_lines",
    "diverging_day_bars",
    "esc",
    "fmt_count",
    "hbars",
    "heat_color",
    "heatmap",
    "legend",
    "long_date",
]

PRIMARY = "#4263eb"
PALETTE = ("#4263eb", "#f08c00", "#0ca678", "#d6336c", "#7048e8", "#1098ad", "#e8590c", "#74b816")
OTHER_COLOR = "#ced4da"
JOIN_COLOR = "#2f9e44"
LEAVE_COLOR = "#e03131"
HEAT_STOPS = ("#edf2ff", "#bac8ff", "#748ffc", "#4263eb", "#2b3a9e", "#1b2466")
EMPTY_CELL = "#f1f3f5"

MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")
WEEKDAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")

WIDTH = 600
HEIGHT = 240
LEFT, RIGHT, TOP, BOTTOM = 52, 14, 14, 32


def esc(text: object) -> str:
    """Text made safe for HTML and SVG content and attribute values."""
    return escape(str(text), quote=True)


def fmt_count(value: float) -> str:
    """1234 -> '1,234'; fractional values keep one decimal."""
    if float(value).is_integer():
        return f"{int(value):,}"
    return f"{value:,.1f}"


def _fmt_tick(value: float) -> str:
    if abs(value) >= 10_000:
        return f"{value / 1000:g}k"
    return fmt_count(value)


def long_date(day: date) -> str:
    """'Mon 5 Oct 2026' (locale-independent)."""
    return f"{WEEKDAYS[day.weekday()]} {day.day} {MONTHS[day.month - 1]} {day.year}"


def _short_date(day: date, with_year: bool) -> str:
    text = f"{day.day} {MONTHS[day.month - 1]}"
    return f"{text} {day.year}" if with_year else text


def _num(value: float) -> str:
    """A coordinate, short: 12.0 -> '12', 12.3456 -> '12.35'."""
    return f"{value:.2f}".rstrip("0").rstrip(".")


@dataclass(frozen=True)
class Series:
    """One named set of values per day, drawn in one colour."""

    name: str
    color: str
    values: Mapping[date, float]


@dataclass(frozen=True)
class DayAxis:
    """The report's days, first to last inclusive, laid out as equal bands across a plot."""

    start: date
    end: date
    left: float = LEFT
    right: float = WIDTH - RIGHT

    @property
    def days(self) -> int:
        return (self.end - self.start).days + 1

    @property
    def band(self) -> float:
        return (self.right - self.left) / self.days

    def x(self, day: date) -> float:
        """Left edge of the day's band."""
        return self.left + (day - self.start).days * self.band

    def center(self, day: date) -> float:
        return self.x(day) + self.band / 2

    def bar(self) -> tuple[float, float]:
        """Offset within a band and width of a bar: a small gap, never wider than 44 units."""
        width = min(44.0, self.band * (0.8 if self.band > 4 else 1.0))
        return (self.band - width) / 2, width

    def ticks(self) -> list[date]:
        """At most about eight evenly spaced labelled days."""
        step = next((s for s in (1, 2, 3, 7, 14) if self.days / s <= 8), 7 * math.ceil(self.days / 56))
        return [self.start + timedelta(days=i) for i in range(0, self.days, step)]


def _nice_ticks(top: float, count: int = 4, integer: bool = True) -> list[float]:
    """0, step, 2*step, ... up to at least ``top`` with a 1/2/2.5/5 x 10^k step."""
    if top <= 0:
        return [0.0, 1.0]
    raw = top / count
    power = 10 ** math.floor(math.log10(raw))
    step = next(m * power for m in (1, 2, 2.5, 5, 10) if m * power >= raw)
    if integer:
        step = max(1.0, float(math.ceil(step)))
    return [i * step for i in range(math.ceil(top / step - 1e-9) + 1)]


def _svg(
    body: list[str], label: str, width: float = WIDTH, height: float = HEIGHT, kind: str = "days"
) -> str:
    return (
        f'<svg class="chart-svg {kind}" viewBox="0 0 {_num(width)} {_num(height)}" role="img" '
        f'aria-label="{esc(label)}">' + "".join(body) + "</svg>"
    )


def _y_grid(ticks: Sequence[float], y: Callable[[float], float], fmt: Callable[[float], str]) -> list[str]:
    out = []
    for value in ticks:
        pos = _num(y(value))
        out.append(f'<line class="grid" x1="{LEFT}" x2="{WIDTH - RIGHT}" y1="{pos}" y2="{pos}"/>')
        out.append(f'<text class="tick" x="{LEFT - 8}" y="{pos}" text-anchor="end" dy="0.32em">')
        out.append(f"{esc(fmt(value))}</text>")
    return out


def _x_labels(axis: DayAxis, height: float) -> list[str]:
    out = [f'<line class="axis" x1="{LEFT}" x2="{WIDTH - RIGHT}" y1="{height}" y2="{height}"/>']
    last_year = None
    for i, day in enumerate(axis.ticks()):
        with_year = last_year is not None and day.year != last_year
        last_year = day.year
        alt = " alt" if i % 2 else ""  # every other label, hidden on narrow screens
        out.append(
            f'<text class="tick{alt}" x="{_num(axis.center(day))}" y="{_num(height + 20)}" '
            f'text-anchor="middle">{esc(_short_date(day, with_year))}</text>'
        )
    return out


def _plot_y(top: float) -> Callable[[float], float]:
    bottom = HEIGHT - BOTTOM
    return lambda v: bottom - (v / top) * (bottom - TOP)


def _mark(tag: str, attrs: str, title: str) -> str:
    return f'<{tag} class="mark" {attrs}><title>{esc(title)}</title></{tag}>'


def day_bars(
    axis: DayAxis,
    series: Sequence[Series],
    unit: str,
    label: str,
    *,
    top: float | None = None,
    fmt: Callable[[float], str] = fmt_count,
    tick_fmt: Callable[[float], str] | None = None,
    details: Mapping[date, str] | None = None,
) -> str:
    """One bar per day, stacked by series in order: one mark per day and series with a value.

    A single series also marks its zero days (a hairline), so "0%" differs from "no data"."""
    totals: dict[date, float] = {}
    for s in series:
        for day, value in s.values.items():
            totals[day] = totals.get(day, 0.0) + value
    ticks = _nice_ticks(top if top is not None else max(totals.values(), default=0.0), integer=top is None)
    y = _plot_y(ticks[-1])
    offset, width = axis.bar()
    body = _y_grid(ticks, y, tick_fmt or _fmt_tick)
    for day in sorted(totals):
        base = 0.0
        for s in series:
            if day not in s.values or (s.values[day] <= 0 and len(series) > 1):
                continue
            value = s.values[day]
            who = f" · {s.name}" if len(series) > 1 else ""
            extra = f" ({details[day]})" if details and day in details else ""
            title = f"{long_date(day)}{who}: {fmt(value)}{' ' + unit if unit else ''}{extra}"
            top_y, bottom_y = y(base + value), y(base)
            attrs = (
                f'x="{_num(axis.x(day) + offset)}" y="{_num(min(top_y, bottom_y - 1))}" '
                f'width="{_num(width)}" height="{_num(max(bottom_y - top_y, 1))}" fill="{s.color}"'
            )
            body.append(_mark("rect", attrs, title))
            base += value
    body += _x_labels(axis, HEIGHT - BOTTOM)
    return _svg(body, label)


def day_lines(
    axis: DayAxis,
    series: Sequence[Series],
    unit: str,
    label: str,
    *,
    top: float | None = None,
    fmt: Callable[[float], str] = fmt_count,
    tick_fmt: Callable[[float], str] | None = None,
    details: Mapping[date, str] | None = None,
) -> str:
    """A line per series through its days (broken where a day has no value), a dot mark per day; with
    several series each mark's text names its series."""
    values = [v for s in series for v in s.values.values()]
    ticks = _nice_ticks(top if top is not None else max(values, default=0.0), integer=False)
    y = _plot_y(ticks[-1])
    body = _y_grid(ticks, y, tick_fmt or _fmt_tick)
    radius = _num(max(1.5, min(3.5, axis.band / 3)))
    for s in series:
        days = sorted(s.values)
        runs: list[list[date]] = []
        for day in days:
            if runs and (day - runs[-1][-1]).days == 1:
                runs[-1].append(day)
            else:
                runs.append([day])
        for run in runs:
            if len(run) > 1:
                points = " ".join(f"{_num(axis.center(d))},{_num(y(s.values[d]))}" for d in run)
                body.append(f'<polyline class="line" points="{points}" stroke="{s.color}"/>')
        who = f" · {s.name}" if len(series) > 1 else ""
        for day in days:
            extra = f" ({details[day]})" if details and day in details else ""
            title = f"{long_date(day)}{who}: {fmt(s.values[day])}{' ' + unit if unit else ''}{extra}"
            attrs = (
                f'cx="{_num(axis.center(day))}" cy="{_num(y(s.values[day]))}" r="{radius}" fill="{s.color}"'
            )
            body.append(_mark("circle", attrs, title))
    body += _x_labels(axis, HEIGHT - BOTTOM)
    return _svg(body, label)


def diverging_day_bars(axis: DayAxis, up: Series, down: Series, label: str) -> str:
    """``up`` above a zero line and ``down`` below it, one mark per non-zero value."""
    peak = max([*up.values.values(), *down.values.values(), 0.0])
    ticks = _nice_ticks(peak, count=2)
    half = ticks[-1]
    bottom = HEIGHT - BOTTOM
    zero = (TOP + bottom) / 2

    def y(v: float) -> float:
        return zero - (v / half) * (zero - TOP)

    signed = [-t for t in reversed(ticks[1:])] + ticks
    body = _y_grid(signed, y, lambda v: _fmt_tick(abs(v)))
    offset, width = axis.bar()
    for s, sign in ((up, 1.0), (down, -1.0)):
        for day in sorted(s.values):
            value = s.values[day]
            if value <= 0:
                continue
            y1, y2 = sorted((y(0), y(sign * value)))
            attrs = (
                f'x="{_num(axis.x(day) + offset)}" y="{_num(y1)}" width="{_num(width)}" '
                f'height="{_num(max(y2 - y1, 0.5))}" fill="{s.color}"'
            )
            body.append(_mark("rect", attrs, f"{long_date(day)}: {fmt_count(value)} {s.name}"))
    body.append(f'<line class="zero" x1="{LEFT}" x2="{WIDTH - RIGHT}" y1="{_num(zero)}" y2="{_num(zero)}"/>')
    body += _x_labels(axis, bottom)[1:]
    return _svg(body, label)


def hbars(
    items: Sequence[tuple[str, float]],
    color: str,
    unit: str,
    label: str,
    *,
    details: Sequence[str] | None = None,
) -> str:
    """Horizontal bars, one mark per item in the given order, labels left and values right; the
    item's ``details`` (if any) follow its figure in the hover text."""
    width, row, label_w, value_w = 360, 26, 112, 40
    height = TOP + row * len(items) + 6
    top = max((v for _, v in items), default=0.0) or 1.0
    scale = (width - label_w - value_w - 12) / top
    body = []
    for i, (name, value) in enumerate(items):
        y = TOP + i * row
        short = name if len(name) <= 16 else name[:15] + "…"
        body.append(
            f'<text class="label" x="{label_w - 8}" y="{y + row / 2}" dy="0.32em" '
            f'text-anchor="end">{esc(short)}</text>'
        )
        attrs = (
            f'x="{label_w}" y="{y + 4}" width="{_num(max(value * scale, 1))}" height="{row - 8}" '
            f'rx="3" fill="{color}"'
        )
        extra = f" ({details[i]})" if details else ""
        body.append(_mark("rect", attrs, f"{name}: {fmt_count(value)} {unit}{extra}"))
        body.append(
            f'<text class="value" x="{_num(label_w + value * scale + 6)}" y="{y + row / 2}" '
            f'dy="0.32em">{esc(fmt_count(value))}</text>'
        )
    return _svg(body, label, width, height, kind="ranking")


def heat_color(value: float, peak: float) -> str:
    """Colour of a heat-map cell: light grey for zero, then light to dark blue (square-root scale)."""
    if value <= 0 or peak <= 0:
        return EMPTY_CELL
    t = math.sqrt(value / peak) * (len(HEAT_STOPS) - 1)
    i = min(int(t), len(HEAT_STOPS) - 2)
    frac = t - i
    a, b = HEAT_STOPS[i], HEAT_STOPS[i + 1]
    rgb = (round(int(a[k : k + 2], 16) * (1 - frac) + int(b[k : k + 2], 16) * frac) for k in (1, 3, 5))
    return "#" + "".join(f"{c:02x}" for c in rgb)


def heatmap(values: Mapping[tuple[int, int], float], unit: str, label: str) -> str:
    """7 weekday rows (ISO 1 = Monday) x 24 hour columns; every cell is a mark, zero cells grey."""
    left, top, cell_w, cell_h, gap = 60, 6, 32, 26, 3
    width = left + 24 * cell_w + 4
    height = top + 7 * cell_h + 66
    peak = max(values.values(), default=0.0)
    body = []
    for dow in range(1, 8):
        y = top + (dow - 1) * cell_h
        body.append(
            f'<text class="tick" x="{left - 10}" y="{y + cell_h / 2}" dy="0.32em" '
            f'text-anchor="end">{WEEKDAYS[dow - 1]}</text>'
        )
        for hour in range(24):
            value = values.get((dow, hour), 0.0)
            title = f"{WEEKDAYS[dow - 1]} {hour:02d}:00–{hour:02d}:59: {fmt_count(value)} {unit}"
            attrs = (
                f'x="{left + hour * cell_w}" y="{y}" width="{cell_w - gap}" height="{cell_h - gap}" rx="3" '
                f'fill="{heat_color(value, peak)}"'
            )
            body.append(_mark("rect", attrs, title))
    base = top + 7 * cell_h
    for hour in range(0, 24, 3):
        alt = " alt" if hour % 6 else ""  # hidden on narrow screens
        body.append(
            f'<text class="tick{alt}" x="{left + hour * cell_w + (cell_w - gap) / 2}" y="{base + 14}" '
            f'text-anchor="middle">{hour:02d}h</text>'
        )
    # Scale: five swatches from the lightest to the darkest colour in use.
    x0, y0 = width - 4 - 5 * 22 - 72, base + 50
    body.append(f'<text class="tick" x="{x0 - 8}" y="{y0}" dy="0.32em" text-anchor="end">fewer</text>')
    for i in range(5):
        color = heat_color(peak * ((i + 1) / 5) ** 2, peak) if peak else EMPTY_CELL
        body.append(f'<rect x="{x0 + i * 22}" y="{y0 - 7}" width="20" height="14" rx="3" fill="{color}"/>')
    body.append(f'<text class="tick" x="{x0 + 5 * 22 + 6}" y="{y0}" dy="0.32em">more</text>')
    return _svg(body, label, width, height, kind="heat")


def cohort_heatmap(cohorts: Sequence[tuple[date, int, Sequence[int]]], label: str) -> str:
    """Retention: one row per cohort (its week's Monday, its size, and how many of it were active in
    each week since, week 0 first), one cell mark per week, shaded and labelled by the active share."""
    left, size_x, head, cell_w, cell_h, gap = 84, 150, 22, 50, 26, 3
    weeks = max((len(active) for _, _, active in cohorts), default=0)
    width = size_x + 12 + weeks * cell_w
    height = head + len(cohorts) * cell_h + 4
    years = {week.year for week, _, _ in cohorts}
    body = [
        f'<text class="tick" x="{left}" y="{head / 2}" dy="0.32em" text-anchor="end">cohort</text>',
        f'<text class="tick" x="{size_x}" y="{head / 2}" dy="0.32em" text-anchor="end">people</text>',
    ]
    for w in range(weeks):
        body.append(
            f'<text class="tick" x="{size_x + 12 + w * cell_w + (cell_w - gap) / 2}" y="{head / 2}" '
            f'dy="0.32em" text-anchor="middle">{"week " if w == 0 else "+"}{w}</text>'
        )
    for i, (week, size, active) in enumerate(cohorts):
        y = head + i * cell_h
        mid = _num(y + (cell_h - gap) / 2)
        body.append(
            f'<text class="label" x="{left}" y="{mid}" dy="0.32em" text-anchor="end">'
            f"{esc(_short_date(week, len(years) > 1))}</text>"
        )
        body.append(
            f'<text class="value" x="{size_x}" y="{mid}" dy="0.32em" text-anchor="end">'
            f"{esc(fmt_count(size))}</text>"
        )
        for w, users in enumerate(active):
            share = users / size if size else 0.0
            x = size_x + 12 + w * cell_w
            title = (
                f"Cohort of {long_date(week)} ({fmt_count(size)} people), week {w}: "
                f"{fmt_count(users)} active ({share:.0%})"
            )
            attrs = (
                f'x="{x}" y="{y}" width="{cell_w - gap}" height="{cell_h - gap}" rx="3" '
                f'fill="{heat_color(share, 1.0)}"'
            )
            body.append(_mark("rect", attrs, title))
            tone = "cell-dark" if share > 0.4 else "cell-light"
            body.append(
                f'<text class="{tone}" x="{_num(x + (cell_w - gap) / 2)}" y="{mid}" dy="0.32em" '
                f'text-anchor="middle">{share:.0%}</text>'
            )
    # Drawn at most 1.25 times its size: a few weeks do not fill a wide card with giant cells.
    return _svg(body, label, width, height, kind="cohort").replace(
        "<svg ", f'<svg style="max-width:{_num(width * 1.25)}px" ', 1
    )


def legend(series: Sequence[Series]) -> str:
    """An HTML legend: a colour swatch and the escaped name of each series."""
    items = "".join(
        f'<li><span class="swatch" style="background:{s.color}"></span>{esc(s.name)}</li>' for s in series
    )
    return f'<ul class="legend">{items}</ul>'
