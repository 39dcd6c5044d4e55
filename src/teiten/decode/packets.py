"""Decoded packets as columns, and :func:`decode_batch` which produces them."""

from __future__ import annotations

from dataclasses import dataclass, fields

import numpy as np

from teiten.capture.batch import PacketBatch
from teiten.decode._kernel import decode_kernel
from teiten.decode.reasons import SKIP_REASONS, SkipReason

__all__ = ["COLUMNS", "DecodedPackets", "decode_batch"]

# Decoded columns: name -> (dtype, trailing shape). Filled by the kernel; zero
# wherever a field does not apply (skipped packet, no TCP, no ICMP...).
COLUMNS: dict[str, tuple[type[np.generic], tuple[int, ...]]] = {
    "reason": (np.uint8, ()),
    "ip_version": (np.uint8, ()),
    "src": (np.uint8, (16,)),
    "dst": (np.uint8, (16,)),
    "proto": (np.uint8, ()),
    "has_ports": (np.bool_, ()),
    "sport": (np.uint16, ()),
    "dport": (np.uint16, ()),
    "has_tcp": (np.bool_, ()),
    "tcp_flags": (np.uint8, ()),
    "tcp_seq": (np.uint32, ()),
    "tcp_ack": (np.uint32, ()),
    "tcp_window": (np.uint16, ()),
    "tcp_opt_len": (np.uint8, ()),
    "tcp_opt_mask": (np.uint32, ()),
    "has_mss": (np.bool_, ()),
    "tcp_mss": (np.uint16, ()),
    "ttl": (np.uint8, ()),
    "ip_id": (np.uint32, ()),
    "ip_flags": (np.uint8, ()),
    "frag_offset": (np.uint16, ()),
    "is_fragment": (np.bool_, ()),
    "ip_len": (np.uint16, ()),
    "has_icmp": (np.bool_, ()),
    "icmp_type": (np.uint8, ()),
    "icmp_code": (np.uint8, ()),
    "kind": (np.uint8, ()),
}


@dataclass(frozen=True, slots=True)
class DecodedPackets:
    """Header fields of a batch, one numpy array per field, row ``i`` = packet ``i``.

    Addresses are 16 bytes: IPv6 as is, IPv4 mapped (``::ffff:a.b.c.d``), so one
    column holds both families. Rows with ``reason != 0`` were not decoded (see
    :mod:`teiten.decode.reasons`) and hold zeros apart from ``ts_ns``/``wirelen``.
    """

    reason: np.ndarray  # uint8: 0 decoded, else a SkipReason code
    ts_ns: np.ndarray  # int64: capture time, ns since the Unix epoch (UTC)
    wirelen: np.ndarray  # uint32: length on the wire
    ip_version: np.ndarray  # uint8: 4 or 6
    src: np.ndarray  # uint8[n, 16]
    dst: np.ndarray  # uint8[n, 16]
    proto: np.ndarray  # uint8: transport protocol, after IPv6 extension headers
    has_ports: np.ndarray  # bool: TCP/UDP/UDP-Lite/SCTP/DCCP header read
    sport: np.ndarray  # uint16
    dport: np.ndarray  # uint16
    has_tcp: np.ndarray  # bool
    tcp_flags: np.ndarray  # uint8: CWR ECE URG ACK PSH RST SYN FIN
    tcp_seq: np.ndarray  # uint32
    tcp_ack: np.ndarray  # uint32
    tcp_window: np.ndarray  # uint16
    tcp_opt_len: np.ndarray  # uint8: option bytes the data offset announces
    tcp_opt_mask: np.ndarray  # uint32: bit k set when option kind k (< 32) is present
    has_mss: np.ndarray  # bool
    tcp_mss: np.ndarray  # uint16
    ttl: np.ndarray  # uint8: TTL / hop limit
    ip_id: np.ndarray  # uint32: IPv4 id, or IPv6 fragment-header id
    ip_flags: np.ndarray  # uint8: 4 reserved ("evil"), 2 DF, 1 MF
    frag_offset: np.ndarray  # uint16: in 8-byte units
    is_fragment: np.ndarray  # bool
    ip_len: np.ndarray  # uint16: IPv4 total length; IPv6 payload + 40 (capped at 65535)
    has_icmp: np.ndarray  # bool: ICMP / ICMPv6 header read (first fragment only)
    icmp_type: np.ndarray  # uint8
    icmp_code: np.ndarray  # uint8
    kind: np.ndarray  # uint8: KIND_OTHER / KIND_PROBE / KIND_BACKSCATTER

    def __len__(self) -> int:
        return int(self.reason.shape[0])

    @property
    def decoded(self) -> np.ndarray:
        """Mask of the packets that were decoded (``reason == 0``)."""
        return self.reason == 0

    def select(self, mask: np.ndarray) -> DecodedPackets:
        """Rows where ``mask`` is true (or the given row indices), every field."""
        return DecodedPackets(**{f.name: getattr(self, f.name)[mask] for f in fields(self)})

    def skip_counts(self) -> dict[str, int]:
        """How many packets were not decoded, by readable reason (largest first)."""
        counts = np.bincount(self.reason, minlength=max(SKIP_REASONS) + 1)
        found = {SKIP_REASONS[code]: int(counts[code]) for code in SKIP_REASONS if counts[code]}
        return dict(sorted(found.items(), key=lambda item: -item[1]))


def _column(batch_array: np.ndarray, dtype: type[np.generic]) -> np.ndarray:
    return np.ascontiguousarray(batch_array, dtype=dtype)


def decode_batch(batch: PacketBatch) -> DecodedPackets:
    """Decode every packet of ``batch`` into columns, in one compiled pass.

    Packets that cannot be decoded are kept as rows with a non-zero ``reason``
    (count them with :meth:`DecodedPackets.skip_counts`, drop them with
    ``select(decoded.decoded)``). Raises ``ValueError`` if the batch itself is
    inconsistent (a packet's offset/caplen outside its buffer) — a reader bug.
    """
    n = len(batch)
    out = {name: np.zeros((n, *shape), dtype=dtype) for name, (dtype, shape) in COLUMNS.items()}
    bad = decode_kernel(
        _column(batch.data, np.uint8),
        _column(batch.offset, np.int64),
        _column(batch.caplen, np.uint32),
        _column(batch.linktype, np.uint16),
        **out,
    )
    if bad >= 0:
        raise ValueError(
            f"packet {batch.first_number + bad}: offset {int(batch.offset[bad])} + caplen "
            f"{int(batch.caplen[bad])} lies outside the batch buffer of {batch.data.shape[0]} bytes"
        )
    ts_ns = np.array(batch.ts_ns, dtype=np.int64)
    out["reason"][ts_ns < 0] = SkipReason.BAD_TIMESTAMP  # readers mark times they cannot store
    return DecodedPackets(
        ts_ns=ts_ns,
        wirelen=np.array(batch.wirelen, dtype=np.uint32),
        **out,
    )
