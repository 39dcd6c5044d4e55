"""Decode-rate measurement on synthetic SYN probes, shared by tests and benchmarks."""

from __future__ import annotations

import time

import numpy as np

from teiten.capture.batch import PacketBatch
from teiten.capture.linktypes import LINKTYPE_ETHERNET
from teiten.decode.packets import decode_batch

__all__ = ["measure_decode_rate", "synthetic_syn_batch"]

# 60-byte Ethernet frame: IPv4 (TTL 243, id 54321) TCP SYN 40000 -> 23, no options,
# window 1024, then 6 bytes of link padding — a typical Mirai-style probe.
_SYN_FRAME = bytes.fromhex(
    "0200000000010200000000020800"  # Ethernet: dst, src, IPv4
    "45000028d4310000f3060000c6336401cb007101"  # IPv4: 198.51.100.1 -> 203.0.113.1
    "9c40001712345678000000005002040000000000"  # TCP: SYN, window 1024
    "000000000000"  # padding to 60 bytes
)


def synthetic_syn_batch(n: int, *, seed: int = 0) -> PacketBatch:
    """``n`` 60-byte Ethernet/IPv4/TCP SYN packets with random sources and ports."""
    rng = np.random.default_rng(seed)
    frames = np.tile(np.frombuffer(_SYN_FRAME, dtype=np.uint8), (n, 1))
    frames[:, 26:30] = rng.integers(0, 256, size=(n, 4), dtype=np.uint8)  # source address
    frames[:, 34:38] = rng.integers(0, 256, size=(n, 4), dtype=np.uint8)  # ports
    size = len(_SYN_FRAME)
    return PacketBatch(
        data=frames.reshape(-1),
        offset=np.arange(n, dtype=np.int64) * size,
        caplen=np.full(n, size, dtype=np.uint32),
        wirelen=np.full(n, size, dtype=np.uint32),
        ts_ns=np.arange(n, dtype=np.int64) * 1000 + 1_700_000_000_000_000_000,
        linktype=np.full(n, LINKTYPE_ETHERNET, dtype=np.uint16),
        first_number=1,
    )


def measure_decode_rate(n: int = 1_000_000, *, repeats: int = 5) -> float:
    """Packets per second :func:`decode_batch` sustains on one core (best of ``repeats``).

    Decodes a small batch first so JIT compilation (or loading the cached
    machine code) is not timed; output allocation is timed, as in real ingest.
    """
    decode_batch(synthetic_syn_batch(16))
    batch = synthetic_syn_batch(n)
    best = float("inf")
    for _ in range(repeats):
        started = time.perf_counter()
        decode_batch(batch)
        best = min(best, time.perf_counter() - started)
    return n / best
