"""Is every destination of a batch inside its sensor's registered prefixes?

Addresses are the store's 16-byte form (IPv4 as ``::ffff:a.b.c.d``), so an IPv4
``/p`` is the 16-byte prefix ``::ffff:0:0/96 + p``. Each address is read as two
big-endian 64-bit halves and compared with each prefix under its mask: a few
vectorised passes per batch, whatever its size.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable

import numpy as np

__all__ = ["PrefixSet"]

_ALL = (1 << 64) - 1


def _halves(value: int) -> tuple[np.uint64, np.uint64]:
    return np.uint64(value >> 64), np.uint64(value & _ALL)


class PrefixSet:
    """Registered prefixes (IPv4 and IPv6) of one sensor, as 128-bit masks."""

    def __init__(self, prefixes: Iterable[str]) -> None:
        self._nets: list[tuple[np.uint64, np.uint64, np.uint64, np.uint64]] = []
        for text in prefixes:
            net = ipaddress.ip_network(text, strict=False)
            if net.version == 4:
                value = int(ipaddress.IPv6Address(f"::ffff:{net.network_address}"))
                length = 96 + net.prefixlen
            else:
                value, length = int(net.network_address), net.prefixlen
            mask = ((1 << length) - 1) << (128 - length) if length else 0
            self._nets.append((*_halves(value & mask), *_halves(mask)))

    def __len__(self) -> int:
        return len(self._nets)

    def inside(self, addrs: np.ndarray) -> np.ndarray:
        """Bool per row of ``addrs`` (uint8[n, 16]): inside at least one prefix."""
        halves = np.ascontiguousarray(addrs, dtype=np.uint8).view(">u8").astype(np.uint64)
        hi, lo = halves[:, 0], halves[:, 1]
        found = np.zeros(len(hi), dtype=bool)
        for net_hi, net_lo, mask_hi, mask_lo in self._nets:
            found |= ((hi & mask_hi) == net_hi) & ((lo & mask_lo) == net_lo)
        return found

    def outside_count(self, addrs: np.ndarray) -> int:
        """How many rows of ``addrs`` lie outside every prefix."""
        return int(len(addrs) - np.count_nonzero(self.inside(addrs)))
