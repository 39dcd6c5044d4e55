"""What every capture reader shares: the public attributes, batches, endings."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator

import numpy as np

from teiten.capture.batch import PacketBatch
from teiten.capture.source import DigestingFile, Source
from teiten.capture.window import Window
from teiten.closing import Closing
from teiten.errors import CaptureError, CorruptCaptureError, DecompressionError

# Outputs per kernel call: one batch per 8 MiB chunk of 60-byte packets, and a
# bounded scratch size even for chunks full of empty records.
MAX_BATCH = 1 << 17

# Counted oddities: key -> message for ``n`` packets.
_COUNTED = {
    "fraction_us": "{n} {packets} had a timestamp fraction >= 1e6 µs (normalised into seconds)",
    "fraction_ns": "{n} {packets} had a timestamp fraction >= 1e9 ns (normalised into seconds)",
    "caplen": "{n} {packets} had a captured length larger than the original length (kept)",
    "simple": "{n} {packets} came in Simple Packet Blocks, which carry no timestamp "
    "(set to 0, the Unix epoch)",
}


class CaptureReader(Closing):
    """A capture file read as a stream of :class:`PacketBatch` objects.

    Iterate it (once; a second ``for`` continues where the first stopped) and
    close it, or use it as a context manager. Damage is handled as the capture
    tools do: an impossible header raises :class:`CorruptCaptureError` after
    every packet before it was yielded; a file cut short sets ``truncated``.
    """

    format: str = ""  # "pcap" | "pcapng"

    def __init__(self, path: str, window: Window, source: Source) -> None:
        self.path = path
        self.compression: str | None = source.compression
        self.linktypes: set[int] = set()
        self.packets_read = 0
        self.skipped: Counter[str] = Counter()
        self.truncated: str | None = None
        self._window = window
        self._source = source
        self._next_number = 1  # file number (as tshark counts) of the next packet record
        self._notes: list[str] = []
        self._counts: Counter[str] = Counter()
        self._batches: Iterator[PacketBatch] | None = None
        self._closed = False
        capacity = max(1, min(window.chunk_bytes // 16 + 1, MAX_BATCH))
        self._offset = np.empty(capacity, np.int64)
        self._caplen = np.empty(capacity, np.uint32)
        self._wirelen = np.empty(capacity, np.uint32)
        self._ts_ns = np.empty(capacity, np.int64)

    @property
    def bytes_read(self) -> int:
        """Uncompressed bytes consumed so far (the stream offset of the next record)."""
        return self._window.offset

    @property
    def file_bytes_read(self) -> int:
        """Bytes read from the file itself (compressed ones, if it is): compare with its size."""
        return self._source.file_bytes_read

    @property
    def warnings(self) -> list[str]:
        counted = [
            _COUNTED[key].format(n=n, packets="packet" if n == 1 else "packets")
            for key, n in self._counts.items()
            if n
        ]
        return [*self._notes, *counted]

    @property
    def notes(self) -> list[str]:
        """Everything worth telling about how the file read: ``warnings``, then the cut."""
        return [*self.warnings, *([self.truncated] if self.truncated else [])]

    def stopped_by(self, exc: CaptureError) -> str:
        """The message of an error that stopped reading mid-way, saying what was kept."""
        if isinstance(exc, CorruptCaptureError):
            return str(exc)  # it says so already
        n = self.packets_read
        kept = "the packet before it was read" if n == 1 else f"the {n} packets before it were read"
        return f"{exc}; {kept}"

    def finish_digest(self) -> int:
        """Feed the digest given to ``open_capture`` every byte not read yet (call it
        before closing); the file's size in bytes."""
        f = self._source.file
        if not isinstance(f, DigestingFile):
            raise ValueError(f"{self.path} was opened without a digest")
        return f.finish()

    def __iter__(self) -> Iterator[PacketBatch]:
        if self._batches is None:
            self._batches = self._scan() if not self._closed else iter(())
        return self._batches

    def close(self) -> None:
        if self._closed:
            return
        self._closed = True
        if self._batches is not None and hasattr(self._batches, "close"):
            self._batches.close()
        self._batches = iter(())
        self._source.close()

    def __repr__(self) -> str:
        return (
            f"<{type(self).__name__} {self.path!r} format={self.format} "
            f"compression={self.compression} packets_read={self.packets_read}>"
        )

    # -- for the format readers -------------------------------------------------

    def _scan(self) -> Iterator[PacketBatch]:
        raise NotImplementedError

    def _fill(self, need: int) -> bool:
        """``Window.fill``, with damaged compressed data reported as a corrupt capture."""
        try:
            return self._window.fill(need)
        except DecompressionError as exc:
            w = self._window
            raise CorruptCaptureError(
                self.path, w.base + w.end, self._next_number, str(exc)
            ) from exc

    def _corrupt(self, detail: str) -> CorruptCaptureError:
        return CorruptCaptureError(self.path, self._window.offset, self._next_number, detail)

    def _batch(self, n: int, linktype: np.ndarray) -> PacketBatch:
        """Copy the first ``n`` scratch outputs into a batch over the current buffer."""
        batch = PacketBatch(
            data=self._window.buf,
            offset=self._offset[:n].copy(),
            caplen=self._caplen[:n].copy(),
            wirelen=self._wirelen[:n].copy(),
            ts_ns=self._ts_ns[:n].copy(),
            linktype=linktype,
            first_number=self._next_number,
        )
        self._next_number += n
        self.packets_read += n
        return batch

    def _count(self, key: str, n: int) -> None:
        if n:
            self._counts[key] += n

    def _ended(self, need: int, what: str) -> None:
        """The stream ended with ``need`` bytes wanted at the window position: note a cut."""
        w = self._window
        where = "uncompressed byte offset" if self.compression else "byte offset"
        before = self._next_number - 1
        read = (
            "the packet before it was read"
            if before == 1
            else f"the {before} packets before it were read"
        )
        if w.avail:
            self.truncated = (
                f"truncated: the file ends inside {what} (packet {self._next_number}) "
                f"at {where} {w.offset}: {w.avail} of its {need} bytes are present; {read}"
            )
            if self._source.incomplete:
                self.truncated += f" ({self._source.incomplete})"
        elif self._source.incomplete:
            self.truncated = f"truncated: {self._source.incomplete} at {where} {w.offset}; {read}"
