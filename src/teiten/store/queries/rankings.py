"""Rankings (:mod:`teiten.analyze.rankings`): ranked rows, their sources, the totals.

A ranking reads one rollup (``keys`` when it needs the port or protocol, else
``sources``) through the relation its engine gives for the period's days
(:meth:`teiten.store.engine.Engine.relation`), grouped by the dimension's ``keys``.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from typing import Any

from teiten.fingerprint.registry import TAG_BITS
from teiten.store.queries.statement import Condition, Statement, merged

__all__ = [
    "ranked",
    "row_sources",
    "sensors",
    "tag_column",
    "tag_histogram",
    "totals",
    "turnover",
]


def tag_column(label: str, prefix: str = "") -> str:
    """The column counting the packets that carry tag ``label``."""
    return f"{prefix}tag_{TAG_BITS[label]}"


def _tag_count(label: str) -> str:
    """How many packets of the group carry ``label`` (one pass, bit arithmetic)."""
    return f"coalesce(sum(packets) FILTER (WHERE (tags >> {TAG_BITS[label]}) & 1 = 1), 0)"


def _tag_counts(labels: Sequence[str]) -> str:
    return "".join(f", {_tag_count(t)} AS {tag_column(t)}" for t in labels)


def _same(keys: Sequence[str], a: str, b: str) -> str:
    """The rows ``a`` and ``b`` have the same ``keys`` (NULL equal to NULL)."""
    return " AND ".join(f"{a}.{k} IS NOT DISTINCT FROM {b}.{k}" for k in keys)


def ranked(
    relation: str,
    keys: Sequence[str],
    *,
    previous: date,
    first: date,
    end: date,
    by_sources: bool,
    tags: Sequence[str],
    limit: int | None,
    where: Condition,
) -> Statement:
    """The period's rows (days ``first`` … ``end``) ranked by packets (or distinct sources,
    ``by_sources``), ``limit`` of them, each with its packets per tag of ``tags`` and its
    rank among the previous period's rows (days ``previous`` … ``first``): rows are ranked
    from their sums, so grouping by source is left to :func:`row_sources`."""
    key_names = ", ".join(keys)
    order = "sources" if by_sources else "packets"
    distinct = ", count(DISTINCT src) AS sources" if by_sources else ""
    sql = f"""
        WITH agg AS (
            SELECT CASE WHEN day >= $first THEN 'cur' ELSE 'prev' END AS period, {key_names},
                   sum(packets) AS packets{distinct}{_tag_counts(tags)}
            FROM {relation}
            WHERE day >= $previous AND day < $end{where.sql}
            GROUP BY 1, {key_names}
        ), ranked AS (
            SELECT *, row_number() OVER (
                PARTITION BY period ORDER BY {order} DESC, packets DESC, {key_names} NULLS LAST
            ) AS rank
            FROM agg
        )
        SELECT c.*, p.rank AS previous_rank
        FROM (SELECT * FROM ranked WHERE period = 'cur') c
        LEFT JOIN (SELECT * FROM ranked WHERE period = 'prev') p ON {_same(keys, "c", "p")}
        ORDER BY c.rank{"" if limit is None else " LIMIT $limit"}
    """
    params: dict[str, Any] = {"first": first, "previous": previous, "end": end}
    if limit is not None:
        params["limit"] = limit
    return Statement(sql, merged(params, where.params))


def row_sources(
    relation: str,
    keys: Sequence[str],
    shown: Sequence[Sequence[Any]],
    tags: Sequence[str],
    *,
    first: date,
    end: date,
    where: Condition,
    top: int,
) -> Statement:
    """Per row of ``shown`` (the values of its ``keys``): its distinct sources
    (``row_sources``), its busiest source's and ``top`` busiest sources' packets
    (``top1_packets``, ``top_n_packets``), and the busiest one's country and packets per
    tag of ``tags`` (``top_country``, ``top_`` + :func:`tag_column`)."""
    key_names = ", ".join(keys)
    wanted = " OR ".join(
        "(" + " AND ".join(f"s.{k} IS NOT DISTINCT FROM ${k}{i}" for k in keys) + ")"
        for i in range(len(shown))
    )
    counts = _tag_counts(tags)
    top_counts = "".join(
        f", max({tag_column(t)}) FILTER (WHERE i = 1) AS {tag_column(t, 'top_')}" for t in tags
    )
    sql = f"""
        WITH by_source AS (
            SELECT {key_names}, src, sum(packets) AS n, min(country) AS src_country{counts}
            FROM {relation} s
            WHERE day >= $first AND day < $end{where.sql} AND ({wanted})
            GROUP BY {key_names}, src
        ), ordered AS (
            SELECT *, row_number() OVER (PARTITION BY {key_names} ORDER BY n DESC, src) AS i
            FROM by_source
        )
        SELECT {key_names}, count(*) AS row_sources,
               max(n) FILTER (WHERE i = 1) AS top1_packets,
               sum(n) FILTER (WHERE i <= {int(top)}) AS top_n_packets,
               max(src_country) FILTER (WHERE i = 1) AS top_country{top_counts}
        FROM ordered GROUP BY {key_names}
    """
    values = {f"{k}{i}": v for i, row in enumerate(shown) for k, v in zip(keys, row, strict=True)}
    return Statement(sql, merged({"first": first, "end": end}, where.params, values))


def totals(relation: str, first: date, end: date, where: Condition) -> Statement:
    """The packets and distinct sources of days ``first`` … ``end``."""
    sql = (
        "SELECT coalesce(sum(packets), 0) AS packets, count(DISTINCT src) AS sources "
        f"FROM {relation} WHERE day >= $first AND day < $end{where.sql}"
    )
    return Statement(sql, merged({"first": first, "end": end}, where.params))


def tag_histogram(relation: str, first: date, end: date, where: Condition) -> Statement:
    """The packets per ``tags`` value (a few dozen distinct combinations: cheaper than a
    count per tag)."""
    sql = (
        f"SELECT tags, sum(packets) AS n FROM {relation} "
        f"WHERE day >= $first AND day < $end{where.sql} GROUP BY tags"
    )
    return Statement(sql, merged({"first": first, "end": end}, where.params))


def sensors(relation: str, first: date, end: date, where: Condition) -> Statement:
    """How many sensors have rows in days ``first`` … ``end``."""
    sql = (
        f"SELECT count(DISTINCT sensor) AS sensors FROM {relation} "
        f"WHERE day >= $first AND day < $end{where.sql}"
    )
    return Statement(sql, merged({"first": first, "end": end}, where.params))


def turnover(
    relation: str, key: str, *, previous: date, first: date, end: date, where: Condition
) -> Statement:
    """Per value of ``key``: its distinct sources in days ``first`` … ``end``
    (``sources``), in the previous period, days ``previous`` … ``first``
    (``previous_sources``), and how many are ``new`` (in this period only) and ``gone``
    (in the previous one only)."""
    sql = f"""
        WITH seen AS (
            SELECT {key}, src, bool_or(day >= $first) AS now, bool_or(day < $first) AS before
            FROM {relation}
            WHERE day >= $previous AND day < $end{where.sql}
            GROUP BY {key}, src
        )
        SELECT {key},
               count(CASE WHEN now THEN 1 END) AS sources,
               count(CASE WHEN before THEN 1 END) AS previous_sources,
               count(CASE WHEN now AND NOT before THEN 1 END) AS new,
               count(CASE WHEN before AND NOT now THEN 1 END) AS gone
        FROM seen GROUP BY {key}
    """
    params = {"previous": previous, "first": first, "end": end}
    return Statement(sql, merged(params, where.params))
