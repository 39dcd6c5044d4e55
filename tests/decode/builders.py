"""Test-only packet builders (struct, so that bogus values are easy) and batch helpers."""

from __future__ import annotations

import ipaddress
import struct
from collections.abc import Sequence
from dataclasses import fields
from pathlib import Path

import dpkt
import numpy as np

from teiten.capture.batch import PacketBatch
from teiten.capture.linktypes import LINKTYPE_ETHERNET
from teiten.decode import DecodedPackets, decode_batch

SRC4, DST4 = "198.51.100.7", "203.0.113.9"
SRC6, DST6 = "2001:db8::7", "2001:db8:ffff::9"

FIN, SYN, RST, PSH, ACK, URG, ECE, CWR = 0x01, 0x02, 0x04, 0x08, 0x10, 0x20, 0x40, 0x80


def make_batch(
    packets: Sequence[bytes],
    linktype: int | Sequence[int] = LINKTYPE_ETHERNET,
    *,
    guard: bytes = b"",
) -> PacketBatch:
    """A batch of ``packets``; ``guard`` bytes are placed before and after each one."""
    n = len(packets)
    linktypes = [linktype] * n if isinstance(linktype, int) else list(linktype)
    buffer = bytearray()
    offsets = []
    for packet in packets:
        buffer += guard
        offsets.append(len(buffer))
        buffer += packet
        buffer += guard
    return PacketBatch(
        data=np.frombuffer(bytes(buffer), dtype=np.uint8).copy(),
        offset=np.array(offsets, dtype=np.int64),
        caplen=np.array([len(p) for p in packets], dtype=np.uint32),
        wirelen=np.array([len(p) + 4 for p in packets], dtype=np.uint32),
        ts_ns=np.arange(n, dtype=np.int64) * 1_000_000_007,
        linktype=np.array(linktypes, dtype=np.uint16),
        first_number=1,
    )


def batch_from_capture(path: Path) -> PacketBatch:
    """Read a pcap/pcapng with dpkt (test-only framing, until teiten.capture reads files)."""
    with open(path, "rb") as f:
        magic = f.read(4)
        f.seek(0)
        reader = dpkt.pcapng.Reader(f) if magic == b"\x0a\x0d\x0d\x0a" else dpkt.pcap.Reader(f)
        linktype = reader.datalink()
        records = [(ts, bytes(buf)) for ts, buf in reader]
    batch = make_batch([buf for _, buf in records], linktype)
    return PacketBatch(
        data=batch.data,
        offset=batch.offset,
        caplen=batch.caplen,
        wirelen=batch.caplen.copy(),
        ts_ns=np.array([round(float(ts) * 1e9) for ts, _ in records], dtype=np.int64),
        linktype=batch.linktype,
        first_number=1,
    )


def batch_from_pcapng_interfaces(path: Path) -> PacketBatch:
    """Read a little-endian pcapng with several interfaces: each packet keeps its own link type.

    dpkt's reader assumes one interface; this walks the blocks itself (test-only).
    """
    raw = path.read_bytes()
    linktypes: list[int] = []
    packets: list[bytes] = []
    packet_linktypes: list[int] = []
    at = 0
    while at + 12 <= len(raw):
        block_type, block_length = struct.unpack_from("<II", raw, at)
        if block_type == 1:  # Interface Description Block
            linktypes.append(struct.unpack_from("<H", raw, at + 8)[0])
        elif block_type == 6:  # Enhanced Packet Block
            interface, _, _, caplen = struct.unpack_from("<IIII", raw, at + 8)
            packets.append(raw[at + 28 : at + 28 + caplen])
            packet_linktypes.append(linktypes[interface])
        at += block_length
    return make_batch(packets, packet_linktypes)


# ---- link layers --------------------------------------------------------------------


def ether(payload: bytes, ethertype: int = 0x0800, tags: Sequence[int] = ()) -> bytes:
    """Ethernet II; each entry of ``tags`` is a tag protocol id (0x8100, 0x88A8, 0x9100)."""
    header = bytes.fromhex("020000000001020000000002")
    for vid, tpid in enumerate(tags, start=10):
        header += struct.pack("!HH", tpid, vid)  # tag protocol id, then the tag (VLAN id)
    return header + struct.pack("!H", ethertype) + payload


def sll(payload: bytes, protocol: int = 0x0800) -> bytes:
    """Linux cooked v1: packet type, ARPHRD, address length, 8-byte address, protocol."""
    return struct.pack("!HHH8sH", 0, 1, 6, b"\x02\0\0\0\0\x01\0\0", protocol) + payload


def sll2(payload: bytes, protocol: int = 0x0800) -> bytes:
    """Linux cooked v2: protocol, reserved, ifindex, ARPHRD, type, address length, address."""
    return struct.pack("!HHIHBB8s", protocol, 0, 2, 1, 0, 6, b"\x02\0\0\0\0\x01\0\0") + payload


def null(payload: bytes, family: int, byteorder: str = "<") -> bytes:
    """BSD loopback: the address family in the writer's byte order (``<`` or ``>``)."""
    return struct.pack(byteorder + "I", family) + payload


# ---- IP -------------------------------------------------------------------------------


def ipv4(
    payload: bytes,
    *,
    proto: int = 6,
    src: str = SRC4,
    dst: str = DST4,
    ttl: int = 64,
    ident: int = 0x1234,
    flags: int = 0,
    frag: int = 0,
    options: bytes = b"",
    total: int | None = None,
    ihl: int | None = None,
    version: int = 4,
) -> bytes:
    """IPv4 header + payload; ``flags`` are the 3 flag bits (4 evil, 2 DF, 1 MF)."""
    ihl = 5 + len(options) // 4 if ihl is None else ihl
    total = 20 + len(options) + len(payload) if total is None else total
    header = struct.pack(
        "!BBHHHBBH4s4s",
        (version << 4) | ihl,
        0,
        total,
        ident,
        (flags << 13) | frag,
        ttl,
        proto,
        0,
        ipaddress.IPv4Address(src).packed,
        ipaddress.IPv4Address(dst).packed,
    )
    return header + options + payload


def ipv6(
    payload: bytes,
    *,
    nxt: int = 6,
    src: str = SRC6,
    dst: str = DST6,
    hlim: int = 64,
    plen: int | None = None,
) -> bytes:
    plen = len(payload) if plen is None else plen
    return (
        struct.pack("!IHBB", 0x60000000, plen, nxt, hlim)
        + ipaddress.IPv6Address(src).packed
        + ipaddress.IPv6Address(dst).packed
        + payload
    )


def ext6(nxt: int, body: bytes = b"\x01\x04\0\0\0\0") -> bytes:
    """A hop-by-hop / routing / destination-options header (length in 8-byte units)."""
    assert (len(body) + 2) % 8 == 0
    return bytes([nxt, (len(body) + 2) // 8 - 1]) + body


def frag6(nxt: int, offset: int = 0, more: bool = False, ident: int = 0xCAFEF00D) -> bytes:
    return struct.pack("!BBHI", nxt, 0, (offset << 3) | int(more), ident)


def ah6(nxt: int) -> bytes:
    """Authentication Header with a 12-byte ICV (length in 4-byte units, minus 2)."""
    return struct.pack("!BBHII", nxt, 4, 0, 0x100, 1) + b"\0" * 12


# ---- transport ------------------------------------------------------------------------


def tcp(
    sport: int = 40000,
    dport: int = 23,
    flags: int = SYN,
    *,
    seq: int = 0x01020304,
    ack: int = 0,
    window: int = 1024,
    options: bytes = b"",
    offset: int | None = None,
    payload: bytes = b"",
) -> bytes:
    offset = 5 + (len(options) + 3) // 4 if offset is None else offset
    options = options + b"\0" * (-len(options) % 4)
    header = struct.pack("!HHIIBBHHH", sport, dport, seq, ack, offset << 4, flags, window, 0, 0)
    return header + options + payload


def udp(sport: int = 53, dport: int = 33333, payload: bytes = b"") -> bytes:
    return struct.pack("!HHHH", sport, dport, 8 + len(payload), 0) + payload


def icmp(type_: int, code: int = 0, rest: bytes = b"\0\x01\0\x01") -> bytes:
    return struct.pack("!BBH", type_, code, 0) + rest


def mss(value: int) -> bytes:
    return struct.pack("!BBH", 2, 4, value)


# ---- reading results ------------------------------------------------------------------


def address(raw: np.ndarray, version: int) -> str:
    """Text form of a 16-byte address column entry (IPv4-mapped shown as IPv4)."""
    ip = ipaddress.IPv6Address(bytes(raw))
    return str(ip.ipv4_mapped) if version == 4 else str(ip)


def row(decoded: DecodedPackets, i: int) -> dict[str, object]:
    """Packet ``i`` of ``decoded`` as plain Python values (addresses as text)."""
    values: dict[str, object] = {
        f.name: getattr(decoded, f.name)[i].item()
        for f in fields(decoded)
        if f.name not in ("src", "dst")
    }
    version = int(decoded.ip_version[i])
    values["src"] = address(decoded.src[i], version)
    values["dst"] = address(decoded.dst[i], version)
    return values


def decode_one(packet: bytes, linktype: int = LINKTYPE_ETHERNET) -> dict[str, object]:
    return row(decode_batch(make_batch([packet], linktype)), 0)
