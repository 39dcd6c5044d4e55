"""Notification feeds (:mod:`teiten.notify`): the sources of a period whose probes are the
evidence of a finding kind, one row per source, kind and protocol."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date

from teiten.store.dialect import ordered_list
from teiten.store.queries.filters import KEY_PORT
from teiten.store.queries.sources import sensor_sources
from teiten.store.queries.statement import Statement

__all__ = ["EVIDENCE", "findings"]

# Per finding kind, the ``keys`` rows (probes only) that are its evidence; ``$mirai``,
# ``$tools`` are tag masks (teiten.notify.findings says why each rule holds).
EVIDENCE = {
    "mirai": "(tags & $mirai) <> 0",
    "scanner": "(tags & $tools) <> 0",
    "smb-worm": "proto = 6 AND port = 445 AND (tags & $tools) = 0",
}


def findings(
    dialect: str,
    relation: str,
    first: date,
    end: date,
    kinds: Sequence[str],
    *,
    masks: dict[str, int],
    smb_min_packets: int,
    smb_min_share: float,
    top: int,
) -> Statement:
    """Per finding kind of ``kinds`` (keys of :data:`EVIDENCE`), source and IP protocol
    of days ``first`` … ``end`` (exclusive): the evidence's packets, first and last
    instant (``first_ns``, ``last_ns``), ``tag_bits``, country, AS and its ``top``
    destination ports (ICMP: types), busiest first. Read from ``relation`` (the ``keys``
    rollup, or :meth:`~teiten.store.engine.Engine.relation`'s answer for it).

    A source none of whose probes carries the ``$research`` mask is left out altogether;
    ``smb-worm`` rows need ``smb_min_packets`` packets and ``smb_min_share`` of the
    source's probes. ``is_sensor``: the source is also a destination of the period (the
    IPv4 ones from the ``dsts`` rollup, IPv6 from the packets), to be withheld."""
    unknown = set(kinds) - EVIDENCE.keys()
    if unknown or not kinds:
        raise ValueError(f"no evidence rule for finding kinds {sorted(unknown) or kinds}")
    evidence = "\n        UNION ALL\n        ".join(
        f"SELECT '{kind}' AS finding, * FROM probes WHERE {EVIDENCE[kind]}" for kind in kinds
    )
    ports = ordered_list(dialect, {"value": "port"}, ["n DESC", "port"], "$top")
    sql = f"""
    WITH probes AS (
        SELECT src, proto, {KEY_PORT} AS port, tags, packets, first_ns, last_ns, country, asn
        FROM {relation} WHERE day >= $first AND day < $end AND kind = 'probe'
    ), per_source AS (
        SELECT src, sum(packets) AS probes, bit_or(tags) AS source_tags
        FROM probes GROUP BY src
    ), evidence AS (
        {evidence}
    ), per_port AS (
        SELECT finding, src, proto, port, sum(packets) AS n, min(first_ns) AS first_ns,
               max(last_ns) AS last_ns, bit_or(tags) AS tags,
               any_value(country) AS country, any_value(asn) AS asn
        FROM evidence GROUP BY finding, src, proto, port
    ), found AS (
        SELECT finding, src, proto, any_value(country) AS country, any_value(asn) AS asn,
               min(first_ns) AS first_ns, max(last_ns) AS last_ns,
               CAST(sum(n) AS BIGINT) AS packets, bit_or(tags) AS tag_bits, {ports} AS ports
        FROM per_port GROUP BY finding, src, proto
    ), kept AS (
        SELECT f.finding, f.src, f.proto, f.country, f.asn, f.first_ns, f.last_ns,
               f.packets, f.tag_bits, f.ports
        FROM found f JOIN per_source s ON f.src = s.src
        WHERE (s.source_tags & $research) = 0
          AND (f.finding <> 'smb-worm'
               OR (f.packets >= $smb_min_packets AND f.packets >= $smb_min_share * s.probes))
    ), sensor_sources AS ({sensor_sources("kept")}
    )
    SELECT *, src IN (SELECT src FROM sensor_sources) AS is_sensor
    FROM kept ORDER BY finding, src, proto
    """
    params = {
        "first": first,
        "end": end,
        "research": masks["research"],
        "smb_min_packets": smb_min_packets,
        "smb_min_share": smb_min_share,
        "top": top,
    }
    used = " ".join(EVIDENCE[k] for k in kinds)
    params |= {name: masks[name] for name in ("mirai", "tools") if f"${name}" in used}
    return Statement(sql, params)
