"""Capture files into the spool: rotated pcaps a capture daemon wrote, decoded into batches.

The same readers and decoder as ``teiten ingest``; batches hold at most
``batch_packets`` decoded packets. Packets that cannot be decoded are counted by
reason, not sent.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from teiten.capture import open_capture
from teiten.decode import DecodedPackets, decode_batch
from teiten.errors import CaptureError
from teiten.sensor.spool import Spool
from teiten.transport import encode_body

__all__ = ["SpoolReport", "concat_decoded", "spool_captures"]


@dataclass
class SpoolReport:
    batches: int = 0
    packets: int = 0
    dropped_packets: int = 0  # refused by a full spool (drop-newest)
    skipped: Counter[str] = field(default_factory=Counter)
    errors: list[str] = field(default_factory=list)


def concat_decoded(parts: list[DecodedPackets]) -> DecodedPackets:
    """One DecodedPackets of several, rows in order."""
    if len(parts) == 1:
        return parts[0]
    names = DecodedPackets.__dataclass_fields__
    return DecodedPackets(**{n: np.concatenate([getattr(p, n) for p in parts]) for n in names})


def spool_captures(paths: list[Path], spool: Spool, batch_packets: int) -> SpoolReport:
    """Decode ``paths`` into wire batches of ≤ ``batch_packets`` packets in ``spool``."""
    report = SpoolReport()
    pending: list[DecodedPackets] = []
    count = 0

    def flush() -> None:
        nonlocal pending, count
        if not pending:
            return
        decoded = concat_decoded(pending)
        for start in range(0, len(decoded), batch_packets):
            part = decoded.select(np.arange(start, min(start + batch_packets, len(decoded))))
            if spool.put(encode_body(part), len(part)) is None:
                report.dropped_packets += len(part)
            else:
                report.batches += 1
                report.packets += len(part)
        pending, count = [], 0

    for path in paths:
        try:
            with open_capture(path) as reader:
                try:
                    for batch in reader:
                        decoded = decode_batch(batch)
                        report.skipped.update(decoded.skip_counts())
                        decoded = decoded.select(decoded.decoded)
                        pending.append(decoded)
                        count += len(decoded)
                        if count >= batch_packets:
                            flush()
                except CaptureError as exc:
                    report.errors.append(str(exc))  # the packets before it are kept
        except CaptureError as exc:
            report.errors.append(str(exc))
    flush()
    return report
