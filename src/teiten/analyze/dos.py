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

import numpy as np
import pyarrow as pa

from teiten.analyze.darknet import Darknet
from teiten.analyze.events import (
    IPV4_SPACE,
    NS,
    EventReport,
    Window,
    collect,
    finish,
    ipv4_blob_sql,
    ipv4_text_sql,
    protocol_names,
    require_raw,
    sensor_sources_sql,
    session_sql,
)
from teiten.analyze.periods import Period
from teiten.analyze.sessions import Fragments, ipv4, merge, pieces, pieces_sql, usable
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

__all__ = ["DOS_COLUMNS", "FRAGMENTS", "DosParams", "dos_attacks", "extract_attacks"]

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


def _key(dialect: str) -> str:
    """One exact integer per (victim, protocol): IPv4 << 8 | protocol."""
    return f"({ipv4_int(dialect, 'src')} << 8) | {unsigned(dialect, 'proto')}"


def _sql(dialect: str, params: DosParams, source_filter: str) -> str:
    # Sessions are partitioned by their key (_key); only vectors with enough packets are
    # sessionized.
    steps_back = params.window_s // params.window_step_s - 1
    key = _key(dialect)
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
        SELECT {key} AS k, src, proto
        FROM p GROUP BY src, proto HAVING count(*) >= $min_packets
    ), q AS (
        SELECT {key} AS k, t, {ipv4_int(dialect, "dst", bits=32)} AS d, sport, tags,
               country, asn
        FROM p {semi_join(dialect)} candidates c ON p.src = c.src AND p.proto = c.proto
    ), {session_sql("k", "q")},
    sets {materialized(dialect)} (
        SELECT k, started, b, sport, grouping(b) * 2 + grouping(sport) AS level,
               count(*) AS n, min(t) AS first_ns, max(t) AS last_ns,
               count(DISTINCT d) AS destinations, count(DISTINCT sport) AS port_count,
               {_SESSION_TAGS}
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
               {top_ports} AS ports
        FROM sets WHERE level = 2 AND sport IS NOT NULL GROUP BY ALL
    ), attacks {materialized(dialect)} (
        SELECT v.*, x.max_ppm, c.src
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
    ), {sensor_sources_sql("attacks")}
    {_output_sql(dialect, "a.port_count")}"""


# What a session carries besides its times and counts (merged alike from fragments).
_SESSION_TAGS = "bit_or(tags) AS tag_bits, min(country) AS country, min(asn) AS asn"


def _output_sql(dialect: str, port_count: str) -> str:
    """The attacks, from ``attacks`` (a session per row: its key ``k``, ``started``, 16-byte
    ``src``), ``ports`` (its top ports), ``edges`` and ``sensor_sources``."""
    return f"""
    SELECT {ipv4_text_sql("a.k >> 8")} AS victim, a.country, a.asn, a.k & 255 AS proto,
           a.first_ns AS start, a.last_ns AS end_ns, a.packets,
           coalesce(o.ports, {empty_list(dialect)}) AS ports, {port_count} AS port_count,
           a.destinations, (a.last_ns - a.first_ns) / 1e9 AS duration_s, a.max_ppm,
           a.packets * {float(IPV4_SPACE)} / $darknet
               / greatest((a.last_ns - a.first_ns) / 1e9, 1.0) AS rate_pps_internet_wide,
           a.tag_bits,
           coalesce(a.first_ns - e.before_ns <= $timeout_ns, false) AS continues_before,
           coalesce(e.after_ns - a.last_ns <= $timeout_ns, false) AS continues_after,
           a.src IN (SELECT src FROM sensor_sources) AS is_sensor, a.k
    FROM attacks a
    LEFT JOIN ports o USING (k, started)
    LEFT JOIN edges e USING (k)
    """


_STEPS_BACK = DosParams().window_s // DosParams().window_step_s - 1


# The backscatter of days ``$first`` … ``$end``, for :func:`teiten.analyze.sessions.sessionize`.
_DAY_READ = """
    SELECT src, proto, t_ns AS t, dst, sport, tags, country, asn
    FROM packets WHERE day >= $first AND day < $end AND kind = 'backscatter' AND ip_version = 4"""


def _day_key(rows: pa.Table) -> np.ndarray:
    """:func:`_key` of ``rows`` (``src``, ``proto``), in numpy."""
    proto = rows.column("proto").to_numpy(zero_copy_only=False).astype(np.uint64)
    return (ipv4(rows.column("src")).astype(np.uint64) << np.uint64(8)) | proto


# The fragments of a day from its sessionized backscatter (``sessions``). Each carries
# its busiest window for every phase of the buckets (``phases[r + 1]``: buckets of
# ``$step_s`` seconds starting at seconds ≡ r), since a joined session's buckets start
# at its first fragment's second, and its source ports with their packets (``sports``).
# An edge fragment also keeps its destinations and its *rim*: packets per second within
# ``$window_s`` of its first and last second, the only ones a window shared with
# another fragment holds.
_DAY_SQL = f"""
    WITH grouped AS MATERIALIZED (
        SELECT k, started AS first_ns, max(t) AS last_ns, count(*) AS packets,
               count(DISTINCT d) AS destinations, {_SESSION_TAGS},
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
                RANGE BETWEEN {_STEPS_BACK} PRECEDING AND CURRENT ROW) AS w
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


def _merge_sql(params: DosParams) -> str:
    """The attacks of the period from its fragments and its margin days' (``frags``, and
    the joins across midnight, ``chained``: :func:`teiten.analyze.sessions.pieces_sql`).
    A joined session's busiest window is the largest of its fragments' at its phase and
    of the windows over their rims; its destinations and ports are theirs united."""
    phase = "(started // $ns) % $step_s + 1"
    whole = (
        "packets >= $min_packets AND last_ns - first_ns >= $min_duration_ns AND max_ppm >= $min_ppm"
    )
    return f"""
    WITH {pieces_sql(whole)},
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
                RANGE BETWEEN {_STEPS_BACK} PRECEDING AND CURRENT ROW) AS w
            FROM (SELECT k, started, (r.s - started // $ns) // $step_s AS b, sum(r.n) AS n
                  FROM (SELECT k, started, unnest(rim) AS r FROM joined)
                  GROUP BY ALL))
        GROUP BY ALL
    ), attacks AS MATERIALIZED (
        SELECT m.*, greatest(m.ppm, coalesce(x.ppm, 0)) AS max_ppm,
               {ipv4_blob_sql("k >> 8")} AS src
        FROM merged m LEFT JOIN crossing x USING (k, started)
        WHERE packets >= $min_packets AND last_ns - first_ns >= $min_duration_ns
          AND greatest(m.ppm, coalesce(x.ppm, 0)) >= $min_ppm
    ), ports AS (
        SELECT k, started, count(*) AS port_count,
               list(sport ORDER BY n DESC, sport)[1:{int(params.top_ports)}] AS ports
        FROM (SELECT k, started, p.sport AS sport, sum(p.n) AS n
              FROM (SELECT k, started, unnest(sports) AS p
                    FROM (SELECT k, started, sports FROM singles
                          UNION ALL SELECT k, started, sports FROM joined)
                    SEMI JOIN attacks USING (k, started))
              GROUP BY ALL)
        GROUP BY ALL
    ), edges AS (
        SELECT k, max(last_ns) FILTER (WHERE day < $first) AS before_ns,
               min(first_ns) FILTER (WHERE day >= $end) AS after_ns
        FROM margin WHERE k IN (SELECT k FROM attacks) GROUP BY k
    ), {sensor_sources_sql("attacks")}
    {_output_sql("duckdb", "coalesce(o.port_count, 0)")}"""


_FRAGMENT_SCHEMA = pa.schema(
    [
        ("k", pa.uint64()),
        ("first_ns", pa.int64()),
        ("last_ns", pa.int64()),
        ("packets", pa.int64()),
        ("destinations", pa.int64()),
        ("tag_bits", pa.uint32()),
        ("country", pa.string()),
        ("asn", pa.uint32()),
        ("edge", pa.bool_()),
        ("max_ppm", pa.int64()),
        ("phases", pa.list_(pa.int64())),
        ("sports", pa.list_(pa.struct([("sport", pa.uint16()), ("n", pa.int64())]))),
        ("dsts", pa.list_(pa.uint32())),
        ("rim", pa.list_(pa.struct([("s", pa.int64()), ("n", pa.int64())]))),
    ]
)
_DEFAULT = DosParams()
FRAGMENTS = Fragments(
    family="dos",
    kind="backscatter",
    version=1,
    timeout_s=_DEFAULT.timeout_s,
    floor={
        "min_packets": _DEFAULT.min_packets,
        "min_duration_ns": int(_DEFAULT.min_duration_s * NS),
        "min_ppm": _DEFAULT.min_ppm,
    },
    params={"ns": NS, "step_s": _DEFAULT.window_step_s, "window_s": _DEFAULT.window_s},
    schema=_FRAGMENT_SCHEMA,
    read=_DAY_READ,
    key_of=_day_key,
    sql=_DAY_SQL,
)


def _covered(engine: Engine, params: DosParams) -> bool:
    """Whether the stored fragments answer ``params`` (else the packets do): the same
    sessions and windows, and thresholds at least the floor's."""
    return (
        usable(engine, FRAGMENTS, params.timeout_s)
        and (params.window_s, params.window_step_s) == (_DEFAULT.window_s, _DEFAULT.window_step_s)
        and params.min_packets >= _DEFAULT.min_packets
        and params.min_duration_s >= _DEFAULT.min_duration_s
        and params.min_ppm >= _DEFAULT.min_ppm
    )


def _from_fragments(
    engine: Engine, window: Window, params: DosParams, darknet: Darknet
) -> tuple[pa.Table, int]:
    """:func:`extract_attacks` from the stored fragments (computing the days missing)."""
    args = {
        **window.params(),
        **_args(params),
        "timeout_s": window.timeout_s,
        "darknet": float(darknet.size),
    }
    return _finish(merge(engine, _merge_sql(params), args, pieces(engine, FRAGMENTS, window)))


def _args(params: DosParams) -> dict[str, Any]:
    """The thresholds as SQL parameters."""
    return {
        "min_packets": params.min_packets,
        "min_duration_ns": int(params.min_duration_s * NS),
        "min_ppm": params.min_ppm,
        "step_s": int(params.window_step_s),
        "ns": NS,
    }


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
    require_raw(engine, window)
    args = {**window.params(), **_args(params), "darknet": float(darknet.size)}
    where = ""
    if source is not None:
        where, args["source"] = " AND src = $source", source
    table = engine.table(_sql(engine.dialect, params, where), args)
    return _finish(table)


def _finish(table: pa.Table) -> tuple[pa.Table, int]:
    """:func:`teiten.analyze.events.finish`, with ports as ``80/tcp``."""
    protos = protocol_names(table.column("proto")).to_pylist()
    ports = [
        [f"{port}/{proto}" for port in row]
        for row, proto in zip(table.column("ports").to_pylist(), protos, strict=True)
    ]
    table = table.set_column(
        table.schema.get_field_index("ports"), "ports", pa.array(ports, pa.list_(pa.string()))
    )
    return finish(table, _schema())


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
        lambda darknet, window: (
            _from_fragments(engine, window, params, darknet)
            if _covered(engine, params) and darknet.size > 0
            else extract_attacks(engine, window, params, darknet)
        ),
        limit=limit,
        refresh=refresh,
    )
