"""The few SQL constructs that DuckDB and Spark spell differently, in one place.

Analyses write their SQL once, in what both engines run alike (``FILTER (WHERE …)``,
``GROUP BY ALL``, window functions, ``IS NOT DISTINCT FROM``, ``<<``/``>>``, bit
arithmetic for tags, ``CAST(x AS BIGINT)``); where the two truly differ they call the
helpers below with ``engine.dialect``. DuckDB's spelling is the one the analyses always
had, so its answers do not change. (Functions Spark lacks under DuckDB's name, such as
``epoch_us``, are defined by the Spark engine itself: :mod:`teiten.store.spark`.)
"""

from __future__ import annotations

import re
from collections.abc import Sequence

__all__ = [
    "empty_list",
    "int_div",
    "ipv4_int",
    "ipv4_mapped",
    "materialized",
    "named_params",
    "ordered_list",
    "semi_join",
    "unsigned",
]

_SPARK = "spark"


def materialized(dialect: str) -> str:
    """``AS MATERIALIZED`` for a CTE read more than once (DuckDB's hint; Spark plans alone)."""
    return "AS" if dialect == _SPARK else "AS MATERIALIZED"


def semi_join(dialect: str) -> str:
    """The join keeping the left rows that have a match: ``SEMI JOIN``."""
    return "LEFT SEMI JOIN" if dialect == _SPARK else "SEMI JOIN"


def int_div(dialect: str, a: str, b: str) -> str:
    """Integer division, rounding toward minus infinity for the non-negative ``a``, ``b``."""
    return f"({a}) div ({b})" if dialect == _SPARK else f"({a}) // ({b})"


def unsigned(dialect: str, expr: str) -> str:
    """``expr`` as a 64-bit integer for bit packing (UBIGINT on DuckDB, BIGINT on Spark:
    the keys packed stay below 2⁶³)."""
    return f"CAST({expr} AS BIGINT)" if dialect == _SPARK else f"{expr}::UBIGINT"


def ipv4_int(dialect: str, column: str, *, bits: int = 64) -> str:
    """The IPv4 address (an integer) of an IPv4-mapped 16-byte address column (DuckDB:
    UBIGINT, or UINTEGER with ``bits=32``; Spark: BIGINT)."""
    if dialect == _SPARK:
        return f"CAST(conv(right(hex({column}), 8), 16, 10) AS BIGINT)"
    return f"('0x' || right(hex({column}), 8))::{'UINTEGER' if bits == 32 else 'UBIGINT'}"


def ipv4_mapped(dialect: str, value: str) -> str:
    """The 16-byte IPv4-mapped address (``::ffff:a.b.c.d``, as the store keeps ``src``) of
    an IPv4 address given as an integer expression."""
    prefix = "'00000000000000000000ffff'"
    if dialect == _SPARK:
        return f"unhex(concat({prefix}, lpad(hex({value}), 8, '0')))"
    return f"unhex({prefix} || printf('%08x', {value}))"


def empty_list(dialect: str) -> str:
    """An empty list literal."""
    return "array()" if dialect == _SPARK else "[]"


def ordered_list(
    dialect: str, fields: dict[str, str], order: Sequence[str], limit: str | None = None
) -> str:
    """Aggregate: the group's ``fields`` (a struct, or the value of a single ``value``
    field) as a list sorted by ``order`` (``"n DESC"``, ``"port"``: ascending is NULLS
    LAST, as DuckDB sorts), its first ``limit`` items (an SQL expression).

    DuckDB: ``list(struct_pack(…) ORDER BY …)[1:limit]``. Spark has no ordered
    aggregate: ``collect_list`` of structs that lead with the sort keys, ``array_sort``,
    then the fields alone.
    """
    if dialect != _SPARK:
        value = (
            fields["value"]
            if list(fields) == ["value"]
            else "struct_pack(" + ", ".join(f"{k} := {v}" for k, v in fields.items()) + ")"
        )
        return f"list({value} ORDER BY {', '.join(order)})" + (
            f"[1:{limit}]" if limit is not None else ""
        )
    keys: list[str] = []
    for i, term in enumerate(order):
        expr, _, direction = term.strip().rpartition(" ")
        descending = direction.upper() == "DESC"
        if direction.upper() not in ("ASC", "DESC"):
            expr = term.strip()
        keys.append(f"'n{i}', ({expr}) IS NULL")
        keys.append(f"'k{i}', {'-' if descending else ''}({expr})")
    if list(fields) == ["value"]:
        value, pick = fields["value"], "x.v"
    else:
        value = "named_struct(" + ", ".join(f"'{k}', {v}" for k, v in fields.items()) + ")"
        pick = "x.v"
    items = f"array_sort(collect_list(named_struct({', '.join(keys)}, 'v', {value})))"
    listed = f"transform({items}, x -> {pick})"
    return f"slice({listed}, 1, {limit})" if limit is not None else listed


_NAMED = re.compile(r"\$([A-Za-z_]\w*)")


def named_params(dialect: str, sql: str) -> str:
    """Named parameter markers (``$name``, DuckDB's) as the engine reads them (``:name``)."""
    return _NAMED.sub(r":\1", sql) if dialect == _SPARK else sql
