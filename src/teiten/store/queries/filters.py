"""The row filters every ranking, and the daily series of its rows, select by.

They apply to the rollup views (``keys``, ``sources``) and the ``packets`` view alike:
each names columns all of them have — but ``port``, which needs the ``keys`` rollup's
``port`` column (or the packets' ``dport`` under that name, as
:func:`teiten.store.queries.series.counts` reads them per hour).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from teiten.store.queries.statement import Condition

__all__ = ["KEY_PORT", "where"]

_ICMP = (1, 58)  # their "port" is the ICMP type
KEY_PORT = f"CASE WHEN proto IN {_ICMP} THEN icmp_type ELSE port END"  # of a keys row


def where(
    *,
    tags: int | None = None,
    exclude_tags: int | None = None,
    country: str | None = None,
    sensor: str | None = None,
    proto: int | None = None,
    port: int | None = None,
    kind: str | None = None,
    asns: Sequence[int] = (),
    networks: Sequence[tuple[bytes, bytes]] = (),
) -> Condition:
    """Rows carrying any tag of the mask ``tags`` and none of ``exclude_tags``, from
    ``country``, of ``sensor``, of IP protocol ``proto``, to destination ``port`` (the
    ICMP type for ICMP; TCP or UDP when no ``proto`` is given), of traffic ``kind``, from
    any of ``asns``, from a source in any of ``networks`` (first and last 16-byte
    address) — each only when given."""
    clauses = {
        "tags": "(tags & $tags) <> 0",
        "exclude_tags": "(tags & $exclude_tags) = 0",
        "country": "country = $country",
        "sensor": "sensor = $sensor",
        "proto": "proto = $proto",
        "port": f"{KEY_PORT} = $port" + (" AND proto IN (6, 17)" if proto is None else ""),
        "kind": "kind = $kind",
    }
    given: dict[str, Any] = {
        "tags": tags,
        "exclude_tags": exclude_tags,
        "country": country,
        "sensor": sensor,
        "proto": proto,
        "port": port,
        "kind": kind,
    }
    params = {name: value for name, value in given.items() if value is not None}
    sql = "".join(f" AND {clauses[name]}" for name in params)
    if asns:
        # not $asn0 …: a ranking by AS names its shown rows' values so (rankings.row_sources)
        sql += f" AND asn IN ({', '.join(f'$in_asn{i}' for i in range(len(asns)))})"
        params |= {f"in_asn{i}": int(asn) for i, asn in enumerate(asns)}
    if networks:
        spans = [f"src BETWEEN $in_net{i}_first AND $in_net{i}_last" for i in range(len(networks))]
        sql += f" AND ({' OR '.join(spans)})"
        for i, (first, last) in enumerate(networks):
            params |= {f"in_net{i}_first": first, f"in_net{i}_last": last}
    return Condition(sql, params)
