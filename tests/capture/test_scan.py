"""The kernels alone: whatever the bytes, outputs stay inside the scanned range."""

from __future__ import annotations

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from teiten.capture.scan import (
    BAD_TS,
    BLOCK,
    CORRUPT,
    FULL,
    NEED_MORE,
    SPLIT,
    SWAP_ALWAYS,
    SWAP_IF_CAPLEN_LARGER,
    SWAP_NEVER,
    scan_pcap,
    scan_pcapng,
)

from . import _captures as build

KERNEL = settings(max_examples=300, deadline=None)


def _outputs(capacity: int) -> tuple[np.ndarray, ...]:
    return (
        np.full(capacity, -1, np.int64),
        np.zeros(capacity, np.uint32),
        np.zeros(capacity, np.uint32),
        np.zeros(capacity, np.int64),
    )


def _check(n: int, pos: int, start: int, end: int, offset, caplen) -> None:
    assert start <= pos <= end
    assert (offset[:n] >= start).all()
    assert (offset[:n] + caplen[:n] <= end).all()


@KERNEL
@given(
    data=st.binary(max_size=600),
    start=st.integers(0, 40),
    big=st.booleans(),
    swap=st.sampled_from([SWAP_NEVER, SWAP_ALWAYS, SWAP_IF_CAPLEN_LARGER]),
    max_caplen=st.sampled_from([0, 64, 262144, 1 << 32]),
    capacity=st.integers(1, 8),
)
def test_pcap_kernel_stays_in_bounds(data, start, big, swap, max_caplen, capacity) -> None:
    buf = np.frombuffer(data + bytes(64), np.uint8).copy()  # slack past end must not be read
    end = len(data)
    start = min(start, end)
    offset, caplen, wirelen, ts = _outputs(capacity)
    n, pos, status, _, _ = scan_pcap(
        buf, start, end, big, swap, 1000, 10**6, max_caplen, offset, caplen, wirelen, ts
    )
    assert status in (NEED_MORE, FULL, CORRUPT) and 0 <= n <= capacity
    _check(n, pos, start, end, offset, caplen)


@KERNEL
@given(
    data=st.binary(max_size=600),
    prefix=st.sampled_from([b"", build.epb(0, 1, b"abc"), build.spb(b"abcdef")]),
    big=st.booleans(),
    n_if=st.integers(0, 3),
    ok=st.lists(st.booleans(), min_size=3, max_size=3),
    shift=st.sampled_from([-1, 0, 20, 63]),
    capacity=st.integers(1, 8),
)
def test_pcapng_kernel_stays_in_bounds(data, prefix, big, n_if, ok, shift, capacity) -> None:
    data = prefix + data
    buf = np.frombuffer(data + bytes(64), np.uint8).copy()
    offset, caplen, wirelen, ts = _outputs(capacity)
    linktype = np.zeros(capacity, np.uint16)
    skipped = np.zeros(3, np.int64)
    n, pos, status, seen, need, *_ = scan_pcapng(
        buf,
        0,
        len(data),
        big,
        n_if,
        np.array([1, 9, 101], np.uint16),
        np.array(ok, np.bool_),
        np.array([1000, 1, 1], np.int64),
        np.array([1, 1, 1000], np.int64),
        np.full(3, shift, np.int64),
        np.array([1000.0, 1.0, 1e-3]) if shift < 0 else np.full(3, 1e9 / 2.0**shift),
        np.zeros(3, np.int64),
        np.array([0, 10, 65535], np.int64),
        skipped,
        1 << 26,
        offset,
        caplen,
        wirelen,
        ts,
        linktype,
    )
    assert status in (NEED_MORE, FULL, CORRUPT, BLOCK, SPLIT) and 0 <= n <= capacity
    assert seen == n + skipped.sum()
    assert ((ts[:n] >= 0) | (ts[:n] == BAD_TS)).all()  # never a wrapped, pre-epoch time
    assert status != NEED_MORE or need > len(data) - pos
    _check(n, pos, 0, len(data), offset, caplen)


def test_pcapng_kernel_splits_batches_at_skipped_packets() -> None:
    data = b"".join(build.epb(i % 2, i, b"x") for i in range(4))  # interface 1 unsupported
    buf = np.frombuffer(data, np.uint8).copy()
    offset, caplen, wirelen, ts = _outputs(8)
    skipped = np.zeros(2, np.int64)
    tables = (
        np.array([1, 9], np.uint16),
        np.array([True, False]),
        np.ones(2, np.int64),
        np.ones(2, np.int64),
        np.full(2, -1, np.int64),
        np.ones(2),
        np.zeros(2, np.int64),
        np.zeros(2, np.int64),
        skipped,
    )
    pos, runs = 0, []
    while pos < len(data):
        n, pos, status, seen, *_ = scan_pcapng(
            buf, pos, len(data), False, 2, *tables, 1 << 26, offset, caplen, wirelen, ts,
            np.zeros(8, np.uint16),
        )  # fmt: skip
        runs.append((n, seen, status))
    assert runs == [(1, 1, SPLIT), (1, 2, SPLIT), (0, 1, NEED_MORE)]
    assert skipped.tolist() == [0, 2]
