"""SVG geometry of the dashboard's charts: pure functions from values to coordinates and labels.

The templates draw what these return (a polyline of the values, a band of the interval minimum and
maximum, axis ticks), so a chart needs no script and no charting library, and a test can count its
points. Times are epoch milliseconds, shown in UTC.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass

WIDTH, HEIGHT = 480, 200
LEFT, RIGHT, TOP, BOTTOM = 56, 12, 12, 28  # plot margins: y labels on the left, time labels below
MARKERS_UP_TO = 60  # values drawn as dots too when there are at most this many
THIN_ABOVE = 1000  # more values than this are thinned to each pixel column's first, lowest, highest and last


@dataclass(frozen=True)
class Chart:
    width: int
    height: int
    left: int
    top: int
    right: int  # x of the plot's right edge
    bottom: int  # y of the plot's bottom edge
    line: str  # polyline points "x,y x,y ..."
    count: int  # points in ``line``
    markers: list[tuple[float, float]]
    band: str  # polygon points (aggregates: min to max), or ""
    x_ticks: list[tuple[float, str]]
    y_ticks: list[tuple[float, str]]


def nice_step(span: float, count: int = 4) -> float:
    raw = span / max(count, 1)
    magnitude = 10 ** math.floor(math.log10(raw))
    for factor in (1, 2, 2.5, 5, 10):
        if raw <= factor * magnitude:
            return factor * magnitude
    return 10 * magnitude


def value_label(value: float, step: float) -> str:
    if value == 0:
        return "0"
    if abs(value) >= 1e6 or abs(value) < 1e-4:
        return f"{value:.3g}"
    exponent = math.floor(math.log10(step))
    extra = 1 if round(step / 10**exponent, 6) == 2.5 else 0  # 2.5, 25, 0.25: one digit more than the step's
    decimals = max(0, min(6, extra - exponent))
    return f"{value:.{decimals}f}"


def time_label(ms: int, span_ms: int) -> str:
    parts = time.gmtime(ms // 1000)
    return time.strftime("%m-%d %H:%M" if span_ms > 86_400_000 else "%H:%M", parts)


def _y_range(values: list[float]) -> tuple[float, float]:
    low, high = min(values), max(values)
    if low == high:
        pad = abs(low) * 0.1 or 1.0
        return low - pad, high + pad
    pad = (high - low) * 0.05
    return low - pad, high + pad


def _fmt(v: float) -> str:
    return f"{v:.1f}"


def chart(series: list[tuple[int, float]], t0: int, t1: int, *, band: list[tuple[int, float, float]] = ()) -> Chart:
    """A line of ``series`` (time, value) over ``[t0, t1]``; ``band`` (time, low, high) shades a range behind
    it. The y axis covers every value of both."""
    plot_w, plot_h = WIDTH - LEFT - RIGHT, HEIGHT - TOP - BOTTOM
    values = [v for _, v in series] + [v for _, lo, hi in band for v in (lo, hi)]
    low, high = _y_range(values) if values else (0.0, 1.0)
    span = max(t1 - t0, 1)

    def x(t: int) -> float:
        return LEFT + (min(max(t, t0), t1) - t0) / span * plot_w

    def y(v: float) -> float:
        return TOP + (high - v) / (high - low) * plot_h

    coords = thin([(x(t), y(v)) for t, v in series]) if len(series) > THIN_ABOVE else [(x(t), y(v)) for t, v in series]
    band_points = ""
    if band:
        upper = [f"{_fmt(x(t))},{_fmt(y(hi))}" for t, _, hi in band]
        lower = [f"{_fmt(x(t))},{_fmt(y(lo))}" for t, lo, _ in reversed(band)]
        band_points = " ".join(upper + lower)
    step = nice_step(high - low)
    first = math.ceil(low / step) * step
    y_ticks = []
    tick = first
    while tick <= high + step * 1e-9:
        y_ticks.append((y(tick), value_label(tick, step)))
        tick += step
    x_ticks = [(x(t0 + span * i // 4), time_label(t0 + span * i // 4, span)) for i in range(5)]
    return Chart(WIDTH, HEIGHT, LEFT, TOP, WIDTH - RIGHT, HEIGHT - BOTTOM,
                 " ".join(f"{_fmt(cx)},{_fmt(cy)}" for cx, cy in coords), len(coords),
                 coords if len(coords) <= MARKERS_UP_TO else [], band_points, x_ticks, y_ticks)


def thin(coords: list[tuple[float, float]]) -> list[tuple[float, float]]:
    """Per pixel column, the first, lowest, highest and last point in time order: the line looks the same with
    a few points a column, whatever the number of values."""
    out: list[tuple[float, float]] = []
    column: list[tuple[float, float]] = []

    def flush():
        if column:
            keep = {0, len(column) - 1, min(range(len(column)), key=lambda i: column[i][1]),
                    max(range(len(column)), key=lambda i: column[i][1])}
            out.extend(column[i] for i in sorted(keep))

    for point in coords:
        if column and int(point[0]) != int(column[0][0]):
            flush()
            column = []
        column.append(point)
    flush()
    return out


def values_chart(points: list[tuple[int, float]], t0: int, t1: int) -> Chart:
    return chart(points, t0, t1)


def aggregates_chart(intervals: list[tuple[int, int, float, float, float, int]], t0: int, t1: int) -> Chart:
    """The average of each interval (at its middle) over the band from its minimum to its maximum."""
    middles = [((lo + hi) // 2, avg, mn, mx) for lo, hi, avg, mn, mx, _ in intervals]
    return chart([(t, avg) for t, avg, _, _ in middles], t0, t1, band=[(t, mn, mx) for t, _, mn, mx in middles])


def number(value) -> str:
    """A value as the tables show it: integers plainly, other numbers to 6 significant digits."""
    if isinstance(value, bool) or value is None:
        return "" if value is None else str(value).lower()
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        return f"{value:.6g}"
    return str(value)


def utc(ms: int | None, seconds: bool = True) -> str:
    if ms is None:
        return ""
    return time.strftime("%Y-%m-%d %H:%M:%S" if seconds else "%Y-%m-%d %H:%M", time.gmtime(ms // 1000)) + " UTC"
