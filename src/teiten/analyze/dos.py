"""DoS attacks inferred from backscatter: victims answering floods spoofed from our addresses.

A victim of a flood with random spoofed sources answers every address it was
sent from (SYN-ACK, RST, ICMP replies and errors); the share that lands on a
darknet reveals the attack. This follows Moore, Shannon, Brown, Voelker and
Savage, "Inferring Internet Denial-of-Service Activity" (USENIX Security 2001;
ACM TOCS 24(2), 2006), with the thresholds of CAIDA's implementation, the
corsaro ``dos`` plugin (``corsaro_dos.c``):

* an *attack vector* is one victim's backscatter of one protocol
  (victim = the packets' source address), ended by 300 s without a packet
  (``CORSARO_DOS_VECTOR_TIMEOUT``, equal to its 300 s interval);
* it is an attack when it has at least 25 packets
  (``CORSARO_DOS_ATTACK_VECTOR_MIN_PACKETS``), lasts at least 60 s from first to
  last packet (``..._MIN_DURATION``), and at least 30 packets fell in some 60 s
  window (``..._MIN_PPM``; windows of ``CORSARO_DOS_PPM_WINDOW_SIZE`` = 60 s
  sliding by ``..._PRECISION`` = 10 s: buckets of whole seconds counted from
  the second of the vector's first packet, as corsaro counts them).

The victim's address is the backscatter's source (for ICMP errors corsaro reads
the quoted header; the store keeps no quoted header, so teiten uses the outer
source, the host that answered). Each attack reports the victim's source ports
seen (most frequent first), the distinct darknet addresses hit (a count), the
busiest window's packets (``max_ppm``) and the Internet-wide attack rate, since
spoofed sources are uniform over the IPv4 space::

    rate_pps_internet_wide = packets / duration_s × 2^32 / darknet_size

IPv4 only; thresholds are parameters. Sessions, period edges and withheld
sensor addresses work as described in :mod:`teiten.analyze.events`.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import TYPE_CHECKING, Any

import pyarrow as pa

from teiten.analyze.darknet import Darknet
from teiten.analyze.events import (
    IPV4_SPACE,
    EventReport,
    Window,
    collect,
    ipv4_text_sql,
    ns_to_timestamps,
    session_sql,
    sort_rows,
    tag_lists,
)
from teiten.analyze.periods import Period
from teiten.errors import OptionError
from teiten.store.dialect import (
    empty_list,
    int_div,
    ipv4_int,
    materialized,
    ordered_list,
    semi_join,
    unsigned,
)

if TYPE_CHECKING:
    from teiten.store import Engine

__all__ = ["DOS_COLUMNS", "DosParams", "dos_attacks", "extract_attacks"]

DOS_COLUMNS = (
    "victim", "country", "asn", "proto", "start", "end", "packets", "ports", "port_count",
    "destinations", "duration_s", "max_ppm", "rate_pps_internet_wide", "tags",
    "continues_before", "continues_after",
)  # fmt: skip


@dataclass(frozen=True)
class DosParams:
    """Thresholds of an attack (defaults: CAIDA corsaro's dos plugin)."""

    min_packets: int = 25
    min_duration_s: float = 60.0
    min_ppm: int = 30  # packets in the busiest window
    timeout_s: float = 300.0
    window_s: int = 60
    window_step_s: int = 10
    top_ports: int = 5

    def __post_init__(self) -> None:
        if self.min_packets < 1 or self.min_ppm < 0 or self.min_duration_s < 0:
            raise OptionError("DoS thresholds must be ≥ 0 (and min_packets ≥ 1)")
        if not 0 < self.timeout_s <= 30 * 86_400:
            raise OptionError(f"--timeout must be between 0 and 30 days, not {self.timeout_s} s")
        if self.window_step_s < 1 or self.window_s < self.window_step_s:
            raise OptionError("the rate window must be at least one step (≥ 1 s) long")
        if self.window_s % self.window_step_s:
            raise OptionError("the rate window must be a whole number of steps")
        if self.top_ports < 1:
            raise OptionError("top_ports must be ≥ 1")

    def as_json(self) -> dict[str, Any]:
        return asdict(self)


def _sql(dialect: str, params: DosParams, source_filter: str) -> str:
    # Sessions are partitioned by one exact integer per (victim, protocol):
    # IPv4 << 8 | protocol; only vectors with enough packets are sessionized.
    steps_back = params.window_s // params.window_step_s - 1
    key = f"({ipv4_int(dialect, 'src')} << 8) | {unsigned(dialect, 'proto')}"
    bucket = int_div(
        dialect, f"{int_div(dialect, 't', '$ns')} - {int_div(dialect, 'started', '$ns')}", "$step_s"
    )
    top = str(int(params.top_ports))
    top_ports = ordered_list(dialect, {"value": "sport"}, ["n DESC", "sport"], top)
    return f"""
    WITH p AS (
        SELECT src, proto, t_ns AS t, dst, sport, tags, country, asn
        FROM packets
        WHERE day >= $first AND day < $end AND kind = 'backscatter'
          AND ip_version = 4{source_filter}
    ), candidates {materialized(dialect)} (
        SELECT {key} AS k, src, proto, any_value(country) AS country, any_value(asn) AS asn
        FROM p GROUP BY src, proto HAVING count(*) >= $min_packets
    ), q AS (
        SELECT {key} AS k, t, {ipv4_int(dialect, "dst", bits=32)} AS d, sport, tags
        FROM p {semi_join(dialect)} candidates c ON p.src = c.src AND p.proto = c.proto
    ), {session_sql("k", "q")},
    sets {materialized(dialect)} (
        SELECT k, started, b, sport, grouping(b) * 2 + grouping(sport) AS level,
               count(*) AS n, min(t) AS first_ns, max(t) AS last_ns,
               count(DISTINCT d) AS destinations, count(DISTINCT sport) AS port_count,
               bit_or(tags) AS tag_bits
        FROM (SELECT *, {bucket} AS b FROM sessions)
        GROUP BY GROUPING SETS ((k, started), (k, started, b), (k, started, sport))
    ), vectors AS (
        SELECT k, started, n AS packets, first_ns, last_ns, destinations, port_count, tag_bits
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
               {top_ports} AS ports
        FROM sets WHERE level = 2 AND sport IS NOT NULL GROUP BY ALL
    ), attacks {materialized(dialect)} (
        SELECT v.*, x.max_ppm, c.src, c.proto, c.country, c.asn
        FROM vectors v JOIN peaks x USING (k, started) JOIN candidates c USING (k)
        WHERE x.max_ppm >= $min_ppm
    ), edges AS (
        SELECT {key} AS k,
               max(t_ns) FILTER (WHERE day < $first) AS before_ns,
               min(t_ns) FILTER (WHERE day >= $end) AS after_ns
        FROM packets
        WHERE ((day >= $lo AND day < $first) OR (day >= $end AND day < $hi))
          AND kind = 'backscatter' AND ip_version = 4
          AND t_ns >= $first_ns - $timeout_ns AND t_ns < $end_ns + $timeout_ns
          AND src IN (SELECT src FROM attacks)
        GROUP BY ALL
    ), sensor_sources AS (
        SELECT DISTINCT dst AS src FROM packets
        WHERE day >= $first AND day < $end AND dst IN (SELECT src FROM attacks)
    )
    SELECT {ipv4_text_sql("a.k >> 8")} AS victim, a.country, a.asn, a.proto,
           a.first_ns AS start, a.last_ns AS end_ns, a.packets,
           coalesce(o.ports, {empty_list(dialect)}) AS ports, a.port_count, a.destinations,
           (a.last_ns - a.first_ns) / 1e9 AS duration_s, a.max_ppm,
           a.packets * {float(IPV4_SPACE)} / $darknet
               / greatest((a.last_ns - a.first_ns) / 1e9, 1.0) AS rate_pps_internet_wide,
           a.tag_bits,
           coalesce(a.first_ns - e.before_ns <= $timeout_ns, false) AS continues_before,
           coalesce(e.after_ns - a.last_ns <= $timeout_ns, false) AS continues_after,
           a.src IN (SELECT src FROM sensor_sources) AS is_sensor
    FROM attacks a
    LEFT JOIN ports o USING (k, started)
    LEFT JOIN edges e USING (k)
    """


def extract_attacks(
    engine: Engine,
    window: Window,
    params: DosParams,
    darknet: Darknet,
    *,
    source: bytes | None = None,
) -> tuple[pa.Table, int]:
    """DoS attacks of the days in ``window`` (and the number withheld as sensor sources)."""
    if darknet.size <= 0:
        return _schema().empty_table(), 0
    args = {
        **window.params(),
        "min_packets": params.min_packets,
        "min_duration_ns": int(params.min_duration_s * 1e9),
        "min_ppm": params.min_ppm,
        "step_s": int(params.window_step_s),
        "ns": 1_000_000_000,
        "darknet": float(darknet.size),
    }
    where = ""
    if source is not None:
        where, args["source"] = " AND src = $source", source
    table = engine.table(_sql(engine.dialect, params, where), args)
    return _finish(table)


def _finish(table: pa.Table) -> tuple[pa.Table, int]:
    from teiten.enrich import protocol_name

    sensor = table.column("is_sensor").to_numpy(zero_copy_only=False).astype(bool)
    withheld = int(sensor.sum())
    table = table.filter(pa.array(~sensor)).drop_columns(["is_sensor"])
    table = table.rename_columns(["end" if n == "end_ns" else n for n in table.column_names])
    protos = [protocol_name(int(p)) for p in table.column("proto").to_pylist()]
    ports = [
        [f"{port}/{proto}" for port in row]
        for row, proto in zip(table.column("ports").to_pylist(), protos, strict=True)
    ]
    table = table.set_column(table.schema.get_field_index("proto"), "proto", pa.array(protos))
    table = table.set_column(
        table.schema.get_field_index("ports"), "ports", pa.array(ports, pa.list_(pa.string()))
    )
    table = ns_to_timestamps(table, ["start", "end"])
    tags = tag_lists(table.column("tag_bits"))
    table = table.drop_columns(["tag_bits"])
    table = table.add_column(table.schema.get_field_index("continues_before"), "tags", tags)
    table = table.cast(_schema())
    return sort_rows(table, [("packets", "descending"), ("start", "ascending")]), withheld


def _schema() -> pa.Schema:
    ts = pa.timestamp("ns", tz="UTC")
    return pa.schema(
        [
            ("victim", pa.string()),
            ("country", pa.string()),
            ("asn", pa.uint32()),
            ("proto", pa.string()),
            ("start", ts),
            ("end", ts),
            ("packets", pa.int64()),
            ("ports", pa.list_(pa.string())),
            ("port_count", pa.int64()),
            ("destinations", pa.int64()),
            ("duration_s", pa.float64()),
            ("max_ppm", pa.int64()),
            ("rate_pps_internet_wide", pa.float64()),
            ("tags", pa.list_(pa.string())),
            ("continues_before", pa.bool_()),
            ("continues_after", pa.bool_()),
        ]
    )


def dos_attacks(
    engine: Engine,
    period: Period,
    params: DosParams | None = None,
    *,
    limit: int | None = None,
    refresh: bool = False,
) -> EventReport:
    """The DoS attacks of ``period``: stored ones when current, else computed and stored."""
    params = params or DosParams()
    return collect(
        engine,
        "dos",
        period,
        params.as_json(),
        lambda darknet, window: extract_attacks(engine, window, params, darknet),
        limit=limit,
        refresh=refresh,
    )
