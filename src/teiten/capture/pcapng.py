"""pcapng: sections of blocks; packets in EPB/SPB/OPB blocks, interfaces in IDBs.

The numba kernel walks runs of packet blocks (and skips the blocks nothing
needs: name resolution, statistics, secrets, custom). Section Header and
Interface Description Blocks are rare and change how later packets read, so
they are parsed here, between kernel calls.
"""

from __future__ import annotations

import struct
from collections.abc import Iterator

import numpy as np

from teiten.capture.batch import PacketBatch
from teiten.capture.linktypes import is_supported, linktype_name
from teiten.capture.reader import CaptureReader
from teiten.capture.scan import (
    BLOCK,
    CAPLEN_BLOCK,
    CORRUPT,
    FULL,
    INTERFACE,
    LEN_ALIGN,
    LEN_HUGE,
    LEN_SMALL,
    PCAPNG_IDB,
    SPLIT,
    TRAILER,
    scan_pcapng,
)
from teiten.capture.source import Source
from teiten.capture.window import Window
from teiten.errors import NotACaptureError, UnsupportedFormatError

SHB_TYPE = b"\x0a\x0d\x0d\x0a"
BYTE_ORDER_LE = b"\x4d\x3c\x2b\x1a"  # 0x1A2B3C4D written little-endian
BYTE_ORDER_BE = b"\x1a\x2b\x3c\x4d"
SHB_MIN = 28
IDB_MIN = 20
# Largest block read (held in memory whole); Wireshark's limit is of this order.
MAX_BLOCK = 64 << 20

OPT_ENDOFOPT = 0
OPT_IF_TSRESOL = 9
OPT_IF_TSOFFSET = 14
DEFAULT_TSRESOL = 6  # µs


def _resolution(tsresol: int) -> tuple[int, int, int] | None:
    """if_tsresol as the kernel's ``(mul, div, shift)``; None when finer than it handles."""
    k = tsresol & 0x7F
    if tsresol & 0x80:
        return (1, 1, k) if k <= 63 else None
    if k <= 9:
        return 10 ** (9 - k), 1, -1
    if k <= 27:  # 10^(k-9) still fits in int64
        return 1, 10 ** (k - 9), -1
    return None


def _resolution_text(tsresol: int) -> str:
    return f"2^-{tsresol & 0x7F}" if tsresol & 0x80 else f"10^-{tsresol}"


class _Interfaces:
    """The current section's interfaces, as the columns the kernel reads."""

    def __init__(self) -> None:
        self.n = 0
        self.linktype = np.zeros(4, np.uint16)
        self.ok = np.zeros(4, np.bool_)
        self.mul = np.ones(4, np.int64)
        self.div = np.ones(4, np.int64)
        self.shift = np.full(4, -1, np.int64)
        self.scale = np.ones(4, np.float64)
        self.offset_ns = np.zeros(4, np.int64)
        self.snaplen = np.zeros(4, np.int64)
        self.skipped = np.zeros(4, np.int64)

    def add(
        self, linktype: int, snaplen: int, mul: int, div: int, shift: int, offset_s: int
    ) -> None:
        if self.n == self.linktype.shape[0]:
            for name in (
                "linktype",
                "ok",
                "mul",
                "div",
                "shift",
                "scale",
                "offset_ns",
                "snaplen",
                "skipped",
            ):
                old = getattr(self, name)
                new = np.zeros(2 * old.shape[0], old.dtype)
                new[: self.n] = old
                setattr(self, name, new)
        i = self.n
        self.linktype[i] = linktype
        self.ok[i] = is_supported(linktype)
        self.snaplen[i] = snaplen
        self.mul[i], self.div[i], self.shift[i] = mul, div, shift
        offset = offset_s * 1_000_000_000
        fits = -(1 << 63) <= offset < (1 << 63)
        # NaN marks every packet of an interface whose offset no timestamp can carry.
        self.scale[i] = (mul / div if shift < 0 else 1e9 / 2.0**shift) if fits else np.nan
        self.offset_ns[i] = offset if fits else 0
        self.skipped[i] = 0
        self.n += 1


class PcapngReader(CaptureReader):
    """Any number of sections (each with its own byte order) and interfaces.

    Packets on an interface whose link type has no decoder are not yielded:
    they are counted in ``skipped``. SPB packets have no timestamp: they get 0
    and a warning.
    """

    format = "pcapng"

    def __init__(self, path: str, window: Window, source: Source) -> None:
        super().__init__(path, window, source)
        self._big = False
        self._ifaces = _Interfaces()
        self.sections = 0
        self._section(first=True)
        self._leading_interfaces()
        self._linktype = np.empty(self._offset.shape[0], np.uint16)

    # -- the stream ---------------------------------------------------------------

    def _scan(self) -> Iterator[PacketBatch]:
        w = self._window
        while True:
            t = self._ifaces
            n, pos, status, seen, need, code, v1, v2, cap_gt_wire, simple = scan_pcapng(
                w.buf,
                w.pos,
                w.end,
                self._big,
                t.n,
                t.linktype,
                t.ok,
                t.mul,
                t.div,
                t.shift,
                t.scale,
                t.offset_ns,
                t.snaplen,
                t.skipped,
                MAX_BLOCK,
                self._offset,
                self._caplen,
                self._wirelen,
                self._ts_ns,
                self._linktype,
            )
            if seen > n:  # skipped packets all come before this call's batch
                self._next_number += seen - n
                self._fold_skipped()
            batch = None
            if n:
                self._count("caplen", cap_gt_wire)
                self._count("simple", simple)
                batch = self._batch(n, self._linktype[:n].copy())
            w.pos = pos
            if batch is not None:
                yield batch
            if status in (FULL, SPLIT):
                continue
            if status == BLOCK:
                if self._window.peek(4) == SHB_TYPE:
                    if not self._section(first=False):
                        return
                else:
                    self._interface()
                continue
            if status == CORRUPT:
                raise self._corrupt(self._corrupt_detail(code, v1, v2))
            # NEED_MORE
            if not self._fill(need):
                self._ended(need, "a block")
                return

    def _fold_skipped(self) -> None:
        t = self._ifaces
        for i in np.flatnonzero(t.skipped[: t.n]):
            lt = int(t.linktype[i])
            self.skipped[f"unsupported link type {lt} ({linktype_name(lt)})"] += int(t.skipped[i])
            t.skipped[i] = 0

    def _corrupt_detail(self, code: int, v1: int, v2: int) -> str:
        head = self._window.peek(4)
        btype = struct.unpack(">I" if self._big else "<I", head)[0] if len(head) == 4 else -1
        kind = {
            1: "Interface Description",
            2: "(obsolete) Packet",
            3: "Simple Packet",
            6: "Enhanced Packet",
        }
        name = f"{kind[btype]} Block" if btype in kind else f"block of type 0x{btype:08x}"
        if code == LEN_SMALL:
            return f"{name}: total length {v1} is less than its minimum {v2}"
        if code == LEN_ALIGN:
            return f"{name}: total length {v1} is not a multiple of 4"
        if code == LEN_HUGE:
            return f"{name}: total length {v1} is more than the {v2} bytes teiten accepts"
        if code == TRAILER:
            return f"{name}: trailing total length {v2} differs from the leading one ({v1})"
        if code == CAPLEN_BLOCK:
            return f"{name}: total length {v2} is too small for {v1} bytes of packet data"
        if code == INTERFACE:
            described = {0: "no interface", 1: "1 interface"}.get(v2, f"{v2} interfaces")
            return f"{name} refers to interface {v1}, but the section describes {described}"
        return f"{name}: impossible header (code {code})"

    # -- blocks parsed in Python -------------------------------------------------------

    def _section(self, *, first: bool) -> bool:
        """Read the Section Header Block at the window position; False if the file ends in it."""
        w = self._window
        if not self._fill(16):
            return self._cut_in_shb(first, 16)
        head = w.peek(16)
        order = head[8:12]
        if order not in (BYTE_ORDER_LE, BYTE_ORDER_BE):
            detail = f"its byte-order magic is {order.hex(' ')} instead of 1a 2b 3c 4d"
            if first:
                raise NotACaptureError(
                    self.path, f"not a usable capture: it starts like pcapng, but {detail}"
                )
            raise self._corrupt(f"Section Header Block: {detail}")
        big = order == BYTE_ORDER_BE
        e = ">" if big else "<"
        blen, _, major, minor = struct.unpack_from(e + "IIHH", head, 4)
        if major != 1:
            raise UnsupportedFormatError(
                self.path,
                f"pcapng version {major}.{minor} is not supported; teiten reads version 1.x, "
                "as libpcap and Wireshark do (is the Section Header Block damaged?)",
            )
        if blen < SHB_MIN or blen % 4 or blen > MAX_BLOCK:
            raise self._corrupt(
                f"Section Header Block: total length {blen} is not a multiple of 4 "
                f"between {SHB_MIN} and {MAX_BLOCK}"
            )
        if not self._fill(blen):
            return self._cut_in_shb(first, blen)
        (trailer,) = struct.unpack_from(e + "I", w.peek(blen), blen - 4)
        if trailer != blen:
            raise self._corrupt(
                f"Section Header Block: trailing total length {trailer} differs "
                f"from the leading one ({blen})"
            )
        self._fold_skipped()
        self._big = big
        self._ifaces = _Interfaces()
        self.sections += 1
        w.pos += blen
        return True

    def _cut_in_shb(self, first: bool, need: int) -> bool:
        if first:
            raise NotACaptureError(
                self.path,
                f"not a usable capture: the file ends inside its pcapng Section Header Block "
                f"({self._window.avail} bytes)",
            )
        self._ended(need, "a Section Header Block")
        return False

    def _leading_interfaces(self) -> None:
        """Read the IDBs right after the first SHB, so ``linktypes`` is known at open."""
        w = self._window
        e = ">" if self._big else "<"
        while w.avail >= 8:
            btype, blen = struct.unpack(e + "II", w.peek(8))
            if btype != PCAPNG_IDB or blen < IDB_MIN or blen % 4 or blen > w.avail:
                return
            if struct.unpack_from(e + "I", w.peek(blen), blen - 4)[0] != blen:
                return
            self._interface()

    def _interface(self) -> None:
        """Read the IDB at the window position (the kernel checked its length and trailer)."""
        w = self._window
        e = ">" if self._big else "<"
        blen = struct.unpack_from(e + "I", w.peek(8), 4)[0]
        if blen < IDB_MIN:
            raise self._corrupt(
                f"Interface Description Block: total length {blen} is less than "
                f"its minimum {IDB_MIN}"
            )
        block = w.peek(blen)
        linktype, _reserved, snaplen = struct.unpack_from(e + "HHI", block, 8)
        tsresol, tsoffset = DEFAULT_TSRESOL, 0
        p, end = 16, blen - 4
        while p + 4 <= end:
            code, length = struct.unpack_from(e + "HH", block, p)
            if code == OPT_ENDOFOPT:
                break
            if p + 4 + length > end:
                self._notes.append(
                    f"interface {self._ifaces.n} of section {self.sections}: an option runs "
                    "past its block; the rest of its options were ignored"
                )
                break
            if code == OPT_IF_TSRESOL and length >= 1:
                tsresol = block[p + 4]
            elif code == OPT_IF_TSOFFSET and length >= 8:
                (tsoffset,) = struct.unpack_from(e + "q", block, p + 4)
            p += 4 + (length + 3) // 4 * 4
        resolution = _resolution(tsresol)
        if resolution is None:
            raise UnsupportedFormatError(
                self.path,
                f"interface {self._ifaces.n} has timestamp resolution "
                f"{_resolution_text(tsresol)} s, finer than teiten reads (2^-63, 10^-27)",
            )
        self._ifaces.add(linktype, snaplen, *resolution, tsoffset)
        self.linktypes.add(linktype)
        w.pos += blen
