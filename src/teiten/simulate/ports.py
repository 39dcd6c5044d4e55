"""Drawing ports from a behaviour's port table, vectorised."""

from __future__ import annotations

from functools import cache

import numpy as np

from teiten.simulate.behaviours import ANY_PORT, EPHEMERAL, Ports

__all__ = ["draw_ports", "ephemeral", "every_port"]


@cache
def _table(table: Ports) -> tuple[np.ndarray, np.ndarray, bool]:
    ports = np.array([p for p, _ in table], dtype=np.int32)
    cdf = np.cumsum([w for _, w in table], dtype=np.float64)
    return ports, cdf / cdf[-1], bool((ports == ANY_PORT).any())


def draw_ports(rng: np.random.Generator, table: Ports, n: int) -> np.ndarray:
    """``n`` ports (uint16) from ``((port, weight), ...)``; ``ANY_PORT`` is any of 1–65535."""
    ports, cdf, has_any = _table(table)
    if len(ports) == 1 and not has_any:
        return np.full(n, ports[0], dtype=np.uint16)
    pick = np.minimum(np.searchsorted(cdf, rng.random(n), side="right"), len(ports) - 1)
    out = ports[pick]
    if has_any:
        anywhere = np.flatnonzero(out == ANY_PORT)
        out[anywhere] = rng.integers(1, 65536, size=len(anywhere))
    return out.astype(np.uint16)


def ephemeral(rng: np.random.Generator, n: int) -> np.ndarray:
    """Random client ports (uint16): what backscatter answers, what clients send from."""
    return rng.integers(*EPHEMERAL, size=n, dtype=np.uint16)


def every_port(
    rng: np.random.Generator, table: Ports, rank: np.ndarray, offset: np.ndarray
) -> np.ndarray:
    """Ports of packets ``rank`` (0, 1, … per source): each port once first, then by weight.

    A source's first ``len(table)`` packets visit every port, from ``offset``
    (its own starting point) on; the rest draw from the table like ``draw_ports``.
    """
    out = draw_ports(rng, table, len(rank))
    ports = np.array([p for p, _ in table], dtype=np.uint16)
    first = np.flatnonzero(rank < len(ports))
    out[first] = ports[(rank[first] + offset[first].astype(np.int64)) % len(ports)]
    return out
