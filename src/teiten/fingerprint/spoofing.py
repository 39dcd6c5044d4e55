"""Packets no honest stack sends: ``src-eq-dst``, ``port-zero``, ``ip-reserved-flag``.

CAIDA's UCSD Network Telescope pipeline (corsaro3, ``libcorsaro_filtering.c``)
sets aside traffic that is spoofed or malformed before it counts scanners:
its ``spoofed`` filter is the union of ``abnormal-protocol``, ``ttl-200``,
``fragmented``, ``last-byte-src-0``, ``last-byte-src-255``, ``same-src-dst``,
``udp-port-0`` and ``tcp-port-0``. teiten does not drop anything; it tags, so an
analysis can exclude (``--exclude-tag``) or study these packets. Three of the
rules are tags here (``abnormal-tcp-flags`` has its own module):

* ``src-eq-dst`` — source address equals destination address (corsaro
  ``same-src-dst``; the "LAND" attack shape). IPv4 and IPv6.
* ``port-zero`` — a TCP or UDP packet with source or destination port 0
  (corsaro ``tcp-port-0`` / ``udp-port-0``): port 0 is reserved and never chosen
  by a socket; it appears in crafted floods and OS fingerprinting. Non-first
  fragments (no ports) are never tagged.
* ``ip-reserved-flag`` — the IPv4 reserved flag bit is set (RFC 791 "must be
  zero"; the "evil bit" of RFC 3514). corsaro folds it into ``fragmented``
  (``ip_off & 0x9fff``); fragments are kept apart here (``is_fragment``).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from teiten.fingerprint.base import Fingerprint, TagContext, register
from teiten.fingerprint.headers import PROTO_TCP, PROTO_UDP, is_ipv4

if TYPE_CHECKING:
    from teiten.decode import DecodedPackets

__all__ = ["IP_RESERVED_FLAG", "PORT_ZERO", "SRC_EQ_DST"]

_RESERVED_FLAG = np.uint8(4)  # DecodedPackets.ip_flags: 4 reserved, 2 DF, 1 MF


def _words(rows: np.ndarray) -> np.ndarray:
    return np.ascontiguousarray(rows).view(np.uint64)


def _src_eq_dst(packets: DecodedPackets, context: TagContext) -> np.ndarray:
    src, dst = _words(packets.src), _words(packets.dst)
    same = src[:, 1] == dst[:, 1]  # the half holding an IPv4 address: rarely equal
    w = np.flatnonzero(same)
    same[w] = src[w, 0] == dst[w, 0]
    return same


def _port_zero(packets: DecodedPackets, context: TagContext) -> np.ndarray:
    p = packets
    tcp_or_udp = (p.proto == PROTO_TCP) | (p.proto == PROTO_UDP)
    return p.has_ports & tcp_or_udp & ((p.sport == 0) | (p.dport == 0))


def _ip_reserved_flag(packets: DecodedPackets, context: TagContext) -> np.ndarray:
    return is_ipv4(packets) & ((packets.ip_flags & _RESERVED_FLAG) != 0)


SRC_EQ_DST = register(
    Fingerprint("src-eq-dst", _src_eq_dst, "source address = destination address")
)
PORT_ZERO = register(
    Fingerprint("port-zero", _port_zero, "TCP/UDP with source or destination port 0")
)
IP_RESERVED_FLAG = register(
    Fingerprint("ip-reserved-flag", _ip_reserved_flag, "IPv4 reserved (evil) flag bit set")
)
