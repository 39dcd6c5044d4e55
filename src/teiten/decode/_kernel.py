"""The decode kernel: one compiled loop over a batch, writing into column arrays.

Everything per packet happens here, in nopython mode, with no Python objects:
the wrapper in :mod:`teiten.decode.packets` allocates zeroed output columns and
calls :func:`decode_kernel` once per batch. Each read is checked against the
packet's captured end, so arbitrary bytes can never make it read another
packet's bytes (or past the buffer).

Caching caveat (numba issue #1833): the on-disk cache of this kernel is keyed on
this file only. After editing ``_link.py``, ``kinds.py`` or ``reasons.py``,
delete ``src/teiten/decode/__pycache__`` (or touch this file) to recompile.
"""

from __future__ import annotations

import numba
import numpy as np

from teiten.decode._link import link_layer, u16, u32
from teiten.decode.kinds import classify
from teiten.decode.reasons import SkipReason

_BAD_VERSION = int(SkipReason.BAD_IP_VERSION)
_IP_TRUNCATED = int(SkipReason.IP_TRUNCATED)
_BAD_IHL = int(SkipReason.BAD_IPV4_HEADER_LENGTH)
_BAD_TOTAL_LENGTH = int(SkipReason.BAD_IPV4_TOTAL_LENGTH)
_EXT_TRUNCATED = int(SkipReason.IPV6_EXT_TRUNCATED)
_TRANSPORT_TRUNCATED = int(SkipReason.TRANSPORT_TRUNCATED)
_LINK_TRUNCATED = int(SkipReason.LINK_TRUNCATED)

# IPv6 extension headers walked to reach the transport protocol (RFC 8200 §4).
_HOP_BY_HOP = 0
_ROUTING = 43
_FRAGMENT = 44
_AH = 51
_DEST_OPTS = 60

_ICMP = 1
_TCP = 6
_UDP = 17
_DCCP = 33
_ICMPV6 = 58
_SCTP = 132
_UDPLITE = 136

_MSS = 2  # TCP option kind


@numba.njit(cache=True, nogil=True, inline="always")
def _transport_size(proto: int) -> int:
    """Bytes of transport header the decoder needs, or 0 for protocols it does not read."""
    if proto == _TCP:
        return 20
    if proto in (_UDP, _UDPLITE):
        return 8
    if proto in (_SCTP, _DCCP):
        return 12
    if proto in (_ICMP, _ICMPV6):
        return 4  # type, code, checksum: the part every ICMP message shares
    return 0


@numba.njit(cache=True, nogil=True)
def tcp_options(d: np.ndarray, p: int, end: int) -> tuple[int, bool, int]:
    """Walk TCP options in ``d[p:end]``; return (kind mask, has MSS, MSS).

    Stops at End-of-Option-List, at a length below 2, or at an option that does
    not fit: a malformed list yields what was read before it.
    """
    mask = 0
    has_mss = False
    mss = 0
    while p < end:
        kind = numba.int64(d[p])
        if kind == 0:  # End of Option List
            mask |= 1
            break
        if kind == 1:  # No-Operation
            mask |= 2
            p += 1
            continue
        if end - p < 2:
            break
        size = numba.int64(d[p + 1])
        if size < 2 or end - p < size:
            break
        if kind < 32:
            mask |= 1 << kind
        if kind == _MSS and size == 4:
            has_mss = True
            mss = u16(d, p + 2)
        p += size
    return mask, has_mss, mss


@numba.njit(cache=True, nogil=True)
def decode_kernel(
    data: np.ndarray,
    offset: np.ndarray,
    caplen: np.ndarray,
    linktype: np.ndarray,
    reason: np.ndarray,
    ip_version: np.ndarray,
    src: np.ndarray,
    dst: np.ndarray,
    proto: np.ndarray,
    has_ports: np.ndarray,
    sport: np.ndarray,
    dport: np.ndarray,
    has_tcp: np.ndarray,
    tcp_flags: np.ndarray,
    tcp_seq: np.ndarray,
    tcp_ack: np.ndarray,
    tcp_window: np.ndarray,
    tcp_opt_len: np.ndarray,
    tcp_opt_mask: np.ndarray,
    has_mss: np.ndarray,
    tcp_mss: np.ndarray,
    ttl: np.ndarray,
    ip_id: np.ndarray,
    ip_flags: np.ndarray,
    frag_offset: np.ndarray,
    is_fragment: np.ndarray,
    ip_len: np.ndarray,
    has_icmp: np.ndarray,
    icmp_type: np.ndarray,
    icmp_code: np.ndarray,
    kind: np.ndarray,
) -> int:
    """Decode every packet into the (zeroed) output columns.

    Returns the index of the first packet whose ``offset``/``caplen`` lie
    outside ``data`` (such packets are marked "link header truncated"), or -1.
    """
    size = data.shape[0]
    bad_slice = -1
    for i in range(offset.shape[0]):
        start = offset[i]
        end = start + numba.int64(caplen[i])
        if start < 0 or end > size:
            reason[i] = _LINK_TRUNCATED
            if bad_slice < 0:
                bad_slice = i
            continue
        why, p, version = link_layer(data, start, end, linktype[i])
        if why != 0:
            reason[i] = why
            continue

        # ---- IP header (fields kept in locals: a row is written only if decoded) ----
        if p >= end:
            reason[i] = _IP_TRUNCATED
            continue
        nibble = numba.int64(data[p]) >> 4
        if (nibble != 4 and nibble != 6) or (version != 0 and nibble != version):
            reason[i] = _BAD_VERSION
            continue
        ident = 0
        flags3 = 0
        offset8 = 0
        fragment = False
        if nibble == 4:
            if end - p < 20:
                reason[i] = _IP_TRUNCATED
                continue
            ihl = (numba.int64(data[p]) & 0x0F) * 4
            if ihl < 20:
                reason[i] = _BAD_IHL
                continue
            if end - p < ihl:
                reason[i] = _IP_TRUNCATED
                continue
            length = u16(data, p + 2)
            if length != 0 and length < ihl:
                reason[i] = _BAD_TOTAL_LENGTH
                continue
            # Bytes past the total length are link padding, not transport data;
            # a zero total length (TCP segmentation offload) means "to the end".
            # ``whole``: the entire IP packet, as its length field says, was captured.
            whole = length != 0 and p + length <= end
            ip_end = p + length if whole else end
            flags_off = u16(data, p + 6)
            ident = u16(data, p + 4)
            flags3 = flags_off >> 13
            offset8 = flags_off & 0x1FFF
            fragment = (flags_off & 0x2000) != 0 or offset8 != 0
            hops = data[p + 8]
            next_proto = numba.int64(data[p + 9])
            l4 = p + ihl
        else:
            if end - p < 40:
                reason[i] = _IP_TRUNCATED
                continue
            payload = u16(data, p + 4)
            length = min(payload + 40, 0xFFFF)
            # Zero payload length: jumbogram or offload; use what was captured.
            whole = payload != 0 and p + 40 + payload <= end
            ip_end = p + 40 + payload if whole else end
            next_proto = numba.int64(data[p + 6])
            hops = data[p + 7]
            l4 = p + 40
            truncated = False
            while True:
                if next_proto in (_HOP_BY_HOP, _ROUTING, _DEST_OPTS, _AH):
                    if ip_end - l4 < 2:
                        truncated = True
                        break
                    n = numba.int64(data[l4 + 1])
                    hdr = (n + 2) * 4 if next_proto == _AH else (n + 1) * 8
                    if ip_end - l4 < hdr:
                        truncated = True
                        break
                    next_proto = numba.int64(data[l4])
                    l4 += hdr
                elif next_proto == _FRAGMENT:
                    if ip_end - l4 < 8:
                        truncated = True
                        break
                    flags_off = u16(data, l4 + 2)
                    ident = u32(data, l4 + 4)
                    flags3 = flags_off & 1
                    offset8 = flags_off >> 3
                    fragment = True
                    next_proto = numba.int64(data[l4])
                    l4 += 8
                    if offset8 != 0:
                        break
                else:
                    break
            if truncated:
                reason[i] = _EXT_TRUNCATED
                continue

        # ---- transport header (only a first fragment holds one) ---------------
        need = _transport_size(next_proto) if offset8 == 0 else 0
        tcp = False
        ports = False
        icmp = False
        if need != 0:
            if ip_end - l4 >= need:
                if next_proto in (_ICMP, _ICMPV6):
                    icmp = True
                else:
                    ports = True
                    tcp = next_proto == _TCP
            elif not whole:
                reason[i] = _TRANSPORT_TRUNCATED  # cut by the capture's snap length
                continue
            # else: the sender sent no complete header (nmap -sO's empty SCTP/DCCP
            # probes, RFC 1858 tiny fragments): keep the IP fields, no transport ones.

        # ---- write the row ------------------------------------------------------
        ip_version[i] = nibble
        proto[i] = next_proto
        ttl[i] = hops
        ip_id[i] = ident
        ip_flags[i] = flags3
        frag_offset[i] = offset8
        is_fragment[i] = fragment
        ip_len[i] = length
        if nibble == 4:
            src[i, 10] = 0xFF
            src[i, 11] = 0xFF
            dst[i, 10] = 0xFF
            dst[i, 11] = 0xFF
            for k in range(4):
                src[i, 12 + k] = data[p + 12 + k]
                dst[i, 12 + k] = data[p + 16 + k]
        else:
            for k in range(16):
                src[i, k] = data[p + 8 + k]
                dst[i, k] = data[p + 24 + k]
        flags = 0
        itype = 0
        if icmp:
            itype = numba.int64(data[l4])
            has_icmp[i] = True
            icmp_type[i] = itype
            icmp_code[i] = data[l4 + 1]
        elif ports:
            has_ports[i] = True
            sport[i] = u16(data, l4)
            dport[i] = u16(data, l4 + 2)
            if tcp:
                flags = numba.int64(data[l4 + 13])
                has_tcp[i] = True
                tcp_flags[i] = flags
                tcp_seq[i] = u32(data, l4 + 4)
                tcp_ack[i] = u32(data, l4 + 8)
                tcp_window[i] = u16(data, l4 + 14)
                header = (numba.int64(data[l4 + 12]) >> 4) * 4
                if header > 20:
                    tcp_opt_len[i] = header - 20
                    mask, mss_present, mss = tcp_options(data, l4 + 20, min(l4 + header, ip_end))
                    tcp_opt_mask[i] = mask
                    has_mss[i] = mss_present
                    tcp_mss[i] = mss
        kind[i] = classify(next_proto, tcp, flags, icmp, itype)
    return bad_slice
