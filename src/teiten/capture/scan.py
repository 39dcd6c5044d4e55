"""Numba kernels that walk the record/block headers of a buffer in bulk.

A kernel starts at ``pos``, fills the output columns for every complete packet
it finds and stops at the first thing it cannot settle alone: the buffer ends
inside a record (``NEED_MORE``), the outputs are full (``FULL``), a header is
impossible (``CORRUPT``), or a pcapng block that changes the reader's state
starts (``BLOCK``: Section Header, Interface Description). Python handles those
rare cases and calls the kernel again, so no per-packet Python runs.

Every read is checked against ``end`` first: arbitrary bytes cannot make a
kernel read outside the buffer, and every emitted ``offset + caplen <= end``.
"""

from __future__ import annotations

import numba
import numpy as np

NEED_MORE = 0  # the record at pos is incomplete; ``need`` bytes from pos are wanted
FULL = 1  # the output columns are full
CORRUPT = 2  # the header at pos is impossible; ``code``/``v1``/``v2`` say why
BLOCK = 3  # pcapng: a Section Header or Interface Description Block starts at pos
SPLIT = 4  # pcapng: a packet to skip follows packets already emitted (ends the batch)

# Corruption codes (pcapng; pcap only ever reports CAPLEN_HUGE).
CAPLEN_HUGE = 1  # v1 = captured length, v2 = limit
LEN_SMALL = 2  # v1 = block total length, v2 = minimum for its type
LEN_ALIGN = 3  # v1 = block total length
LEN_HUGE = 4  # v1 = block total length, v2 = limit
TRAILER = 5  # v1 = leading total length, v2 = trailing total length
CAPLEN_BLOCK = 6  # v1 = captured length, v2 = block total length
INTERFACE = 7  # v1 = interface id, v2 = number of interfaces in the section

SWAP_NEVER = 0
SWAP_ALWAYS = 1
SWAP_IF_CAPLEN_LARGER = 2

PCAPNG_SHB = 0x0A0D0D0A
PCAPNG_IDB = 1
PCAPNG_OPB = 2  # obsolete Packet Block
PCAPNG_SPB = 3
PCAPNG_EPB = 6

_NS = 1_000_000_000


@numba.njit(cache=True, nogil=True, inline="always")
def _u32(buf: np.ndarray, p: int, big_endian: bool) -> int:
    if big_endian:
        return int(
            (np.int64(buf[p]) << 24)
            | (np.int64(buf[p + 1]) << 16)
            | (np.int64(buf[p + 2]) << 8)
            | np.int64(buf[p + 3])
        )
    return int(
        np.int64(buf[p])
        | (np.int64(buf[p + 1]) << 8)
        | (np.int64(buf[p + 2]) << 16)
        | (np.int64(buf[p + 3]) << 24)
    )


@numba.njit(cache=True, nogil=True, inline="always")
def _u16(buf: np.ndarray, p: int, big_endian: bool) -> int:
    if big_endian:
        return int((np.int64(buf[p]) << 8) | np.int64(buf[p + 1]))
    return int(np.int64(buf[p]) | (np.int64(buf[p + 1]) << 8))


@numba.njit(cache=True, nogil=True)
def scan_pcap(
    buf: np.ndarray,
    pos: int,
    end: int,
    big_endian: bool,
    swap: int,
    frac_ns: int,
    frac_limit: int,
    max_caplen: int,
    offset: np.ndarray,
    caplen: np.ndarray,
    wirelen: np.ndarray,
    ts_ns: np.ndarray,
) -> tuple[int, int, int, int, int]:
    """Classic pcap records from ``pos``: ``(n, pos, status, bad_fraction, caplen_gt_wirelen)``.

    A fraction at or above ``frac_limit`` (1e6 µs, 1e9 ns) is kept: the carry
    into seconds falls out of ``sec * 1e9 + frac * frac_ns``; it is only counted.
    ``swap`` is libpcap's rule for old files: ``SWAP_ALWAYS`` (before 2.3, the
    length fields were in the other order), ``SWAP_IF_CAPLEN_LARGER`` (2.3,
    written both ways) or ``SWAP_NEVER``.
    """
    n = 0
    bad_frac = 0
    cap_gt_wire = 0
    limit = offset.shape[0]
    status = FULL
    while n < limit:
        if end - pos < 16:
            status = NEED_MORE
            break
        sec = _u32(buf, pos, big_endian)
        frac = _u32(buf, pos + 4, big_endian)
        cap = _u32(buf, pos + 8, big_endian)
        wire = _u32(buf, pos + 12, big_endian)
        if swap == SWAP_ALWAYS or (swap == SWAP_IF_CAPLEN_LARGER and cap > wire):
            cap, wire = wire, cap
        if cap > max_caplen:
            status = CORRUPT
            break
        if end - pos - 16 < cap:
            status = NEED_MORE
            break
        offset[n] = pos + 16
        caplen[n] = cap
        wirelen[n] = wire
        ts_ns[n] = sec * _NS + frac * frac_ns
        if frac >= frac_limit:
            bad_frac += 1
        if cap > wire:
            cap_gt_wire += 1
        n += 1
        pos += 16 + cap
    return n, pos, status, bad_frac, cap_gt_wire


# Largest timestamp stored (ns since the epoch; int64 holds up to 2262-04-11), with a
# margin far above the float estimate's error. Earlier than the epoch is impossible too.
TS_LIMIT_NS = 9_200_000_000_000_000_000
BAD_TS = -1  # the timestamp of a packet whose time cannot be stored (decoded as skipped)


@numba.njit(cache=True, nogil=True, inline="always")
def _ticks_to_ns(hi: int, lo: int, mul: int, div: int, shift: int, scale: float, off: int) -> int:
    """Interface ticks (two u32 halves) to ns since the epoch, or ``BAD_TS``.

    ``10^-k`` resolutions come as ``mul/div``, ``2^-k`` as a shift; ``scale`` is the
    same factor as a float (NaN for an interface whose offset cannot be stored) and
    bounds the result before the exact integer arithmetic, which therefore never wraps.
    """
    ticks_f = np.float64(hi) * 4294967296.0 + np.float64(lo)
    base_f = ticks_f * scale
    total_f = base_f + np.float64(off)
    if not (0.0 <= base_f < TS_LIMIT_NS and 0.0 <= total_f < TS_LIMIT_NS):
        return BAD_TS
    ticks = (np.uint64(hi) << np.uint64(32)) | np.uint64(lo)
    if shift < 0:  # coarser than ns (mul > 1): the bound keeps ticks * mul inside int64
        base = np.int64(ticks // np.uint64(div)) if mul == 1 else np.int64(ticks) * mul
    elif shift == 0:
        base = np.int64(ticks) * _NS
    else:
        sec = np.int64(ticks >> np.uint64(shift))
        frac = np.int64(ticks & ((np.uint64(1) << np.uint64(shift)) - np.uint64(1)))
        k = shift
        if k > 32:  # keep frac * 1e9 inside int64; sub-ns bits are dropped anyway
            frac >>= k - 32
            k = 32
        base = sec * _NS + ((frac * _NS) >> k)
    return int(base + off)


@numba.njit(cache=True, nogil=True)
def scan_pcapng(
    buf: np.ndarray,
    pos: int,
    end: int,
    big_endian: bool,
    n_if: int,
    if_linktype: np.ndarray,
    if_ok: np.ndarray,
    if_mul: np.ndarray,
    if_div: np.ndarray,
    if_shift: np.ndarray,
    if_scale: np.ndarray,
    if_offset_ns: np.ndarray,
    if_snaplen: np.ndarray,
    if_skipped: np.ndarray,
    max_block: int,
    offset: np.ndarray,
    caplen: np.ndarray,
    wirelen: np.ndarray,
    ts_ns: np.ndarray,
    linktype: np.ndarray,
) -> tuple[int, int, int, int, int, int, int, int, int, int]:
    """pcapng blocks from ``pos``.

    Returns ``(n, pos, status, packets, need, code, v1, v2, caplen_gt_wirelen,
    simple_packets)``: ``packets`` counts emitted and skipped packet blocks;
    skipped ones (interface not ``if_ok``) are counted in ``if_skipped`` and
    only happen before the first emitted packet, so a batch's packets are
    consecutive in the file. A packet whose time cannot be stored (before the
    epoch, after 2262, or an interface offset out of range) gets ``BAD_TS``,
    which the decoder counts as a skip reason.
    """
    n = 0
    seen = 0
    need = 0
    code = 0
    v1 = 0
    v2 = 0
    cap_gt_wire = 0
    simple = 0
    limit = offset.shape[0]
    status = FULL
    while n < limit:
        if end - pos < 8:
            status = NEED_MORE
            need = 8
            break
        btype = _u32(buf, pos, big_endian)
        if btype == PCAPNG_SHB:  # its length is in its own byte order: Python reads it
            status = BLOCK
            break
        blen = _u32(buf, pos + 4, big_endian)
        if blen < 12:
            status, code, v1, v2 = CORRUPT, LEN_SMALL, blen, 12
            break
        if blen & 3:
            status, code, v1 = CORRUPT, LEN_ALIGN, blen
            break
        if blen > max_block:
            status, code, v1, v2 = CORRUPT, LEN_HUGE, blen, max_block
            break
        if end - pos < blen:
            status = NEED_MORE
            need = blen
            break
        trailer = _u32(buf, pos + blen - 4, big_endian)
        if trailer != blen:
            status, code, v1, v2 = CORRUPT, TRAILER, blen, trailer
            break
        if btype == PCAPNG_IDB:
            status = BLOCK
            break
        if btype in (PCAPNG_EPB, PCAPNG_OPB):
            if blen < 32:
                status, code, v1, v2 = CORRUPT, LEN_SMALL, blen, 32
                break
            if btype == PCAPNG_EPB:
                iface = _u32(buf, pos + 8, big_endian)
            else:
                iface = _u16(buf, pos + 8, big_endian)
            cap = _u32(buf, pos + 20, big_endian)
            wire = _u32(buf, pos + 24, big_endian)
            if cap > blen - 32:
                status, code, v1, v2 = CORRUPT, CAPLEN_BLOCK, cap, blen
                break
            if iface >= n_if:
                status, code, v1, v2 = CORRUPT, INTERFACE, iface, n_if
                break
            data = pos + 28
            is_simple = False
        elif btype == PCAPNG_SPB:
            if blen < 16:
                status, code, v1, v2 = CORRUPT, LEN_SMALL, blen, 16
                break
            if n_if == 0:
                status, code, v1, v2 = CORRUPT, INTERFACE, 0, 0
                break
            iface = 0
            wire = _u32(buf, pos + 8, big_endian)
            cap = min(wire, blen - 16)
            if if_snaplen[0] > 0:
                cap = min(cap, if_snaplen[0])
            data = pos + 12
            is_simple = True
        else:  # NRB, ISB, DSB, custom...: nothing a packet needs
            pos += blen
            continue
        if not if_ok[iface]:
            if n > 0:
                status = SPLIT
                break
            if_skipped[iface] += 1
            seen += 1
            pos += blen
            continue
        offset[n] = data
        caplen[n] = cap
        wirelen[n] = wire
        linktype[n] = if_linktype[iface]
        if is_simple:
            ts_ns[n] = 0
            simple += 1
        else:
            ts_ns[n] = _ticks_to_ns(
                _u32(buf, pos + 12, big_endian),
                _u32(buf, pos + 16, big_endian),
                if_mul[iface],
                if_div[iface],
                if_shift[iface],
                if_scale[iface],
                if_offset_ns[iface],
            )
        if cap > wire:
            cap_gt_wire += 1
        n += 1
        seen += 1
        pos += blen
    return n, pos, status, seen, need, code, v1, v2, cap_gt_wire, simple
