"""A compiled hash table from IPv4 address to (country, AS): the per-packet hot path.

Tagging looks every packet's source up in the answers already found; with a
hash table in numba that is a few nanoseconds a packet, instead of sorting each
chunk to deduplicate it. Only addresses the table has never seen go to the
database (once each).
"""

from __future__ import annotations

import numba
import numpy as np

__all__ = ["IPv4AnswerCache"]

_EMPTY = np.uint64(0)


@numba.njit(cache=True, nogil=True, inline="always")
def _slot(key: np.uint32, mask: int) -> int:
    # Fibonacci hashing: spreads consecutive addresses (one scanner's /24) over the table.
    return int((np.uint64(key) * np.uint64(0x9E3779B97F4A7C15)) >> np.uint64(40)) & mask


@numba.njit(cache=True, nogil=True)
def _probe(table_keys, table_vals, keys, out_vals, miss):  # type: ignore[no-untyped-def]
    mask = table_keys.shape[0] - 1
    for i in range(keys.shape[0]):
        key = keys[i]
        stored = np.uint64(key) + np.uint64(1)  # 0 marks an empty slot
        j = _slot(key, mask)
        while True:
            k = table_keys[j]
            if k == stored:
                out_vals[i] = table_vals[j]
                miss[i] = False
                break
            if k == 0:
                miss[i] = True
                break
            j = (j + 1) & mask


@numba.njit(cache=True, nogil=True)
def _insert(table_keys, table_vals, keys, vals) -> int:  # type: ignore[no-untyped-def]
    mask = table_keys.shape[0] - 1
    added = 0
    for i in range(keys.shape[0]):
        key = keys[i]
        stored = np.uint64(key) + np.uint64(1)
        j = _slot(key, mask)
        while True:
            k = table_keys[j]
            if k == 0:
                table_keys[j] = stored
                table_vals[j] = vals[i]
                added += 1
                break
            if k == stored:
                table_vals[j] = vals[i]
                break
            j = (j + 1) & mask
    return added


def _pack(country: np.ndarray, asn: np.ndarray, has_asn: np.ndarray) -> np.ndarray:
    """country (int16, -1 unknown), has_asn, asn → one uint64 per answer."""
    return (
        (asn.astype(np.uint64) << np.uint64(32))
        | (has_asn.astype(np.uint64) << np.uint64(16))
        | (country.astype(np.int64) + 1).astype(np.uint64)
    )


def _unpack(vals: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    country = (vals & np.uint64(0xFFFF)).astype(np.int32) - 1
    has_asn = ((vals >> np.uint64(16)) & np.uint64(1)).astype(bool)
    asn = (vals >> np.uint64(32)).astype(np.uint32)
    return country.astype(np.int16), asn, has_asn


class IPv4AnswerCache:
    """Open-addressing table (linear probing, load ≤ 1/2), cleared when ``limit`` is hit."""

    def __init__(self, limit: int, initial_slots: int = 1 << 16) -> None:
        self.limit = limit
        self._initial = initial_slots
        self.clear()

    def clear(self) -> None:
        self._keys = np.zeros(self._initial, np.uint64)
        self._vals = np.zeros(self._initial, np.uint64)
        self.size = 0

    def __len__(self) -> int:
        return self.size

    def probe(self, keys: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        """country, asn, has_asn of each key, and the mask of keys not in the table."""
        vals = np.zeros(keys.shape[0], np.uint64)
        miss = np.empty(keys.shape[0], bool)
        _probe(self._keys, self._vals, keys.astype(np.uint32, copy=False), vals, miss)
        return (*_unpack(vals), miss)

    def add(
        self, keys: np.ndarray, country: np.ndarray, asn: np.ndarray, has_asn: np.ndarray
    ) -> None:
        """Remember answers for distinct keys."""
        if self.size + len(keys) > self.limit:
            self.clear()
            if len(keys) > self.limit:
                return
        needed = 2 * (self.size + len(keys))
        if needed > self._keys.shape[0]:
            self._grow(needed)
        vals = _pack(country, asn, has_asn)
        self.size += _insert(self._keys, self._vals, keys.astype(np.uint32, copy=False), vals)

    def _grow(self, needed: int) -> None:
        slots = self._keys.shape[0]
        while slots < needed:
            slots *= 2
        old_keys, old_vals = self._keys, self._vals
        used = old_keys != 0
        self._keys = np.zeros(slots, np.uint64)
        self._vals = np.zeros(slots, np.uint64)
        keys = (old_keys[used] - np.uint64(1)).astype(np.uint32)
        _insert(self._keys, self._vals, keys, old_vals[used])
