"""Crossovers in the focus country's port series: "445/TCP overtook 23/TCP at times".

The leader of a pair is the port with more packets per day over the previous
period (by at least ``crossover_margin``); a crossover is reported when the
other port has more packets on at least ``crossover_min_days`` days of this
period. The evidence lists those days, their runs, and the day from which the
7-day means stay crossed to the end of the period (if they do).

"First exceeded" is the day the challenger's lead began, not clamped to the
period: when it was already ahead on the period's first day, the run of days it
led is followed back into the previous period (whose days are loaded anyway),
and the text says it led from that day on.
"""

from __future__ import annotations

from datetime import date
from itertools import permutations
from typing import TYPE_CHECKING, Any

import numpy as np

from teiten.analyze.periods import Period
from teiten.analyze.phenomena import texts
from teiten.analyze.phenomena.model import Finding
from teiten.analyze.phenomena.series import daily_series
from teiten.analyze.phenomena.settings import PhenomenaSettings
from teiten.enrich import protocol_name

if TYPE_CHECKING:
    from teiten.store import Engine

__all__ = ["crossovers", "runs"]


def runs(days: list[date], mask: np.ndarray) -> list[tuple[date, date]]:
    """Consecutive stretches of ``days`` where ``mask`` holds, as (first, last)."""
    out: list[tuple[date, date]] = []
    start = None
    for i, on in enumerate(mask):
        if on and start is None:
            start = i
        if not on and start is not None:
            out.append((days[start], days[i - 1]))
            start = None
    if start is not None:
        out.append((days[start], days[len(mask) - 1]))
    return out


def crossovers(engine: Engine, period: Period, settings: PhenomenaSettings) -> list[Finding]:
    """Pairs of the focus country's top ports whose order flipped on some days."""
    cc = settings.focus_country
    previous = period.previous()
    series = daily_series(
        engine,
        "ports",
        previous.start,
        period.start,
        period.end,
        limit=settings.crossover_ports,
        country=cc,
    )
    split = (period.start - previous.start).days
    found = []
    for a, b in permutations(series.keys, 2):  # a: leader before, b: challenger
        va, vb = series.row(a), series.row(b)
        before_a, before_b = _mean(va[:split]), _mean(vb[:split])
        if not before_a > 0 or before_a < settings.crossover_margin * before_b:
            continue
        now_a, now_b = va[split:], vb[split:]
        observed = ~(np.isnan(now_a) | np.isnan(now_b))
        above = observed & (np.nan_to_num(now_b) > np.nan_to_num(now_a))
        if above.sum() < settings.crossover_min_days:
            continue
        found.append(_finding(period, series.days, split, a, b, va, vb, above, observed, settings))
    return found


def _mean(values: np.ndarray) -> float:
    """Mean of the observed (non-NaN) days; NaN when none was observed (no warning)."""
    seen = values[~np.isnan(values)]
    return float(seen.mean()) if seen.size else float("nan")


def _sustained_from(days: list[date], a: np.ndarray, b: np.ndarray) -> date | None:
    """First day from which b's 7-day mean stays above a's to the end (None if never)."""
    kernel = np.ones(7) / 7
    if len(a) < 7:
        return None
    ma = np.convolve(np.nan_to_num(a), kernel, mode="valid")
    mb = np.convolve(np.nan_to_num(b), kernel, mode="valid")
    ahead = mb > ma
    if not ahead[-1]:
        return None
    behind = np.flatnonzero(~ahead)
    first = 0 if not len(behind) else int(behind[-1]) + 1
    return days[first + 6]  # the window ending on that day


def _lead_began(
    days: list[date], split: int, a: np.ndarray, b: np.ndarray, first_in_period: date
) -> tuple[date, bool]:
    """The day b's lead that includes ``first_in_period`` began, and whether it is known.

    Only a lead under way on the period's first day reaches back: days before it
    are followed while b stays ahead (an unobserved day ends the run). When the
    run reaches the first day loaded, it began then or earlier (``False``).
    """
    i = days.index(first_in_period)
    if i != split:
        return first_in_period, True
    while i > 0 and not np.isnan(a[i - 1]) and not np.isnan(b[i - 1]) and b[i - 1] > a[i - 1]:
        i -= 1
    return days[i], i > 0


def _finding(
    period: Period,
    all_days: list[date],
    split: int,
    a: tuple[Any, ...],
    b: tuple[Any, ...],
    va: np.ndarray,
    vb: np.ndarray,
    above: np.ndarray,
    observed: np.ndarray,
    settings: PhenomenaSettings,
) -> Finding:
    days = all_days[split:]
    cc = settings.focus_country
    pa, pb = protocol_name(int(a[0])), protocol_name(int(b[0]))
    la, lb = f"{a[1]}/{pa}", f"{b[1]}/{pb}"
    crossed = [d for d, on in zip(days, above, strict=True) if on]
    first, start_known = _lead_began(all_days, split, va, vb, crossed[0])
    stretches = runs(days, above)
    sustained = _sustained_from(days, va[split:], vb[split:])
    n, total = int(above.sum()), int(observed.sum())
    names = {lang: texts.country(cc, lang) for lang in texts.LANGS}
    port_a = {lang: texts.port(pa, int(a[1]), lang, service=False) for lang in texts.LANGS}
    port_b = {lang: texts.port(pb, int(b[1]), lang, service=False) for lang in texts.LANGS}
    before = {lang: texts.previous(period.kind, lang) for lang in texts.LANGS}
    if first >= period.start:
        since_ja = f"初めて上回ったのは{texts.day(first, 'ja')}"
        since_en = f"first on {texts.day(first, 'en')}"
    else:  # already ahead when the period began: say since when
        on_or_before = {"ja": "以前", "en": "on or before "} if not start_known else {}
        since_ja = (
            f"{before['ja']}の{texts.day(first, 'ja')}{on_or_before.get('ja', '')}から"
            "上回り続けていました"
        )
        since_en = f"ahead since {on_or_before.get('en', '')}{texts.day(first, 'en')}"
    ja = (
        f"{names['ja']}からの{port_b['ja']}宛てのパケットは、{before['ja']}には{port_a['ja']}宛てを"
        f"下回っていましたが、今期は{total}日中{n}日で{port_a['ja']}宛てを上回りました"
        f"（{since_ja}）。"
    )
    en = (
        f"Packets from {names['en']} to {port_b['en']}, fewer than those to {port_a['en']} in "
        f"{before['en']}, outnumbered them on {n} of {total} days ({since_en})."
    )
    if sustained is not None:
        ja += f"{texts.day(sustained, 'ja')}以降は7日平均でも上回っています。"
        en += f" From {texts.day(sustained, 'en')} on, the 7-day mean stayed above."
    return Finding(
        kind="crossover",
        subject={"country": cc, "rising": lb, "falling": la},
        title={
            "ja": f"{names['ja']}からの{port_b['ja']}宛てが{port_a['ja']}宛てを上回る",
            "en": f"From {names['en']}, {port_b['en']} overtook {port_a['en']}",
        },
        text={"ja": ja, "en": en},
        evidence={
            "series": {
                "dates": [d.isoformat() for d in all_days],
                "values": {
                    lb: [None if np.isnan(v) else round(float(v), 3) for v in vb],
                    la: [None if np.isnan(v) else round(float(v), 3) for v in va],
                },
                "unit": "per-sensor",
            },
            "dates": [d.isoformat() for d in crossed],
            "ranges": [[f.isoformat(), t.isoformat()] for f, t in stretches],
            "first_day": first.isoformat(),  # the lead's own first day, maybe before the period
            "first_day_known": start_known,  # false: the lead began on or before first_day
            "first_day_in_period": crossed[0].isoformat(),
            "sustained_from": None if sustained is None else sustained.isoformat(),
            "statistic": {"days_above": n, "days_observed": total},
            "threshold": {
                "margin_before": settings.crossover_margin,
                "min_days": settings.crossover_min_days,
            },
            "per": "packets per sensor and day (probes)",
        },
        score=4.5 + n / max(total, 1),  # the focus country is a report section of its own
    )
