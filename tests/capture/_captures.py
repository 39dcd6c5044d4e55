"""Helpers: small captures built byte by byte, and reading any capture back as packets."""

from __future__ import annotations

import struct
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from teiten.capture import CaptureReader, PacketBatch, open_capture
from teiten.capture.linktypes import is_supported
from teiten.errors import CaptureError

PCAP_US = 0xA1B2C3D4
PCAP_NS = 0xA1B23C4D


def pcap(
    records: list[tuple[int, int, bytes]] | list[tuple[int, int, bytes, int]],
    *,
    big: bool = False,
    nsec: bool = False,
    version: tuple[int, int] = (2, 4),
    snaplen: int = 65535,
    network: int = 1,
) -> bytes:
    """A classic pcap; a record is ``(sec, fraction, data[, wirelen])``."""
    e = ">" if big else "<"
    out = [
        struct.pack(e + "IHHiIII", PCAP_NS if nsec else PCAP_US, *version, 0, 0, snaplen, network)
    ]
    for sec, frac, data, *wire in records:
        out.append(struct.pack(e + "IIII", sec, frac, len(data), wire[0] if wire else len(data)))
        out.append(data)
    return b"".join(out)


def block(btype: int, body: bytes, *, big: bool = False) -> bytes:
    """A pcapng block: body padded to 4 bytes, total length before and after."""
    e = ">" if big else "<"
    body += b"\0" * (-len(body) % 4)
    total = 12 + len(body)
    return struct.pack(e + "II", btype, total) + body + struct.pack(e + "I", total)


def option(code: int, value: bytes, *, big: bool = False) -> bytes:
    e = ">" if big else "<"
    return struct.pack(e + "HH", code, len(value)) + value + b"\0" * (-len(value) % 4)


def shb(*, big: bool = False, version: tuple[int, int] = (1, 0)) -> bytes:
    e = ">" if big else "<"
    return block(0x0A0D0D0A, struct.pack(e + "IHHq", 0x1A2B3C4D, *version, -1), big=big)


def idb(
    linktype: int = 1,
    snaplen: int = 0,
    *,
    big: bool = False,
    tsresol: int | None = None,
    tsoffset: int | None = None,
) -> bytes:
    e = ">" if big else "<"
    opts = b""
    if tsresol is not None:
        opts += option(9, bytes([tsresol]), big=big)
    if tsoffset is not None:
        opts += option(14, struct.pack(e + "q", tsoffset), big=big)
    if opts:
        opts += option(0, b"", big=big)
    return block(1, struct.pack(e + "HHI", linktype, 0, snaplen) + opts, big=big)


def epb(iface: int, ticks: int, data: bytes, wirelen: int | None = None, *, big: bool = False):
    e = ">" if big else "<"
    head = struct.pack(
        e + "IIIII",
        iface,
        ticks >> 32,
        ticks & 0xFFFFFFFF,
        len(data),
        len(data) if wirelen is None else wirelen,
    )
    return block(6, head + data, big=big)


def opb(iface: int, ticks: int, data: bytes, *, big: bool = False) -> bytes:
    e = ">" if big else "<"
    head = struct.pack(
        e + "HHIIII", iface, 0, ticks >> 32, ticks & 0xFFFFFFFF, len(data), len(data)
    )
    return block(2, head + data, big=big)


def spb(data: bytes, wirelen: int | None = None, *, big: bool = False) -> bytes:
    e = ">" if big else "<"
    return block(3, struct.pack(e + "I", len(data) if wirelen is None else wirelen) + data, big=big)


def packet(i: int, size: int = 60) -> bytes:
    """Recognisable packet bytes: ``i`` repeated (mod 256)."""
    return bytes([i % 256]) * size


@dataclass(frozen=True)
class Packet:
    number: int
    ts_ns: int
    caplen: int
    wirelen: int
    linktype: int
    data: bytes


def check_batch(batch: PacketBatch) -> None:
    """The batch contract: column types and lengths, every packet inside the buffer."""
    n = len(batch)
    assert batch.data.dtype == np.uint8 and batch.data.ndim == 1
    for column, dtype in [
        (batch.offset, np.int64),
        (batch.caplen, np.uint32),
        (batch.wirelen, np.uint32),
        (batch.ts_ns, np.int64),
        (batch.linktype, np.uint16),
    ]:
        assert column.dtype == dtype and column.shape == (n,)
    assert n > 0 and batch.first_number >= 1
    assert (batch.offset >= 0).all()
    assert (batch.offset + batch.caplen <= batch.data.shape[0]).all()
    assert all(is_supported(int(lt)) for lt in np.unique(batch.linktype))


def unpack(batch: PacketBatch) -> list[Packet]:
    check_batch(batch)
    return [
        Packet(
            batch.first_number + i,
            int(batch.ts_ns[i]),
            int(batch.caplen[i]),
            int(batch.wirelen[i]),
            int(batch.linktype[i]),
            batch.data[batch.offset[i] : batch.offset[i] + batch.caplen[i]].tobytes(),
        )
        for i in range(len(batch))
    ]


def read_all(
    path: Path | str, **kwargs: int
) -> tuple[CaptureReader, list[Packet], CaptureError | None]:
    """Every packet of a capture, and the error that stopped it, if one did."""
    reader = open_capture(path, **kwargs)
    packets: list[Packet] = []
    error = None
    with reader:
        try:
            for batch in reader:
                packets.extend(unpack(batch))
        except CaptureError as exc:
            error = exc
    numbers = [p.number for p in packets]
    assert numbers == sorted(set(numbers))
    assert reader.packets_read == len(packets)
    return reader, packets, error
