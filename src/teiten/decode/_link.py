"""Link layer: find where the IP header starts, for every link type teiten reads.

Compiled helpers called by the decode kernel; every read is checked against
``end`` (the first byte after the captured packet).
"""

from __future__ import annotations

import numba
import numpy as np

from teiten.capture.linktypes import (
    LINKTYPE_ETHERNET,
    LINKTYPE_IPV4,
    LINKTYPE_IPV6,
    LINKTYPE_LINUX_SLL,
    LINKTYPE_LINUX_SLL2,
    LINKTYPE_LOOP,
    LINKTYPE_NULL,
    LINKTYPE_RAW,
    LINKTYPE_RAW_DLT12,
    LINKTYPE_RAW_DLT14,
)
from teiten.decode.reasons import SkipReason

# Skip reasons as plain ints, so the compiled code compares integers.
_LINK_TRUNCATED = int(SkipReason.LINK_TRUNCATED)
_UNSUPPORTED = int(SkipReason.UNSUPPORTED_LINKTYPE)
_ARP = int(SkipReason.NOT_IP_ARP)
_LLDP = int(SkipReason.NOT_IP_LLDP)
_LLC = int(SkipReason.NOT_IP_LLC)
_MPLS = int(SkipReason.NOT_IP_MPLS)
_PPPOE = int(SkipReason.NOT_IP_PPPOE)
_OTHER_ETHERTYPE = int(SkipReason.NOT_IP_OTHER_ETHERTYPE)
_OTHER_FAMILY = int(SkipReason.NOT_IP_OTHER_FAMILY)

_ETH_IPV4 = 0x0800
_ETH_IPV6 = 0x86DD
_VLAN_TAGS = (0x8100, 0x88A8, 0x9100)  # 802.1Q, 802.1ad, pre-standard QinQ
_MAX_802_3_LENGTH = 1500  # below 0x0600 the field is a length: an 802.3/LLC frame

# BSD address families that mean IPv4 / IPv6 in NULL and LOOP headers
# (AF_INET6 differs between BSDs: 24 NetBSD/OpenBSD, 28 FreeBSD, 30 macOS).
_AF_INET = 2
_AF_INET6 = (24, 28, 30)


@numba.njit(cache=True, nogil=True, inline="always")
def u16(d: np.ndarray, p: int) -> int:
    """Big-endian 16-bit value at ``d[p]`` (caller checks bounds)."""
    return (numba.int64(d[p]) << 8) | numba.int64(d[p + 1])


@numba.njit(cache=True, nogil=True, inline="always")
def u32(d: np.ndarray, p: int) -> int:
    """Big-endian 32-bit value at ``d[p]`` (caller checks bounds)."""
    return (
        (numba.int64(d[p]) << 24)
        | (numba.int64(d[p + 1]) << 16)
        | (numba.int64(d[p + 2]) << 8)
        | numba.int64(d[p + 3])
    )


@numba.njit(cache=True, nogil=True)
def _ethertype(d: np.ndarray, p: int, end: int, et: int) -> tuple[int, int, int]:
    """Walk VLAN tags from ``p`` (just after ethertype ``et``); return (reason, p, version)."""
    while et in _VLAN_TAGS:
        if end - p < 4:
            return _LINK_TRUNCATED, p, 0
        et = u16(d, p + 2)
        p += 4
    if et == _ETH_IPV4:
        return 0, p, 4
    if et == _ETH_IPV6:
        return 0, p, 6
    if et <= _MAX_802_3_LENGTH:
        return _LLC, p, 0
    if et in (0x0806, 0x8035):  # ARP, RARP
        return _ARP, p, 0
    if et == 0x88CC:  # LLDP
        return _LLDP, p, 0
    if et in (0x8847, 0x8848):  # MPLS unicast, multicast
        return _MPLS, p, 0
    if et in (0x8863, 0x8864):  # PPPoE discovery, session
        return _PPPOE, p, 0
    return _OTHER_ETHERTYPE, p, 0


@numba.njit(cache=True, nogil=True)
def _family(af: int, p: int) -> tuple[int, int, int]:
    if af == _AF_INET:
        return 0, p, 4
    if af in _AF_INET6:
        return 0, p, 6
    return _OTHER_FAMILY, p, 0


@numba.njit(cache=True, nogil=True)
def link_layer(d: np.ndarray, start: int, end: int, linktype: int) -> tuple[int, int, int]:
    """Strip the link header of the packet ``d[start:end]``.

    Returns ``(reason, p, version)``: a SkipReason code (0 when IP follows), the
    offset of the IP header, and the IP version the link header announces
    (0 for raw IP, whose version comes from the first nibble).
    """
    size = end - start
    if linktype == LINKTYPE_ETHERNET:
        if size < 14:
            return _LINK_TRUNCATED, start, 0
        return _ethertype(d, start + 14, end, u16(d, start + 12))
    if linktype in (LINKTYPE_RAW, LINKTYPE_RAW_DLT12, LINKTYPE_RAW_DLT14):
        return 0, start, 0
    if linktype == LINKTYPE_IPV4:
        return 0, start, 4
    if linktype == LINKTYPE_IPV6:
        return 0, start, 6
    if linktype == LINKTYPE_LINUX_SLL:
        if size < 16:
            return _LINK_TRUNCATED, start, 0
        return _ethertype(d, start + 16, end, u16(d, start + 14))
    if linktype == LINKTYPE_LINUX_SLL2:
        if size < 20:
            return _LINK_TRUNCATED, start, 0
        return _ethertype(d, start + 20, end, u16(d, start))
    if linktype == LINKTYPE_NULL:
        if size < 4:
            return _LINK_TRUNCATED, start, 0
        # Written in the capturing host's byte order. Families are small, so
        # when the low 16 bits of the big-endian reading are zero, the writer
        # was little-endian.
        af = u32(d, start)
        if (af & 0xFFFF) == 0:
            af = (af >> 24) | ((af >> 8) & 0xFF00)  # little-endian writer
        return _family(af, start + 4)
    if linktype == LINKTYPE_LOOP:
        if size < 4:
            return _LINK_TRUNCATED, start, 0
        return _family(u32(d, start), start + 4)
    return _UNSUPPORTED, start, 0
