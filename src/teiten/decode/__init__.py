"""Bytes to columns: decode a :class:`~teiten.capture.batch.PacketBatch` in bulk.

One compiled (numba) loop walks every packet of a batch — link header, IPv4 or
IPv6 with extension headers, TCP/UDP/SCTP/ICMP header — and writes header
fields into numpy columns (:class:`DecodedPackets`). Packets that are not IP or
are damaged are not errors: each gets a reason code (:data:`SKIP_REASONS`) and
is counted. Each packet is also tagged once with its traffic kind (probe,
backscatter, other; see :mod:`teiten.decode.kinds`).

    packets = decode_batch(batch)
    stored = packets.select(packets.decoded)  # rows to store
    packets.skip_counts()                     # e.g. {'not IP: ARP': 12}

On one core it decodes about 20 million small packets per second
(:func:`measure_decode_rate`). Details: ``docs/decode.md``.
"""

from __future__ import annotations

from teiten.decode.bench import measure_decode_rate
from teiten.decode.kinds import KIND_BACKSCATTER, KIND_NAMES, KIND_OTHER, KIND_PROBE
from teiten.decode.packets import COLUMNS, DecodedPackets, decode_batch
from teiten.decode.reasons import DECODED, SKIP_REASONS, SkipReason

__all__ = [
    "COLUMNS",
    "DECODED",
    "KIND_BACKSCATTER",
    "KIND_NAMES",
    "KIND_OTHER",
    "KIND_PROBE",
    "SKIP_REASONS",
    "DecodedPackets",
    "SkipReason",
    "decode_batch",
    "measure_decode_rate",
]
