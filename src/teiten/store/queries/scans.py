"""Scan events (:mod:`teiten.analyze.scans`): from the packets, or merged from per-day
session fragments, and the fragments of a day.

A session's key is one exact integer per (IPv4 source, protocol, port):
IPv4 << 25 | proto << 17 | port + 1 (ICMP has port 0).
"""

from __future__ import annotations

from datetime import date

from teiten.store.dialect import ipv4_int, materialized, semi_join, unsigned
from teiten.store.queries import events as shared
from teiten.store.queries.statement import Statement
from teiten.store.queries.statement import merged as merged_params

__all__ = ["day_fragments", "day_probes", "events", "merged"]


def _key(dialect: str, src: str, proto: str, dport: str) -> str:
    """The session key (module doc): sorting sessions by it is much faster than by the
    16-byte address."""
    return (
        f"({ipv4_int(dialect, src)} << 25) | ({unsigned(dialect, proto)} << 17)"
        f" | coalesce({unsigned(dialect, dport)} + 1, 0)"
    )


_DURATION = "(last_ns - first_ns) / 1e9"
_RATE_SQL = f"packets * {float(shared.IPV4_SPACE)} / $darknet / greatest({_DURATION}, 1.0)"
_RATE = f"{_DURATION} AS duration_s, {_RATE_SQL} AS rate"
_RATE_OK = f"{_RATE_SQL} >= $min_rate"
# The events, from ``kept`` (a session per row, its key ``k`` and 16-byte ``src``),
# ``edges`` (per key, the last packet before the period and the first after) and
# ``sensor_sources``.
_OUTPUT = f"""
    SELECT {shared.ipv4_text("k.k >> 25")} AS source, k.country, k.asn,
           (k.k >> 17) & 255 AS proto,
           CASE WHEN k.k & 131071 = 0 THEN NULL ELSE (k.k & 131071) - 1 END AS port,
           k.first_ns AS start, k.last_ns AS end_ns,
           k.packets, k.destinations, k.duration_s, k.rate AS rate_pps_internet_wide,
           k.tag_bits,
           coalesce(k.first_ns - e.before_ns <= $timeout_ns, false) AS continues_before,
           coalesce(e.after_ns - k.last_ns <= $timeout_ns, false) AS continues_after,
           k.src IN (SELECT src FROM sensor_sources) AS is_sensor, k.k
    FROM kept k LEFT JOIN edges e USING (k)"""


def events(
    dialect: str,
    bounds: shared.Bounds,
    *,
    min_destinations: int,
    min_rate: float,
    darknet: float,
    source: bytes | None = None,
) -> Statement:
    """The scan events of the period of ``bounds`` from its probes (of ``source`` alone,
    a 16-byte address, when given): per session its key ``k``, ``source`` (text), ``proto``,
    ``port``, ``start``/``end_ns`` (ns), counts, rate, ``tag_bits``, whether it continues
    before or after the period (read from the edge days) and ``is_sensor``."""
    # Only keys with enough packets are sessionized (a scan of N destinations needs N
    # packets), and only the columns the sessions need go through the window sort.
    where = shared.of_source(source)
    sql = f"""
    WITH p AS (
        SELECT src, proto, dport, t_ns AS t, dst, tags, country, asn
        FROM packets
        WHERE day >= $first AND day < $end AND kind = 'probe' AND ip_version = 4{where.sql}
    ), candidates {materialized(dialect)} (
        SELECT {_key(dialect, "src", "proto", "dport")} AS k, src, proto, dport
        FROM p GROUP BY src, proto, dport HAVING count(*) >= $min_destinations
    ), q AS (
        SELECT {_key(dialect, "p.src", "p.proto", "p.dport")} AS k, t,
               {ipv4_int(dialect, "dst", bits=32)} AS d, tags, country, asn
        FROM p {semi_join(dialect)} candidates c
            ON p.src = c.src AND p.proto = c.proto AND p.dport IS NOT DISTINCT FROM c.dport
    ), {shared.sessions("k", "q")},
    grouped AS (
        SELECT k, min(t) AS first_ns, max(t) AS last_ns, count(*) AS packets,
               count(DISTINCT d) AS destinations, {shared.SESSION_TAGS}
        FROM sessions GROUP BY k, started
        HAVING count(DISTINCT d) >= $min_destinations
    ), kept {materialized(dialect)} (
        SELECT g.*, c.src, {_RATE}
        FROM grouped g JOIN (SELECT k, src FROM candidates) c USING (k)
        WHERE {_RATE_OK}
    ), {shared.edges(_key(dialect, "src", "proto", "dport"), "probe", "kept")},
    {shared.sensor_sources("kept")}
    {_OUTPUT}"""
    values = {"min_destinations": min_destinations, "min_rate": min_rate, "darknet": darknet}
    return Statement(sql, merged_params(bounds.params(), values, where.params))


def day_probes(first: date, end: date) -> Statement:
    """The probes of days ``first`` … ``end`` (exclusive), for
    :func:`teiten.analyze.sessions.sessionize`."""
    columns = "src, proto, dport, t_ns AS t, dst, tags, country, asn"
    return shared.day_packets("probe", columns, first, end)


# The fragments of a day from its sessionized probes (``sessions``): each session with
# its distinct destinations counted (per session and destination first: cheaper than
# ``count(DISTINCT)``) and, for an edge fragment, listed; one that is not edge only if
# it reaches the floor.
_DAY_SQL = f"""
    WITH per_d AS MATERIALIZED (
        SELECT k, started, d, count(*) AS n, max(t) AS last_ns, {shared.SESSION_TAGS}
        FROM sessions GROUP BY k, started, d
    ), grouped AS MATERIALIZED (
        SELECT k, started AS first_ns, max(last_ns) AS last_ns, sum(n) AS packets,
               count(*) AS destinations, bit_or(tag_bits) AS tag_bits,
               min(country) AS country, min(asn) AS asn,
               started % $day_len <= $timeout_ns
                   OR $day_len - started % $day_len - (max(last_ns) - started) <= $timeout_ns
                   AS edge
        FROM per_d GROUP BY k, started
    ), lists AS (
        SELECT k, started AS first_ns, list(d ORDER BY d) AS dsts
        FROM per_d SEMI JOIN (SELECT k, first_ns FROM grouped WHERE edge) e
            ON per_d.k = e.k AND per_d.started = e.first_ns
        GROUP BY k, started
    )
    SELECT g.*, l.dsts FROM grouped g LEFT JOIN lists l USING (k, first_ns)
    WHERE g.edge OR g.destinations >= $min_destinations
    ORDER BY first_ns // $day_len, k, first_ns"""


def day_fragments(*, timeout_ns: int, day_len: int, min_destinations: int) -> Statement:
    """The fragments of the days of ``sessions`` (their probes, sessionized: ``k``, ``t``,
    ``d``, ``started``, …) cut at midnights (``day_len`` ns apart), ordered by day (DuckDB)."""
    params = {"timeout_ns": timeout_ns, "day_len": day_len, "min_destinations": min_destinations}
    return Statement(_DAY_SQL, params)


# The events of the period from its fragments and its margin days' (``frags``, and the
# joins across midnight, ``chained``: :func:`teiten.store.queries.events.pieces`; a
# session of several fragments has their destination sets' union, ``united``).
_MERGE_SQL = f"""
    WITH {shared.pieces("destinations >= $min_destinations")},
    merged AS (
        SELECT k, first_ns, last_ns, packets, destinations, tag_bits, country, asn
        FROM singles
        UNION ALL
        SELECT k, min(first_ns), max(last_ns), sum(packets), any_value(united),
               bit_or(tag_bits), min(country), min(asn)
        FROM joined GROUP BY k, started
    ), kept AS MATERIALIZED (
        SELECT *, {shared.ipv4_blob("k >> 25")} AS src, {_RATE}
        FROM merged WHERE destinations >= $min_destinations AND {_RATE_OK}
    ), {shared.margin_edges("kept")}, {shared.sensor_sources("kept")}
    {_OUTPUT}"""


def merged(
    bounds: shared.Bounds, *, min_destinations: int, min_rate: float, darknet: float
) -> Statement:
    """:func:`events`, rows alike, from the fragments ``frags`` and their joins ``chained``
    (DuckDB)."""
    params = bounds.period() | {
        "min_destinations": min_destinations,
        "min_rate": min_rate,
        "darknet": darknet,
    }
    return Statement(_MERGE_SQL, params)
