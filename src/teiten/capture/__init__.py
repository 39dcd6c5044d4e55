"""Capture files in, :class:`PacketBatch` streams out.

``open_capture(path)`` sniffs the format (pcap, pcapng; raw, gzip or zstd) from
the first bytes and returns a :class:`CaptureReader`; iterating it yields
batches of packets as columns over one buffer, read in fixed-size chunks so
memory does not grow with the file.
"""

from __future__ import annotations

from teiten.capture.batch import PacketBatch
from teiten.capture.open import open_capture
from teiten.capture.reader import CaptureReader

__all__ = ["CaptureReader", "PacketBatch", "open_capture"]
