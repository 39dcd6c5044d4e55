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
one query over the period's partitions (:mod:`teiten.store.queries.scans`), or merged
from per-day fragments (:mod:`teiten.analyze.sessions`); see :mod:`teiten.analyze.events`
for sessions, period edges and withheld sensor addresses.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import TYPE_CHECKING, Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from teiten.analyze.darknet import Darknet, estimate_supported
from teiten.analyze.events import IPV4_SPACE, EventReport, Window, collect, finish, require_raw
from teiten.analyze.periods import Period
from teiten.analyze.sessions import FRAGMENT_FIELDS, Fragments, ipv4, merge, pieces, usable
from teiten.errors import OptionError
from teiten.store import queries

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


def _day_key(rows: pa.Table) -> np.ndarray:
    """The session key of ``rows`` (``src``, ``proto``, ``dport``) as
    :mod:`teiten.store.queries.scans` computes it, in numpy."""
    proto = rows.column("proto").to_numpy(zero_copy_only=False).astype(np.uint64)
    port = pc.add(rows.column("dport").cast(pa.uint64()), 1).fill_null(0)
    return (
        (ipv4(rows.column("src")).astype(np.uint64) << np.uint64(25))
        | (proto << np.uint64(17))
        | port.to_numpy(zero_copy_only=False).astype(np.uint64)
    )


_FRAGMENT_SCHEMA = pa.schema(
    [
        *FRAGMENT_FIELDS,
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
    read=queries.scans.day_probes,
    key_of=_day_key,
    aggregate=queries.scans.day_fragments,
)


def _from_fragments(
    engine: Engine, window: Window, thresholds: ScanThresholds, darknet: Darknet
) -> tuple[pa.Table, int]:
    """:func:`extract_scans` from the stored fragments (computing the days missing)."""
    statement = queries.scans.merged(
        window.bounds(),
        min_destinations=thresholds.min_destinations,
        min_rate=thresholds.min_rate,
        darknet=float(darknet.size),
    )
    return _finish(merge(engine, statement, pieces(engine, FRAGMENTS, window)))


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
    statement = queries.scans.events(
        engine.dialect,
        window.bounds(),
        min_destinations=thresholds.min_destinations,
        min_rate=thresholds.min_rate,
        darknet=float(darknet.size),
        source=source,
    )
    return _finish(engine.table(*statement))


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
    columns: list[str] | None = None,
    digest_only: bool = False,
) -> EventReport:
    """The scan events of ``period``: stored ones when current, else computed and stored
    (``columns``: only these; ``digest_only``: their digest, without the table when it
    is stored; see :func:`teiten.analyze.events.collect`).

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
        columns=columns,
        digest_only=digest_only,
    )
    report.parameters = params.for_darknet(report.darknet).as_json()
    return report
