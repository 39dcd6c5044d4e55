"""The sensor's on-disk spool: numbered, checksummed batches that survive any crash.

Layout::

    <spool>/ready/<seq:012d>.<blake3 hex>.batch    a wire batch waiting for upload
    <spool>/rejected/<same name> + .reason          refused by the collector or corrupt
    <spool>/tmp/                                    batches being written
    <spool>/last_seq                                highest sequence number ever used

A batch is written to ``tmp/``, fsynced and renamed into ``ready/``: it is there
whole or not at all. Its name carries its BLAKE3 digest (= the collector's batch
id), so :meth:`Spool.open` can verify every batch after a crash. A batch leaves
``ready/`` only when the collector acknowledged it (:meth:`Spool.done`) or refused
it for good (:meth:`Spool.reject`). Sequence numbers never repeat.

When the spool is full (``max_bytes``), the policy decides: ``drop-newest`` refuses
the new batch, ``drop-oldest`` deletes the oldest waiting ones; either way the
batches and packets dropped are counted.
"""

from __future__ import annotations

import builtins
import logging
import os
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from blake3 import blake3

from teiten.store.swap import fsync_path

__all__ = ["POLICIES", "Spool", "SpoolEntry"]

log = logging.getLogger("teiten.sensor")

POLICIES = ("drop-newest", "drop-oldest")
Policy = Literal["drop-newest", "drop-oldest"]
_NAME = re.compile(r"^(\d{12})\.([0-9a-f]{64})\.batch$")


@dataclass(frozen=True, order=True)
class SpoolEntry:
    """One waiting batch."""

    seq: int
    digest: str  # "blake3:<hex>": the batch id the collector knows it by
    path: Path
    size: int
    packets: int = 0


class Spool:
    """A bounded, crash-safe queue of wire batches on disk."""

    def __init__(self, root: Path, *, max_bytes: int, policy: Policy = "drop-oldest") -> None:
        if policy not in POLICIES:
            raise ValueError(f"spool policy {policy!r}: use one of {', '.join(POLICIES)}")
        if max_bytes <= 0:
            raise ValueError(f"spool max_bytes must be positive, not {max_bytes}")
        self.root = Path(root)
        self.max_bytes = max_bytes
        self.policy = policy
        self.dropped_batches = 0
        self.dropped_packets = 0
        self.rejected = 0
        for sub in ("ready", "rejected", "tmp"):
            (self.root / sub).mkdir(parents=True, exist_ok=True)
        self._recover()

    # --- state -------------------------------------------------------------
    def _recover(self) -> None:
        """Drop half-written batches, quarantine corrupt ones, find the next number."""
        for leftover in (self.root / "tmp").iterdir():
            leftover.unlink()
            log.warning("spool: removed a batch a crash left half-written (%s)", leftover.name)
        top = self._read_last_seq()
        for path in sorted((self.root / "ready").iterdir()):
            match = _NAME.match(path.name)
            if not match:
                self._quarantine(path, "not a spool batch name")
                continue
            top = max(top, int(match.group(1)))
            if blake3(path.read_bytes()).hexdigest() != match.group(2):
                self._quarantine(path, "checksum mismatch: the file was damaged after writing")
        for path in (self.root / "rejected").glob("*.batch"):
            match = _NAME.match(path.name)
            if match:
                top = max(top, int(match.group(1)))
        self._last_seq = top

    def _read_last_seq(self) -> int:
        try:
            return int((self.root / "last_seq").read_text().strip() or 0)
        except (FileNotFoundError, ValueError):
            return 0

    def _write_last_seq(self, seq: int) -> None:
        tmp = self.root / "tmp" / "last_seq"
        tmp.write_text(f"{seq}\n")
        os.replace(tmp, self.root / "last_seq")

    def _quarantine(self, path: Path, reason: str) -> None:
        target = self.root / "rejected" / path.name
        os.replace(path, target)
        target.with_name(target.name + ".reason").write_text(reason + "\n")
        self.rejected += 1
        log.error("spool: batch %s moved to rejected/: %s", path.name, reason)

    def entries(self) -> list[SpoolEntry]:
        """Waiting batches, oldest first."""
        found = []
        for path in (self.root / "ready").iterdir():
            match = _NAME.match(path.name)
            if match:
                found.append(
                    SpoolEntry(
                        int(match.group(1)),
                        "blake3:" + match.group(2),
                        path,
                        path.stat().st_size,
                    )
                )
        return sorted(found)

    @property
    def bytes(self) -> int:
        return sum(e.size for e in self.entries())

    # --- changes -----------------------------------------------------------
    def put(self, body: builtins.bytes, packets: int = 0) -> SpoolEntry | None:
        """Spool one wire batch; None when the policy dropped it (the spool is full)."""
        if len(body) > self.max_bytes:
            raise ValueError(
                f"a {len(body)}-byte batch can never fit a {self.max_bytes}-byte spool"
            )
        waiting = self.entries()
        used = sum(e.size for e in waiting)
        if used + len(body) > self.max_bytes:
            if self.policy == "drop-newest":
                self.dropped_batches += 1
                self.dropped_packets += packets
                log.warning("spool full (%d bytes): dropped the newest batch", used)
                return None
            while waiting and used + len(body) > self.max_bytes:
                oldest = waiting.pop(0)
                oldest.path.unlink(missing_ok=True)
                used -= oldest.size
                self.dropped_batches += 1
                log.warning("spool full: dropped the oldest batch %d", oldest.seq)
        seq = self._last_seq + 1
        digest = blake3(body).hexdigest()
        name = f"{seq:012d}.{digest}.batch"
        tmp = self.root / "tmp" / name
        with open(tmp, "wb") as f:
            f.write(body)
            f.flush()
            os.fsync(f.fileno())
        final = self.root / "ready" / name
        os.replace(tmp, final)
        fsync_path(self.root / "ready")
        self._last_seq = seq
        self._write_last_seq(seq)
        return SpoolEntry(seq, "blake3:" + digest, final, len(body), packets)

    def done(self, entry: SpoolEntry) -> None:
        """The collector acknowledged ``entry``: it leaves the spool."""
        entry.path.unlink(missing_ok=True)

    def reject(self, entry: SpoolEntry, reason: str) -> None:
        """The collector refused ``entry`` for good: keep it aside with the reason."""
        if entry.path.exists():
            self._quarantine(entry.path, reason)
