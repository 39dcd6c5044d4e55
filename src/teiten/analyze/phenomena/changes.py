"""Surges and drops of daily packets per port and per country, against a trailing baseline.

Baseline: the median of the previous ``baseline_days`` observed days, with the
median absolute deviation (MAD, scaled by 1.4826 to estimate a standard
deviation) as its spread. Why median/MAD and not mean/σ or a seasonal model:
darknet series are heavy-tailed — a single scanner can multiply a port's
packets for a day — and one such day must neither raise the baseline nor widen
the spread so that a real change hides behind it; a median ignores up to half
the window. Daily totals of a darknet show little weekly seasonality (scanners
and bots run around the clock), so a seasonal model would buy little and need
months of history. The spread is floored at 10 % of the baseline so that a
very flat series does not make every small wobble significant.

A day *deviates* when its value is ``min_ratio`` times the baseline (surge) or
less than 1/``min_ratio`` of it (drop) and either its robust z-score passes
``z_threshold`` or the change is at least ``min_ratio``² (a port falling silent
deviates even when a burst inflated the spread). A change is reported when
``persistence`` consecutive days deviate the same way and the median of the
``confirm_days`` (two weeks) from its first day still differs by ``min_ratio``;
its date is that first day, its baseline the median before it. One-day bursts
are therefore no change. When the data ends before those two weeks do, every
day from the first one to the end must still differ: a few-day burst in the
last days of a period is not reported as a change (the next period's report
judges it with the days that follow).

A change's date is its own, never clamped to the period: the days judged start
``lookback_days`` before the period (with a full baseline before them), and a
change that began there is reported when its run of deviating days still
reaches into the period — 7001/TCP rising from 26 April is dated 26 April in
May's report. A change whose run began on the first day judged may have begun
earlier still; it is marked so (``start_known`` false: "on or before").
"""

from __future__ import annotations

from datetime import date, timedelta
from typing import TYPE_CHECKING, Any

import numpy as np

from teiten.analyze.periods import Period
from teiten.analyze.phenomena import texts
from teiten.analyze.phenomena.links import port_knowledge
from teiten.analyze.phenomena.model import Finding
from teiten.analyze.phenomena.series import DailySeries, daily_series
from teiten.analyze.phenomena.settings import PhenomenaSettings
from teiten.enrich import protocol_name

if TYPE_CHECKING:
    from teiten.knowledge import KnowledgeBase
    from teiten.store import Engine

__all__ = ["Change", "changes", "find_changes"]

_MAD_SCALE = 1.4826


class Change:
    """A sustained change of one series: where it starts and how large it is."""

    def __init__(self, index: int, direction: str, baseline: float, level: float, z: float):
        self.index = index
        self.direction = direction  # "surge" or "drop"
        self.baseline = baseline
        self.level = level
        self.z = z
        self.last = index  # the last day of its run of deviating days

    @property
    def ratio(self) -> float:
        return self.level / self.baseline if self.baseline > 0 else float("inf")


def find_changes(
    values: np.ndarray, start: int, settings: PhenomenaSettings, *, report_from: int | None = None
) -> list[Change]:
    """Sustained changes judged from index ``start`` on (NaN days are skipped).

    A change lasts while each day still differs from its baseline by ``min_ratio`` and
    the trailing median has not caught up with it (a quiet day of a new scanning
    campaign neither ends it nor starts a second one); a run whose following two weeks
    fall back (a burst) is no change.
    With ``report_from`` (the period's first index, ``start`` being some days
    before it), a change that began before it is kept only when its run of
    deviating days reaches ``report_from``: it is still under way in the period,
    and its index is the day it really began.
    """
    s = settings
    found: list[Change] = []
    run_dir: str | None = None
    run_start, run_len, run_z = -1, 0, 0.0
    suppressed: str | None = None
    for t in range(start, len(values)):
        x = values[t]
        if np.isnan(x):
            continue
        window = values[max(0, t - s.baseline_days) : t]
        window = window[~np.isnan(window)]
        if len(window) < s.min_history:
            run_dir, run_len = None, 0
            continue
        median = float(np.median(window))
        if suppressed is not None:
            base = found[-1].baseline
            caught_up = _differs(median, base, suppressed, s) and (
                suppressed == "drop" or median >= s.min_daily  # a level of its own
            )
            if _differs(x, base, suppressed, s) and not caught_up:
                found[-1].last = t  # the change found last is still under way
                run_dir, run_len = None, 0
                continue
            suppressed = None  # back to its baseline, or the baseline caught up: it is over
        direction = _deviation(x, median, window, s)
        if direction is None:
            run_dir, run_len = None, 0
            continue
        if direction != run_dir:
            run_dir, run_start, run_len, run_z = direction, t, 0, 0.0
        run_len += 1
        run_z = max(run_z, abs((x - median) / _spread(window, median)))
        if run_len < s.persistence:
            continue
        before = values[max(0, run_start - s.baseline_days) : run_start]
        baseline = float(np.nanmedian(before))
        after = values[run_start : run_start + s.confirm_days]
        after = after[~np.isnan(after)]
        if run_start + s.confirm_days > len(values):
            # The data ends before the change could be confirmed: it counts only if
            # every day since it began still differs (a burst at the end is no change).
            sustained = bool(np.all(_differs(after, baseline, run_dir, s)))
        else:
            sustained = bool(_differs(np.median(after), baseline, run_dir, s))
        if sustained:
            level = float(np.median(after))
            change = Change(run_start, run_dir, baseline, level, run_z)
            change.last = t
            found.append(change)
            suppressed = run_dir
        run_dir, run_len = None, 0
    if report_from is None:
        return found
    return [c for c in found if c.index >= report_from or c.last >= report_from]


def _differs(level: Any, baseline: float, direction: str, s: PhenomenaSettings) -> Any:
    """Whether ``level`` (a value or an array) is ``min_ratio`` away from ``baseline``."""
    if direction == "surge":
        return level >= s.min_ratio * baseline
    return level * s.min_ratio <= baseline


def _spread(window: np.ndarray, median: float) -> float:
    """MAD as a σ estimate, floored at 10 % of the median (flat series)."""
    return max(_MAD_SCALE * float(np.median(np.abs(window - median))), 0.1 * median, 1e-9)


def _deviation(x: float, median: float, window: np.ndarray, s: PhenomenaSettings) -> str | None:
    """ "surge", "drop" or None for one day's value against its trailing window."""
    z = (x - median) / _spread(window, median)
    strong = s.min_ratio**2  # a change this large counts whatever the spread
    if (
        x >= s.min_ratio * median
        and x >= s.min_daily
        and (z >= s.z_threshold or x >= strong * median)
    ):
        return "surge"
    if (
        x * s.min_ratio <= median
        and median >= s.min_daily
        and (z <= -s.z_threshold or x * strong <= median)
    ):
        return "drop"
    return None


def changes(
    engine: Engine, period: Period, settings: PhenomenaSettings, kb: KnowledgeBase
) -> list[Finding]:
    """Surges and drops in ``period`` of the busiest ports and countries.

    The series starts ``baseline_days + lookback_days`` before the period: days
    from ``lookback_days`` before it are judged, each with a full baseline, so a
    change under way when the period starts is dated by its own first day.
    """
    lookback = settings.lookback_days
    first = period.start - timedelta(days=settings.baseline_days + lookback)
    found = []
    for dimension in ("ports", "countries"):
        series = daily_series(
            engine, dimension, first, period.start, period.end, limit=settings.max_series
        )
        start = settings.baseline_days  # the first day judged: lookback_days before the period
        for key in series.keys:
            for change in find_changes(
                series.row(key), start, settings, report_from=start + lookback
            ):
                found.append(_finding(dimension, key, series, change, period, settings, kb, start))
    return found


def _finding(
    dimension: str,
    key: tuple[Any, ...],
    series: DailySeries,
    change: Change,
    period: Period,
    settings: PhenomenaSettings,
    kb: KnowledgeBase,
    judged_from: int,
) -> Finding:
    when: date = series.days[change.index]
    start_known = change.index > judged_from  # else it may have begun before the days judged
    # The chart shows the days judged and the period (the lookback's baselines stay out).
    days, values = series.days[judged_from:], series.row(key)[judged_from:]
    if dimension == "ports":
        proto = protocol_name(int(key[0]))
        subject: dict[str, Any] = {"proto": proto, "port": int(key[1])}
        names = {lang: texts.port(proto, int(key[1]), lang) for lang in texts.LANGS}
        label = f"{key[1]}/{proto}"
        what = {"ja": f"{names['ja']}宛てのパケット", "en": f"packets to {names['en']}"}
        knowledge = port_knowledge(
            kb, proto, int(key[1]), settings, until=period.last_day, change=when
        )
    else:
        subject = {"country": key[0]}
        names = {lang: texts.country(key[0], lang) for lang in texts.LANGS}
        label = key[0]
        what = {"ja": f"{names['ja']}からのパケット", "en": f"packets from {names['en']}"}
        knowledge = []
    near = [k for k in knowledge if k.get("near_change")]
    text = _text(change, when, what, near, start_known)
    return Finding(
        kind=change.direction,
        subject=subject,
        title={
            "ja": f"{names['ja']}{'宛て' if dimension == 'ports' else 'から'}のパケットが"
            f"{'急増' if change.direction == 'surge' else '急減'}",
            "en": f"{'Surge' if change.direction == 'surge' else 'Drop'} of {what['en']}",
        },
        text=text,
        evidence={
            "series": {
                "dates": [d.isoformat() for d in days],
                "values": {label: [None if np.isnan(v) else round(float(v), 3) for v in values]},
                "unit": "per-sensor",
            },
            "change_date": when.isoformat(),
            "last_day": series.days[change.last].isoformat(),  # its last deviating day
            "start_known": start_known,  # false: it began on or before change_date
            "before_period": when < period.start,
            "dates": [when.isoformat()],
            "baseline": round(change.baseline, 3),
            "level": round(change.level, 3),
            "ratio": None if change.baseline <= 0 else round(change.ratio, 3),
            "statistic": {"robust_z": round(change.z, 2)},
            "threshold": {
                "z": settings.z_threshold,
                "min_ratio": settings.min_ratio,
                "persistence_days": settings.persistence,
                "confirm_days": settings.confirm_days,
                "baseline_days": settings.baseline_days,
                "lookback_days": settings.lookback_days,
                "min_daily_per_sensor": settings.min_daily,
            },
            "per": "packets per sensor and day (probes)",
        },
        knowledge=knowledge,
        score=_score(dimension, change, near, knowledge),
    )


def _score(
    dimension: str, change: Change, near: list[dict[str, Any]], knowledge: list[dict[str, Any]]
) -> float:
    """How notable: the size of the change (log2, capped at 8×), more for a port than a
    country, more again when a CVE was published near it or the port is known."""
    size = min(abs(float(np.log2(max(change.ratio, 1e-6)))), 3.0) / 2
    if dimension == "countries":
        return 2.0 + size / 2
    return 3.0 + size + (1.5 if near else 0.0) + (0.3 if knowledge else 0.0)


def _text(
    change: Change,
    when: date,
    what: dict[str, str],
    near: list[dict[str, Any]],
    start_known: bool = True,
) -> dict[str, str]:
    base = texts.per_sensor(change.baseline)
    jd = texts.day(when, "ja")
    since_ja, since_en = (
        ("頃から", "From around") if start_known else ("以前から", "Since on or before")
    )
    if change.direction == "surge":
        if change.baseline > 0:
            ja = (
                f"{jd}{since_ja}{what['ja']}が増加し、それまでの水準（センサー1台あたり"
                f"1日{base}パケット）の約{texts.ratio(change.ratio)}倍となりました。"
            )
            en = (
                f"{since_en} {texts.day(when, 'en')}, {what['en']} rose to about "
                f"{texts.ratio(change.ratio)} times their earlier level ({base} packets per "
                "sensor a day)."
            )
        else:
            ja = (
                f"{jd}{since_ja}、それまでほとんど観測されていなかった{what['ja']}が"
                "観測され始めました。"
            )
            en = f"{since_en} {texts.day(when, 'en')}, {what['en']}, hardly seen before, appeared."
    elif change.level < 0.05 * change.baseline:
        ja = (
            f"{jd}{since_ja}{what['ja']}がほとんど観測されなくなりました"
            f"（それまではセンサー1台あたり1日{base}パケット）。"
        )
        en = (
            f"{since_en} {texts.day(when, 'en')}, {what['en']} almost stopped (from {base} "
            "packets per sensor a day)."
        )
    else:
        ja = (
            f"{jd}{since_ja}{what['ja']}が減少し、それまでの水準（センサー1台あたり"
            f"1日{base}パケット）の約{texts.level(change.ratio)}となりました。"
        )
        en = (
            f"{since_en} {texts.day(when, 'en')}, {what['en']} fell to about "
            f"{texts.level(change.ratio)} of their earlier level ({base} packets per sensor a day)."
        )
    if near:
        ja += f"この時期に、関連する脆弱性{texts.cve(near[0], 'ja')}が公表されています。"
        en += f" A related vulnerability was made public around then: {texts.cve(near[0], 'en')}."
    return {"ja": ja, "en": en}
