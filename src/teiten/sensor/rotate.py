"""Raw frames kept as rotated pcap files beside the spool (optional).

Each file is written as ``.part`` and renamed to ``<sensor>-<UTC start>.pcap`` when it is
rotated (by size or age) or the sensor stops, so a reader never sees a partial file;
only the newest ``keep`` files are kept. Records are laid out in bulk (one compiled
pass per batch), as the simulator writes its captures.
"""

from __future__ import annotations

import os
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import BinaryIO

from teiten.capture import PacketBatch
from teiten.simulate.pcap import batch_records, pcap_header

__all__ = ["PcapRotator"]

_ETHERNET = 1


class PcapRotator:
    """Write batches to ``folder/<name>-<start>.pcap``, rotating by size or age."""

    def __init__(
        self, folder: Path, name: str, *, max_bytes: int, max_seconds: float, keep: int
    ) -> None:
        self.folder, self.name = Path(folder), name
        self.max_bytes, self.max_seconds, self.keep = max_bytes, max_seconds, keep
        self.folder.mkdir(parents=True, exist_ok=True)
        for stale in self.folder.glob("*.pcap.part"):  # a crash's unfinished file
            os.replace(stale, stale.with_suffix(""))
        self._file: BinaryIO | None = None
        self._path: Path | None = None
        self._opened = 0.0
        self._size = 0

    def write(self, batch: PacketBatch) -> None:
        if not len(batch):
            return
        if self._file is not None and (
            self._size >= self.max_bytes or time.monotonic() - self._opened >= self.max_seconds
        ):
            self._finish()
        if self._file is None:
            self._open()
        records, _ = batch_records(batch)
        assert self._file is not None
        self._file.write(records.tobytes())
        self._size += len(records)

    def _open(self) -> None:
        stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%S%f")
        self._path = self.folder / f"{self.name}-{stamp}.pcap.part"
        self._file = open(self._path, "wb")  # noqa: SIM115 - kept open across writes
        self._file.write(pcap_header(_ETHERNET))
        self._opened, self._size = time.monotonic(), 24

    def _finish(self) -> None:
        if self._file is None or self._path is None:
            return
        self._file.close()
        os.replace(self._path, self._path.with_suffix(""))
        self._file = self._path = None
        files = sorted(self.folder.glob(f"{self.name}-*.pcap"))
        for old in files[: max(0, len(files) - self.keep)]:
            old.unlink()

    def close(self) -> None:
        self._finish()
