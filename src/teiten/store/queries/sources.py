"""Sources (:mod:`teiten.analyze.sources`): who sent what in a period, and one source's
history, per day, from the ``keys`` rollup; whether an address is a sensor's."""

from __future__ import annotations

from datetime import date
from typing import Any

from teiten.store.dialect import ordered_list
from teiten.store.queries.filters import KEY_PORT
from teiten.store.queries.statement import Condition, Statement, merged

__all__ = [
    "dropped_destination",
    "history",
    "period_sources",
    "seen_as_destination",
    "sensor_sources",
]


def _top_ports(dialect: str) -> str:
    """Aggregate: the group's ``$top`` ports with most packets (``proto``, ``port``)."""
    return ordered_list(
        dialect, {"proto": "proto", "port": "port"}, ["n DESC", "proto", "port"], "$top"
    )


def period_sources(
    dialect: str,
    first: date,
    end: date,
    *,
    where: Condition,
    tag_mask: int | None,
    port: int | None,
    proto: int | None,
    top: int,
    limit: int,
) -> Statement:
    """The sources of days ``first`` … ``end`` (exclusive), most packets first, ``limit``
    of them: those of the ``keys`` rows ``where`` selects (:func:`~teiten.store.queries.
    filters.where`), with a packet carrying a tag of ``tag_mask`` and one hitting ``port``
    of ``proto`` (TCP or UDP when ``None``) — each only when given.
    Per source its packets, first and last instant, ``tag_bits`` and its ``top`` ports;
    ``is_sensor`` when it is also a destination (the sensor ones sort last, and the totals
    over all rows leave them out: ``total_sources``, ``total_packets``, ``withheld``).

    Read from the ``keys`` rollup (its rows per source, port, tags and day add up to the
    packets'), the IPv4 destinations from the ``dsts`` rollup and the IPv6 ones from the
    packets (which the rollups do not list)."""
    params: dict[str, Any] = {"first": first, "end": end, "top": top}
    having = []
    if tag_mask is not None:
        having.append("bit_or(tag_bits) & $tag_mask <> 0")
        params["tag_mask"] = tag_mask
    if port is not None:
        having.append(
            "bool_or(port = $port AND proto IN (6, 17))"
            if proto is None
            else "bool_or(port = $port AND proto = $proto)"
        )
        params["port"] = port
        if proto is not None:
            params["proto"] = proto
    sql = f"""
    WITH per_port AS (
        SELECT src, proto, {KEY_PORT} AS port, sum(packets) AS n,
               min(first_ns) AS first_seen, max(last_ns) AS last_seen, bit_or(tags) AS tag_bits,
               any_value(country) AS country, any_value(asn) AS asn
        FROM keys WHERE day >= $first AND day < $end{where.sql}
        GROUP BY ALL
    ), per_source AS (
        SELECT src, any_value(country) AS country, any_value(asn) AS asn,
               min(first_seen) AS first_seen, max(last_seen) AS last_seen,
               CAST(sum(n) AS BIGINT) AS packets, bit_or(tag_bits) AS tag_bits,
               {_top_ports(dialect)} AS ports
        FROM per_port GROUP BY src
        {"HAVING " + " AND ".join(having) if having else ""}
    ), sensor_sources AS ({sensor_sources("per_source")}
    ), visible AS (
        SELECT *, src IN (SELECT src FROM sensor_sources) AS is_sensor FROM per_source
    )
    SELECT *, count(CASE WHEN NOT is_sensor THEN 1 END) OVER () AS total_sources,
           sum(CASE WHEN NOT is_sensor THEN packets END) OVER () AS total_packets,
           count(CASE WHEN is_sensor THEN 1 END) OVER () AS withheld
    FROM visible
    ORDER BY is_sensor, packets DESC, src
    LIMIT $limit
    """
    params["limit"] = limit
    return Statement(sql, merged(params, where.params))


def sensor_sources(among: str) -> str:
    """A CTE's body: the ``src`` of relation ``among`` that are destinations of days
    ``$first`` … ``$end`` — sensors' addresses: IPv4 ones from the ``dsts`` rollup, IPv6
    ones from the packets (which the rollups do not list)."""
    return f"""
        SELECT DISTINCT dst AS src FROM dsts
        WHERE day >= $first AND day < $end AND dst IN (SELECT src FROM {among})
        UNION
        SELECT DISTINCT dst AS src FROM packets
        WHERE day >= $first AND day < $end AND ip_version = 6
          AND dst IN (SELECT src FROM {among})"""


def seen_as_destination(address: bytes) -> Statement:
    """One row: whether ``address`` (16 bytes) is a destination of the raw packets (``hit``)."""
    sql = "SELECT count(*) > 0 AS hit FROM (SELECT 1 FROM packets WHERE dst = $src LIMIT 1)"
    return Statement(sql, {"src": address})


def dropped_destination(address: bytes, since: date) -> Statement:
    """One row: whether ``address`` (16 bytes) is a destination of a day before ``since``
    (read from the ``dsts`` rollup: days whose raw packets retention dropped; ``hit``)."""
    sql = (
        "SELECT count(*) > 0 AS hit FROM (SELECT 1 FROM dsts WHERE day < $since AND dst = $src "
        "LIMIT 1)"
    )
    return Statement(sql, {"since": since, "src": address})


def history(dialect: str, address: bytes, *, top: int) -> Statement:
    """Per day that source ``address`` (16 bytes) sent packets (from the ``keys`` rollup):
    its packets, probes and backscatter, ``tag_bits``, first and last instant, country and
    AS, and its ``top`` ports."""
    sql = f"""
        WITH per_port AS (
            SELECT day, proto, {KEY_PORT} AS port, sum(packets) AS n,
                   bit_or(tags) AS tag_bits,
                   sum(packets) FILTER (WHERE kind = 'probe') AS probe,
                   sum(packets) FILTER (WHERE kind = 'backscatter') AS backscatter,
                   min(first_ns) AS first_seen, max(last_ns) AS last_seen,
                   any_value(country) AS country, any_value(asn) AS asn
            FROM keys WHERE src = $src GROUP BY ALL
        )
        SELECT day, CAST(sum(n) AS BIGINT) AS packets,
               CAST(coalesce(sum(probe), 0) AS BIGINT) AS probe,
               CAST(coalesce(sum(backscatter), 0) AS BIGINT) AS backscatter,
               bit_or(tag_bits) AS tag_bits,
               min(first_seen) AS first_seen, max(last_seen) AS last_seen,
               any_value(country) AS country, any_value(asn) AS asn,
               {_top_ports(dialect)} AS ports
        FROM per_port GROUP BY day ORDER BY day
        """
    return Statement(sql, {"src": address, "top": top})
