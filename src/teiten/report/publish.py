"""What a published report may carry: the report's data with its settings' rounding applied.

Two switches of ``report.toml`` (:class:`~teiten.report.settings.ReportSettings`):

* ``exact_daily_counts = false`` (the default): every daily value a chart draws is
  rounded to :data:`DAILY_DIGITS` significant digits (4,507.25 → 4,510; a share of
  0.52346 → 0.523), so a reader cannot spot the few packets they sent to a
  suspected sensor on a given day.
* ``publish_sensor_counts = false`` (the default): every per-sensor value and share a
  table carries (its HTML ``data-value``) is the number as shown (80,818.25 → 80,818;
  0.229409 → 0.229). The exact ones give the sensor count away: 80,818.25 is a
  quarter, and a six-digit share is a ratio of two packet counts. Per-sensor daily
  values are rounded to whole packets even when ``exact_daily_counts`` is true.

What the text leaves out when counts are not published (totals beside per-sensor
values, the darknet's size) is decided where the text is written
(:mod:`teiten.report.compose`).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import replace
from typing import TYPE_CHECKING, Any

from teiten import numbers
from teiten.report.model import RankingSection, ReportData, Series

if TYPE_CHECKING:
    from teiten.analyze.infected import InfectedByAs

__all__ = ["DAILY_DIGITS", "public", "shown_per_sensor", "shown_share", "significant"]

DAILY_DIGITS = 3


def significant(value: float, digits: int = DAILY_DIGITS) -> float:
    """``value`` rounded to ``digits`` significant digits: 4507.25 → 4510.0."""
    if value == 0 or not math.isfinite(value):
        return value
    return round(value, digits - 1 - math.floor(math.log10(abs(value))))


def shown_per_sensor(value: float) -> float:
    """A per-sensor value as :func:`teiten.numbers.per_sensor` writes it: 80818.25 → 80818."""
    return float(numbers.per_sensor(value).replace(",", ""))


def shown_share(value: float) -> float:
    """A share as :func:`teiten.numbers.percent` writes it: 0.229409 → 0.229."""
    return round(float(numbers.percent(value).rstrip("%")) / 100, 4)


def public(data: ReportData) -> ReportData:
    """``data`` as its settings allow a report to show it (see the module's docstring)."""
    s = data.settings
    if s.exact_daily_counts and s.publish_sensor_counts:
        return data
    daily = _daily_rule(exact=s.exact_daily_counts, counts=s.publish_sensor_counts)
    rows = (lambda r: r) if s.publish_sensor_counts else _shown_row
    focus = data.focus
    return replace(
        data,
        overview=replace(data.overview, daily=daily(data.overview.daily)),
        ports=_section(data.ports, rows, daily),
        countries=_section(data.countries, rows, daily),
        focus=replace(
            focus,
            ports=_section(focus.ports, rows, daily),
            mirai=daily(focus.mirai),
            infected_asns=_infected(focus.infected_asns, rows),
        ),
        scans=replace(data.scans, daily=daily(data.scans.daily)),
        dos=replace(data.dos, daily=daily(data.dos.daily)),
        findings=[_finding(f, daily) for f in data.findings],
    )


_Rule = Callable[[Series], Series]


def _daily_rule(*, exact: bool, counts: bool) -> _Rule:
    def rule(series: Series) -> Series:
        if exact and (counts or series.unit != "per-sensor"):
            return series
        one: Callable[[float], float] = significant if not exact else shown_per_sensor
        values = {k: [None if v is None else one(v) for v in vs] for k, vs in series.values.items()}
        context = None if series.context is None else rule(series.context)
        return Series(series.dates, values, series.unit, context)

    return rule


def _shown_row(row: dict[str, Any]) -> dict[str, Any]:
    shown = dict(row)
    for key, rule in (("per_sensor", shown_per_sensor), ("share", shown_share)):
        if isinstance(row.get(key), int | float):
            shown[key] = rule(row[key])
    return shown


def _section(
    section: RankingSection, rows: Callable[[dict[str, Any]], dict[str, Any]], daily: _Rule
) -> RankingSection:
    ranking = replace(section.ranking, rows=[rows(r) for r in section.ranking.rows])
    return RankingSection(ranking, daily(section.trend))


def _infected(
    infected: InfectedByAs | None, rows: Callable[[dict[str, Any]], dict[str, Any]]
) -> InfectedByAs | None:
    if infected is None:
        return None
    ranking = replace(infected.ranking, rows=[rows(r) for r in infected.ranking.rows])
    return replace(infected, ranking=ranking)


def _finding(finding: Any, daily: _Rule) -> Any:
    """A finding whose evidence series (a dict of lists) is rounded like the others."""
    raw = finding.evidence.get("series")
    if not raw or not raw.get("values"):
        return finding
    unit = str(raw.get("unit") or "")
    shown = daily(Series(list(raw.get("dates", [])), raw["values"], unit))
    return replace(
        finding, evidence={**finding.evidence, "series": {**raw, "values": shown.values}}
    )
