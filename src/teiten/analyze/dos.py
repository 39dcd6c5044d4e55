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
sensor addresses work as described in :mod:`teiten.analyze.events`; the statements are
:mod:`teiten.store.queries.dos`.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import TYPE_CHECKING, Any

import numpy as np
import pyarrow as pa

from teiten.analyze.darknet import Darknet
from teiten.analyze.events import (
    NS,
    EventReport,
    Window,
    collect,
    finish,
    protocol_names,
    require_raw,
)
from teiten.analyze.periods import Period
from teiten.analyze.sessions import FRAGMENT_FIELDS, Fragments, ipv4, merge, pieces, usable
from teiten.errors import OptionError
from teiten.store import queries

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


def _day_key(rows: pa.Table) -> np.ndarray:
    """The session key of ``rows`` (``src``, ``proto``) as :mod:`teiten.store.queries.dos`
    computes it, in numpy."""
    proto = rows.column("proto").to_numpy(zero_copy_only=False).astype(np.uint64)
    return (ipv4(rows.column("src")).astype(np.uint64) << np.uint64(8)) | proto


_FRAGMENT_SCHEMA = pa.schema(
    [
        *FRAGMENT_FIELDS,
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
    read=queries.dos.day_backscatter,
    key_of=_day_key,
    aggregate=queries.dos.day_fragments,
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
    statement = queries.dos.merged(
        window.bounds(),
        _thresholds(params),
        window_s=params.window_s,
        top_ports=params.top_ports,
        darknet=float(darknet.size),
    )
    return _finish(merge(engine, statement, pieces(engine, FRAGMENTS, window)))


def _thresholds(params: DosParams) -> queries.dos.Thresholds:
    """The thresholds as SQL parameters."""
    return queries.dos.Thresholds(
        min_packets=params.min_packets,
        min_duration_ns=int(params.min_duration_s * NS),
        min_ppm=params.min_ppm,
        step_s=int(params.window_step_s),
        ns=NS,
    )


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
    statement = queries.dos.attacks(
        engine.dialect,
        window.bounds(),
        _thresholds(params),
        window_s=params.window_s,
        top_ports=params.top_ports,
        darknet=float(darknet.size),
        source=source,
    )
    return _finish(engine.table(*statement))


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
    digest_only: bool = False,
) -> EventReport:
    """The DoS attacks of ``period``: stored ones when current, else computed and stored
    (``digest_only``: see :func:`teiten.analyze.events.collect`)."""
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
        digest_only=digest_only,
    )
