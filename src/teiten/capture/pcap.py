"""Classic libpcap files: a 24-byte header, then 16-byte record headers and data."""

from __future__ import annotations

import struct
from collections.abc import Iterator

import numpy as np

from teiten.capture.batch import PacketBatch
from teiten.capture.linktypes import is_supported, linktype_name
from teiten.capture.reader import CaptureReader
from teiten.capture.scan import (
    CORRUPT,
    FULL,
    SWAP_ALWAYS,
    SWAP_IF_CAPLEN_LARGER,
    SWAP_NEVER,
    scan_pcap,
)
from teiten.capture.source import Source
from teiten.capture.window import Window
from teiten.errors import NotACaptureError, UnsupportedFormatError, UnsupportedLinkTypeError

# magic -> (big endian, ns per fraction unit)
MAGICS: dict[bytes, tuple[bool, int]] = {
    b"\xd4\xc3\xb2\xa1": (False, 1000),
    b"\x4d\x3c\xb2\xa1": (False, 1),
    b"\xa1\xb2\xc3\xd4": (True, 1000),
    b"\xa1\xb2\x3c\x4d": (True, 1),
}
HEADER_LEN = 24
RECORD_HEADER_LEN = 16
# libpcap's MAXIMUM_SNAPLEN: a record may exceed a small snaplen (old writers
# got it wrong) but not this, unless the header's snaplen is larger still.
MAX_CAPLEN = 262144
# A snaplen of 0 means "not recorded" (libpcap then assumes its maximum, pcapng
# calls 0 unlimited): accept records up to this, read as their bytes arrive.
MAX_CAPLEN_UNSET_SNAPLEN = 64 << 20


class PcapReader(CaptureReader):
    """Both byte orders, µs and ns magics, version 2.x.

    Old minor versions read as libpcap and Wireshark read them: files before
    2.3 have the captured and original lengths the other way round, and 2.3
    files were written both ways (a captured length larger than the original
    one means swapped).
    """

    format = "pcap"

    def __init__(self, path: str, window: Window, source: Source) -> None:
        super().__init__(path, window, source)
        head = window.peek(HEADER_LEN)
        if len(head) < HEADER_LEN:
            raise NotACaptureError(
                path,
                f"not a usable capture: the file ends inside its pcap header "
                f"({len(head)} of {HEADER_LEN} bytes)",
            )
        self._big, self._frac_ns = MAGICS[head[:4]]
        major, minor, _zone, _sigfigs, snaplen, network = struct.unpack(
            ">HHiIII" if self._big else "<HHiIII", head[4:]
        )
        if major != 2:
            raise UnsupportedFormatError(
                path,
                f"pcap version {major}.{minor} is not supported; teiten reads version 2.x, "
                "as libpcap and Wireshark do (is the header damaged?)",
            )
        self.version = (major, minor)
        self._swap = (
            SWAP_ALWAYS if minor < 3 else SWAP_IF_CAPLEN_LARGER if minor == 3 else SWAP_NEVER
        )
        self.snaplen = snaplen
        self.linktype = network & 0xFFFF
        self.linktypes = {self.linktype}
        if not is_supported(self.linktype):
            raise UnsupportedLinkTypeError(path, self.linktype, linktype_name(self.linktype))
        if network >> 16:
            self._notes.append(
                f"the header's link-type field 0x{network:08x} has FCS/reserved bits set "
                f"above link type {self.linktype} (ignored)"
            )
        if snaplen >= MAX_CAPLEN:
            self._max_caplen = snaplen
            self._limit_why = "the header's snapshot length"
        elif snaplen:
            self._max_caplen = MAX_CAPLEN
            self._limit_why = f"libpcap's maximum; the header's snapshot length is {snaplen}"
        else:
            self._max_caplen = MAX_CAPLEN_UNSET_SNAPLEN
            self._limit_why = "the header's snapshot length is unset"
        self._frac_key = "fraction_us" if self._frac_ns == 1000 else "fraction_ns"
        window.pos += HEADER_LEN

    def _scan(self) -> Iterator[PacketBatch]:
        w = self._window
        frac_limit = 1_000_000_000 // self._frac_ns
        while True:
            n, pos, status, bad_frac, cap_gt_wire = scan_pcap(
                w.buf,
                w.pos,
                w.end,
                self._big,
                self._swap,
                self._frac_ns,
                frac_limit,
                self._max_caplen,
                self._offset,
                self._caplen,
                self._wirelen,
                self._ts_ns,
            )
            batch = None
            if n:
                self._count(self._frac_key, bad_frac)
                self._count("caplen", cap_gt_wire)
                batch = self._batch(n, np.full(n, self.linktype, np.uint16))
            w.pos = pos
            if batch is not None:
                yield batch
            if status == FULL:
                continue
            caplen = self._header_caplen()
            if status == CORRUPT:
                raise self._corrupt(
                    f"the record claims {caplen} captured bytes, more than the limit of "
                    f"{self._max_caplen} ({self._limit_why})"
                )
            need = RECORD_HEADER_LEN + (caplen or 0)
            if not self._fill(need):
                self._ended(need, "a record header" if caplen is None else "a record")
                return

    def _header_caplen(self) -> int | None:
        head = self._window.peek(RECORD_HEADER_LEN)
        if len(head) < RECORD_HEADER_LEN:
            return None
        caplen, wirelen = struct.unpack_from(">II" if self._big else "<II", head, 8)
        if self._swap == SWAP_ALWAYS or (self._swap == SWAP_IF_CAPLEN_LARGER and caplen > wirelen):
            return int(wirelen)
        return int(caplen)
