"""Live capture on Linux: an AF_PACKET socket with a TPACKET_V3 memory-mapped ring.

Why AF_PACKET and TPACKET_V3 rather than libpcap through a Python binding: the
kernel fills whole blocks of packets in a ring shared with us, so one ``poll``
hands over thousands of packets with no copy and no system call per packet, and
the block is walked by a compiled (numba) loop into the same
:class:`~teiten.capture.PacketBatch` columns the file readers produce — nothing
per packet runs in the interpreter. It needs no library beyond the kernel, and
``PACKET_STATISTICS`` reports the kernel's drops exactly. libpcap on Linux uses
the same mechanism underneath.

Only packets to the sensor's prefixes are wanted: a classic BPF program attached to
the socket (:mod:`teiten.sensor.bpf`) drops every other frame in the kernel, and
:func:`in_prefixes` checks the decoded destinations again before spooling.
"""

from __future__ import annotations

import ctypes
import ipaddress
import mmap
import select
import socket
import struct
from collections.abc import Iterator

import numba
import numpy as np

from teiten.capture import PacketBatch
from teiten.sensor.bpf import attach_filter

__all__ = ["LiveCapture", "in_prefixes"]

_ETH_P_ALL = 0x0003
_SOL_PACKET = 263
_PACKET_RX_RING = 5
_PACKET_STATISTICS = 6
_PACKET_VERSION = 10
_TPACKET_V3 = 2
_TP_STATUS_USER = 1
_LINKTYPE_ETHERNET = 1


class _Req3(ctypes.Structure):
    _fields_ = [
        ("tp_block_size", ctypes.c_uint),
        ("tp_block_nr", ctypes.c_uint),
        ("tp_frame_size", ctypes.c_uint),
        ("tp_frame_nr", ctypes.c_uint),
        ("tp_retire_blk_tov", ctypes.c_uint),
        ("tp_sizeof_priv", ctypes.c_uint),
        ("tp_feature_req_word", ctypes.c_uint),
    ]


@numba.njit(cache=True)
def _walk_block(ring, start, count, first, offset, caplen, wirelen, ts_ns):  # type: ignore[no-untyped-def]  # pragma: no cover
    """Packet headers of one block: fills the column arrays, returns how many."""
    at = start + first
    for i in range(count):
        nxt = (
            ring[at] | (ring[at + 1] << 8) | (ring[at + 2] << 16) | (np.uint32(ring[at + 3]) << 24)
        )
        sec = (
            np.int64(ring[at + 4])
            | (np.int64(ring[at + 5]) << 8)
            | (np.int64(ring[at + 6]) << 16)
            | (np.int64(ring[at + 7]) << 24)
        )
        nsec = (
            np.int64(ring[at + 8])
            | (np.int64(ring[at + 9]) << 8)
            | (np.int64(ring[at + 10]) << 16)
            | (np.int64(ring[at + 11]) << 24)
        )
        snap = (
            np.uint32(ring[at + 12])
            | (np.uint32(ring[at + 13]) << 8)
            | (np.uint32(ring[at + 14]) << 16)
            | (np.uint32(ring[at + 15]) << 24)
        )
        length = (
            np.uint32(ring[at + 16])
            | (np.uint32(ring[at + 17]) << 8)
            | (np.uint32(ring[at + 18]) << 16)
            | (np.uint32(ring[at + 19]) << 24)
        )
        mac = np.int64(ring[at + 24]) | (np.int64(ring[at + 25]) << 8)
        offset[i] = at + mac
        caplen[i] = snap
        wirelen[i] = length
        ts_ns[i] = sec * 1_000_000_000 + nsec
        if nxt == 0:
            return i + 1
        at += nxt
    return count


class LiveCapture:
    """Frames arriving on ``interface``, as PacketBatches (one per filled ring block)."""

    def __init__(
        self,
        interface: str,
        prefixes: list[str] | None = None,
        *,
        block_size: int = 1 << 22,
        blocks: int = 64,
        timeout_ms: int = 100,
    ) -> None:
        self.interface = interface
        self.sock = socket.socket(socket.AF_PACKET, socket.SOCK_RAW, socket.htons(_ETH_P_ALL))
        try:
            if prefixes:  # before bind: no frame reaches the ring unfiltered
                attach_filter(self.sock, prefixes)
            self.sock.setsockopt(_SOL_PACKET, _PACKET_VERSION, _TPACKET_V3)
            req = _Req3(block_size, blocks, 2048, block_size // 2048 * blocks, timeout_ms, 0, 0)
            self.sock.setsockopt(_SOL_PACKET, _PACKET_RX_RING, bytes(req))
            self.sock.bind((interface, _ETH_P_ALL))
        except OSError:
            self.sock.close()
            raise
        self.block_size, self.blocks = block_size, blocks
        self.ring_map = mmap.mmap(self.sock.fileno(), block_size * blocks, mmap.MAP_SHARED)
        self.ring = np.frombuffer(self.ring_map, dtype=np.uint8)
        self.current = 0
        self.drops = 0
        self.packets = 0

    def statistics(self) -> tuple[int, int]:
        """(packets, drops) the kernel counted since the last call (it resets them)."""
        raw = self.sock.getsockopt(_SOL_PACKET, _PACKET_STATISTICS, 12)
        packets, drops, _ = struct.unpack("III", raw)
        self.packets += packets
        self.drops += drops
        return packets, drops

    def batches(self, wait_ms: int = 200) -> Iterator[PacketBatch]:
        """Batches of the blocks the kernel has handed over (waits up to ``wait_ms``)."""
        poller = select.poll()
        poller.register(self.sock.fileno(), select.POLLIN | select.POLLERR)
        start = self.current * self.block_size
        if not self.ring[start + 8] & _TP_STATUS_USER:  # block_status, low byte
            poller.poll(wait_ms)
        while True:
            start = self.current * self.block_size
            status = int.from_bytes(self.ring[start + 8 : start + 12].tobytes(), "little")
            if not status & _TP_STATUS_USER:
                return
            count = int.from_bytes(self.ring[start + 12 : start + 16].tobytes(), "little")
            first = int.from_bytes(self.ring[start + 16 : start + 20].tobytes(), "little")
            if count:
                offset = np.empty(count, np.int64)
                caplen = np.empty(count, np.uint32)
                wirelen = np.empty(count, np.uint32)
                ts_ns = np.empty(count, np.int64)
                n = _walk_block(self.ring, start, count, first, offset, caplen, wirelen, ts_ns)
                block = self.ring[start : start + self.block_size].copy()
                yield PacketBatch(
                    data=block,
                    offset=offset[:n] - start,
                    caplen=caplen[:n],
                    wirelen=wirelen[:n],
                    ts_ns=ts_ns[:n],
                    linktype=np.full(n, _LINKTYPE_ETHERNET, np.uint16),
                    first_number=1,
                )
            self.ring[start + 8 : start + 12] = 0  # back to the kernel (TP_STATUS_KERNEL)
            self.current = (self.current + 1) % self.blocks

    def close(self) -> None:
        del self.ring
        self.ring_map.close()
        self.sock.close()


def in_prefixes(dst: np.ndarray, prefixes: list[str]) -> np.ndarray:
    """Mask of 16-byte destination addresses inside any of ``prefixes`` (IPv4 or IPv6)."""
    keep = np.zeros(len(dst), bool)
    for text in prefixes:
        net = ipaddress.ip_network(text)
        if net.version == 4:
            value = int(ipaddress.IPv6Address(f"::ffff:{net.network_address}"))
            length = 96 + net.prefixlen
        else:
            value, length = int(net.network_address), net.prefixlen
        want = np.frombuffer(value.to_bytes(16, "big"), np.uint8)
        whole, bits = divmod(length, 8)
        match = (dst[:, :whole] == want[:whole]).all(axis=1)
        if bits:
            mask = np.uint8((0xFF << (8 - bits)) & 0xFF)
            match &= (dst[:, whole] & mask) == want[whole]
        keep |= match
    return keep
