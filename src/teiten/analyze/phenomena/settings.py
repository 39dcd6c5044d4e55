"""The knobs of phenomena detection, in one validated dataclass.

Every threshold a finding was judged by is copied into its evidence, so a
reader can see why something was (or was not) reported.
"""

from __future__ import annotations

from dataclasses import dataclass, fields

from teiten.analyze.rankings import METRICS
from teiten.errors import OptionError

__all__ = ["PhenomenaSettings"]


@dataclass(frozen=True)
class PhenomenaSettings:
    """Settings of every detector; invalid values raise :class:`OptionError` at creation."""

    focus_country: str = "JP"  # crossovers, Mirai share and focus-country entrants
    top_n: int = 5  # new entrants: this period's top N ...
    outside_rank: int = 10  # ... that ranked below this (or not at all) before
    metric: str = "per-sensor"  # ranking metric of new entrants (TSUBAME ranks per sensor)
    # surges and drops: trailing robust baseline
    baseline_days: int = 28  # trailing window of the rolling median / MAD
    min_history: int = 14  # observed days the baseline needs before a day can be judged
    # a change under way when the period starts is traced back up to this many days, so its
    # date is its own (a step change deviates for about baseline_days / 2)
    lookback_days: int = 28
    z_threshold: float = 3.5  # robust z-score |value - median| / (1.4826 MAD) to exceed
    min_ratio: float = 2.0  # value / baseline at least this (surge) or at most 1/this (drop)
    persistence: int = 3  # consecutive days the change must last
    confirm_days: int = 14  # days from its first one whose median must still differ
    min_daily: float = 20.0  # per-sensor packets a day the larger level must reach
    max_series: int = 40  # most voluminous ports / countries examined
    # crossovers in the focus country's port series
    crossover_ports: int = 5  # the focus country's top ports compared pairwise
    crossover_margin: float = 1.25  # the larger must lead by this factor at the start
    crossover_min_days: int = 7  # days the smaller must be ahead
    # Mirai-type share trend of the focus country
    mirai_min_change: float = 0.10  # |end share - start share| (fraction) to report
    mirai_z_threshold: float = 3.0  # Mann-Kendall trend test |Z| to exceed
    mirai_min_packets: int = 100  # a day with fewer focus-country packets is left out
    # knowledge links
    cve_window_days: int = 60  # CVEs published up to this many days before a change ...
    cve_lag_days: int = 7  # ... or this many after it (NVD publishes days after the vendor)
    # the review: findings, not detections (docs/phenomena.md, "From detections to findings")
    attribution_threshold: float = 0.5  # one source (or top 3, or one /24) this share: not broad
    min_volume: float = 0.02  # the change must move this share of the period's probes a day
    min_days: int = 3  # half of a finding's packets must spread over at least this many days
    crossover_sustained_days: int = 14  # 7-day means crossed this long (half a short period)
    merge_overlap: float = 0.5  # share of each finding's packets sent by sources of the other
    headlines: int = 5  # the report's body shows at most this many findings

    def __post_init__(self) -> None:
        code = self.focus_country.strip().upper()
        if len(code) != 2 or not code.isalpha():
            raise OptionError(
                f"focus country {self.focus_country!r} is not an ISO 3166 alpha-2 code (e.g. JP)"
            )
        object.__setattr__(self, "focus_country", code)
        if self.metric not in METRICS:
            raise OptionError(f"unknown metric {self.metric!r}: use one of {', '.join(METRICS)}")
        positive = {
            "top_n",
            "outside_rank",
            "baseline_days",
            "min_history",
            "persistence",
            "confirm_days",
            "max_series",
            "crossover_min_days",
            "z_threshold",
            "mirai_z_threshold",
            "min_days",
            "crossover_sustained_days",
            "headlines",
            "attribution_threshold",
            "merge_overlap",
        }
        for f in fields(self):
            value = getattr(self, f.name)
            if f.name in positive and value <= 0:
                raise OptionError(f"phenomena setting {f.name} must be positive, not {value}")
            if isinstance(value, int | float) and value < 0:
                raise OptionError(f"phenomena setting {f.name} must not be negative: {value}")
        if self.crossover_ports < 2:
            raise OptionError("phenomena setting crossover_ports must be at least 2")
        if self.min_history > self.baseline_days:
            raise OptionError(
                f"phenomena setting min_history ({self.min_history}) exceeds baseline_days "
                f"({self.baseline_days})"
            )
        for name in ("min_ratio", "crossover_margin"):
            if getattr(self, name) < 1:
                raise OptionError(f"phenomena setting {name} must be at least 1")
        for name in ("attribution_threshold", "merge_overlap", "min_volume"):
            if getattr(self, name) > 1:
                raise OptionError(f"phenomena setting {name} is a share (0 to 1)")
        if self.mirai_min_change > 1:
            raise OptionError("phenomena setting mirai_min_change is a fraction (0 to 1)")
