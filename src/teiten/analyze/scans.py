"""Scan events: one source sweeping one port (or ICMP) across the darknet, with its rate.

The definition is Durumeric, Bailey and Halderman's, "An Internet-Wide View of
Internet-Wide Scanning" (USENIX Security 2014, §3): per (source, protocol,
destination port), a scan starts with the first probe and ends after an
inactivity timeout (480 s); it counts when it reached at least 100 distinct
addresses of their /8 darknet at an estimated Internet-wide rate of at least
10 packets/s. The estimate assumes the scanner picks targets uniformly from the
IPv4 space::

    rate_pps_internet_wide = packets × 2^32 / darknet_size / duration_s

with the darknet's size from :mod:`teiten.analyze.darknet` (declared, or the
destinations observed) and ``duration_s`` the time from the first to the last
probe (at least 1 s, so a sub-second burst is not rated infinite).

**Scaled to the darknet** (:meth:`ScanParams.for_darknet`). 100 addresses of a
/8 are a sweep of ≥ 25,600 IPv4 addresses (100 × 2^32 / 2^24, targets drawn
uniformly); the same sweep reaches ``100 × size / 2^24`` addresses of a darknet of
``size``. The destination threshold is that number, rounded up, but at least
:data:`MIN_DESTINATIONS_FLOOR` (10): below it a count no longer tells a sweep from
a few targeted probes, and the sweep it implies (``d × 2^32 / size``) is known to
±32 % (Poisson, 1/√10) or worse. A declared /8 keeps Durumeric's 100; anything
smaller than about a /11 gets 10. The rate threshold keeps its value: it is the
same filter as ``packets / duration_s ≥ 10 × size / 2^32`` at the darknet, and
below about a /12 it rejects nothing (a session has at least one probe per
timeout), which :attr:`ScanThresholds.rate_condition` says. Explicit thresholds
override the derived ones.

Probes only (``kind = 'probe'``: TCP SYN, UDP, ICMP requests), IPv4 only (the
2^32 scaling has no IPv6 counterpart). ICMP events have no port. Computed in
one DuckDB query over the period's partitions; see :mod:`teiten.analyze.events`
for sessions, period edges and withheld sensor addresses.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import TYPE_CHECKING, Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from teiten.analyze.darknet import Darknet, estimate_supported
from teiten.analyze.events import (
    IPV4_SPACE,
    EventReport,
    Window,
    collect,
    finish,
    ipv4_blob_sql,
    ipv4_text_sql,
    require_raw,
    sensor_sources_sql,
    session_sql,
)
from teiten.analyze.periods import Period
from teiten.analyze.sessions import Fragments, ipv4, merge, pieces, pieces_sql, usable
from teiten.errors import OptionError
from teiten.store.dialect import ipv4_int, materialized, semi_join, unsigned

if TYPE_CHECKING:
    from teiten.store import Engine

__all__ = [
    "FRAGMENTS",
    "MIN_DESTINATIONS_FLOOR",
    "SCAN_COLUMNS",
    "ScanParams",
    "ScanThresholds",
    "extract_scans",
    "scaled_min_destinations",
    "scan_events",
]

# Output columns, in order (documented in docs/events.md).
SCAN_COLUMNS = (
    "source", "country", "asn", "proto", "port", "start", "end", "packets", "destinations",
    "duration_s", "rate_pps_internet_wide", "tags", "continues_before", "continues_after",
)  # fmt: skip


# Durumeric et al.'s darknet and thresholds: what the defaults are scaled from.
REFERENCE_SIZE = 1 << 24  # their /8
REFERENCE_MIN_DESTINATIONS = 100  # distinct addresses of that /8
REFERENCE_MIN_RATE = 10.0  # packets/s, Internet-wide estimate
MIN_DESTINATIONS_FLOOR = 10  # never fewer, however small the darknet


def scaled_min_destinations(size: int) -> int:
    """Durumeric's 100 addresses of a /8 scaled to ``size`` addresses (rounded up, ≥ floor)."""
    scaled = -(-REFERENCE_MIN_DESTINATIONS * size // REFERENCE_SIZE)
    return max(MIN_DESTINATIONS_FLOOR, scaled)


@dataclass(frozen=True)
class ScanParams:
    """The thresholds asked for; ``None`` derives one from the darknet (:meth:`for_darknet`)."""

    min_destinations: int | None = None
    min_rate: float | None = None  # packets/s, Internet-wide estimate
    timeout_s: float = 480.0

    def __post_init__(self) -> None:
        if self.min_destinations is not None and self.min_destinations < 1:
            raise OptionError(f"--min-destinations must be ≥ 1, not {self.min_destinations}")
        if self.min_rate is not None and self.min_rate < 0:
            raise OptionError(f"--min-rate must be ≥ 0, not {self.min_rate}")
        if not 0 < self.timeout_s <= 30 * 86_400:
            raise OptionError(f"--timeout must be between 0 and 30 days, not {self.timeout_s} s")

    def as_json(self) -> dict[str, Any]:
        """What was asked, with the scaling rule (the stored events' key)."""
        rule = [REFERENCE_SIZE, REFERENCE_MIN_DESTINATIONS, REFERENCE_MIN_RATE]
        return {**asdict(self), "scaling": [*rule, MIN_DESTINATIONS_FLOOR]}

    def for_darknet(self, darknet: Darknet) -> ScanThresholds:
        """The thresholds in effect at ``darknet``: explicit ones, else scaled (module doc)."""
        size = max(darknet.size, 0)
        min_rate = REFERENCE_MIN_RATE if self.min_rate is None else self.min_rate
        at_darknet = min_rate * size / IPV4_SPACE
        if estimate_supported(darknet):
            condition = "internet-wide"
        elif at_darknet <= min(1.0, 1 / self.timeout_s):
            condition = "implied"
        else:
            condition = "darknet"
        return ScanThresholds(
            min_destinations=(
                scaled_min_destinations(size)
                if self.min_destinations is None
                else self.min_destinations
            ),
            min_rate=min_rate,
            timeout_s=self.timeout_s,
            min_destinations_from="scaled" if self.min_destinations is None else "set",
            min_rate_from="reference" if self.min_rate is None else "set",
            rate_condition=condition,
            min_rate_darknet=at_darknet,
        )


@dataclass(frozen=True)
class ScanThresholds:
    """The thresholds in effect for one darknet, and where each comes from.

    ``min_destinations_from``: ``scaled`` (Durumeric's /8 threshold scaled to the
    darknet) or ``set`` (given explicitly); ``min_rate_from``: ``reference`` (their
    10 packets/s) or ``set``. ``rate_condition`` says what the rate threshold means
    here: ``internet-wide`` (the darknet supports the estimate,
    :func:`teiten.analyze.darknet.estimate_supported`), ``darknet`` (it does not,
    and the threshold is a rate at the darknet, ``min_rate_darknet``) or ``implied``
    (no estimate, and the threshold is at most one probe per timeout at the darknet,
    which every session reaches: it rejects nothing).
    """

    min_destinations: int
    min_rate: float
    timeout_s: float
    min_destinations_from: str
    min_rate_from: str
    rate_condition: str
    min_rate_darknet: float  # packets/s at the darknet: min_rate × size / 2^32

    def as_json(self) -> dict[str, Any]:
        return {
            "min_destinations": self.min_destinations,
            "min_rate": self.min_rate,
            "timeout_s": self.timeout_s,
            "min_rate_darknet": self.min_rate_darknet,
            "rate_condition": self.rate_condition,
            "derived_from": {
                "min_destinations": self.min_destinations_from,
                "min_rate": self.min_rate_from,
                "reference": {
                    "darknet_size": REFERENCE_SIZE,
                    "min_destinations": REFERENCE_MIN_DESTINATIONS,
                    "min_rate": REFERENCE_MIN_RATE,
                },
                "min_destinations_floor": MIN_DESTINATIONS_FLOOR,
            },
        }


def _key_sql(dialect: str, src: str, proto: str, dport: str) -> str:
    """One exact integer per (IPv4 source, protocol, port): IPv4 << 25 | proto << 17 | port + 1.

    Sorting sessions by it is much faster than by the 16-byte address; ICMP has port 0.
    """
    return (
        f"({ipv4_int(dialect, src)} << 25) | ({unsigned(dialect, proto)} << 17)"
        f" | coalesce({unsigned(dialect, dport)} + 1, 0)"
    )


def _sql(dialect: str, source_filter: str) -> str:
    # Only keys with enough packets are sessionized (a scan of N destinations needs N
    # packets), and only the columns the sessions need go through the window sort.
    return f"""
    WITH p AS (
        SELECT src, proto, dport, t_ns AS t, dst, tags, country, asn
        FROM packets
        WHERE day >= $first AND day < $end AND kind = 'probe' AND ip_version = 4{source_filter}
    ), candidates {materialized(dialect)} (
        SELECT {_key_sql(dialect, "src", "proto", "dport")} AS k, src, proto, dport
        FROM p GROUP BY src, proto, dport HAVING count(*) >= $min_destinations
    ), q AS (
        SELECT {_key_sql(dialect, "p.src", "p.proto", "p.dport")} AS k, t,
               {ipv4_int(dialect, "dst", bits=32)} AS d, tags, country, asn
        FROM p {semi_join(dialect)} candidates c
            ON p.src = c.src AND p.proto = c.proto AND p.dport IS NOT DISTINCT FROM c.dport
    ), {session_sql("k", "q")},
    grouped AS (
        SELECT k, min(t) AS first_ns, max(t) AS last_ns, count(*) AS packets,
               count(DISTINCT d) AS destinations, {_SESSION_TAGS}
        FROM sessions GROUP BY k, started
        HAVING count(DISTINCT d) >= $min_destinations
    ), kept {materialized(dialect)} (
        SELECT g.*, c.src, {_RATE}
        FROM grouped g JOIN (SELECT k, src FROM candidates) c USING (k)
        WHERE {_RATE_OK}
    ), edges AS (
        SELECT {_key_sql(dialect, "src", "proto", "dport")} AS k,
               max(t_ns) FILTER (WHERE day < $first) AS before_ns,
               min(t_ns) FILTER (WHERE day >= $end) AS after_ns
        FROM packets
        WHERE ((day >= $lo AND day < $first) OR (day >= $end AND day < $hi))
          AND kind = 'probe' AND ip_version = 4
          AND t_ns >= $first_ns - $timeout_ns AND t_ns < $end_ns + $timeout_ns
          AND src IN (SELECT src FROM kept)
        GROUP BY ALL
    ), {sensor_sources_sql("kept")}
    {_OUTPUT}"""


# What a session carries besides its times and counts (merged alike from fragments).
_SESSION_TAGS = "bit_or(tags) AS tag_bits, min(country) AS country, min(asn) AS asn"
_DURATION = "(last_ns - first_ns) / 1e9"
_RATE_SQL = f"packets * {float(IPV4_SPACE)} / $darknet / greatest({_DURATION}, 1.0)"
_RATE = f"{_DURATION} AS duration_s, {_RATE_SQL} AS rate"
_RATE_OK = f"{_RATE_SQL} >= $min_rate"
# The events, from ``kept`` (a session per row, its key ``k`` and 16-byte ``src``),
# ``edges`` (per key, the last packet before the period and the first after) and
# ``sensor_sources``.
_OUTPUT = f"""
    SELECT {ipv4_text_sql("k.k >> 25")} AS source, k.country, k.asn,
           (k.k >> 17) & 255 AS proto,
           CASE WHEN k.k & 131071 = 0 THEN NULL ELSE (k.k & 131071) - 1 END AS port,
           k.first_ns AS start, k.last_ns AS end_ns,
           k.packets, k.destinations, k.duration_s, k.rate AS rate_pps_internet_wide,
           k.tag_bits,
           coalesce(k.first_ns - e.before_ns <= $timeout_ns, false) AS continues_before,
           coalesce(e.after_ns - k.last_ns <= $timeout_ns, false) AS continues_after,
           k.src IN (SELECT src FROM sensor_sources) AS is_sensor, k.k
    FROM kept k LEFT JOIN edges e USING (k)"""


# The probes of days ``$first`` … ``$end``, for :func:`teiten.analyze.sessions.sessionize`.
_DAY_READ = """
    SELECT src, proto, dport, t_ns AS t, dst, tags, country, asn
    FROM packets WHERE day >= $first AND day < $end AND kind = 'probe' AND ip_version = 4"""


def _day_key(rows: pa.Table) -> np.ndarray:
    """:func:`_key_sql` of ``rows`` (``src``, ``proto``, ``dport``), in numpy."""
    proto = rows.column("proto").to_numpy(zero_copy_only=False).astype(np.uint64)
    port = pc.add(rows.column("dport").cast(pa.uint64()), 1).fill_null(0)
    return (
        (ipv4(rows.column("src")).astype(np.uint64) << np.uint64(25))
        | (proto << np.uint64(17))
        | port.to_numpy(zero_copy_only=False).astype(np.uint64)
    )


# The fragments of a day from its sessionized probes (``sessions``): each session with
# its distinct destinations counted (per session and destination first: cheaper than
# ``count(DISTINCT)``) and, for an edge fragment, listed; one that is not edge only if
# it reaches the floor.
_DAY_SQL = f"""
    WITH per_d AS MATERIALIZED (
        SELECT k, started, d, count(*) AS n, max(t) AS last_ns, {_SESSION_TAGS}
        FROM sessions GROUP BY k, started, d
    ), grouped AS MATERIALIZED (
        SELECT k, started AS first_ns, max(last_ns) AS last_ns, sum(n) AS packets,
               count(*) AS destinations, bit_or(tag_bits) AS tag_bits,
               min(country) AS country, min(asn) AS asn,
               started % $day_len <= $timeout_ns
                   OR $day_len - started % $day_len - (max(last_ns) - started) <= $timeout_ns
                   AS edge
        FROM per_d GROUP BY k, started
    ), lists AS (
        SELECT k, started AS first_ns, list(d ORDER BY d) AS dsts
        FROM per_d SEMI JOIN (SELECT k, first_ns FROM grouped WHERE edge) e
            ON per_d.k = e.k AND per_d.started = e.first_ns
        GROUP BY k, started
    )
    SELECT g.*, l.dsts FROM grouped g LEFT JOIN lists l USING (k, first_ns)
    WHERE g.edge OR g.destinations >= $min_destinations
    ORDER BY first_ns // $day_len, k, first_ns"""


# The events of the period from its fragments and its margin days' (``frags``, and the
# joins across midnight, ``chained``: :func:`teiten.analyze.sessions.pieces_sql`; a
# session of several fragments has their destination sets' union, ``united``).
_MERGE_SQL = f"""
    WITH {pieces_sql("destinations >= $min_destinations")},
    merged AS (
        SELECT k, first_ns, last_ns, packets, destinations, tag_bits, country, asn
        FROM singles
        UNION ALL
        SELECT k, min(first_ns), max(last_ns), sum(packets), any_value(united),
               bit_or(tag_bits), min(country), min(asn)
        FROM joined GROUP BY k, started
    ), kept AS MATERIALIZED (
        SELECT *, {ipv4_blob_sql("k >> 25")} AS src, {_RATE}
        FROM merged WHERE destinations >= $min_destinations AND {_RATE_OK}
    ), edges AS (
        SELECT k, max(last_ns) FILTER (WHERE day < $first) AS before_ns,
               min(first_ns) FILTER (WHERE day >= $end) AS after_ns
        FROM margin WHERE k IN (SELECT k FROM kept) GROUP BY k
    ), {sensor_sources_sql("kept")}
    {_OUTPUT}"""


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
        ("dsts", pa.list_(pa.uint32())),
    ]
)
FRAGMENTS = Fragments(
    family="scans",
    kind="probe",
    version=1,
    timeout_s=ScanParams().timeout_s,
    floor={"min_destinations": MIN_DESTINATIONS_FLOOR},
    params={},
    schema=_FRAGMENT_SCHEMA,
    read=_DAY_READ,
    key_of=_day_key,
    sql=_DAY_SQL,
)


def _from_fragments(
    engine: Engine, window: Window, thresholds: ScanThresholds, darknet: Darknet
) -> tuple[pa.Table, int]:
    """:func:`extract_scans` from the stored fragments (computing the days missing)."""
    args = {
        **window.params(),
        "timeout_s": window.timeout_s,
        "min_destinations": thresholds.min_destinations,
        "min_rate": thresholds.min_rate,
        "darknet": float(darknet.size),
    }
    return _finish(merge(engine, _MERGE_SQL, args, pieces(engine, FRAGMENTS, window)))


def extract_scans(
    engine: Engine,
    window: Window,
    params: ScanParams,
    darknet: Darknet,
    *,
    source: bytes | None = None,
) -> tuple[pa.Table, int]:
    """Scan events of the days in ``window`` (and the number withheld as sensor sources).

    ``source`` (a 16-byte address) restricts the events to that one source.
    """
    if darknet.size <= 0:
        return _empty(), 0
    require_raw(engine, window)
    thresholds = params.for_darknet(darknet)
    args = {
        **window.params(),
        "min_destinations": thresholds.min_destinations,
        "min_rate": thresholds.min_rate,
        "darknet": float(darknet.size),
    }
    where = ""
    if source is not None:
        where, args["source"] = " AND src = $source", source
    table = engine.table(_sql(engine.dialect, where), args)
    return _finish(table)


def _covered(engine: Engine, params: ScanParams) -> bool:
    """Whether the stored fragments answer ``params`` (else the packets do)."""
    return usable(engine, FRAGMENTS, params.timeout_s) and (
        params.min_destinations is None or params.min_destinations >= MIN_DESTINATIONS_FLOOR
    )


def _finish(table: pa.Table) -> tuple[pa.Table, int]:
    return finish(table, _schema())


def _schema() -> pa.Schema:
    ts = pa.timestamp("ns", tz="UTC")
    return pa.schema(
        [
            ("source", pa.string()),
            ("country", pa.string()),
            ("asn", pa.uint32()),
            ("proto", pa.string()),
            ("port", pa.int32()),
            ("start", ts),
            ("end", ts),
            ("packets", pa.int64()),
            ("destinations", pa.int64()),
            ("duration_s", pa.float64()),
            ("rate_pps_internet_wide", pa.float64()),
            ("tags", pa.list_(pa.string())),
            ("continues_before", pa.bool_()),
            ("continues_after", pa.bool_()),
        ]
    )


def _empty() -> pa.Table:
    return _schema().empty_table()


def scan_events(
    engine: Engine,
    period: Period,
    params: ScanParams | None = None,
    *,
    limit: int | None = None,
    refresh: bool = False,
) -> EventReport:
    """The scan events of ``period``: stored ones when current, else computed and stored.

    The report's ``parameters`` are the thresholds in effect at the period's darknet
    (:meth:`ScanThresholds.as_json`).
    """
    params = params or ScanParams()
    report = collect(
        engine,
        "scans",
        period,
        params.as_json(),
        lambda darknet, window: (
            _from_fragments(engine, window, params.for_darknet(darknet), darknet)
            if _covered(engine, params) and darknet.size > 0
            else extract_scans(engine, window, params, darknet)
        ),
        limit=limit,
        refresh=refresh,
    )
    report.parameters = params.for_darknet(report.darknet).as_json()
    return report
