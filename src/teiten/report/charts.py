"""Line charts as self-contained SVG: a date axis, a y-axis with nice ticks, a legend.

No plotting library: a report's charts are a few polylines, and writing them here
keeps the output small, deterministic (the same data gives the same bytes) and
free of external references. Colours are the Okabe–Ito palette, which readers
with any common colour-vision deficiency can tell apart; each line also has its
own dash pattern, so the chart still reads in grey print.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from datetime import date
from html import escape

from teiten.report.model import Series

__all__ = ["FONT_FAMILY", "PALETTE", "line_chart", "nice_ticks"]

# Okabe & Ito, "Color Universal Design" (2008); yellow is left out (too pale on white).
PALETTE = ("#0072B2", "#E69F00", "#009E73", "#CC79A7", "#D55E00", "#56B4E9", "#000000")
DASHES = ("", "6 3", "2 2", "8 3 2 3", "4 4", "1 3", "10 4")
FONT_FAMILY = "'IPAexGothic', 'Noto Sans CJK JP', 'Noto Sans JP', sans-serif"

_FONT = 11  # px
_WIDTH, _HEIGHT = 720, 260  # the plot with its axes; the legend adds rows below


def nice_ticks(high: float, target: int = 5) -> list[float]:
    """Ticks from 0 to at least ``high`` in steps of 1, 2 or 5 × 10^k (about ``target``)."""
    if not high > 0 or not math.isfinite(high):
        return [0.0, 1.0]
    raw = high / target
    power = 10 ** math.floor(math.log10(raw))
    step = next(m * power for m in (1, 2, 2.5, 5, 10) if m * power >= raw)
    count = math.ceil(high / step - 1e-9)
    return [round(i * step, 12) for i in range(count + 1)]


def _text_width(text: str, size: float = _FONT) -> float:
    """Rendered width, estimated: full-width characters are square, others about 0.6."""
    return sum(size if ord(c) > 0x2E7F else size * 0.6 for c in text)


def _tick_label(value: float, step: float, unit: str) -> str:
    if unit == "share":
        places = max(0, -math.floor(math.log10(step * 100))) if step else 0
        return f"{value * 100:.{places}f}%"
    places = max(0, -math.floor(math.log10(step))) if step else 0
    return f"{value:,.{places}f}"


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


def line_chart(
    series: Series,
    names: dict[str, str],
    *,
    y_label: str,
    axis_date: Callable[[date, bool], str],
    title: str = "",
) -> str:
    """An SVG line chart of ``series``; ``names`` gives each line's legend text."""
    days = series.dates
    keys = list(series.values)
    finite = [v for values in series.values.values() for v in values if v is not None]
    ticks = nice_ticks(max(finite, default=0.0))
    step, top = ticks[1] - ticks[0], ticks[-1]
    labels = [_tick_label(t, step, series.unit) for t in ticks]
    left = 24 + max(_text_width(label) for label in labels) + 8
    right, top_pad, axis_h = 16, 12, 34
    plot_w = _WIDTH - left - right
    plot_h = _HEIGHT - top_pad - axis_h

    def x(i: int) -> float:
        return left + (plot_w * i / (len(days) - 1) if len(days) > 1 else plot_w / 2)

    def y(v: float) -> float:
        return top_pad + plot_h * (1 - v / top)

    # legend layout: items flow in rows under the axis
    legend: list[tuple[float, float, str, int]] = []
    lx, ly = left, _HEIGHT + 4
    for i, key in enumerate(keys):
        label = names.get(key, key)
        w = 30 + _text_width(label) + 18
        if lx + w > _WIDTH - right and lx > left:
            lx, ly = left, ly + 18
        legend.append((lx, ly, label, i))
        lx += w
    height = (ly + 22) if keys else _HEIGHT + 4

    out = [
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {_WIDTH} {height:.0f}" '
        f'width="{_WIDTH}" height="{height:.0f}" role="img" '
        f'font-family="{escape(FONT_FAMILY)}" font-size="{_FONT}">'
    ]
    if title:
        out.append(f"<title>{escape(title)}</title>")
    out.append(f'<rect width="{_WIDTH}" height="{height:.0f}" fill="#ffffff"/>')
    for t, label in zip(ticks, labels, strict=True):
        yy = y(t)
        out.append(
            f'<line x1="{left}" y1="{yy:.1f}" x2="{left + plot_w}" y2="{yy:.1f}" '
            f'stroke="{"#555555" if t == 0 else "#dddddd"}" stroke-width="1"/>'
        )
        out.append(
            f'<text x="{left - 6}" y="{yy + 4:.1f}" text-anchor="end" fill="#333333">'
            f"{escape(label)}</text>"
        )
    cy = top_pad + plot_h / 2
    out.append(
        f'<text x="12" y="{cy:.1f}" text-anchor="middle" fill="#333333" '
        f'transform="rotate(-90 12 {cy:.1f})">{escape(y_label)}</text>'
    )
    with_year = bool(days) and days[0].year != days[-1].year
    for n, i in enumerate(_date_ticks(days) if days else []):
        xx = x(i)
        out.append(
            f'<line x1="{xx:.1f}" y1="{top_pad + plot_h}" x2="{xx:.1f}" '
            f'y2="{top_pad + plot_h + 4}" stroke="#555555"/>'
        )
        label = axis_date(days[i], with_year and n == 0)
        out.append(
            f'<text x="{xx:.1f}" y="{top_pad + plot_h + 17}" text-anchor="middle" '
            f'fill="#333333">{escape(label)}</text>'
        )
    for i, key in enumerate(keys):
        colour, dash = PALETTE[i % len(PALETTE)], DASHES[i % len(DASHES)]
        style = f'fill="none" stroke="{colour}" stroke-width="1.8" stroke-linejoin="round"'
        if dash:
            style += f' stroke-dasharray="{dash}"'
        for run in _runs(series.values[key]):
            if len(run) == 1:
                j, v = run[0]
                out.append(f'<circle cx="{x(j):.1f}" cy="{y(v):.1f}" r="2" fill="{colour}"/>')
            else:
                points = " ".join(f"{x(j):.1f},{y(v):.1f}" for j, v in run)
                out.append(f'<polyline {style} points="{points}"/>')
    for at_x, at_y, label, i in legend:
        colour, dash = PALETTE[i % len(PALETTE)], DASHES[i % len(DASHES)]
        dash_attr = f' stroke-dasharray="{dash}"' if dash else ""
        out.append(
            f'<line x1="{at_x:.1f}" y1="{at_y + 6}" x2="{at_x + 24:.1f}" y2="{at_y + 6}" '
            f'stroke="{colour}" stroke-width="2.2"{dash_attr}/>'
        )
        out.append(
            f'<text x="{at_x + 30:.1f}" y="{at_y + 10}" fill="#222222">{escape(label)}</text>'
        )
    out.append("</svg>")
    return "\n".join(out)


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
