"""A day's rollup rows as they are counted, in the hash tables of
:mod:`teiten.store._rollup_kernel`, which grow here as needed, up to a limit of rows.
"""

from __future__ import annotations

import mmap
from typing import NamedTuple

import numpy as np

from teiten.store._rollup_kernel import (
    BLOCK,
    EMPTY,
    IPV4_MAPPED,
    SOURCE_MASK,
    WORDS,
    add_packets,
    add_rows,
    add_values,
    kind_order,
    rehash,
    unpack,
)

__all__ = [
    "AddressSet",
    "Columns",
    "DayCounts",
    "PacketColumns",
    "Table",
    "columns",
    "empty_columns",
    "kind_order",
]

_START = 1 << 12  # rows a table has room for at first


class Columns(NamedTuple):
    """Counted rows as columns (:func:`~teiten.store._rollup_kernel.unpack`)."""

    sensor: np.ndarray  # codes
    kind: np.ndarray
    country: np.ndarray  # -1: NULL
    proto: np.ndarray
    value: np.ndarray  # the port or ICMP type
    has_port: np.ndarray
    has_icmp_type: np.ndarray
    asn: np.ndarray
    has_asn: np.ndarray
    tags: np.ndarray
    src: np.ndarray  # (n, 2) words
    packets: np.ndarray
    first: np.ndarray
    last: np.ndarray


class Table:
    """Rows being counted, as :mod:`~teiten.store._rollup_kernel` lays them out:
    ``rows[:n]``, at most ``capacity``, and their ``index``.

    ``room``: rows the memory is reserved for from the start (untouched until rows are
    written: it costs address space only), so that growing up to it only makes a new
    index — no copy of the rows, no fresh memory to fault in."""

    def __init__(self, capacity: int, room: int = 0) -> None:
        self.n = 0
        self._memory = _rows(max(capacity, room))
        self.rows = self._memory[:capacity]
        self.index = _index(capacity)

    @property
    def capacity(self) -> int:
        return int(self.rows.shape[0])

    def grow(self, capacity: int) -> None:
        """Make room for ``capacity`` rows."""
        if capacity > self._memory.shape[0]:
            memory = _rows(capacity)
            memory[: self.n] = self._memory[: self.n]
            self._memory = memory
        self.rows = self._memory[:capacity]
        self.index = _index(capacity)
        rehash(self.index, self.rows, self.n)

    def add(self, rows: np.ndarray, mask: int = -1) -> None:
        """Sum ``rows`` (their ``a`` word masked with ``mask``) in, growing as needed."""
        start, self.n = add_rows(self.index, self.rows, self.n, rows, 0, mask)
        while start < len(rows):
            self.grow(2 * self.capacity)
            start, self.n = add_rows(self.index, self.rows, self.n, rows, start, mask)

    def clear(self) -> None:
        """Forget every row (the memory stays, for the next rows)."""
        self.n = 0
        self.index.fill(EMPTY)


def _index(capacity: int) -> np.ndarray:
    """An empty index for ``capacity`` rows (at most half full)."""
    index = _memory(1 << (2 * capacity - 1).bit_length(), np.int32)
    index.fill(EMPTY)
    return index


def _rows(capacity: int) -> np.ndarray:
    """Room for rows (page-aligned, so on cache-line boundaries: a lookup reads one line
    of them)."""
    return _memory(capacity * WORDS, np.int64).reshape(capacity, WORDS)


def _memory(n: int, dtype: type[np.generic]) -> np.ndarray:
    """``n`` values' memory straight from the kernel, in plain pages, untouched until
    used. Not numpy's allocator: it asks for huge pages, and the kernel compacts memory
    to find them on first touch, which cost a fresh 20 M-packet rollup about 0.4 CPU-s
    of 2.5 on the bench machine — more than the TLB misses they save (none measured).
    With the rows reserved up front (:class:`Table`'s ``room``) instead of grown by
    doubling, a fresh rollup of the 20 M bench capture took 2.7–3.6 CPU-s against
    3.1–4.1 (three alternating runs each, 2026-12-06)."""
    return np.frombuffer(mmap.mmap(-1, max(n, 1) * np.dtype(dtype).itemsize), dtype, n)


def columns(rows: np.ndarray, order: np.ndarray, into: Columns) -> Columns:
    """The counted ``rows`` ``order`` as columns, written into ``into`` (reused from one
    call to the next: memory already in use costs no page faults)."""
    unpack(rows, order, *into)
    return Columns(*(column[: len(order)] for column in into))


def empty_columns(n: int) -> Columns:
    """Room for ``n`` rows as :class:`Columns`."""
    return Columns(
        sensor=np.empty(n, np.int32),
        kind=np.empty(n, np.int32),
        country=np.empty(n, np.int32),
        proto=np.empty(n, np.uint8),
        value=np.empty(n, np.uint16),
        has_port=np.empty(n, np.bool_),
        has_icmp_type=np.empty(n, np.bool_),
        asn=np.empty(n, np.uint32),
        has_asn=np.empty(n, np.bool_),
        tags=np.empty(n, np.uint32),
        src=np.empty((n, 2), np.int64),
        packets=np.empty(n, np.int64),
        first=np.empty(n, np.int64),
        last=np.empty(n, np.int64),
    )


class AddressSet:
    """The ``dsts`` set: IPv4 destinations as sensor code << 32 | address (at most half
    the slots full), and ``odd`` ones as (sensor code, first word, second word)."""

    def __init__(self, capacity: int) -> None:
        self.n = 0
        self.values = _set(capacity)
        self.odd: set[tuple[int, int, int]] = set()

    @property
    def capacity(self) -> int:
        return int(self.values.shape[0] // 2)

    def grow(self, capacity: int) -> None:
        """Make room for ``capacity`` values."""
        values = self.values[self.values != EMPTY]
        self.values = _set(capacity)
        add_values(self.values, values)

    def rows(self) -> np.ndarray:
        """(sensor code, first word, second word) of each address."""
        values = self.values[self.values != EMPTY]
        words = np.empty((len(values) + len(self.odd), 3), np.int64)
        words[: len(values), 0] = values >> 32
        words[: len(values), 1] = 0
        words[: len(values), 2] = (values & 0xFFFFFFFF) << 32 | IPV4_MAPPED
        if self.odd:
            words[len(values) :] = sorted(self.odd)
        return words

    def clear(self) -> None:
        """Forget every value (the memory stays, for the next ones)."""
        self.n = 0
        self.values.fill(EMPTY)
        self.odd.clear()


def _set(capacity: int) -> np.ndarray:
    """An empty set of ``capacity`` values (at most half full)."""
    values = _memory(1 << (2 * capacity - 1).bit_length(), np.int64)
    values.fill(EMPTY)
    return values


class PacketColumns(NamedTuple):
    """A batch of store rows as :func:`~teiten.store._rollup_kernel.add_packets` reads
    them (its arguments from ``sensor`` on)."""

    sensor: np.ndarray
    sensor_codes: np.ndarray
    kind: np.ndarray
    kind_codes: np.ndarray
    country: np.ndarray
    country_codes: np.ndarray
    country_bits: np.ndarray
    proto: np.ndarray
    port: np.ndarray
    port_bits: np.ndarray
    icmp_type: np.ndarray
    icmp_bits: np.ndarray
    asn: np.ndarray
    asn_bits: np.ndarray
    tags: np.ndarray
    src: np.ndarray
    dst: np.ndarray
    ip_version: np.ndarray
    micros: np.ndarray
    nanos: np.ndarray
    bit_offsets: np.ndarray


class DayCounts:
    """One day's rollup rows as they are counted: ``keys``, the ``sources`` summed from
    the keys rows handed over so far (:meth:`fold`), and the set of ``dsts``.

    Not thread-safe (the caller serialises). ``keys`` and ``dsts`` hold at most ``limit``
    rows (or 4,096, if that is more), ``sources`` twice that.
    """

    def __init__(self, limit: int, packets: int = 0) -> None:
        """``packets``: about how many will be added (the keys table starts that large,
        so that it seldom grows)."""
        self.limit = max(limit, 2 * BLOCK)
        self.keys = Table(min(max(2 * packets, _START), self.limit), room=self.limit)
        self.sources = Table(_START, room=2 * self.limit)
        self.dsts = AddressSet(_START)
        self._odd = np.empty(4 * BLOCK, np.int64)

    def add(self, columns: PacketColumns, start: int = 0) -> int:
        """Count the packets ``start:`` of ``columns``; returns where it stopped: at
        their end, or earlier when :attr:`full`."""
        end = len(columns.kind)
        k, d = self.keys, self.dsts
        while start < end:
            start, k.n, d.n, n_odd = add_packets(
                k.index, k.rows, k.n, d.values, d.n, self._odd, start, *columns
            )
            for i in self._odd[:n_odd]:
                code = int(columns.sensor_codes[columns.sensor[i]])
                d.odd.add((code, *columns.dst[i].tolist()))
            if start == end or self.full:
                break
            for table in (k, d):
                if table.n + BLOCK > table.capacity:
                    table.grow(min(2 * table.capacity, self.limit))
        return start

    @property
    def full(self) -> bool:
        """Whether ``keys`` or ``dsts`` is at its limit (it may not take another block)."""
        return self.keys.n + BLOCK > self.keys.capacity >= self.limit or self.dsts_full

    @property
    def dsts_full(self) -> bool:
        return self.dsts.n + BLOCK > self.dsts.capacity >= self.limit

    @property
    def sources_full(self) -> bool:
        """Whether ``sources`` holds ``limit`` rows (a fold may take it up to twice that)."""
        return self.sources.n >= self.limit

    def fold(self) -> None:
        """Sum the ``keys`` rows into ``sources`` (over proto, port and ICMP type)."""
        self.sources.add(self.keys.rows[: self.keys.n], SOURCE_MASK)
