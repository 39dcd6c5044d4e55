"""The rollup kernels: packets counted into hash tables, in nopython mode.

A ``keys`` or ``sources`` row is eight 64-bit words, one cache line: its key — ``a``
packing the small columns (layout below), ``b`` = tags << 32 | asn, and the source
address as two words (in memory order: written back, they are the same 16 bytes) —
then ``packets``, ``first`` and ``last`` (ns since the epoch). A table is its rows,
dense, and an index of row numbers (a power of two, at most half full, -1: empty)
searched linearly from a slot given by the key's hash. The ``dsts`` set holds one
word per IPv4 destination, sensor code << 32 | address, searched the same way. The
kernels never grow a table: they stop where it might run out of room, and the caller
(:mod:`teiten.store.rollup_counts`) grows it and calls again.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import cast

import numba
import numpy as np
from llvmlite import ir  # type: ignore[import-untyped]
from numba import types
from numba.core import cgutils
from numba.extending import intrinsic

# Word ``a``, from its lowest bit: the port or ICMP type (16), that value is NULL (1),
# asn is NULL (1), proto (8), country code + 1 (16; 0: NULL), sensor code (16), kind
# code (6). Kind is on top, so sorting by ``a`` puts a traffic kind's rows together.
L4_NULL = 1 << 16
ASN_NULL = 1 << 17
PROTO_SHIFT = 18
COUNTRY_SHIFT = 26
SENSOR_SHIFT = 42
KIND_SHIFT = 58
MAX_CODE = {"sensor": 1 << 16, "kind": 1 << 6, "country": (1 << 16) - 1}
SOURCE_MASK = ~((1 << COUNTRY_SHIFT) - 1) | ASN_NULL  # ``a`` without proto, port, type
KEY, PACKETS, FIRST, LAST = 0, 4, 5, 6  # a row's words: its key is KEY..KEY+3
# The second word of an IPv4 address ::ffff:a.b.c.d, read as a little-endian int64, is
# a.b.c.d << 32 | IPV4_MAPPED (the first is 0).
IPV4_MAPPED = 0xFFFF0000
BLOCK = 32  # packets whose memory reads overlap (add_packets)

WORDS = 8  # of a row
EMPTY = -1
_M1 = np.uint64(0x9E3779B97F4A7C15)
_M2 = np.uint64(0xC2B2AE3D27D4EB4F)
_M3 = np.uint64(0x165667B19E3779F9)
_M4 = np.uint64(0xD6E8FEB86659FD93)


@intrinsic
def _prefetch_line(typingctx, array, i):  # type: ignore[no-untyped-def]
    """Start reading the cache line of ``array``'s ``i``-th element (flat, C order) and
    go on: lookups of a block of keys then wait for memory once, not once each."""

    def codegen(context, builder, signature, args):  # type: ignore[no-untyped-def]
        data = context.make_array(signature.args[0])(context, builder, args[0]).data
        byte = ir.IntType(8).as_pointer()
        at = builder.bitcast(builder.gep(data, [args[1]]), byte)
        i32 = ir.IntType(32)
        fn = cgutils.get_or_insert_function(
            builder.module,
            ir.FunctionType(ir.VoidType(), [byte, i32, i32, i32]),
            "llvm.prefetch.p0",
        )
        builder.call(fn, [at, i32(0), i32(3), i32(1)])  # read, keep in all caches, data
        return context.get_dummy_value()

    return types.void(array, i), codegen


# How the kernels call it (the typing context is numba's, not an argument).
_prefetch = cast("Callable[[np.ndarray, int], None]", _prefetch_line)


@numba.njit(cache=True, nogil=True, inline="always")
def _home(mask: int, k0: int, k1: int, k2: int, k3: int) -> int:
    """The slot (of ``mask`` + 1) a key's search starts at."""
    h = (
        numba.uint64(k0) * _M1
        ^ numba.uint64(k1) * _M2
        ^ numba.uint64(k2) * _M3
        ^ numba.uint64(k3) * _M4
    )
    h ^= h >> np.uint64(29)
    h *= _M1
    return int(numba.int64(h >> np.uint64(32)) & mask)


@numba.njit(cache=True, nogil=True, inline="always")
def _count(
    index: np.ndarray,
    rows: np.ndarray,
    n: int,
    slot: int,
    key: np.ndarray,
    packets: int,
    first: int,
    last: int,
) -> int:
    """Sum a row into the table of ``n`` rows, searching from ``slot``; returns its new
    size."""
    mask = index.shape[0] - 1
    while True:
        row = index[slot]
        if row == EMPTY:
            index[slot] = n
            rows[n, 0], rows[n, 1], rows[n, 2], rows[n, 3] = key[0], key[1], key[2], key[3]
            rows[n, PACKETS], rows[n, FIRST], rows[n, LAST] = packets, first, last
            return n + 1
        if (
            rows[row, 0] == key[0]
            and rows[row, 1] == key[1]
            and rows[row, 2] == key[2]
            and rows[row, 3] == key[3]
        ):
            rows[row, PACKETS] += packets
            rows[row, FIRST] = min(rows[row, FIRST], first)
            rows[row, LAST] = max(rows[row, LAST], last)
            return n
        slot = (slot + 1) & mask


@numba.njit(cache=True, nogil=True, inline="always")
def _add(values: np.ndarray, value: int) -> int:
    """Add ``value`` (≥ 0) to the set ``values`` (-1: empty); returns 1 if it is new."""
    mask = values.shape[0] - 1
    slot = _home(mask, value, 0, 0, 0)
    while values[slot] != value:
        if values[slot] == EMPTY:
            values[slot] = value
            return 1
        slot = (slot + 1) & mask
    return 0


@numba.njit(cache=True, nogil=True)
def rehash(index: np.ndarray, rows: np.ndarray, n: int) -> None:
    """Fill the (new, larger) ``index`` with the rows ``rows[:n]``."""
    index[:] = EMPTY
    mask = index.shape[0] - 1
    homes = np.empty(BLOCK, np.int64)
    for start in range(0, n, BLOCK):
        m = min(BLOCK, n - start)
        for j in range(m):
            r = start + j
            homes[j] = _home(mask, rows[r, 0], rows[r, 1], rows[r, 2], rows[r, 3])
            _prefetch(index, homes[j])
        for j in range(m):
            slot = homes[j]
            while index[slot] != EMPTY:
                slot = (slot + 1) & mask
            index[slot] = start + j


@numba.njit(cache=True, nogil=True)
def add_rows(
    index: np.ndarray, rows: np.ndarray, n: int, more: np.ndarray, start: int, mask: int
) -> tuple[int, int]:
    """Sum the rows ``more[start:]`` (their ``a`` word masked with ``mask``) into a table
    of ``n`` rows; returns where it stopped (the end, or a block that might not fit) and
    its new size. Blocks as in :func:`add_packets`."""
    keys = np.empty((BLOCK, 4), np.int64)
    homes = np.empty(BLOCK, np.int64)
    imask = index.shape[0] - 1
    i = start
    while i < more.shape[0] and n + BLOCK <= rows.shape[0]:
        m = min(BLOCK, more.shape[0] - i)
        for j in range(m):
            r = i + j
            keys[j, 0], keys[j, 1] = more[r, 0] & mask, more[r, 1]
            keys[j, 2], keys[j, 3] = more[r, 2], more[r, 3]
            homes[j] = _home(imask, keys[j, 0], keys[j, 1], keys[j, 2], keys[j, 3])
            _prefetch(index, homes[j])
        for j in range(m):
            _prefetch(rows, max(index[homes[j]], 0) * WORDS)
        for j in range(m):
            r = i + j
            n = _count(
                index, rows, n, homes[j], keys[j], more[r, PACKETS], more[r, FIRST], more[r, LAST]
            )
        i += m
    return i, n


@numba.njit(cache=True, nogil=True)
def add_values(values: np.ndarray, more: np.ndarray) -> None:
    """Add the values ``more`` (≥ 0) to a set with room for them all."""
    for value in more:
        _add(values, value)


@numba.njit(cache=True, nogil=True, inline="always")
def _valid(bits: np.ndarray, offset: int, i: int) -> bool:
    """Arrow's validity bitmap (empty: no NULLs)."""
    if bits.shape[0] == 0:
        return True
    j = offset + i
    return (bits[j >> 3] >> (j & 7)) & 1 == 1


@numba.njit(cache=True, nogil=True)
def add_packets(
    index: np.ndarray,
    rows: np.ndarray,
    n: int,
    dsts: np.ndarray,
    dn: int,
    odd: np.ndarray,
    start: int,
    sensor: np.ndarray,
    sensor_codes: np.ndarray,
    kind: np.ndarray,
    kind_codes: np.ndarray,
    country: np.ndarray,
    country_codes: np.ndarray,
    country_bits: np.ndarray,
    proto: np.ndarray,
    port: np.ndarray,
    port_bits: np.ndarray,
    icmp_type: np.ndarray,
    icmp_bits: np.ndarray,
    asn: np.ndarray,
    asn_bits: np.ndarray,
    tags: np.ndarray,
    src: np.ndarray,
    dst: np.ndarray,
    ip_version: np.ndarray,
    micros: np.ndarray,
    nanos: np.ndarray,
    bit_offsets: np.ndarray,
) -> tuple[int, int, int, int]:
    """Count packets ``start:`` into the ``keys`` table (``index``, ``rows``: ``n`` of
    them) and their IPv4 destinations into the ``dsts`` set (``dn`` values); an IPv4
    destination that is not ``::ffff:a.b.c.d`` (none, as teiten writes them) goes to
    ``odd`` instead, as the packet's number. Categorical columns come as dictionary
    indices and this table's codes of their values; ``bit_offsets`` are the validity
    bitmaps' offsets (country, port, icmp_type, asn). Returns where it stopped (the
    end, or a block that might not fit), both tables' new sizes and how many packets it
    put in ``odd``.

    A block of packets at a time: their keys and slots first, prefetching each slot
    (then each row it names), so that the memory reads of a block overlap; then the
    counting, from the cache.
    """
    keys = np.empty((BLOCK, 4), np.int64)
    homes = np.empty(BLOCK, np.int64)
    times = np.empty(BLOCK, np.int64)
    values = np.empty(BLOCK, np.int64)
    mask, dmask = index.shape[0] - 1, dsts.shape[0] - 1
    n_odd = 0
    i = start
    while i < kind.shape[0]:
        if n + BLOCK > rows.shape[0] or 2 * (dn + BLOCK) > dsts.shape[0]:
            break
        if n_odd + BLOCK > odd.shape[0]:
            break
        m = min(BLOCK, kind.shape[0] - i)
        nd = 0
        for j in range(m):
            p = numba.int64(proto[i])
            if p == 1 or p == 58:
                has_l4 = _valid(icmp_bits, bit_offsets[2], i)
                l4 = numba.int64(icmp_type[i]) if has_l4 else 0
            else:
                has_l4 = _valid(port_bits, bit_offsets[1], i)
                l4 = numba.int64(port[i]) if has_l4 else 0
            a = l4 | (0 if has_l4 else L4_NULL) | p << PROTO_SHIFT
            if _valid(country_bits, bit_offsets[0], i):
                a |= (numba.int64(country_codes[country[i]]) + 1) << COUNTRY_SHIFT
            s = numba.int64(sensor_codes[sensor[i]])
            a |= s << SENSOR_SHIFT | numba.int64(kind_codes[kind[i]]) << KIND_SHIFT
            b = numba.int64(tags[i]) << 32
            if _valid(asn_bits, bit_offsets[3], i):
                b |= numba.int64(asn[i])
            else:
                a |= ASN_NULL
            keys[j, 0], keys[j, 1], keys[j, 2], keys[j, 3] = a, b, src[i, 0], src[i, 1]
            times[j] = micros[i] * 1000 + numba.int64(nanos[i])
            homes[j] = _home(mask, a, b, src[i, 0], src[i, 1])
            _prefetch(index, homes[j])
            if ip_version[i] == 4:
                if dst[i, 0] == 0 and dst[i, 1] & 0xFFFFFFFF == IPV4_MAPPED:
                    values[nd] = s << 32 | numba.int64(numba.uint64(dst[i, 1]) >> np.uint64(32))
                    _prefetch(dsts, _home(dmask, values[nd], 0, 0, 0))
                    nd += 1
                else:
                    odd[n_odd] = i
                    n_odd += 1
            i += 1
        for j in range(m):
            _prefetch(rows, max(index[homes[j]], 0) * WORDS)
        for j in range(m):
            n = _count(index, rows, n, homes[j], keys[j], 1, times[j], times[j])
        for j in range(nd):
            dn += _add(dsts, values[j])
    return i, n, dn, n_odd


@numba.njit(cache=True, nogil=True)
def kind_order(rows: np.ndarray) -> np.ndarray:
    """Row numbers that put one traffic kind's rows together (in kind code order)."""
    starts = np.zeros((1 << (64 - KIND_SHIFT)) + 1, np.int64)
    for i in range(rows.shape[0]):
        starts[(numba.uint64(rows[i, 0]) >> np.uint64(KIND_SHIFT)) + 1] += 1
    starts = np.cumsum(starts)
    order = np.empty(rows.shape[0], np.int64)
    for i in range(rows.shape[0]):
        k = numba.uint64(rows[i, 0]) >> np.uint64(KIND_SHIFT)
        order[starts[k]] = i
        starts[k] += 1
    return order


@numba.njit(cache=True, nogil=True)
def unpack(
    rows: np.ndarray,
    order: np.ndarray,
    sensor: np.ndarray,
    kind: np.ndarray,
    country: np.ndarray,
    proto: np.ndarray,
    value: np.ndarray,
    has_port: np.ndarray,
    has_icmp_type: np.ndarray,
    asn: np.ndarray,
    has_asn: np.ndarray,
    tags: np.ndarray,
    src: np.ndarray,
    packets: np.ndarray,
    first: np.ndarray,
    last: np.ndarray,
) -> None:
    """The rows ``order`` as columns, into the first ``len(order)`` values of the arrays
    given (:class:`teiten.store.rollup_counts.Columns`; ``country`` -1: NULL)."""
    for j in range(order.shape[0]):
        i = order[j]
        a, b = numba.uint64(rows[i, 0]), numba.uint64(rows[i, 1])
        kind[j] = a >> np.uint64(KIND_SHIFT)
        sensor[j] = (a >> np.uint64(SENSOR_SHIFT)) & 0xFFFF
        country[j] = numba.int64((a >> np.uint64(COUNTRY_SHIFT)) & 0xFFFF) - 1
        p = (a >> np.uint64(PROTO_SHIFT)) & 0xFF
        proto[j] = p
        value[j] = a & 0xFFFF
        icmp = p == 1 or p == 58
        has_value = a & L4_NULL == 0
        has_port[j] = has_value and not icmp
        has_icmp_type[j] = has_value and icmp
        asn[j] = b & 0xFFFFFFFF
        has_asn[j] = a & ASN_NULL == 0
        tags[j] = b >> np.uint64(32)
        src[j, 0], src[j, 1] = rows[i, 2], rows[i, 3]
        packets[j], first[j], last[j] = rows[i, PACKETS], rows[i, FIRST], rows[i, LAST]
