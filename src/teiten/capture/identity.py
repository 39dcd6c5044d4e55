"""What makes two captures the same input: the packets they hold, not their bytes.

The same packets gzipped or zstd-compressed, rewritten from pcap to pcapng (or
back), or with nanosecond instead of microsecond timestamps are one input. Its
identity is ``packets-blake3:<hex>``, BLAKE3 over::

    "teiten-packets-v1" ‖ BLAKE3(records) ‖ link-type runs

where *records* are the packets a reader yields, in file order, each as::

    ts_ns     int64 LE   nanoseconds since the epoch (-1: a time the store cannot hold)
    caplen    uint32 LE  captured length
    wirelen   uint32 LE  original length
    frame     caplen bytes

and the *link-type runs* give, for each packet where the link type changes (the
first included), its index (uint64 LE) and LINKTYPE_* (uint16 LE). Container
details (file and section headers, interface options, comments, non-packet
blocks, compression) do not take part. A classic pcap record is a 16-byte header
right before its frame, so its header is rewritten in place into the record's
and the stream is hashed where it lies; other formats are gathered into a
scratch buffer first.

Stores written before this rule keyed inputs by a digest of their file bytes
(``blake3:<hex>``); such keys are still matched, by hashing a new file's bytes
too when the manifest holds one of its size.
"""

from __future__ import annotations

import os
import struct
from dataclasses import dataclass, field

import blake3
import numba
import numpy as np

from teiten.capture.batch import PacketBatch
from teiten.capture.open import open_capture
from teiten.errors import CaptureError

__all__ = [
    "CONTENT_PREFIX",
    "FILE_PREFIX",
    "ContentDigest",
    "ContentRead",
    "content_key",
]

CONTENT_PREFIX = "packets-blake3:"
FILE_PREFIX = "blake3:"  # the key of inputs stored before content identity
RECORD_HEADER = 16
_DOMAIN = b"teiten-packets-v1"


@numba.njit(cache=True, nogil=True, inline="always")
def _header(out: np.ndarray, p: int, ts: int, caplen: int, wirelen: int) -> None:
    for k in range(8):
        out[p + k] = (ts >> (8 * k)) & 0xFF
    for k in range(4):
        out[p + 8 + k] = (caplen >> (8 * k)) & 0xFF
        out[p + 12 + k] = (wirelen >> (8 * k)) & 0xFF


@numba.njit(cache=True, nogil=True)
def _in_place(
    data: np.ndarray, offset: np.ndarray, caplen: np.ndarray, wirelen: np.ndarray, ts: np.ndarray
) -> bool:
    """Rewrite the 16 bytes before each frame into its record header, when every frame
    follows the previous one after exactly 16 bytes (a classic pcap batch); else False
    and nothing is written."""
    n = offset.shape[0]
    if offset[0] < RECORD_HEADER:
        return False
    for i in range(n - 1):
        if offset[i + 1] != offset[i] + caplen[i] + RECORD_HEADER:
            return False
    for i in range(n):
        _header(data, offset[i] - RECORD_HEADER, ts[i], caplen[i], wirelen[i])
    return True


@numba.njit(cache=True, nogil=True)
def _gather(
    data: np.ndarray,
    offset: np.ndarray,
    caplen: np.ndarray,
    wirelen: np.ndarray,
    ts: np.ndarray,
    out: np.ndarray,
) -> int:
    """Write the batch's records into ``out``; bytes written."""
    p = 0
    for i in range(offset.shape[0]):
        c = caplen[i]
        _header(out, p, ts[i], c, wirelen[i])
        p += RECORD_HEADER
        start = offset[i]
        out[p : p + c] = data[start : start + c]
        p += c
    return p


class ContentDigest:
    """The identity of a capture, fed batch by batch in file order.

    ``update`` may rewrite the bytes between a batch's frames (a pcap's record
    headers, which nothing reads after the reader): call it before the batch is
    shared.
    """

    def __init__(self) -> None:
        self._hash = blake3.blake3()
        self._scratch = np.empty(0, np.uint8)
        self._runs: list[bytes] = []
        self._linktype = -1
        self.packets = 0

    def update(self, batch: PacketBatch) -> None:
        n = len(batch)
        if not n:
            return
        if _in_place(batch.data, batch.offset, batch.caplen, batch.wirelen, batch.ts_ns):
            start = int(batch.offset[0]) - RECORD_HEADER
            end = int(batch.offset[-1]) + int(batch.caplen[-1])
            self._hash.update(batch.data[start:end].data)
        else:
            need = int(batch.caplen.sum(dtype=np.int64)) + RECORD_HEADER * n
            if self._scratch.shape[0] < need:
                self._scratch = np.empty(max(need, 2 * self._scratch.shape[0]), np.uint8)
            used = _gather(
                batch.data, batch.offset, batch.caplen, batch.wirelen, batch.ts_ns, self._scratch
            )
            self._hash.update(self._scratch[:used].data)
        linktype = batch.linktype
        changes = np.flatnonzero(linktype[1:] != linktype[:-1]) + 1
        if int(linktype[0]) != self._linktype:
            changes = np.concatenate([[0], changes])
        for i in changes.tolist():
            self._runs.append(struct.pack("<QH", self.packets + i, int(linktype[i])))
        self._linktype = int(linktype[-1])
        self.packets += n

    def key(self) -> str:
        final = blake3.blake3(_DOMAIN)
        final.update(self._hash.digest())
        final.update(b"".join(self._runs))
        return CONTENT_PREFIX + final.hexdigest()


@dataclass
class ContentRead:
    """A capture read whole for its identity (no decoding), and what reading it found."""

    key: str
    file_key: str | None = None  # its bytes' key, when asked for
    error: str | None = None  # what stopped the reading mid-way (the packets before count)
    warnings: list[str] = field(default_factory=list)


def content_key(path: str | os.PathLike[str], *, with_file_digest: bool = False) -> ContentRead:
    """Read a capture for its content key (and its file-bytes key when asked). Raises
    :class:`teiten.errors.CaptureError` when it cannot be opened as a capture."""
    file_hash = blake3.blake3(max_threads=blake3.blake3.AUTO) if with_file_digest else None
    content = ContentDigest()
    error = None
    with open_capture(path, digest=file_hash) as reader:
        try:
            for batch in reader:
                content.update(batch)
        except CaptureError as exc:  # damage mid-way: the packets before it count
            error = reader.stopped_by(exc)
        if file_hash is not None:
            reader.finish_digest()
        notes = reader.notes
    file_key = None if file_hash is None else FILE_PREFIX + file_hash.hexdigest()
    return ContentRead(content.key(), file_key, error, notes)
