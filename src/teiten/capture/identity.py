"""What makes two captures the same input: the packets they hold, not their bytes.

The same packets gzipped or zstd-compressed, rewritten from pcap to pcapng (or
back), or with nanosecond instead of microsecond timestamps are one input. Its
identity is a BLAKE3 digest over the packets a reader yields, in file order,
each as a fixed record::

    ts_ns     int64 LE   nanoseconds since the epoch (-1: a time the store cannot hold)
    linktype  uint16 LE  LINKTYPE_* of the frame
    wirelen   uint32 LE  original length
    caplen    uint32 LE  captured length
    frame     caplen bytes

written as ``packets-blake3:<hex>``. Container details (file and section
headers, interface options, comments, block order of non-packet blocks,
compression) do not take part. Stores written before this rule keyed inputs by
a digest of their file bytes (``blake3:<hex>``); such keys are still matched,
by hashing a new file's bytes too when the manifest holds one of its size.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field

import blake3
import numba
import numpy as np

from teiten.capture.batch import PacketBatch
from teiten.capture.open import open_capture
from teiten.capture.source import DigestingFile
from teiten.errors import CaptureError

__all__ = [
    "CONTENT_PREFIX",
    "FILE_PREFIX",
    "ContentDigest",
    "ContentRead",
    "content_key",
    "file_digest",
]

CONTENT_PREFIX = "packets-blake3:"
FILE_PREFIX = "blake3:"  # the key of inputs stored before content identity
RECORD_HEADER = 18


@numba.njit(cache=True, nogil=True)
def _records(
    data: np.ndarray,
    offset: np.ndarray,
    caplen: np.ndarray,
    wirelen: np.ndarray,
    ts_ns: np.ndarray,
    linktype: np.ndarray,
    out: np.ndarray,
) -> int:
    """Write the batch's identity records into ``out``; bytes written."""
    p = 0
    for i in range(offset.shape[0]):
        t = ts_ns[i]
        for k in range(8):
            out[p + k] = (t >> (8 * k)) & 0xFF
        lt = linktype[i]
        out[p + 8] = lt & 0xFF
        out[p + 9] = (lt >> 8) & 0xFF
        w = wirelen[i]
        c = caplen[i]
        for k in range(4):
            out[p + 10 + k] = (w >> (8 * k)) & 0xFF
            out[p + 14 + k] = (c >> (8 * k)) & 0xFF
        p += RECORD_HEADER
        start = offset[i]
        out[p : p + c] = data[start : start + c]
        p += c
    return p


class ContentDigest:
    """The identity of a capture, fed batch by batch in file order; also its time span."""

    def __init__(self) -> None:
        self._hash = blake3.blake3()
        self._scratch = np.empty(0, np.uint8)
        self.packets = 0
        self.first_ns: int | None = None  # earliest storable timestamp seen
        self.last_ns: int | None = None

    def update(self, batch: PacketBatch) -> None:
        n = len(batch)
        if not n:
            return
        need = int(batch.caplen.sum(dtype=np.int64)) + RECORD_HEADER * n
        if self._scratch.shape[0] < need:
            self._scratch = np.empty(max(need, 2 * self._scratch.shape[0]), np.uint8)
        used = _records(
            batch.data,
            batch.offset,
            batch.caplen,
            batch.wirelen,
            batch.ts_ns,
            batch.linktype,
            self._scratch,
        )
        self._hash.update(self._scratch[:used].data)
        self.packets += n
        good = batch.ts_ns[batch.ts_ns >= 0]
        if good.shape[0]:
            low, high = int(good.min()), int(good.max())
            self.first_ns = low if self.first_ns is None else min(self.first_ns, low)
            self.last_ns = high if self.last_ns is None else max(self.last_ns, high)

    def key(self) -> str:
        return CONTENT_PREFIX + self._hash.hexdigest()


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


def file_digest(path: str | os.PathLike[str]) -> tuple[int, str]:
    """Size and ``blake3:<hex>`` digest of a file's bytes (the key of older stores)."""
    digest = blake3.blake3(max_threads=blake3.blake3.AUTO)
    with open(path, "rb") as f:
        size = DigestingFile(f, digest).finish()
    return size, FILE_PREFIX + digest.hexdigest()
