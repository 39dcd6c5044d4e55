"""Daily series for the report's charts, from the store's rollups
(:mod:`teiten.store.queries.series`).

A ranking says *how much* over the period; these say *when*. The daily value of a
row follows the ranking's metric: ``packets`` per day, ``sources`` (distinct
addresses that day), or ``per-sensor``: the day's packets divided by the sensors
that received any packet that day (so a sensor that was down does not look like a
drop in traffic). The rows are selected by the same filters and traffic kind as
the ranking they belong to; days without any observing sensor are ``None`` (a gap).

Each series also carries the same lines on the :data:`CONTEXT_DAYS` days before the
period (``Series.context``, from the same query): the charts show them before the
shaded report period, so a reader sees whether the period's level is new. They are
dropped when the store has no packet on any of those days (a store's first period).
"""

from __future__ import annotations

from datetime import date, timedelta
from functools import cache
from typing import TYPE_CHECKING, Any

from teiten.analyze.rankings import Filters, Ranking
from teiten.enrich import protocol_name
from teiten.report.model import Series
from teiten.store import queries
from teiten.store.queries.statement import Condition

if TYPE_CHECKING:
    from teiten.analyze.periods import Period
    from teiten.store import Engine
    from teiten.store.queries.statement import Statement

__all__ = [
    "CONTEXT_DAYS",
    "aligned",
    "daily_overview",
    "daily_sensors",
    "mirai_share",
    "period_days",
    "row_key",
    "span",
    "trend",
]

_ICMP = (1, 58)
CONTEXT_DAYS = 28  # days before the period a chart shows (as the phenomena's lookback)


def row_key(row: dict[str, Any]) -> str:
    """A ranking row's stable label: ``23/tcp``, ``icmp/8`` (type), ``CN``, or ``??``."""
    if "country" in row:
        return row["country"] or "??"
    if row["port"] is None:
        icmp = row.get("icmp_type")
        return row["proto"] if icmp is None else f"{row['proto']}/{icmp}"
    return f"{row['port']}/{row['proto']}"


def period_days(period: Period) -> list[date]:
    return _days(period.start, period.end)


def _days(first: date, end: date) -> list[date]:
    return [first + timedelta(days=i) for i in range((end - first).days)]


def _with_context(
    days: list[date], values: dict[str, list[float | None]], unit: str, context: int
) -> Series:
    """The series of ``days[context:]`` carrying the first ``context`` days as its context."""
    before = {k: v[:context] for k, v in values.items()}
    seen = any(v is not None for vs in before.values() for v in vs)
    return Series(
        days[context:],
        {k: v[context:] for k, v in values.items()},
        unit,
        Series(days[:context], before, unit) if context and seen else None,
    )


def span(series: list[Series], period: Period) -> tuple[date, date]:
    """First and last day that the charts of ``series`` (with context) and ``period`` cover."""
    firsts = [period.start] + [(s.context or s).dates[0] for s in series if (s.context or s).dates]
    lasts = [period.last_day] + [s.dates[-1] for s in series if s.dates]
    return min(firsts), max(lasts)


def aligned(series: Series, first: date, last: date) -> Series:
    """``series`` with its context, on every day ``first`` … ``last``: ``None`` where unknown."""
    days = _days(first, last + timedelta(days=1))
    known: dict[str, dict[date, float | None]] = {k: {} for k in series.values}
    for part in (series.context, series):
        if part is None:
            continue
        for k, vs in part.values.items():
            known.setdefault(k, {}).update(zip(part.dates, vs, strict=True))
    return Series(
        days, {k: [by_day.get(d) for d in days] for k, by_day in known.items()}, series.unit
    )


@cache
def _proto_numbers() -> dict[str, int]:
    return {protocol_name(n): n for n in range(256)}


def daily_sensors(
    engine: Engine, period: Period, sensor: str | None = None, context: int = 0
) -> dict[date, int]:
    """Sensors with any packet, per day (the ``per-sensor`` divisor)."""
    first = period.start - timedelta(days=context)
    where = Filters(sensor=sensor).condition()
    rows = engine.rows(*queries.series.sensors_per_day(first, period.end, where))
    return {r["day"]: int(r["sensors"]) for r in rows}


def _values(
    days: list[date], sensors: dict[date, int], counts: dict[date, float], metric: str
) -> list[float | None]:
    out: list[float | None] = []
    for day in days:
        n = sensors.get(day, 0)
        if n == 0:
            out.append(None)
        elif metric == "per-sensor":
            out.append(round(counts.get(day, 0) / n, 3))
        else:
            out.append(float(counts.get(day, 0)))
    return out


def trend(
    engine: Engine, ranking: Ranking, rows: list[dict[str, Any]], context: int = CONTEXT_DAYS
) -> Series:
    """Daily values of ``rows`` (rows of ``ranking``) by the ranking's metric."""
    period, metric = ranking.period, ranking.metric
    first = period.start - timedelta(days=context)
    days = _days(first, period.end)
    sensors = daily_sensors(engine, period, ranking.filters.sensor, context)
    unit = metric
    if not rows:
        return Series(period_days(period), {}, unit)
    keys: list[tuple[Any, ...]]
    if ranking.dimension == "ports":
        keys = [(_proto_numbers()[r["proto"]], r["port"], r.get("icmp_type")) for r in rows]
    else:
        keys = [(r["country"],) for r in rows]
    result = engine.rows(*_per_day(engine, ranking, keys, first, period.end))
    counts: list[dict[date, float]] = [{} for _ in rows]
    for r in result:
        counts[int(r["k_i"])][r["day"]] = float(r["n"])
    lines = {
        row_key(r): _values(days, sensors, c, metric) for r, c in zip(rows, counts, strict=True)
    }
    return _with_context(days, lines, unit, context)


def _per_day(
    engine: Engine, ranking: Ranking, keys: list[tuple[Any, ...]], first: date, end: date
) -> Statement:
    """The statement of the daily values of the rows of ``keys``: from the months' daily
    digests when the ranking has no filter but its traffic kind and no row is an ICMP
    type (and each month is summed), else from the day rows (not Engine.relation's: a
    period rollup has one day per period). Either gives the same values."""
    dimension, by_sources = ranking.dimension, ranking.metric == "sources"
    digested = ranking.filters == Filters()
    if dimension == "ports":  # the daily digests hold no ICMP type
        digested = digested and all(port is not None for _, port, _ in keys)
    daily = engine.daily(dimension, first, end) if digested else None
    if daily is None:
        table = ranking.filters.table(dimension == "ports")
        where = ranking.filters.condition(ranking.traffic)
    else:
        table, where = daily, Condition(" AND traffic = $traffic", {"traffic": ranking.traffic})
    return queries.series.rows_per_day(
        table,
        dimension,
        keys,
        by_sources=by_sources,
        first=first,
        end=end,
        where=where,
        daily=daily is not None,
    )


def daily_overview(
    engine: Engine, period: Period, context: int = CONTEXT_DAYS
) -> tuple[dict[str, Any], Series]:
    """Totals of the period (all traffic kinds) and its packets per sensor per day."""
    first = period.start - timedelta(days=context)
    (t,) = engine.rows(*queries.series.period_totals(period.start, period.end))
    kinds = engine.rows(*queries.series.kinds(period.start, period.end))
    rows = engine.rows(*queries.series.daily_packets(first, period.end))
    days = _days(first, period.end)
    sensors = daily_sensors(engine, period, context=context)
    counts = {r["day"]: float(r["packets"]) for r in rows}
    totals = {
        "packets": int(t["packets"]),
        "sources": int(t["sources"]),
        "sensors": int(t["sensors"]),
        "kinds": {str(r["kind"]): int(r["n"]) for r in kinds},
    }
    values = {"all": _values(days, sensors, counts, "per-sensor")}
    return totals, _with_context(days, values, "per-sensor", context)


def mirai_share(
    engine: Engine, period: Period, country: str, context: int = CONTEXT_DAYS
) -> Series:
    """Daily share of probes carrying the ``mirai`` tag: from ``country``, and from all."""
    first = period.start - timedelta(days=context)
    rows = engine.rows(*queries.series.probes_per_day(country, first, period.end))
    by_day = {r["day"]: r for r in rows}
    days = _days(first, period.end)

    def share(n: str, m: str) -> list[float | None]:
        out: list[float | None] = []
        for day in days:
            r = by_day.get(day)
            out.append(round(r[m] / r[n], 6) if r and r[n] else None)
        return out

    values = {country: share("country_probes", "country_mirai"), "all": share("probes", "mirai")}
    return _with_context(days, values, "share", context)
