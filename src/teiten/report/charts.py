"""Line charts as self-contained SVG that show a finding, not just the data.

No plotting library: a report's charts are a few polylines, and writing them here
keeps the output small, deterministic (the same data gives the same bytes) and
free of external references. What each chart does so that a reader sees the point:

* **The report period is shaded** (a grey band with a legend entry), so the days
  before it read as context.
* **A robust main line.** Darknet series are heavy-tailed: one scanner can put a
  single day ten times above the rest. Over 28 days or more, the main line of each
  series is its *centred 7-day moving median* (the median of the day and the three
  days either side; at least four of them observed), which a burst of up to three days
  does not move; the daily values are a thin faint line of the same colour.
* **Spikes are clipped, not allowed to squash the rest.** The y axis reaches
  :data:`CLIP_FACTOR` × the highest main-line value (or the highest daily value below
  that); a daily value above the axis is drawn at its top with a ▲ and annotated with
  its value and date ("10,600 (4/18)").
* **Every line has its own (colour, dash) pair.** Colours are the Okabe–Ito palette,
  which readers with any common colour-vision deficiency can tell apart; dash patterns
  are all different up to ten lines, so the chart also reads in grey print.

Shorter charts (and counts of events, which are sparse) draw the daily values as the
main line, unclipped. The caller names the metric on the y axis (above the plot).
"""

from __future__ import annotations

import math
import statistics
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from html import escape

from teiten import numbers
from teiten.report.model import Series

__all__ = [
    "CLIP_FACTOR",
    "DASHES",
    "FONT_FAMILY",
    "PALETTE",
    "SMOOTH_MIN_DAYS",
    "WINDOW",
    "ChartText",
    "line_chart",
    "line_style",
    "moving_median",
    "nice_ticks",
    "window_for",
]

# Okabe & Ito, "Color Universal Design" (2008); yellow is left out (too pale on white).
# Ordered so the first five (a ranking's usual lines) differ most in hue and in grey.
PALETTE = ("#0072B2", "#E69F00", "#009E73", "#CC79A7", "#000000", "#D55E00", "#56B4E9")
# Ten distinct patterns (solid, long dash, dots, dash-dot, short dash, dash-dot-dot, sparse
# dots, long-short, very long dash, dash-dash-dot): the i-th line has the i-th.
DASHES = (
    "",
    "10 4",
    "2 3",
    "10 3 2 3",
    "4 3",
    "10 3 2 3 2 3",
    "1 6",
    "16 4 4 4",
    "20 6",
    "6 3 6 3 1 3",
)
FONT_FAMILY = "'IPAexGothic', 'Noto Sans CJK JP', 'Noto Sans JP', sans-serif"

WINDOW = 7  # days of the moving median
SMOOTH_MIN_DAYS = 28  # charts spanning fewer days draw daily values as the main line
CLIP_FACTOR = 2.0  # the y axis reaches this × the highest main-line value at most

_FONT = 14  # px (printed about 7 pt: figures are at most 48 mm tall)
_NOTE_FONT = 12  # px, the clipped values' annotations
_WIDTH = 860
_PLOT_H = 150
_AXIS_H = 40  # date labels under the plot
_BAND = "#efefef"  # the report period
_BAND_EDGE = "#8c8c8c"


@dataclass(frozen=True)
class ChartText:
    """The words a chart writes itself, in the report's language."""

    axis_date: Callable[[date, bool], str]
    period: str = "report period"
    daily: str = "thin lines: daily values"
    clipped: str = "above the axis: value (date)"


def line_style(i: int) -> tuple[str, str]:
    """The (colour, dash) of the ``i``-th line: all pairs differ for the first 70 lines."""
    return PALETTE[i % len(PALETTE)], DASHES[i % len(DASHES)]


def window_for(days: int, unit: str) -> int:
    """The moving-median window a chart of ``days`` days in ``unit`` uses (1: none)."""
    return WINDOW if days >= SMOOTH_MIN_DAYS and unit != "count" else 1


def nice_ticks(high: float, target: int = 5) -> list[float]:
    """Ticks from 0 to at least ``high`` in steps of 1, 2 or 5 × 10^k (about ``target``)."""
    if not high > 0 or not math.isfinite(high):
        return [0.0, 1.0]
    raw = high / target
    power = 10 ** math.floor(math.log10(raw))
    step = next(m * power for m in (1, 2, 2.5, 5, 10) if m * power >= raw)
    count = math.ceil(high / step - 1e-9)
    return [round(i * step, 12) for i in range(count + 1)]


def moving_median(values: list[float | None], window: int = WINDOW) -> list[float | None]:
    """Centred moving median; ``None`` where fewer than half the window was observed."""
    if window <= 1:
        return list(values)
    half, need = window // 2, window // 2 + 1
    out: list[float | None] = []
    for i in range(len(values)):
        seen = [v for v in values[max(0, i - half) : i + half + 1] if v is not None]
        out.append(float(statistics.median(seen)) if len(seen) >= need else None)
    return out


def _text_width(text: str, size: float = _FONT) -> float:
    """Rendered width, estimated: full-width characters are square, others about 0.6."""
    return sum(size if ord(c) > 0x2E7F else size * 0.6 for c in text)


def _tick_label(value: float, step: float, unit: str) -> str:
    if unit == "share":
        places = max(0, -math.floor(math.log10(step * 100))) if step else 0
        return f"{value * 100:.{places}f}%"
    places = max(0, -math.floor(math.log10(step))) if step else 0
    return f"{value:,.{places}f}"


def _value_label(value: float, unit: str) -> str:
    """A clipped value as the report's text writes it (``teiten.numbers``)."""
    if unit == "share":
        return numbers.percent(value)
    if unit == "per-sensor":
        return numbers.per_sensor(value)
    return numbers.count(value)


def _date_ticks(days: list[date]) -> list[int]:
    """Indexes of the days to label: every day, Mondays, month or quarter starts."""
    n = len(days)
    if n <= 10:
        return list(range(n))
    if n <= 70:
        picks = [i for i, d in enumerate(days) if d.weekday() == 0]
    elif n <= 500:
        picks = [i for i, d in enumerate(days) if d.day == 1]
        if len(picks) < 3:  # a short range inside one or two months: the 1st and 15th
            picks = [i for i, d in enumerate(days) if d.day in (1, 15)]
    else:
        picks = [i for i, d in enumerate(days) if d.day == 1 and d.month in (1, 4, 7, 10)]
    return picks or [0]


@dataclass(frozen=True)
class _Scale:
    """The y axis: its ticks, and the daily values above its top (key index, day, value)."""

    ticks: list[float]
    clipped: list[tuple[int, int, float]]

    @property
    def top(self) -> float:
        return self.ticks[-1]


def _scale(daily: list[list[float | None]], main: list[list[float | None]], smooth: bool) -> _Scale:
    """Fit the main lines whole, and daily values up to CLIP_FACTOR × the highest of them."""
    highest = max((v for line in main for v in line if v is not None), default=0.0)
    values = [v for line in daily for v in line if v is not None]
    if smooth and highest > 0:
        limit = CLIP_FACTOR * highest
        high = max([highest, *(v for v in values if v <= limit)])
    else:
        high = max(values, default=0.0)
    ticks = nice_ticks(high)
    top = ticks[-1]
    clipped = [
        (k, j, v)
        for k, line in enumerate(daily)
        for j, v in enumerate(line)
        if v is not None and v > top * (1 + 1e-9)
    ]
    return _Scale(ticks, clipped)


def _place_notes(
    notes: list[tuple[float, str]], low: float, high: float, rows: int = 3
) -> list[tuple[float, int, str]]:
    """Annotations (x, text) in up to ``rows`` rows without overlap: (x, row, text)."""
    taken: list[list[tuple[float, float]]] = [[] for _ in range(rows)]
    placed = []
    for at, text in notes:
        w = _text_width(text, _NOTE_FONT)
        cx = min(max(at, low + w / 2), high - w / 2)
        span = (cx - w / 2 - 3, cx + w / 2 + 3)
        for row in range(rows):
            if all(span[1] <= a or span[0] >= b for a, b in taken[row]):
                taken[row].append(span)
                placed.append((cx, row, text))
                break
    return placed


def line_chart(
    series: Series,
    names: dict[str, str],
    *,
    y_label: str,
    text: ChartText,
    title: str = "",
    period: tuple[date, date] | None = None,
    window: int = 1,
) -> str:
    """An SVG line chart of ``series``; ``names`` gives each line's legend text.

    ``period`` (first and last day) is shaded; ``window`` > 1 draws each line's moving
    median over its faint daily values and clips daily spikes (see the module's notes).
    """
    days = series.dates
    keys = list(series.values)
    smooth = window > 1
    daily = [series.values[k] for k in keys]
    main = [moving_median(v, window) for v in daily] if smooth else daily
    scale = _scale(daily, main, smooth)
    step = scale.ticks[1] - scale.ticks[0]
    tick_labels = [_tick_label(t, step, series.unit) for t in scale.ticks]
    left = 12 + max(_text_width(label) for label in tick_labels) + 8
    right = _WIDTH - 16
    plot_w = right - left

    def x(i: int | float) -> float:
        return left + (plot_w * i / (len(days) - 1) if len(days) > 1 else plot_w / 2)

    biggest_first = sorted(scale.clipped, key=lambda c: (-c[2], c[1]))
    notes = [
        (x(j), f"{_value_label(v, series.unit)} ({text.axis_date(days[j], False)})")
        for _, j, v in biggest_first
    ]
    placed = _place_notes(notes, left, right)
    rows = 1 + max((row for _, row, _ in placed), default=-1)
    plot_top = 22 + 13 * rows + (6 if rows else 2)
    plot_bottom = plot_top + _PLOT_H

    def y(v: float) -> float:
        return plot_bottom - _PLOT_H * min(v, scale.top) / scale.top

    legend = [(names.get(k, k), "line", i) for i, k in enumerate(keys)]
    band = _band(days, period, x) if period else None
    keys_legend = [
        (label, kind, -1)
        for label, kind, shown in (
            (text.period, "band", band is not None),
            (text.daily, "daily", smooth and bool(keys)),
            (text.clipped, "clip", bool(scale.clipped)),
        )
        if shown
    ]
    # the chart's own entries go on the y label's line when they fit there, else below
    header_w = sum(_entry_width(label) for label, _, _ in keys_legend)
    if 8 + _text_width(y_label) + 24 + header_w <= right:
        header, _ = _legend_layout(keys_legend, right - header_w, right, 4)
    else:
        header, legend = [], legend + keys_legend
    items, legend_h = _legend_layout(legend, left, right, plot_bottom + _AXIS_H + 4)
    items += header
    height = plot_bottom + _AXIS_H + legend_h + 4

    out = [
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {_WIDTH} {height:.0f}" '
        f'width="{_WIDTH}" height="{height:.0f}" role="img"{_date_range(days)} '
        f'font-family="{escape(FONT_FAMILY)}" font-size="{_FONT}">'
    ]
    if title:
        out.append(f"<title>{escape(title)}</title>")
    out.append(f'<rect width="{_WIDTH}" height="{height:.0f}" fill="#ffffff"/>')
    out.append(
        f'<text class="y-label" x="8" y="14" fill="#222222" font-weight="bold">'
        f"{escape(y_label)}</text>"
    )
    if band:
        x0, x1 = band
        out.append(
            f'<rect class="period" x="{x0:.1f}" y="{plot_top}" width="{x1 - x0:.1f}" '
            f'height="{_PLOT_H}" fill="{_BAND}"/>'
        )
        for edge in (x0, x1):
            out.append(
                f'<line x1="{edge:.1f}" y1="{plot_top}" x2="{edge:.1f}" y2="{plot_bottom}" '
                f'stroke="{_BAND_EDGE}" stroke-width="0.8"/>'
            )
    for t, label in zip(scale.ticks, tick_labels, strict=True):
        yy = y(t)
        out.append(
            f'<line class="grid" x1="{left:.1f}" y1="{yy:.1f}" x2="{right:.1f}" y2="{yy:.1f}" '
            f'stroke="{"#555555" if t == 0 else "#d0d0d0"}" stroke-width="1"/>'
        )
        out.append(
            f'<text x="{left - 6:.1f}" y="{yy + 4:.1f}" text-anchor="end" fill="#333333">'
            f"{escape(label)}</text>"
        )
    out += _date_axis(days, x, plot_bottom, text.axis_date)
    if smooth:
        for i, values in enumerate(daily):
            colour, _ = line_style(i)
            out += _polylines(values, x, y, "daily", colour, 'stroke-width="0.8" opacity="0.45"')
    for i, values in enumerate(main):
        colour, dash = line_style(i)
        extra = 'stroke-width="2" stroke-linejoin="round"'
        extra += f' stroke-dasharray="{dash}"' if dash else ""
        out += _polylines(values, x, y, "line", colour, extra)
    for k, j, _ in scale.clipped:
        xx, colour = x(j), line_style(k)[0]
        out.append(
            f'<path class="clip" d="M{xx - 4:.1f},{plot_top + 7} L{xx + 4:.1f},{plot_top + 7} '
            f'L{xx:.1f},{plot_top} Z" fill="{colour}" stroke="#ffffff" stroke-width="0.5"/>'
        )
    for cx, row, label in placed:
        out.append(
            f'<text class="clip-note" x="{cx:.1f}" y="{plot_top - 5 - 13 * row}" '
            f'text-anchor="middle" font-size="{_NOTE_FONT}" fill="#222222">{escape(label)}</text>'
        )
    out += _legend(items)
    out.append("</svg>")
    return "\n".join(out)


def _date_range(days: list[date]) -> str:
    """The x axis's first and last day, for whoever checks the chart."""
    if not days:
        return ""
    return f' data-first="{days[0].isoformat()}" data-last="{days[-1].isoformat()}"'


def _band(
    days: list[date], period: tuple[date, date], x: Callable[[float], float]
) -> tuple[float, float] | None:
    """The shaded period's left and right edges: half a day outside its first and last."""
    if not days:
        return None
    n = len(days)
    first, last = (period[0] - days[0]).days, (period[1] - days[0]).days
    if last < 0 or first > n - 1:
        return None
    if n == 1:
        return x(0) - 30, x(0) + 30
    low, high = x(max(first, 0) - 0.5), x(min(last, n - 1) + 0.5)
    return max(low, x(0)), min(high, x(n - 1))


def _date_axis(
    days: list[date],
    x: Callable[[float], float],
    bottom: float,
    axis_date: Callable[[date, bool], str],
) -> list[str]:
    out = []
    with_year = bool(days) and days[0].year != days[-1].year
    picks = _date_ticks(days) if days else []
    if picks and x(picks[0]) - x(0) >= 60:  # context before the first tick: date its start
        picks.insert(0, 0)
    for n, i in enumerate(picks):
        xx = x(i)
        out.append(
            f'<line x1="{xx:.1f}" y1="{bottom}" x2="{xx:.1f}" y2="{bottom + 4}" stroke="#555555"/>'
        )
        out.append(
            f'<text x="{xx:.1f}" y="{bottom + 17}" text-anchor="middle" fill="#333333">'
            f"{escape(axis_date(days[i], with_year and n == 0))}</text>"
        )
    return out


def _polylines(
    values: list[float | None],
    x: Callable[[float], float],
    y: Callable[[float], float],
    kind: str,
    colour: str,
    extra: str,
) -> list[str]:
    """One polyline per stretch of known values; a lone value is a dot."""
    out = []
    for run in _runs(values):
        if len(run) == 1:
            j, v = run[0]
            r = "1.2" if kind == "daily" else "2"
            out.append(
                f'<circle class="{kind}" cx="{x(j):.1f}" cy="{y(v):.1f}" r="{r}" fill="{colour}"/>'
            )
        else:
            points = " ".join(f"{x(j):.1f},{y(v):.1f}" for j, v in run)
            out.append(
                f'<polyline class="{kind}" fill="none" stroke="{colour}" {extra} '
                f'points="{points}"/>'
            )
    return out


def _legend_layout(
    entries: list[tuple[str, str, int]], left: float, right: float, top: float
) -> tuple[list[tuple[float, float, str, str, int]], float]:
    """Legend entries flowing in rows: (x, y, label, kind, line index), and the height."""
    items = []
    lx, ly = left, top
    for label, kind, i in entries:
        w = _entry_width(label)
        if lx + w > right and lx > left:
            lx, ly = left, ly + 18
        items.append((lx, ly, label, kind, i))
        lx += w
    return items, (ly - top + 18) if entries else 0.0


def _entry_width(label: str) -> float:
    return 30 + _text_width(label) + 18


def _legend(items: list[tuple[float, float, str, str, int]]) -> list[str]:
    out = []
    for at_x, at_y, label, kind, i in items:
        mid = at_y + 6
        if kind == "line":
            colour, dash = line_style(i)
            dash_attr = f' stroke-dasharray="{dash}"' if dash else ""
            out.append(
                f'<line class="legend-line" x1="{at_x:.1f}" y1="{mid}" x2="{at_x + 24:.1f}" '
                f'y2="{mid}" stroke="{colour}" stroke-width="2.2"{dash_attr}/>'
            )
        elif kind == "daily":
            out.append(
                f'<line x1="{at_x:.1f}" y1="{mid}" x2="{at_x + 24:.1f}" y2="{mid}" '
                'stroke="#555555" stroke-width="0.8" opacity="0.6"/>'
            )
        elif kind == "band":
            out.append(
                f'<rect x="{at_x:.1f}" y="{at_y}" width="24" height="12" fill="{_BAND}" '
                f'stroke="{_BAND_EDGE}" stroke-width="0.8"/>'
            )
        else:
            out.append(
                f'<path d="M{at_x + 8:.1f},{at_y + 11} L{at_x + 16:.1f},{at_y + 11} '
                f'L{at_x + 12:.1f},{at_y + 3} Z" fill="#555555"/>'
            )
        out.append(
            f'<text class="legend" x="{at_x + 30:.1f}" y="{at_y + 10}" fill="#222222">'
            f"{escape(label)}</text>"
        )
    return out


def _runs(values: list[float | None]) -> list[list[tuple[int, float]]]:
    """Stretches of consecutive known values (a ``None`` breaks the line)."""
    runs: list[list[tuple[int, float]]] = []
    current: list[tuple[int, float]] = []
    for i, v in enumerate(values):
        if v is None:
            if current:
                runs.append(current)
            current = []
        else:
            current.append((i, float(v)))
    if current:
        runs.append(current)
    return runs
