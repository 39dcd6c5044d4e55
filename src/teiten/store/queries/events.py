"""What the scan and DoS statements share (:mod:`teiten.analyze.events`): the days they
read, sessions in SQL, sensor sources, IPv4 addresses as integers, and the CTEs that
merge per-day session fragments (:mod:`teiten.analyze.sessions`).

The parts here are SQL text for the statements of :mod:`teiten.store.queries.scans` and
:mod:`teiten.store.queries.dos` to build on; their markers' values come with those.
"""

from __future__ import annotations

from datetime import date
from typing import Any, NamedTuple

from teiten.store.dialect import ipv4_mapped
from teiten.store.queries.statement import NO_CONDITION, Condition, Statement

__all__ = [
    "IPV4_SPACE",
    "SESSION_TAGS",
    "Bounds",
    "day_packets",
    "edges",
    "ipv4_blob",
    "ipv4_text",
    "margin_edges",
    "of_source",
    "pieces",
    "selected",
    "sensor_sources",
    "sessions",
]

IPV4_SPACE = 1 << 32  # what a darknet's share of it scales event rates by


class Bounds(NamedTuple):
    """The days an event statement reads: the period (``first`` … ``end``), its edge days
    (``lo`` … ``hi``), the period's bounds in ns since the epoch, and the timeout (ns)."""

    first: date
    end: date
    lo: date
    hi: date
    first_ns: int
    end_ns: int
    timeout_ns: int

    def params(self) -> dict[str, Any]:
        """Every bound, as the marker of its name."""
        return self._asdict()

    def period(self) -> dict[str, Any]:
        """The period's days and the timeout: what a merge of fragments names."""
        return {"first": self.first, "end": self.end, "timeout_ns": self.timeout_ns}


# What a session carries besides its times and counts (merged alike from fragments).
SESSION_TAGS = "bit_or(tags) AS tag_bits, min(country) AS country, min(asn) AS asn"


def of_source(source: bytes | None) -> Condition:
    """The packets of ``source`` (a 16-byte address) alone, when given."""
    return NO_CONDITION if source is None else Condition(" AND src = $source", {"source": source})


def selected(dialect: str, where: Condition) -> Statement:
    """The positions ``i`` (in order) of the events of ``events`` — ``i``, ``address``
    (the dotted quad of a scan's source or an attack's victim) and ``asn`` — that
    ``where`` selects: a condition on ``asn`` and ``src`` (the 16-byte address, as
    :func:`teiten.store.queries.filters.where` names them)."""
    octets = " + ".join(
        f"CAST(split_part(address, '.', {n}) AS BIGINT) * {1 << 8 * (4 - n)}" for n in (1, 2, 3, 4)
    )
    sql = f"""
    SELECT i FROM (SELECT i, asn, {ipv4_mapped(dialect, f"({octets})")} AS src FROM events)
    WHERE true{where.sql}
    ORDER BY i"""
    return Statement(sql, dict(where.params))


def day_packets(kind: str, columns: str, first: date, end: date) -> Statement:
    """``columns`` of the IPv4 packets of ``kind`` of days ``first`` … ``end`` (exclusive),
    for :func:`teiten.analyze.sessions.sessionize`."""
    sql = f"""
    SELECT {columns}
    FROM packets WHERE day >= $first AND day < $end AND kind = '{kind}' AND ip_version = 4"""
    return Statement(sql, {"first": first, "end": end})


def ipv4_text(value: str) -> str:
    """SQL for the dotted quad of an IPv4 address given as an integer expression."""
    v = f"({value})"
    return f"concat_ws('.', {v} >> 24, ({v} >> 16) & 255, ({v} >> 8) & 255, {v} & 255)"


def ipv4_blob(value: str) -> str:
    """SQL (DuckDB) for the 16-byte IPv4-mapped address of an integer expression."""
    return f"unhex('00000000000000000000ffff' || printf('%08x', {value}))"


def sensor_sources(events: str) -> str:
    """CTE ``sensor_sources``: the sources of ``events`` (16-byte ``src``) that are also
    destinations in the period (read from the ``dsts`` rollup)."""
    return f"""sensor_sources AS (
        SELECT DISTINCT dst AS src FROM dsts
        WHERE day >= $first AND day < $end AND dst IN (SELECT src FROM {events})
    )"""


def edges(key: str, kind: str, events: str) -> str:
    """CTE ``edges``: per key ``k`` (``key`` of a packet) of the sources of ``events``, the
    time of its last packet of ``kind`` before the period and of its first after, within
    the timeout (read from the edge days)."""
    return f"""edges AS (
        SELECT {key} AS k,
               max(t_ns) FILTER (WHERE day < $first) AS before_ns,
               min(t_ns) FILTER (WHERE day >= $end) AS after_ns
        FROM packets
        WHERE ((day >= $lo AND day < $first) OR (day >= $end AND day < $hi))
          AND kind = '{kind}' AND ip_version = 4
          AND t_ns >= $first_ns - $timeout_ns AND t_ns < $end_ns + $timeout_ns
          AND src IN (SELECT src FROM {events})
        GROUP BY ALL
    )"""


def margin_edges(events: str) -> str:
    """CTE ``edges`` of the keys of ``events`` from the fragments of the margin days
    (``margin``, :func:`pieces`)."""
    return f"""edges AS (
        SELECT k, max(last_ns) FILTER (WHERE day < $first) AS before_ns,
               min(first_ns) FILTER (WHERE day >= $end) AS after_ns
        FROM margin WHERE k IN (SELECT k FROM {events}) GROUP BY k
    )"""


def sessions(keys: str, source: str) -> str:
    """CTEs ``marked`` and ``sessions`` over ``source`` (which has ``keys`` and ``t``):
    a silence longer than ``$timeout_ns`` opens a session (:mod:`teiten.analyze.events`)."""
    return f"""
    marked AS (
        SELECT *, CASE WHEN t - lag(t) OVER w <= $timeout_ns THEN NULL ELSE t END AS opens
        FROM {source} WINDOW w AS (PARTITION BY {keys} ORDER BY t)
    ), sessions AS (
        SELECT *, max(opens) OVER (PARTITION BY {keys} ORDER BY t) AS started FROM marked
    )"""


def pieces(keep: str) -> str:
    """CTEs over ``frags`` (fragments of the period and its margin days, of some keys)
    and ``chained`` (:func:`teiten.analyze.sessions.chain`): ``joined``, the fragments of
    sessions of several, with ``started`` and ``united`` (the session's distinct
    destinations); ``singles``, the period's sessions of one fragment — edge ones, and
    the others that ``keep`` (an SQL condition) selects; ``margin``, the margin days'."""
    return f"""joined AS (
        SELECT f.*, c.started, c.united FROM frags f JOIN chained c USING (k, first_ns)
    ), singles AS (
        SELECT f.*, f.first_ns AS started FROM frags f ANTI JOIN chained c USING (k, first_ns)
        WHERE day >= $first AND day < $end AND (edge OR ({keep}))
    ), margin AS (
        SELECT k, first_ns, last_ns, day FROM frags WHERE day < $first OR day >= $end
    )"""
