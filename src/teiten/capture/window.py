"""A sliding window over a byte stream, in numpy buffers the kernels can scan.

Batches point into the window's buffer, and a consumer may keep a batch as
long as it likes, so a buffer is never written after data from it was handed
out: refilling moves the unconsumed tail into another buffer. A buffer is
recycled only when nothing but the window holds a reference to it (every numpy
view or memoryview of it holds one), which keeps the pages warm without
risking a batch the consumer still uses.
"""

from __future__ import annotations

import sys

import numpy as np

from teiten.capture.source import Source


class Window:
    """Unconsumed bytes are ``buf[pos:end]``; ``buf[0]`` is at stream offset ``base``."""

    def __init__(self, source: Source, chunk_bytes: int) -> None:
        self.source = source
        self.chunk_bytes = chunk_bytes
        self.buf = np.empty(0, np.uint8)
        self.pos = 0
        self.end = 0
        self.base = 0
        self.eof = False
        self._spare: list[np.ndarray] = []

    @property
    def avail(self) -> int:
        return self.end - self.pos

    @property
    def offset(self) -> int:
        """Stream offset of ``pos`` (uncompressed bytes consumed so far)."""
        return self.base + self.pos

    def fill(self, need: int) -> bool:
        """Make ``need`` unconsumed bytes available; False if the stream ends first.

        A large ``need`` (a record header may claim anything) grows the buffer
        only as data actually arrives, never by the amount claimed.
        """
        while self.end - self.pos < need:
            if self.eof:
                return False
            self._refill(need)
        return True

    def peek(self, n: int) -> bytes:
        """Up to ``n`` unconsumed bytes, as bytes (for headers parsed in Python)."""
        return self.buf[self.pos : min(self.pos + n, self.end)].tobytes()

    def _refill(self, need: int) -> None:
        avail = self.end - self.pos
        size = max(self.chunk_bytes, min(need, max(2 * avail, avail + self.chunk_bytes)))
        new = self._alloc(size)
        new[:avail] = self.buf[self.pos : self.end]
        old = self.buf
        self.base += self.pos
        self.buf, self.pos, self.end = new, 0, avail
        self._retire(old)
        got = self.source.readinto(new.data[avail:])
        self.end += got
        if got < size - avail:
            self.eof = True

    def _alloc(self, size: int) -> np.ndarray:
        for i in range(len(self._spare)):
            # Two references: the list's and getrefcount's argument. More means
            # a batch (or a view of one) is still alive somewhere.
            if self._spare[i].shape[0] >= size and sys.getrefcount(self._spare[i]) == 2:
                return self._spare.pop(i)
        return np.empty(size, np.uint8)

    def _retire(self, buf: np.ndarray) -> None:
        if buf.shape[0] == self.chunk_bytes and buf.base is None:
            self._spare.append(buf)
            del self._spare[:-2]
