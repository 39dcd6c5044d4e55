"""Header tests several fingerprints share, vectorised over decoded columns."""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    from teiten.decode import DecodedPackets

__all__ = [
    "ACK",
    "FIN",
    "PSH",
    "RST",
    "SYN",
    "URG",
    "ipv4_numbers",
    "is_ipv4",
    "tcp_syn_only",
    "tcp_syn_probe",
]

FIN, SYN, RST, PSH, ACK, URG = 0x01, 0x02, 0x04, 0x08, 0x10, 0x20
PROTO_ICMP, PROTO_TCP, PROTO_UDP, PROTO_ICMPV6 = 1, 6, 17, 58


def is_ipv4(packets: DecodedPackets) -> np.ndarray:
    return packets.ip_version == 4


def ipv4_numbers(rows: np.ndarray) -> np.ndarray:
    """The IPv4 address of each IPv4-mapped row as the integer the header carries (uint32).

    Meaningless for IPv6 rows; callers mask them out.
    """
    words = np.ascontiguousarray(rows).view(">u4")  # four big-endian words per row
    return words[:, 3].astype(np.uint32)


def tcp_syn_probe(packets: DecodedPackets) -> np.ndarray:
    """TCP SYN without ACK or RST (the decoder's "probe" rule for TCP; ECN bits ignored)."""
    flags = packets.tcp_flags & np.uint8(SYN | ACK | RST)
    return packets.has_tcp & (flags == SYN)


def tcp_syn_only(packets: DecodedPackets) -> np.ndarray:
    """TCP with exactly the SYN flag: what raw-packet scanners write (no ECN, no PSH)."""
    return packets.has_tcp & (packets.tcp_flags == SYN)
