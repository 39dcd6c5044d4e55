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

import pyarrow as pa

from teiten.analyze.darknet import Darknet, estimate_supported
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
from teiten.store.dialect import ipv4_int, materialized, semi_join, unsigned

if TYPE_CHECKING:
    from teiten.store import Engine

__all__ = [
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
        SELECT {_key_sql(dialect, "src", "proto", "dport")} AS k, src, proto, dport,
               any_value(country) AS country, any_value(asn) AS asn
        FROM p GROUP BY src, proto, dport HAVING count(*) >= $min_destinations
    ), q AS (
        SELECT {_key_sql(dialect, "p.src", "p.proto", "p.dport")} AS k, t,
               {ipv4_int(dialect, "dst", bits=32)} AS d, tags
        FROM p {semi_join(dialect)} candidates c
            ON p.src = c.src AND p.proto = c.proto AND p.dport IS NOT DISTINCT FROM c.dport
    ), {session_sql("k", "q")},
    grouped AS (
        SELECT k, min(t) AS first_ns, max(t) AS last_ns, count(*) AS packets,
               count(DISTINCT d) AS destinations, bit_or(tags) AS tag_bits
        FROM sessions GROUP BY k, started
        HAVING count(DISTINCT d) >= $min_destinations
    ), kept {materialized(dialect)} (
        SELECT g.*, c.src, c.country, c.asn, (last_ns - first_ns) / 1e9 AS duration_s,
               packets * {float(IPV4_SPACE)} / $darknet
                   / greatest((last_ns - first_ns) / 1e9, 1.0) AS rate
        FROM grouped g JOIN candidates c USING (k)
        WHERE packets * {float(IPV4_SPACE)} / $darknet
                  / greatest((last_ns - first_ns) / 1e9, 1.0) >= $min_rate
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
    ), sensor_sources AS (
        SELECT DISTINCT dst AS src FROM packets
        WHERE day >= $first AND day < $end AND dst IN (SELECT src FROM kept)
    )
    SELECT {ipv4_text_sql("k.k >> 25")} AS source, k.country, k.asn,
           (k.k >> 17) & 255 AS proto,
           CASE WHEN k.k & 131071 = 0 THEN NULL ELSE (k.k & 131071) - 1 END AS port,
           k.first_ns AS start, k.last_ns AS end_ns,
           k.packets, k.destinations, k.duration_s, k.rate AS rate_pps_internet_wide,
           k.tag_bits,
           coalesce(k.first_ns - e.before_ns <= $timeout_ns, false) AS continues_before,
           coalesce(e.after_ns - k.last_ns <= $timeout_ns, false) AS continues_after,
           k.src IN (SELECT src FROM sensor_sources) AS is_sensor
    FROM kept k LEFT JOIN edges e USING (k)
    """


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


def _finish(table: pa.Table) -> tuple[pa.Table, int]:
    from teiten.enrich import protocol_name

    sensor = table.column("is_sensor").to_numpy(zero_copy_only=False).astype(bool)
    withheld = int(sensor.sum())
    table = table.filter(pa.array(~sensor)).drop_columns(["is_sensor"])
    table = table.rename_columns(["end" if n == "end_ns" else n for n in table.column_names])
    protos = [protocol_name(int(p)) for p in table.column("proto").to_pylist()]
    table = table.set_column(table.schema.get_field_index("proto"), "proto", pa.array(protos))
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
        lambda darknet, window: extract_scans(engine, window, params, darknet),
        limit=limit,
        refresh=refresh,
    )
    report.parameters = params.for_darknet(report.darknet).as_json()
    return report
