"""Per-day values: the report's charts (:mod:`teiten.report.series`), the phenomena's
daily series (:mod:`teiten.analyze.phenomena.series`) and the counts of any filter
(:mod:`teiten.analyze.series`). Every statement groups by ``day`` over the rollups —
but :func:`counts`'s hours, read from the packets; days ``first`` … ``end`` (exclusive)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from typing import Any, Literal

from teiten.fingerprint.registry import has_tag_sql
from teiten.store.dialect import int_div, semi_join
from teiten.store.queries.rankings import SHARE_TAGS, tag_column
from teiten.store.queries.statement import NO_CONDITION, Condition, Statement, merged

__all__ = [
    "DAILY_DIGESTS",
    "DAILY_KEYS",
    "counts",
    "daily_digest",
    "daily_packets",
    "from_daily",
    "kinds",
    "period_totals",
    "probes_per_day",
    "rows_per_day",
    "sensors_per_day",
    "top_keys_per_day",
]

Dimension = Literal["ports", "countries"]
_MIRAI = has_tag_sql("mirai")
_BACKSCATTER = "kind = 'backscatter'"


def _days(first: date, end: date) -> dict[str, Any]:
    return {"first": first, "end": end}


def sensors_per_day(first: date, end: date, where: Condition = NO_CONDITION) -> Statement:
    """How many sensors recorded any packet (``where`` selects, e.g. one sensor), per day."""
    sql = (
        "SELECT day, count(DISTINCT sensor) AS sensors FROM sources "
        f"WHERE day >= $first AND day < $end{where.sql} GROUP BY day"
    )
    return Statement(sql, merged(_days(first, end), where.params))


def rows_per_day(
    table: str,
    dimension: str,
    keys: Sequence[Sequence[Any]],
    *,
    by_sources: bool,
    first: date,
    end: date,
    where: Condition,
    daily: bool = False,
) -> Statement:
    """Per day, the packets (or distinct sources, ``by_sources``) in rollup ``table`` of
    each ranking row of ``keys`` — (proto number, port, icmp_type) for ``ports``,
    (country,) for ``countries`` — as ``n``, with the row's index in ``keys`` as ``k_i``.
    With ``daily``, ``table`` is a daily digest of the dimension (:data:`DAILY_DIGESTS`:
    a row's counts per traffic kind and day, ports without ICMP types) and ``where``
    selects its traffic kind."""
    if dimension == "ports":
        values = ", ".join(
            f"({i}::INTEGER, $proto{i}::INTEGER, $port{i}::INTEGER, $icmp{i}::INTEGER)"
            for i in range(len(keys))
        )
        wanted = f"SELECT * FROM (VALUES {values}) k(k_i, k_proto, k_port, k_icmp)"
        join = "proto = k_proto AND port IS NOT DISTINCT FROM k_port"
        join += "" if daily else " AND icmp_type IS NOT DISTINCT FROM k_icmp"
        names: tuple[str, ...] = ("proto", "port", "icmp")
    else:
        values = ", ".join(f"({i}::INTEGER, $country{i}::STRING)" for i in range(len(keys)))
        wanted = f"SELECT * FROM (VALUES {values}) k(k_i, k_country)"
        join = "country IS NOT DISTINCT FROM k_country"
        names = ("country",)
    if daily:  # one row per traffic kind, day and row: its counts, summed as they are
        measure = "sum(sources)" if by_sources else "sum(packets)"
    else:
        measure = "count(DISTINCT src)" if by_sources else "sum(packets)"
    sql = (
        f"WITH wanted AS ({wanted}) "
        f"SELECT day, k_i, {measure} AS n FROM {table} JOIN wanted ON {join} "
        f"WHERE day >= $first AND day < $end{where.sql} GROUP BY ALL"
    )
    given = {f"{n}{i}": v for i, key in enumerate(keys) for n, v in zip(names, key, strict=True)}
    return Statement(sql, merged(given, _days(first, end), where.params))


_HOUR_US = 3_600_000_000  # an hour in µs, the unit of the packets' ``ts``


def _hourly(dialect: str) -> str:
    """The packets of days ``$first`` … ``$end`` with the columns :func:`counts` reads of
    a rollup: ``hour`` (hours since the epoch), ``port`` (``dport``, as in the ``keys``
    rollup) and ``packets`` (1)."""
    hour = int_div(dialect, "epoch_us(ts)", str(_HOUR_US))
    return (
        f"(SELECT *, {hour} AS hour, dport AS port, 1 AS packets FROM packets "
        "WHERE day >= $first AND day < $end)"
    )


def _count(by_sources: bool, condition: str | None = None) -> str:
    """The group's packets (or distinct sources), of its rows meeting ``condition``."""
    if condition is None:
        return "count(DISTINCT src)" if by_sources else "coalesce(sum(packets), 0)"
    if by_sources:
        return f"count(DISTINCT CASE WHEN {condition} THEN src END)"
    return f"coalesce(sum(packets) FILTER (WHERE {condition}), 0)"


def counts(
    dialect: str,
    by: str,
    table: str,
    first: date,
    end: date,
    *,
    by_sources: bool,
    tags: Sequence[str],
    backscatter: bool,
    where: Condition,
) -> Statement:
    """Per ``bucket`` — a day of rollup ``table``'s rows, or an hour (since the epoch) of
    the packets' — the packets (or distinct sources, ``by_sources``) as ``n``; the same
    of those carrying each tag of ``tags`` (as ``tag_<bit>``) and, with ``backscatter``,
    of the backscatter (as ``backscatter``). Buckets without rows are not listed."""
    relation, bucket = (table, "day") if by == "day" else (_hourly(dialect), "hour")
    measures = [f"{_count(by_sources)} AS n"]
    measures += [f"{_count(by_sources, has_tag_sql(t))} AS {tag_column(t)}" for t in tags]
    if backscatter:
        measures.append(f"{_count(by_sources, _BACKSCATTER)} AS backscatter")
    sql = (
        f"SELECT {bucket} AS bucket, {', '.join(measures)} FROM {relation} "
        f"WHERE day >= $first AND day < $end{where.sql} GROUP BY {bucket}"
    )
    return Statement(sql, merged(_days(first, end), where.params))


# A month's daily digests (teiten.store.period_rollups): per name, the rollup they are
# summed from and the row's key columns — every day's totals, ports, countries.
DAILY_DIGESTS: dict[str, tuple[str, tuple[str, ...]]] = {
    "totals": ("sources", ()),
    "ports": ("keys", ("proto", "port")),
    "countries": ("sources", ("country",)),
}
_DAILY_MEASURES = {"packets": False, "sources": True}


def _daily_column(measure: str, column: str = "") -> str:
    """A daily digest's column: ``packets``, ``tag_0_sources``, ``backscatter_packets``."""
    return f"{column}_{measure}" if column else measure


def daily_digest(relation: str, keys: Sequence[str], where: Condition) -> Statement:
    """Per day and row of ``keys`` in ``relation`` (day rollup rows, with ``day``; those
    ``where`` selects): the packets and distinct sources, of all the row's rows, of those
    carrying each tag of :data:`SHARE_TAGS` and of the backscatter — all that
    :func:`counts` gives of a day, for any one row; ordered by row, then day."""
    measures = []
    for measure, by_sources in _DAILY_MEASURES.items():
        measures.append(f"CAST({_count(by_sources)} AS BIGINT) AS {measure}")
        for column, condition in [
            *((tag_column(t), has_tag_sql(t)) for t in SHARE_TAGS),
            ("backscatter", _BACKSCATTER),
        ]:
            name = _daily_column(measure, column)
            measures.append(f"CAST({_count(by_sources, condition)} AS BIGINT) AS {name}")
    group = ", ".join([*keys, "day"])
    sql = (
        f"SELECT {group}, {', '.join(measures)} FROM {relation} WHERE TRUE{where.sql} "
        f"GROUP BY {group} ORDER BY {group}"
    )
    return Statement(sql, where.params)


def from_daily(
    relation: str,
    row: dict[str, Any],
    traffic: str,
    first: date,
    end: date,
    *,
    by_sources: bool,
    tags: Sequence[str],
    backscatter: bool,
) -> Statement:
    """:func:`counts` per day of the ``traffic`` rows of one ``row`` (its key columns'
    values, e.g. ``{"proto": 6, "port": 23}``; none: the totals) of daily digests."""
    measure = "sources" if by_sources else "packets"
    columns = [f"{measure} AS n"]
    columns += [f"{_daily_column(measure, tag_column(t))} AS {tag_column(t)}" for t in tags]
    if backscatter:
        columns.append(f"{_daily_column(measure, 'backscatter')} AS backscatter")
    keys = "".join(f" AND {k} = ${k}" for k in row)
    sql = (
        f"SELECT day AS bucket, {', '.join(columns)} FROM {relation} "
        f"WHERE traffic = $traffic{keys} AND day >= $first AND day < $end"
    )
    return Statement(sql, merged(row, {"traffic": traffic}, _days(first, end)))


def period_totals(first: date, end: date) -> Statement:
    """The packets, distinct sources and sensors of all traffic."""
    sql = (
        "SELECT coalesce(sum(packets), 0) AS packets, count(DISTINCT src) AS sources, "
        "count(DISTINCT sensor) AS sensors FROM sources WHERE day >= $first AND day < $end"
    )
    return Statement(sql, _days(first, end))


def kinds(first: date, end: date) -> Statement:
    """The packets of each traffic kind."""
    sql = (
        "SELECT kind, sum(packets) AS n FROM sources WHERE day >= $first AND day < $end "
        "GROUP BY kind ORDER BY kind"
    )
    return Statement(sql, _days(first, end))


def daily_packets(first: date, end: date) -> Statement:
    """The packets (all traffic kinds) per day."""
    sql = (
        "SELECT day, sum(packets) AS packets FROM sources "
        "WHERE day >= $first AND day < $end GROUP BY day"
    )
    return Statement(sql, _days(first, end))


def probes_per_day(country: str, first: date, end: date) -> Statement:
    """Per day, the probes (``probes``), those tagged ``mirai`` (``mirai``), and both of
    them from ``country`` (``country_probes``, ``country_mirai``)."""
    sql = (
        "SELECT day, sum(packets) AS probes, "
        f"coalesce(sum(packets) FILTER (WHERE {_MIRAI}), 0) AS mirai, "
        "coalesce(sum(packets) FILTER (WHERE country = $country), 0) AS country_probes, "
        f"coalesce(sum(packets) FILTER (WHERE country = $country AND {_MIRAI}), 0) "
        "AS country_mirai "
        "FROM sources WHERE day >= $first AND day < $end AND kind = 'probe' GROUP BY day"
    )
    return Statement(sql, merged({"country": country}, _days(first, end)))


# Per dimension: its key columns, the rows that have a key, the rollup holding them.
DAILY_KEYS: dict[str, tuple[str, ...]] = {"ports": ("proto", "port"), "countries": ("country",)}
_KEYED = {
    "ports": ("proto IN (6, 17) AND port IS NOT NULL", "keys"),
    "countries": ("country IS NOT NULL", "sources"),
}


def top_keys_per_day(
    dialect: str,
    dimension: Dimension,
    first: date,
    split: date,
    end: date,
    *,
    limit: int,
    country: str | None = None,
) -> Statement:
    """Per day, the probes (``n``) of the ``limit`` keys (:data:`DAILY_KEYS`) with the most,
    by the larger of their probes before ``split`` and from it on (so a key new in the
    period competes with those of the baseline); only probes from ``country`` if given."""
    names = DAILY_KEYS[dimension]
    keyed, table = _KEYED[dimension]
    key_list = ", ".join(names)
    where = "" if country is None else " AND country = $country"
    join = " AND ".join(f"d.{k} = t.{k}" for k in names)
    sql = f"""
        WITH daily AS (
            SELECT day, {key_list}, sum(packets) AS n FROM {table}
            WHERE day >= $first AND day < $end AND kind = 'probe' AND {keyed}{where}
            GROUP BY ALL
        ), top AS (
            SELECT {key_list} FROM daily GROUP BY ALL
            ORDER BY greatest(sum(n) FILTER (WHERE day < $split),
                              sum(n) FILTER (WHERE day >= $split))
                     DESC NULLS LAST, {key_list}
            LIMIT $limit
        )
        SELECT d.* FROM daily d {semi_join(dialect)} top t ON {join}
    """
    params = {**_days(first, end), "split": split, "limit": limit}
    if country is not None:
        params["country"] = country
    return Statement(sql, params)
