"""Who sent a finding's probes (:mod:`teiten.analyze.phenomena.attribution`): one pass
over the ``keys`` rollup for any number of findings."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any

from teiten.fingerprint.registry import has_tag_sql
from teiten.store.dialect import materialized, ordered_list
from teiten.store.queries.statement import Statement

__all__ = ["Probes", "contributors"]

# A source's /24 (IPv4-mapped addresses) or /48 (IPv6), as hex text of its 16 bytes.
_NETWORK = (
    "CASE WHEN left(hex(src), 24) = '00000000000000000000FFFF' "
    "THEN left(hex(src), 30) ELSE left(hex(src), 12) END"
)


@dataclass(frozen=True)
class Probes:
    """The probes a finding is about: of days ``first`` … ``end`` (exclusive), from
    ``country``, tagged ``mirai``, to ``proto``/``port`` — each only when given."""

    first: date
    end: date
    country: str | None = None
    mirai: bool = False
    proto: int | None = None
    port: int | None = None


_COLUMNS = {"country": "STRING", "proto": "INTEGER", "port": "INTEGER"}


def _matched(probes: Sequence[Probes]) -> tuple[str, dict[str, Any]]:
    """The ``keys`` rows of each finding ``f`` (an index of ``probes``): ``f``, ``src``,
    ``day``, ``tags``, ``country``, ``packets``. Findings whose conditions name the same
    columns (a port, a country, a port from a country, Mirai-type from a country) share
    one join with a table of their values."""
    shapes: dict[tuple[tuple[str, ...], bool], list[int]] = {}
    for i, p in enumerate(probes):
        named = tuple(c for c in _COLUMNS if getattr(p, c) is not None)
        shapes.setdefault((named, p.mirai), []).append(i)
    parts, params = [], dict[str, Any]()
    for (named, mirai), members in shapes.items():
        rows = []
        for i in members:
            p = probes[i]
            params |= {f"first{i}": p.first, f"end{i}": p.end}
            params |= {f"{c}{i}": getattr(p, c) for c in named}
            values = [f"${c}{i}::{_COLUMNS[c]}" for c in named]
            rows.append(
                f"({', '.join([f'{i}::INTEGER', f'$first{i}::DATE', f'$end{i}::DATE', *values])})"
            )
        names = ", ".join(["c_f", "c_first", "c_end", *(f"c_{c}" for c in named)])
        on = " AND ".join(f"{c} = c_{c}" for c in named) or "true"
        tagged = f" AND {has_tag_sql('mirai')}" if mirai else ""
        parts.append(
            "SELECT c_f AS f, src, day, tags, country, packets FROM keys "
            f"JOIN (SELECT * FROM (VALUES {', '.join(rows)}) c({names})) c ON {on} "
            "WHERE day >= $low AND day < $high AND kind = 'probe' "
            f"AND day >= c_first AND day < c_end{tagged}"
        )
    return " UNION ALL ".join(parts), params


def contributors(dialect: str, probes: Sequence[Probes], *, max_sources: int) -> Statement:
    """Per finding ``f`` (an index of ``probes``), its ``max_sources`` busiest sources
    (``src``, ``n``, ``first``, ``last`` day, ``country``, ranked ``i``), each row also
    carrying the finding's totals (``total``, ``sources``, ``first_day``, ``last_day``)
    and its busiest /24's packets (``top_network``); its busiest source's row (``i`` = 1)
    also carries its packets per day with any (``daily``) and the busiest source's
    packets per ``tags`` value (``tag_values``, ``tag_counts``), the others' are null.

    The rows of each finding are found by joining the ``keys`` rollup with the findings'
    conditions on their equal columns (:func:`_matched`), then counted per (finding,
    source, day, tags): one hash join per shape of condition, not a filter per finding
    evaluated on every row.
    """
    matched, params = _matched(probes)

    def by_tags(value: str) -> str:
        return ordered_list(dialect, {"value": value}, ["u.tags"])

    sql = f"""
        WITH u {materialized(dialect)} (
            SELECT f, src, day, tags, min(country) AS country, sum(packets) AS n
            FROM ({matched}) GROUP BY f, src, day, tags
        ), s AS (
            SELECT f, src, sum(n) AS n, min(day) AS first, max(day) AS last,
                   min(country) AS country
            FROM u GROUP BY f, src
        ), ranked AS (
            SELECT *, row_number() OVER (PARTITION BY f ORDER BY n DESC, src) AS i FROM s
        ), totals AS (
            SELECT f, sum(n) AS total, count(*) AS sources, min(first) AS first_day,
                   max(last) AS last_day
            FROM s GROUP BY f
        ), daily AS (
            SELECT f, {ordered_list(dialect, {"value": "m"}, ["day"])} AS daily
            FROM (SELECT f, day, sum(n) AS m FROM u GROUP BY f, day) GROUP BY f
        ), networks AS (
            SELECT f, max(m) AS top_network
            FROM (SELECT f, sum(n) AS m FROM s GROUP BY f, {_NETWORK}) GROUP BY f
        ), top_tags AS (
            SELECT u.f, {by_tags("u.tags")} AS tag_values, {by_tags("u.n")} AS tag_counts
            FROM (SELECT u.f, u.tags, sum(u.n) AS n
                  FROM u JOIN ranked r ON r.f = u.f AND r.src = u.src AND r.i = 1
                  GROUP BY u.f, u.tags) u
            GROUP BY u.f
        )
        SELECT r.*, t.total, t.sources, t.first_day, t.last_day,
               CASE WHEN r.i = 1 THEN d.daily END AS daily, k.top_network,
               CASE WHEN r.i = 1 THEN g.tag_values END AS tag_values,
               CASE WHEN r.i = 1 THEN g.tag_counts END AS tag_counts
        FROM ranked r
        JOIN totals t USING (f) JOIN daily d USING (f) JOIN networks k USING (f)
        JOIN top_tags g USING (f)
        WHERE r.i <= $max_sources
        ORDER BY r.f, r.i
    """
    params |= {
        "low": min(p.first for p in probes),
        "high": max(p.end for p in probes),
        "max_sources": max_sources,
    }
    return Statement(sql, params)
