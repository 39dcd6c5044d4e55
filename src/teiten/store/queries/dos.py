"""DoS attacks (:mod:`teiten.analyze.dos`): from the backscatter, or merged from per-day
session fragments, and the fragments of a day.

A session's key is one exact integer per (victim, protocol): IPv4 << 8 | protocol. Its
busiest window is counted in buckets of ``$step_s`` seconds from its first second,
``window_s // step_s`` buckets wide.
"""

from __future__ import annotations

from datetime import date
from typing import NamedTuple

from teiten.store.dialect import (
    empty_list,
    int_div,
    ipv4_int,
    materialized,
    ordered_list,
    semi_join,
    unsigned,
)
from teiten.store.queries import events as shared
from teiten.store.queries.statement import Statement
from teiten.store.queries.statement import merged as merged_params

__all__ = ["Thresholds", "attacks", "day_backscatter", "day_fragments", "merged"]


def _key(dialect: str) -> str:
    """The session key (module doc)."""
    return f"({ipv4_int(dialect, 'src')} << 8) | {unsigned(dialect, 'proto')}"


def _steps_back(window_s: int, step_s: int) -> int:
    """The buckets a window reaches back besides its last."""
    return window_s // step_s - 1


def _output(dialect: str, port_count: str) -> str:
    """The attacks, from ``attacks`` (a session per row: its key ``k``, ``started``, 16-byte
    ``src``), ``ports`` (its top ports), ``edges`` and ``sensor_sources``."""
    return f"""
    SELECT {shared.ipv4_text("a.k >> 8")} AS victim, a.country, a.asn, a.k & 255 AS proto,
           a.first_ns AS start, a.last_ns AS end_ns, a.packets,
           coalesce(o.ports, {empty_list(dialect)}) AS ports, {port_count} AS port_count,
           a.destinations, (a.last_ns - a.first_ns) / 1e9 AS duration_s, a.max_ppm,
           a.packets * {float(shared.IPV4_SPACE)} / $darknet
               / greatest((a.last_ns - a.first_ns) / 1e9, 1.0) AS rate_pps_internet_wide,
           a.tag_bits,
           coalesce(a.first_ns - e.before_ns <= $timeout_ns, false) AS continues_before,
           coalesce(e.after_ns - a.last_ns <= $timeout_ns, false) AS continues_after,
           a.src IN (SELECT src FROM sensor_sources) AS is_sensor, a.k
    FROM attacks a
    LEFT JOIN ports o USING (k, started)
    LEFT JOIN edges e USING (k)
    """


class Thresholds(NamedTuple):
    """An attack's thresholds, and its buckets' ``step_s`` (seconds) and ``ns`` (ns per
    second): the values of the markers of their names."""

    min_packets: int
    min_duration_ns: int
    min_ppm: int
    step_s: int
    ns: int


def attacks(
    dialect: str,
    bounds: shared.Bounds,
    thresholds: Thresholds,
    *,
    window_s: int,
    top_ports: int,
    darknet: float,
    source: bytes | None = None,
) -> Statement:
    """The DoS attacks of the period of ``bounds`` from its backscatter (of ``source``
    alone, a 16-byte address, when given): per session its key ``k``, ``victim`` (text),
    ``proto``, ``start``/``end_ns`` (ns), its ``top_ports`` source ports, counts, busiest
    window, rate, ``tag_bits``, whether it continues before or after the period and
    ``is_sensor``."""
    # Sessions are partitioned by their key (_key); only vectors with enough packets are
    # sessionized.
    where = shared.of_source(source)
    steps_back = _steps_back(window_s, thresholds.step_s)
    key = _key(dialect)
    bucket = int_div(
        dialect, f"{int_div(dialect, 't', '$ns')} - {int_div(dialect, 'started', '$ns')}", "$step_s"
    )
    top = str(int(top_ports))
    top_list = ordered_list(dialect, {"value": "sport"}, ["n DESC", "sport"], top)
    sql = f"""
    WITH p AS (
        SELECT src, proto, t_ns AS t, dst, sport, tags, country, asn
        FROM packets
        WHERE day >= $first AND day < $end AND kind = 'backscatter'
          AND ip_version = 4{where.sql}
    ), candidates {materialized(dialect)} (
        SELECT {key} AS k, src, proto
        FROM p GROUP BY src, proto HAVING count(*) >= $min_packets
    ), q AS (
        SELECT {key} AS k, t, {ipv4_int(dialect, "dst", bits=32)} AS d, sport, tags,
               country, asn
        FROM p {semi_join(dialect)} candidates c ON p.src = c.src AND p.proto = c.proto
    ), {shared.sessions("k", "q")},
    sets {materialized(dialect)} (
        SELECT k, started, b, sport, grouping(b) * 2 + grouping(sport) AS level,
               count(*) AS n, min(t) AS first_ns, max(t) AS last_ns,
               count(DISTINCT d) AS destinations, count(DISTINCT sport) AS port_count,
               {shared.SESSION_TAGS}
        FROM (SELECT *, {bucket} AS b FROM sessions)
        GROUP BY GROUPING SETS ((k, started), (k, started, b), (k, started, sport))
    ), vectors AS (
        SELECT k, started, n AS packets, first_ns, last_ns, destinations, port_count,
               tag_bits, country, asn
        FROM sets
        WHERE level = 3 AND n >= $min_packets AND last_ns - first_ns >= $min_duration_ns
    ), peaks AS (
        SELECT k, started, max(w) AS max_ppm FROM (
            SELECT k, started, sum(n) OVER (
                PARTITION BY k, started ORDER BY b
                RANGE BETWEEN {steps_back} PRECEDING AND CURRENT ROW) AS w
            FROM sets WHERE level = 1)
        GROUP BY ALL
    ), ports AS (
        SELECT k, started,
               {top_list} AS ports
        FROM sets WHERE level = 2 AND sport IS NOT NULL GROUP BY ALL
    ), attacks {materialized(dialect)} (
        SELECT v.*, x.max_ppm, c.src
        FROM vectors v JOIN peaks x USING (k, started) JOIN candidates c USING (k)
        WHERE x.max_ppm >= $min_ppm
    ), {shared.edges(key, "backscatter", "attacks")}, {shared.sensor_sources("attacks")}
    {_output(dialect, "a.port_count")}"""
    values = thresholds._asdict() | {"darknet": darknet}
    return Statement(sql, merged_params(bounds.params(), values, where.params))


def day_backscatter(first: date, end: date) -> Statement:
    """The backscatter of days ``first`` … ``end`` (exclusive), for
    :func:`teiten.analyze.sessions.sessionize`."""
    columns = "src, proto, t_ns AS t, dst, sport, tags, country, asn"
    return shared.day_packets("backscatter", columns, first, end)


def day_fragments(
    *,
    timeout_ns: int,
    day_len: int,
    min_packets: int,
    min_duration_ns: int,
    min_ppm: int,
    ns: int,
    step_s: int,
    window_s: int,
) -> Statement:
    """The fragments of the days of ``sessions`` (their backscatter, sessionized: ``k``,
    ``t``, ``d``, ``sport``, ``started``, …) cut at midnights (``day_len`` ns apart),
    ordered by day (DuckDB).

    Each carries its busiest window for every phase of the buckets (``phases[r + 1]``:
    buckets of ``$step_s`` seconds starting at seconds ≡ r), since a joined session's
    buckets start at its first fragment's second, and its source ports with their packets
    (``sports``). An edge fragment also keeps its destinations and its *rim*: packets per
    second within ``$window_s`` of its first and last second, the only ones a window
    shared with another fragment holds.
    """
    sql = f"""
    WITH grouped AS MATERIALIZED (
        SELECT k, started AS first_ns, max(t) AS last_ns, count(*) AS packets,
               count(DISTINCT d) AS destinations, {shared.SESSION_TAGS},
               started % $day_len <= $timeout_ns
                   OR $day_len - started % $day_len - (max(t) - started) <= $timeout_ns AS edge
        FROM sessions GROUP BY k, started
    ), candidates AS (
        SELECT k, first_ns AS started FROM grouped
        WHERE edge OR (packets >= $min_packets AND last_ns - first_ns >= $min_duration_ns)
    ), secs AS MATERIALIZED (
        SELECT k, started, t // $ns AS s, count(*) AS n
        FROM sessions SEMI JOIN candidates USING (k, started) GROUP BY ALL
    ), windows AS (
        SELECT k, started, r, max(w) AS m FROM (
            SELECT k, started, r, sum(n) OVER (
                PARTITION BY k, started, r ORDER BY b
                RANGE BETWEEN {_steps_back(window_s, step_s)} PRECEDING AND CURRENT ROW) AS w
            FROM (SELECT k, started, r, (s - r) // $step_s AS b, sum(n) AS n
                  FROM secs, range($step_s) AS phase(r) GROUP BY ALL))
        GROUP BY ALL
    ), phased AS (
        SELECT k, started AS first_ns, list(m ORDER BY r) AS phases FROM windows GROUP BY ALL
    ), kept AS MATERIALIZED (
        SELECT g.*, p.phases[(g.first_ns // $ns) % $step_s + 1] AS max_ppm, p.phases
        FROM grouped g JOIN phased p USING (k, first_ns)
        WHERE g.edge OR p.phases[(g.first_ns // $ns) % $step_s + 1] >= $min_ppm
    ), ports AS (
        SELECT k, started AS first_ns,
               list({{'sport': sport, 'n': n}} ORDER BY n DESC, sport) AS sports
        FROM (SELECT k, started, sport, count(*) AS n
              FROM sessions
              SEMI JOIN (SELECT k, first_ns AS started FROM kept) USING (k, started)
              WHERE sport IS NOT NULL GROUP BY ALL)
        GROUP BY ALL
    ), lists AS (
        SELECT k, started AS first_ns, list(DISTINCT d ORDER BY d) AS dsts
        FROM sessions
        SEMI JOIN (SELECT k, first_ns AS started FROM kept WHERE edge) USING (k, started)
        GROUP BY ALL
    ), rims AS (
        SELECT x.k, x.started AS first_ns, list({{'s': x.s, 'n': x.n}} ORDER BY x.s) AS rim
        FROM secs x JOIN (SELECT k, first_ns, last_ns FROM kept WHERE edge) e
            ON x.k = e.k AND x.started = e.first_ns
        WHERE x.s < e.first_ns // $ns + $window_s OR x.s > e.last_ns // $ns - $window_s
        GROUP BY ALL
    )
    SELECT k, first_ns, last_ns, packets, destinations, tag_bits, country, asn, edge,
           max_ppm, CASE WHEN edge THEN phases END AS phases, sports, dsts, rim
    FROM kept LEFT JOIN ports USING (k, first_ns) LEFT JOIN lists USING (k, first_ns)
    LEFT JOIN rims USING (k, first_ns)
    ORDER BY first_ns // $day_len, k, first_ns"""
    params = {
        "timeout_ns": timeout_ns,
        "day_len": day_len,
        "min_packets": min_packets,
        "min_duration_ns": min_duration_ns,
        "min_ppm": min_ppm,
        "ns": ns,
        "step_s": step_s,
        "window_s": window_s,
    }
    return Statement(sql, params)


def merged(
    bounds: shared.Bounds, thresholds: Thresholds, *, window_s: int, top_ports: int, darknet: float
) -> Statement:
    """:func:`attacks`, rows alike, from the fragments ``frags`` and their joins
    ``chained`` (:func:`teiten.store.queries.events.pieces`; DuckDB). A joined session's
    busiest window is the largest of its fragments' at its phase and of the windows over
    their rims; its destinations and ports are theirs united."""
    phase = "(started // $ns) % $step_s + 1"
    steps_back = _steps_back(window_s, thresholds.step_s)
    whole = (
        "packets >= $min_packets AND last_ns - first_ns >= $min_duration_ns AND max_ppm >= $min_ppm"
    )
    sql = f"""
    WITH {shared.pieces(whole)},
    merged AS (
        SELECT k, started, first_ns, last_ns, packets, destinations, max_ppm AS ppm,
               tag_bits, country, asn
        FROM singles
        UNION ALL
        SELECT k, started, min(first_ns), max(last_ns), sum(packets), any_value(united),
               max(phases[{phase}]),
               bit_or(tag_bits), min(country), min(asn)
        FROM joined GROUP BY k, started
    ), crossing AS (
        SELECT k, started, max(w) AS ppm FROM (
            SELECT k, started, sum(n) OVER (
                PARTITION BY k, started ORDER BY b
                RANGE BETWEEN {steps_back} PRECEDING AND CURRENT ROW) AS w
            FROM (SELECT k, started, (r.s - started // $ns) // $step_s AS b, sum(r.n) AS n
                  FROM (SELECT k, started, unnest(rim) AS r FROM joined)
                  GROUP BY ALL))
        GROUP BY ALL
    ), attacks AS MATERIALIZED (
        SELECT m.*, greatest(m.ppm, coalesce(x.ppm, 0)) AS max_ppm,
               {shared.ipv4_blob("k >> 8")} AS src
        FROM merged m LEFT JOIN crossing x USING (k, started)
        WHERE packets >= $min_packets AND last_ns - first_ns >= $min_duration_ns
          AND greatest(m.ppm, coalesce(x.ppm, 0)) >= $min_ppm
    ), ports AS (
        SELECT k, started, count(*) AS port_count,
               list(sport ORDER BY n DESC, sport)[1:{int(top_ports)}] AS ports
        FROM (SELECT k, started, p.sport AS sport, sum(p.n) AS n
              FROM (SELECT k, started, unnest(sports) AS p
                    FROM (SELECT k, started, sports FROM singles
                          UNION ALL SELECT k, started, sports FROM joined)
                    SEMI JOIN attacks USING (k, started))
              GROUP BY ALL)
        GROUP BY ALL
    ), {shared.margin_edges("attacks")}, {shared.sensor_sources("attacks")}
    {_output("duckdb", "coalesce(o.port_count, 0)")}"""
    params = bounds.period() | thresholds._asdict() | {"darknet": darknet}
    return Statement(sql, params)
