"""Trend of the Mirai-type share of the focus country's packets.

The daily share of probes tagged ``mirai`` (TCP SYN with sequence number =
destination address) is tested for a monotonic trend with the Mann–Kendall
statistic and its slope estimated with Theil–Sen (the median of pairwise
slopes): both ignore the size of outlying days, which a least-squares line
would follow. Days with fewer than ``mirai_min_packets`` packets are left out.
"""

from __future__ import annotations

import math
from datetime import date
from typing import TYPE_CHECKING

import numpy as np

from teiten.analyze.periods import Period
from teiten.analyze.phenomena import texts
from teiten.analyze.phenomena.model import Finding
from teiten.analyze.phenomena.series import day_range, mirai_daily
from teiten.analyze.phenomena.settings import PhenomenaSettings

if TYPE_CHECKING:
    from teiten.store import Engine

__all__ = ["mann_kendall_z", "mirai_share_trend", "theil_sen"]


def theil_sen(x: np.ndarray, y: np.ndarray) -> tuple[float, float]:
    """Slope and intercept of the Theil–Sen line through (x, y)."""
    i, j = np.triu_indices(len(x), k=1)
    dx = x[j] - x[i]
    keep = dx != 0
    slope = float(np.median((y[j] - y[i])[keep] / dx[keep])) if keep.any() else 0.0
    return slope, float(np.median(y - slope * x))


def mann_kendall_z(y: np.ndarray) -> float:
    """Mann–Kendall trend statistic Z (normal approximation with continuity correction)."""
    n = len(y)
    if n < 3:
        return 0.0
    i, j = np.triu_indices(n, k=1)
    s = float(np.sign(y[j] - y[i]).sum())
    _, counts = np.unique(y, return_counts=True)
    var = (n * (n - 1) * (2 * n + 5) - float((counts * (counts - 1) * (2 * counts + 5)).sum())) / 18
    if var <= 0 or s == 0:
        return 0.0
    return (s - math.copysign(1, s)) / math.sqrt(var)


def mirai_share_trend(engine: Engine, period: Period, settings: PhenomenaSettings) -> list[Finding]:
    """A finding when the focus country's Mirai-type share rose or fell notably."""
    cc = settings.focus_country
    total, mirai = mirai_daily(engine, cc, period.start, period.end)
    days = day_range(period.start, period.end)
    enough = total >= settings.mirai_min_packets
    if enough.sum() < 14:
        return []
    x = np.flatnonzero(enough).astype(np.float64)
    y = mirai[enough] / total[enough]
    slope, intercept = theil_sen(x, y)
    z = mann_kendall_z(y)
    start = float(np.clip(intercept + slope * x[0], 0, 1))
    end = float(np.clip(intercept + slope * x[-1], 0, 1))
    if abs(end - start) < settings.mirai_min_change or abs(z) < settings.mirai_z_threshold:
        return []
    shares = np.full(len(days), np.nan)
    shares[enough] = y
    return [_finding(days, shares, start, end, slope, z, total, mirai, settings)]


def _finding(
    days: list[date],
    shares: np.ndarray,
    start: float,
    end: float,
    slope: float,
    z: float,
    total: np.ndarray,
    mirai: np.ndarray,
    settings: PhenomenaSettings,
) -> Finding:
    cc = settings.focus_country
    names = {lang: texts.country(cc, lang) for lang in texts.LANGS}
    falling = end < start
    overall = float(mirai.sum() / total.sum()) if total.sum() else 0.0
    move_ja, move_en = ("減少", "fell") if falling else ("増加", "rose")
    return Finding(
        kind="mirai_share",
        subject={"country": cc, "tag": "mirai"},
        title={
            "ja": f"{names['ja']}からのMirai型パケットの割合が{move_ja}傾向",
            "en": f"Share of Mirai-type packets from {names['en']} {move_en}",
        },
        text={
            "ja": f"{names['ja']}から届いたパケットのうちMirai型（TCPシーケンス番号が宛先IP"
            f"アドレスと一致するもの）の割合は、期間の初めの約{texts.share(start)}から終わりの"
            f"約{texts.share(end)}へと{move_ja}傾向にあります（期間全体では"
            f"{texts.share(overall)}）。",
            "en": f"The share of Mirai-type packets (TCP sequence number equal to the "
            f"destination address) among those from {names['en']} {move_en} from about "
            f"{texts.share(start)} at the start of the period to about {texts.share(end)} at "
            f"its end ({texts.share(overall)} over the whole period).",
        },
        evidence={
            "series": {
                "dates": [d.isoformat() for d in days],
                "values": {
                    f"{cc} mirai": [None if np.isnan(v) else round(float(v), 4) for v in shares]
                },
                "unit": "share",
            },
            "start_share": round(start, 4),
            "end_share": round(end, 4),
            "period_share": round(overall, 4),
            "statistic": {
                "theil_sen_slope_per_day": round(slope, 6),
                "mann_kendall_z": round(z, 2),
            },
            "threshold": {
                "min_change": settings.mirai_min_change,
                "z": settings.mirai_z_threshold,
                "min_packets_per_day": settings.mirai_min_packets,
            },
            "dates": [days[0].isoformat(), days[-1].isoformat()],
        },
        score=4.5 + abs(end - start) * 3,
    )
