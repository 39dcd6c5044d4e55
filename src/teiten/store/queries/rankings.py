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
    "DIMENSIONS",
    "FRONT_RANKS",
    "TOP_SOURCES",
    "TRAFFIC",
    "digest_of",
    "digest_rows",
    "digest_tags",
    "digest_totals",
    "ranked",
    "ranked_digest",
    "row_sources",
    "sensors",
    "tag_column",
    "tag_histogram",
    "totals",
    "turnover",
    "with_previous_ranks",
]


TRAFFIC = ("probe", "backscatter", "all")  # the traffic kinds a ranking counts; all: any kind
TOP_SOURCES = 3  # a row's busiest sources whose packets it reports (the "few" of few-hosts)
SHARE_TAGS = ("mirai", "zmap", "masscan", "research")  # tag shares every ranking reports

# Per dimension: the rollup a ranking reads without a port filter and its grouping keys.
DIMENSIONS: dict[str, tuple[str, tuple[str, ...]]] = {
    "ports": ("keys", ("proto", "port", "icmp_type")),
    "countries": ("sources", ("country",)),
    "asns": ("sources", ("asn",)),
}


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


def _by_source(relation: str, keys: Sequence[str], tags: Sequence[str], where: str) -> str:
    """The CTEs ``by_source`` (per row and source: its packets ``n``, its country and
    packets per tag of ``tags``) and ``ordered`` (each row's sources numbered busiest
    first, ``i``)."""
    key_names, counts = ", ".join(keys), _tag_counts(tags)
    return f"""
        by_source AS (
            SELECT {key_names}, src, sum(packets) AS n, min(country) AS src_country{counts}
            FROM {relation} s
            WHERE {where}
            GROUP BY {key_names}, src
        ), ordered AS (
            SELECT *, row_number() OVER (PARTITION BY {key_names} ORDER BY n DESC, src) AS i
            FROM by_source
        )"""


def _busiest(tags: Sequence[str], top: int) -> str:
    """A row's distinct sources and what its busiest sources sent, from ``ordered``."""
    top_counts = "".join(
        f", max({tag_column(t)}) FILTER (WHERE i = 1) AS {tag_column(t, 'top_')}" for t in tags
    )
    return (
        "count(*) AS row_sources, max(n) FILTER (WHERE i = 1) AS top1_packets, "
        f"sum(n) FILTER (WHERE i <= {int(top)}) AS top_n_packets, "
        f"max(src_country) FILTER (WHERE i = 1) AS top_country{top_counts}"
    )


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
    scope = f"day >= $first AND day < $end{where.sql} AND ({wanted})"
    sql = f"""
        WITH {_by_source(relation, keys, tags, scope)}
        SELECT {key_names}, {_busiest(tags, top)}
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


# --- digests: a whole month's or quarter's unfiltered rankings, summed once -------------
#
# teiten.store.period_rollups writes them beside the period rollups; a ranking without
# filters (but the traffic kind) reads its rows, totals and tags from them instead of
# grouping the period's rows by source. Each holds exactly what the statements above
# give for the whole period: the same sums, distinct counts and busiest sources.


def digest_rows(
    relation: str, keys: Sequence[str], tags: Sequence[str], *, where: Condition, top: int
) -> Statement:
    """Every row of ``keys`` in ``relation`` (the rows ``where`` selects): its packets,
    distinct sources, packets per tag of ``tags`` and busiest sources (as
    :func:`ranked` and :func:`row_sources` give them). The tag counts come from the rows
    grouped by ``tags`` value (a few per row), the busiest source's from its rows only."""
    key_names = ", ".join(keys)
    scope = "TRUE" + where.sql
    row_tags = "".join(f", {_tag_count(t)} AS {tag_column(t)}" for t in tags)
    top_tags = "".join(f", {_tag_count(t)} AS {tag_column(t, 'top_')}" for t in tags)
    picked = ", ".join([*(f"b.{k}" for k in keys), "b.packets", "b.sources"])
    row_cols = "".join(f", t.{tag_column(x)}" for x in tags)
    top_cols = "".join(
        f", coalesce(o.{tag_column(x, 'top_')}, 0) AS {tag_column(x, 'top_')}" for x in tags
    )
    sql = f"""
        WITH by_source AS (
            SELECT {key_names}, src, sum(packets) AS n, min(country) AS src_country
            FROM {relation} WHERE {scope} GROUP BY {key_names}, src
        ), ordered AS (
            SELECT *, row_number() OVER (PARTITION BY {key_names} ORDER BY n DESC, src) AS i
            FROM by_source
        ), busiest AS (
            SELECT {key_names}, sum(n) AS packets, count(src) AS sources, {_busiest((), top)},
                   max(src) FILTER (WHERE i = 1) AS top_src
            FROM ordered GROUP BY {key_names}
        ), by_tags AS (
            SELECT {key_names}, tags, sum(packets) AS packets
            FROM {relation} WHERE {scope} GROUP BY {key_names}, tags
        ), row_tags AS (
            SELECT {key_names}{row_tags} FROM by_tags GROUP BY {key_names}
        ), top_tags AS (
            SELECT {", ".join(f"s.{k}" for k in keys)}{top_tags}
            FROM (SELECT * FROM {relation} WHERE {scope}) s
            JOIN (SELECT {key_names}, top_src FROM busiest) b
              ON {_same(keys, "s", "b")} AND s.src = b.top_src
            GROUP BY {", ".join(f"s.{k}" for k in keys)}
        ), digest AS (
            SELECT {picked}{row_cols}, b.row_sources, b.top1_packets, b.top_n_packets,
                   b.top_country{top_cols}
            FROM busiest b
            JOIN row_tags t ON {_same(keys, "b", "t")}
            LEFT JOIN top_tags o ON {_same(keys, "b", "o")}
        )
        SELECT *, {_rank_by("packets", keys)} AS rank_packets,
               {_rank_by("sources", keys)} AS rank_sources
        FROM digest
    """
    return Statement(sql, where.params)


def digest_totals(relation: str, where: Condition) -> Statement:
    """The packets and distinct sources of ``relation``'s rows ``where`` selects, and the
    distinct sensors of all its rows."""
    sql = (
        "SELECT coalesce(sum(packets) FILTER (WHERE TRUE" + where.sql + "), 0) AS packets, "
        f"count(DISTINCT src) FILTER (WHERE TRUE{where.sql}) AS sources, "
        f"count(DISTINCT sensor) AS sensors FROM {relation}"
    )
    return Statement(sql, where.params)


def digest_of(relation: str) -> Statement:
    """The rows of a digest (totals, tags), of every traffic kind (``traffic``)."""
    return Statement(f"SELECT * FROM {relation}", {})


def digest_tags(relation: str, where: Condition) -> Statement:
    """The packets per ``tags`` value of ``relation``'s rows ``where`` selects."""
    return Statement(
        f"SELECT tags, sum(packets) AS n FROM {relation} WHERE TRUE{where.sql} GROUP BY tags",
        where.params,
    )


def _rank_by(order: str, keys: Sequence[str]) -> str:
    """A row's rank by ``order`` (packets or sources), as :func:`ranked` ranks rows."""
    key_names = ", ".join(keys)
    return f"row_number() OVER (ORDER BY {order} DESC, packets DESC, {key_names} NULLS LAST)"


def ranked_digest(
    relation: str,
    keys: Sequence[str],
    *,
    traffic: str,
    by_sources: bool,
    limit: int | None,
    tags: Sequence[str],
    top_tags: Sequence[str],
) -> Statement:
    """:func:`ranked` and :func:`row_sources` in one, for the rows of ``traffic`` in a
    period's digest of a dimension (``relation``, as :func:`with_previous_ranks` writes
    it: its rows carry their ranks and their ranks in the previous period), with the
    packets per tag of ``tags`` and the busiest source's of ``top_tags``."""
    rank = "rank_sources" if by_sources else "rank_packets"
    columns = [
        *keys,
        "packets",
        "sources",
        "row_sources",
        "top1_packets",
        "top_n_packets",
        "top_country",
        *(tag_column(t) for t in tags),
        *(tag_column(t, "top_") for t in top_tags),
    ]
    shown = "" if limit is None else f" AND {rank} <= $limit"
    sql = (
        f"SELECT {', '.join(columns)}, {rank} AS rank, previous_{rank} AS previous_rank "
        f"FROM {relation} WHERE traffic = $traffic{shown} ORDER BY {rank}"
    )
    params: dict[str, Any] = {"traffic": traffic}
    if limit is not None:
        params["limit"] = limit
    return Statement(sql, params)


FRONT_RANKS = 1000
"""Rows ranked up to this (by packets or by sources) lead a dimension's digest, in a row
group of their own: a ranking of that many rows or fewer reads that group only."""


def with_previous_ranks(current: str, previous: str | None, keys: Sequence[str]) -> Statement:
    """The rows of a period's digest of a dimension (``current``: :func:`digest_rows` of
    each traffic kind, with ``traffic``), each with its ranks in the previous period's
    (``previous``; None: it holds no row) as ``previous_rank_packets`` and
    ``previous_rank_sources``, ordered as the digest is written: the rows of a rank up to
    :data:`FRONT_RANKS` first, then by traffic kind and rank."""
    if previous is None:
        none = "CAST(NULL AS BIGINT)"
        ranks = f"{none} AS previous_rank_packets, {none} AS previous_rank_sources"
        joined = ""
    else:
        ranks = "p.rank_packets AS previous_rank_packets, p.rank_sources AS previous_rank_sources"
        joined = (
            f" LEFT JOIN (SELECT traffic, {', '.join(keys)}, rank_packets, rank_sources "
            f"FROM {previous}) p ON c.traffic = p.traffic AND {_same(keys, 'c', 'p')}"
        )
    sql = (
        f"SELECT c.*, {ranks} FROM {current} c{joined} ORDER BY "
        "least(c.rank_packets, c.rank_sources) > $front, c.traffic, c.rank_packets"
    )
    return Statement(sql, {"front": FRONT_RANKS})
