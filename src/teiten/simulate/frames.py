"""Packets as fixed-size rows: one structured dtype (a field table) per packet shape.

Every packet of one shape has the same length, so ``n`` of them are an
``(n, length)`` byte array. A :class:`Shape` lays the headers out as named
big-endian fields over those bytes; the generator fills whole columns at a
time and :func:`finish` writes lengths and Internet checksums (IPv4 header,
TCP/UDP with pseudo-header, ICMP, and the IPv4 header an ICMP error quotes).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from teiten.simulate.behaviours import Behaviour

__all__ = ["ETHERNET_HEADER", "Shape", "finish", "ones_sum", "shape_for", "timestamp_offset"]

ETHERNET_HEADER = 14
_ETHERNET_MIN = 60
_IP = (
    ("ip_vhl", "u1", 0), ("ip_tos", "u1", 1), ("ip_len", ">u2", 2), ("ip_id", ">u2", 4),
    ("ip_off", ">u2", 6), ("ip_ttl", "u1", 8), ("ip_p", "u1", 9), ("ip_sum", ">u2", 10),
    ("ip_src", ">u4", 12), ("ip_dst", ">u4", 16),
)  # fmt: skip
_TCP = (
    ("sport", ">u2", 0), ("dport", ">u2", 2), ("seq", ">u4", 4), ("ack", ">u4", 8),
    ("tcp_off", "u1", 12), ("tcp_flags", "u1", 13), ("win", ">u2", 14), ("l4_sum", ">u2", 16),
    ("urp", ">u2", 18),
)  # fmt: skip
_UDP = (("sport", ">u2", 0), ("dport", ">u2", 2), ("udp_len", ">u2", 4), ("l4_sum", ">u2", 6))
_ICMP = (
    ("icmp_type", "u1", 0), ("icmp_code", "u1", 1), ("l4_sum", ">u2", 2),
    ("icmp_id", ">u2", 4), ("icmp_seq", ">u2", 6),
)  # fmt: skip
_QUOTED_UDP = 8  # an ICMP error quotes the IPv4 header and the first 8 bytes (the UDP header)
_QUOTED_CLAIMED = 40  # payload the quoted datagram said it carried (not quoted)
_DF = 0x4000
# Destination MAC (the sensor's NIC) and source MAC (its upstream router), locally
# administered; their last two bytes are the sensor's number.
_MACS = bytes((0x02, 0x74, 0x65, 0x69, 0, 0, 0x02, 0x72, 0x6F, 0x75, 0, 0))


@dataclass(frozen=True, slots=True)
class Shape:
    """One packet shape: its field table and the bytes every packet of it starts from."""

    dtype: np.dtype  # structured, itemsize == length
    template: np.ndarray  # uint8 (length,): constant fields filled, variable ones zero
    ip: int  # offset of the IPv4 header
    l4: int  # offset of the TCP/UDP/ICMP header
    l4_header: int  # bytes of L4 header (with options, and a quoted packet) whose words vary
    proto: int
    l4_sum: int  # offset of the TCP/UDP/ICMP checksum
    quoted_ip: int | None  # offset of the IPv4 header an ICMP error quotes
    constant_sum: int  # ones_sum of the constant payload (+ pseudo-header protocol, length)

    @property
    def length(self) -> int:
        return int(self.dtype.itemsize)


def _fields(
    table: tuple[tuple[str, str, int], ...], base: int, prefix: str = ""
) -> list[tuple[str, str, int]]:
    return [(prefix + name, fmt, base + off) for name, fmt, off in table]


def shape_for(b: Behaviour, payload: bytes, *, ethernet: bool) -> Shape:
    """The shape of ``b``'s packets carrying ``payload`` (Ethernet II or raw IPv4)."""
    ip = ETHERNET_HEADER if ethernet else 0
    l4 = ip + 20
    fields = _fields(_IP, ip)
    if ethernet:
        fields += [("eth_dst_id", ">u2", 4), ("eth_src_id", ">u2", 10), ("ethertype", ">u2", 12)]
    if b.proto == "tcp":
        fields += _fields(_TCP, l4)
        header = 20 + len(b.options)
        ts_at = timestamp_offset(b.options)
        if ts_at is not None:
            fields.append(("tsval", ">u4", l4 + 20 + ts_at + 2))
    elif b.proto == "udp":
        fields += _fields(_UDP, l4)
        header = 8
    elif b.quotes:
        fields += [*_fields(_ICMP[:3], l4), ("icmp_unused", ">u4", l4 + 4)]
        fields += _fields(_IP, l4 + 8, "in_") + _fields(_UDP, l4 + 28, "in_")
        header = 8 + 20 + _QUOTED_UDP
    else:
        fields += _fields(_ICMP, l4)
        header = 8
    ip_length = l4 + header + len(payload) - ip
    # Received Ethernet frames are padded to the 60-byte minimum (the NIC strips the FCS):
    # a 54-byte SYN is captured as 60 bytes, and decoders must trust the IPv4 length.
    length = max(ip + ip_length, _ETHERNET_MIN) if ethernet else ip_length
    names, formats, offsets = zip(*fields, strict=True)
    dtype = np.dtype({"names": names, "formats": formats, "offsets": offsets, "itemsize": length})

    rec = np.zeros((), dtype=dtype)
    if ethernet:
        rec["ethertype"] = 0x0800
    rec["ip_vhl"] = 0x45
    rec["ip_len"] = ip_length
    rec["ip_off"] = _DF if b.df else 0
    rec["ip_p"] = b.ip_proto
    if b.proto == "tcp":
        rec["tcp_off"] = (header // 4) << 4
        rec["tcp_flags"] = b.tcp_flags
    elif b.proto == "udp":
        rec["udp_len"] = 8 + len(payload)
    else:
        rec["icmp_type"], rec["icmp_code"] = b.icmp_type, b.icmp_code
    if b.quotes:
        rec["in_ip_vhl"] = 0x45
        rec["in_ip_len"] = 20 + 8 + _QUOTED_CLAIMED
        rec["in_ip_p"] = 17
        rec["in_udp_len"] = 8 + _QUOTED_CLAIMED
    template = np.frombuffer(rec.tobytes(), dtype=np.uint8).copy()
    if b.proto == "tcp":
        template[l4 + 20 : l4 + header] = np.frombuffer(b.options, dtype=np.uint8)
    template[l4 + header : l4 + header + len(payload)] = np.frombuffer(payload, dtype=np.uint8)
    if ethernet:
        template[:12] = np.frombuffer(_MACS, dtype=np.uint8)
    constant = _padded_sum(payload)
    if b.proto != "icmp":  # pseudo-header word: protocol + L4 length, in native order
        constant += _swap16(b.ip_proto + ip + ip_length - l4)
    return Shape(
        dtype=dtype,
        template=template,
        ip=ip,
        l4=l4,
        l4_header=header,
        proto=b.ip_proto,
        l4_sum=int(offsets[names.index("l4_sum")]),
        quoted_ip=l4 + 8 if b.quotes else None,
        constant_sum=constant,
    )


def timestamp_offset(options: bytes) -> int | None:
    """Offset of the TCP timestamp option (kind 8) within ``options``, if any."""
    i = 0
    while i < len(options):
        kind = options[i]
        if kind == 8:
            return i
        i += 1 if kind in (0, 1) else options[i + 1]
    return None


def ones_sum(rows: np.ndarray, start: int, stop: int) -> np.ndarray:
    """Ones'-complement partial sum (uint64, unfolded) of ``rows[:, start:stop]``.

    Words are read in the machine's (little-endian) order, 32 bits at a time:
    the folded sum is the same in any byte order and word size, only byte-swapped
    (RFC 1071 §2), and native words skip a byteswap per column. ``stop - start``
    must be a multiple of 4 (every header here is).
    """
    if (stop - start) % 4:
        raise ValueError(f"checksummed span [{start}, {stop}) is not whole 32-bit words")
    total = np.zeros(rows.shape[0], dtype=np.uint64)
    words = rows[:, start:stop].view("<u4")
    for j in range(words.shape[1]):  # column sums: tight, and no (n, k) temporary
        total += words[:, j]
    return total


def _padded_sum(data: bytes) -> int:
    """:func:`ones_sum` of constant bytes (zero-padded to whole words)."""
    padded = data + bytes(-len(data) % 4)
    return int(np.frombuffer(padded, dtype="<u4").astype(np.uint64).sum())


def _swap16(value: int) -> int:
    return ((value & 0xFF) << 8) | (value >> 8)


def _fold(total: np.ndarray) -> np.ndarray:
    """Folded, complemented checksum, in the same (native) byte order as the sum."""
    total = (total & 0xFFFFFFFF) + (total >> 32)
    total = (total & 0xFFFFFFFF) + (total >> 32)
    total = (total & 0xFFFF) + (total >> 16)
    total = (total & 0xFFFF) + (total >> 16)
    return (~total & 0xFFFF).astype("<u2")


def _store(rows: np.ndarray, at: int, checksum: np.ndarray) -> None:
    rows[:, at : at + 2].view("<u2")[:, 0] = checksum


def finish(shape: Shape, rows: np.ndarray) -> None:
    """Write the checksums of packets ``rows`` (uint8, ``(n, shape.length)``) in place."""
    ip, l4 = shape.ip, shape.l4
    if shape.quoted_ip is not None:  # the IPv4 header inside an ICMP error
        q = shape.quoted_ip
        _store(rows, q + 10, _fold(ones_sum(rows, q, q + 20)))
    _store(rows, ip + 10, _fold(ones_sum(rows, ip, ip + 20)))
    total = ones_sum(rows, l4, l4 + shape.l4_header) + np.uint64(shape.constant_sum)
    if shape.proto != 1:  # TCP and UDP cover a pseudo-header: addresses, protocol, length
        total += ones_sum(rows, ip + 12, ip + 20)
    checksum = _fold(total)
    if shape.proto == 17:
        checksum[checksum == 0] = 0xFFFF  # 0 means "no checksum" in UDP
    _store(rows, shape.l4_sum, checksum)
