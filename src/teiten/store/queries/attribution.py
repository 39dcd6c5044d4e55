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

    def condition(self, i: int) -> tuple[str, dict[str, Any]]:
        """The condition selecting them, its markers suffixed with ``i``."""
        params: dict[str, Any] = {f"first{i}": self.first, f"end{i}": self.end}
        sql = f"day >= $first{i} AND day < $end{i}"
        if self.country is not None:
            sql += f" AND country = $country{i}"
            params[f"country{i}"] = self.country
        if self.mirai:
            sql += f" AND {has_tag_sql('mirai')}"
        for name in ("proto", "port"):
            value = getattr(self, name)
            if value is not None:
                sql += f" AND {name} = ${name}{i}"
                params[f"{name}{i}"] = value
        return f"({sql})", params


def contributors(dialect: str, probes: Sequence[Probes], *, max_sources: int) -> Statement:
    """Per finding ``f`` (an index of ``probes``), its ``max_sources`` busiest sources
    (``src``, ``n``, ``first``, ``last`` day, ``country``, ranked ``i``), each row also
    carrying the finding's totals (``total``, ``sources``, ``first_day``, ``last_day``),
    its packets per day with any (``daily``), its busiest /24's packets
    (``top_network``) and its busiest source's packets per ``tags`` value
    (``tag_values``, ``tag_counts``).

    Each packet row is marked with the findings it belongs to; the marks are counted per
    (source, day, tags), then per finding.
    """
    marks, conditions, params = [], [], dict[str, Any]()
    for i, p in enumerate(probes):
        condition, values = p.condition(i)
        marks.append(f"coalesce(sum(packets) FILTER (WHERE {condition}), 0) AS n{i}")
        conditions.append(condition)
        params |= values
    unpivot = " UNION ALL ".join(
        f"SELECT {i} AS f, src, day, tags, country, n{i} AS n FROM grouped WHERE n{i} > 0"
        for i in range(len(probes))
    )

    def by_tags(value: str) -> str:
        return ordered_list(dialect, {"value": value}, ["u.tags"])

    sql = f"""
        WITH grouped {materialized(dialect)} (
            SELECT src, day, tags, min(country) AS country, {", ".join(marks)}
            FROM keys
            WHERE day >= $low AND day < $high AND kind = 'probe' AND ({" OR ".join(conditions)})
            GROUP BY src, day, tags
        ), u {materialized(dialect)} ({unpivot}
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
        SELECT r.*, t.total, t.sources, t.first_day, t.last_day, d.daily, k.top_network,
               g.tag_values, g.tag_counts
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
