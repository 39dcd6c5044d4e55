"""Per-client token buckets: ``burst`` requests at once, then ``per_minute`` on average.

A client's bucket holds up to ``burst`` requests and refills continuously at
``per_minute / 60`` a second; a request takes one, or is refused with the time
until one is back (the caller's ``Retry-After``, rounded up). Memory is bounded:
past ``max_clients`` buckets, those full again are forgotten (a forgotten client
starts full, as it would be), then, if that is not enough, the longest unseen.
"""

from __future__ import annotations

import threading
import time
from collections import OrderedDict
from collections.abc import Callable

__all__ = ["MAX_CLIENTS", "RateLimiter"]

MAX_CLIENTS = 10_000
# A bucket this close to one request holds one: refills over float seconds round.
_EPSILON = 1e-9


class RateLimiter:
    """Token buckets by client key (an address, a token name); safe to share between threads."""

    def __init__(
        self,
        per_minute: int,
        burst: int,
        clock: Callable[[], float] = time.monotonic,
        *,
        max_clients: int = MAX_CLIENTS,
    ) -> None:
        if per_minute < 1 or burst < 1 or max_clients < 1:
            raise ValueError(
                f"rate limit needs per_minute, burst and max_clients >= 1, not "
                f"{per_minute}, {burst}, {max_clients}"
            )
        self.per_second = per_minute / 60
        self.burst = burst
        self.max_clients = max_clients
        self._clock = clock
        self._lock = threading.Lock()
        # client -> (requests left, when counted); least recently seen first
        self._buckets: OrderedDict[str, tuple[float, float]] = OrderedDict()

    def __len__(self) -> int:
        """How many clients' buckets are held."""
        return len(self._buckets)

    def take(self, client: str) -> float:
        """0.0 if ``client`` may make a request now (and count it), else the seconds
        until it may (the request is then not counted)."""
        with self._lock:
            now = self._clock()
            left = self._left(client, now)
            if left >= 1 - _EPSILON:
                wait, left = 0.0, max(left - 1, 0.0)
            else:
                wait = (1 - left) / self.per_second
            self._buckets[client] = (left, now)
            self._buckets.move_to_end(client)
            if len(self._buckets) > self.max_clients:
                self._prune(now)
            return wait

    def _left(self, client: str, now: float) -> float:
        bucket = self._buckets.get(client)
        if bucket is None:
            return float(self.burst)
        left, then = bucket
        return min(float(self.burst), left + max(now - then, 0.0) * self.per_second)

    def _prune(self, now: float) -> None:
        """Forget full buckets; if too many clients are still held, the least recently
        seen down to 90 % of the limit (so pruning is not redone for every new client)."""
        full = [c for c in self._buckets if self._left(c, now) >= self.burst - _EPSILON]
        for client in full:
            del self._buckets[client]
        keep = self.max_clients - self.max_clients // 10
        while len(self._buckets) > keep:
            self._buckets.popitem(last=False)
