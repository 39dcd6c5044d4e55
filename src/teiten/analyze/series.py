"""Counts per day or per hour for any filter: what the dashboard's time-series charts
draw (issue 13), and ``teiten series``.

A series counts the packets (``metric="packets"``) or the distinct sources
(``"sources"``, exact: a source is counted once per bucket) of a traffic kind, selected
by a ranking's :class:`~teiten.analyze.rankings.Filters` (a destination port too), in
every bucket of a period — zeros included — and breaks the same count down by the
scanner tags :data:`BREAKDOWN_TAGS` (the packets, or sources, carrying each) and, for
``traffic="all"``, by the backscatter.

``by="day"`` reads the rollups (:mod:`teiten.store.rollup`), so its cost follows the days
shown, not the packets stored — or, for the totals, one port (with its protocol) or one
country, the months' daily digests (:mod:`teiten.store.period_rollups`), one row's
days; ``by="hour"`` reads the raw packets of the period, so it covers at most
:data:`MAX_HOUR_DAYS` days, and none whose raw packets retention dropped.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from typing import TYPE_CHECKING, Any

from teiten.analyze.periods import Period
from teiten.analyze.rankings import (
    SHARE_TAGS,
    TRAFFIC,
    Filters,
    one_of,
    parse_port,
    proto_number,
)
from teiten.errors import OptionError
from teiten.store import queries

if TYPE_CHECKING:
    from teiten.store import Engine

__all__ = [
    "BREAKDOWN_TAGS",
    "BY",
    "MAX_HOUR_DAYS",
    "METRICS",
    "TimeSeries",
    "series",
    "series_rows",
]

BY = ("day", "hour")
METRICS = ("packets", "sources")
BREAKDOWN_TAGS = SHARE_TAGS  # the scanner tools and research, as every ranking's shares
MAX_HOUR_DAYS = 31  # hours are counted from the raw packets: a month of them at most


@dataclass
class TimeSeries:
    """A count per bucket (``buckets``: days ``2024-03-01``, or hours
    ``2024-03-01T05:00:00Z``), and the same count per breakdown line."""

    period: Period
    by: str
    metric: str
    traffic: str
    filters: Filters
    buckets: list[str]
    values: list[int]
    breakdown: dict[str, list[int]] = field(default_factory=dict)

    def as_json(self) -> dict[str, Any]:
        return {
            "period": self.period.as_json(),
            "by": self.by,
            "metric": self.metric,
            "traffic": self.traffic,
            "filters": self.filters.as_json(),
            "buckets": self.buckets,
            "values": self.values,
            "breakdown": self.breakdown,
        }


def series_rows(body: dict[str, Any]) -> list[dict[str, Any]]:
    """The rows of a series' JSON (:meth:`TimeSeries.as_json`), one per bucket: ``bucket``,
    ``value``, then one value per breakdown line (``--csv``)."""
    lines = body["breakdown"]
    return [
        {"bucket": bucket, "value": value, **{name: line[i] for name, line in lines.items()}}
        for i, (bucket, value) in enumerate(zip(body["buckets"], body["values"], strict=True))
    ]


def series(
    engine: Engine,
    period: Period,
    *,
    by: str = "day",
    metric: str = "packets",
    traffic: str = "probe",
    filters: Filters | None = None,
) -> TimeSeries:
    """The ``metric`` of ``traffic`` packets ``filters`` select, per ``by`` of ``period``."""
    one_of(by, BY, "bucket")
    one_of(metric, METRICS, "metric")
    one_of(traffic, TRAFFIC, "traffic kind")
    if by == "hour" and period.days > MAX_HOUR_DAYS:
        raise OptionError(
            f"--by hour covers at most {MAX_HOUR_DAYS} days and {period.label} has "
            f"{period.days}: choose a shorter period, or --by day"
        )
    filters = filters or Filters()
    where = filters.condition(traffic)  # an unknown tag fails here, before any query
    if by == "hour":
        engine.require_raw(period.start, period.last_day, f"hourly counts of {period.label}")
    backscatter = traffic == "all"
    by_sources = metric == "sources"
    daily = _daily(engine, period, filters) if by == "day" else None
    if daily is not None:
        name, row = daily
        rows = []
        for first, end in _months(period):
            relation = engine.daily(name, first, end)
            if relation is None:
                continue  # a month holding no day
            # A whole month's rows, kept for the engines sharing a server's database:
            # the series of its weeks, of the month and of its quarter read them once.
            statement = queries.series.from_daily(
                relation,
                row,
                traffic,
                first,
                end,
                by_sources=by_sources,
                tags=BREAKDOWN_TAGS,
                backscatter=backscatter,
            )
            rows += [
                r for r in engine.kept_rows(*statement) if period.start <= r["bucket"] < period.end
            ]
    else:
        statement = queries.series.counts(
            engine.dialect,
            by,
            filters.table(port=False),
            period.start,
            period.end,
            by_sources=by_sources,
            tags=BREAKDOWN_TAGS,
            backscatter=backscatter,
            where=where,
        )
        rows = engine.rows(*statement)
    buckets = [_label(b) for b in _buckets(period, by)]
    found = {_label(r["bucket"]): r for r in rows}
    columns = {label: queries.rankings.tag_column(label) for label in BREAKDOWN_TAGS}
    if backscatter:
        columns["backscatter"] = "backscatter"

    def line(column: str) -> list[int]:
        return [int(found[b][column]) if b in found else 0 for b in buckets]

    return TimeSeries(
        period=period,
        by=by,
        metric=metric,
        traffic=traffic,
        filters=filters,
        buckets=buckets,
        values=line("n"),
        breakdown={name: line(column) for name, column in columns.items()},
    )


def _daily(engine: Engine, period: Period, filters: Filters) -> tuple[str, dict[str, Any]] | None:
    """The daily digest (of :data:`~teiten.store.period_rollups.DAILY`) to read
    ``filters``' series from, and its row: for no filter, one port with its protocol, or
    one country; None for any other filter, or when a month of ``period`` holding days
    has no current daily digest."""
    name, row = "totals", dict[str, Any]()
    if filters.port is not None and filters == Filters(port=filters.port, proto=filters.proto):
        proto, port = parse_port(filters.port)
        if proto is None and filters.proto:
            proto = proto_number(filters.proto)
        if proto is None:  # TCP or UDP: their sources cannot be added up
            return None
        name, row = "ports", {"proto": proto, "port": port}
    elif filters.country is not None and filters == Filters(country=filters.country):
        name, row = "countries", {"country": filters.country}
    elif filters != Filters():
        return None
    found = engine.daily(name, period.start, period.end)
    return None if found is None else (name, row)


def _months(period: Period) -> list[tuple[date, date]]:
    """The calendar months overlapping ``period``: their first day and the next month's."""
    months = []
    first = period.start.replace(day=1)
    while first < period.end:
        end = (first + timedelta(days=32)).replace(day=1)
        months.append((first, end))
        first = end
    return months


_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def _buckets(period: Period, by: str) -> list[date] | range:
    """Every bucket of ``period``, as the query gives them: its days, or its hours (since
    the epoch)."""
    if by == "day":
        return [period.start + timedelta(days=i) for i in range(period.days)]
    first = (datetime.combine(period.start, time(), UTC) - _EPOCH) // timedelta(hours=1)
    return range(first, first + 24 * period.days)


def _label(bucket: date | int) -> str:
    """A bucket as the JSON writes it: ``2024-03-01``, or ``2024-03-01T05:00:00Z``."""
    if isinstance(bucket, date):
        return bucket.isoformat()
    return (_EPOCH + timedelta(hours=bucket)).strftime("%Y-%m-%dT%H:%M:%SZ")
