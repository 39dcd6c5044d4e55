"""Ingest: capture files → decoded, tagged rows in the store, exactly once per input.

Per file: hash its bytes (the manifest key), skip it if the store has it, else
stream it through reader → decoder → country/AS tagger → Parquet batch and
commit. Decoding and tagging run on this thread while a second thread writes
Parquet (both release the GIL), so the two cores overlap.

Bad input never stops the other files and never loses good data: a file that
is not a capture (or has an unsupported link type) is reported and nothing of
it is stored; a corrupt record mid-file keeps every packet before it and is
reported as an error; a truncated last record keeps every complete packet and
is reported as a warning; a failed write (e.g. a full disk) stores nothing of
that file, so it can simply be ingested again.
"""

from __future__ import annotations

import os
import queue
import sqlite3
import threading
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import blake3
import pyarrow as pa

from teiten.capture import open_capture
from teiten.decode import DecodedPackets, decode_batch
from teiten.enrich import GeoTagger
from teiten.errors import CaptureError, CorruptCaptureError
from teiten.fingerprint import TagContext, tag_packets
from teiten.store import BatchWriter, InputRecord, Store, packets_table

__all__ = ["FileResult", "IngestReport", "file_digest", "ingest", "packet_rows"]

WRITE_LANES = min(2, os.cpu_count() or 1)  # Parquet encoder threads per input
Progress = Callable[[int], None]  # called with bytes of input consumed since the last call


@dataclass
class FileResult:
    """What happened to one input file."""

    file: str
    status: str  # "ingested" | "partial" | "duplicate" | "failed"
    packets: int = 0
    duplicates: int = 0
    skipped: int = 0
    skipped_reasons: dict[str, int] = field(default_factory=dict)
    warnings: list[str] = field(default_factory=list)
    error: str | None = None


@dataclass
class IngestReport:
    """The sum over files; ``as_json`` is the CLI's documented JSON answer."""

    results: list[FileResult] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return all(r.error is None for r in self.results)

    def as_json(self) -> dict[str, Any]:
        reasons: Counter[str] = Counter()
        for r in self.results:
            reasons.update(r.skipped_reasons)
        return {
            "files": len(self.results),
            "packets": sum(r.packets for r in self.results),
            "duplicates": sum(r.duplicates for r in self.results),
            "skipped": sum(r.skipped for r in self.results),
            "errors": [{"file": r.file, "error": r.error} for r in self.results if r.error],
            "skipped_reasons": dict(reasons.most_common()),
            "warnings": [f"{r.file}: {w}" for r in self.results for w in r.warnings],
            "inputs": [asdict(r) for r in self.results],
        }


def file_digest(path: Path) -> tuple[int, str]:
    """Size and ``blake3:<hex>`` digest of a file's bytes (the manifest's key).

    BLAKE3 is a cryptographic hash about three times faster than SHA-256 here,
    which matters when the digest is a full extra pass over every capture.
    """
    with open(path, "rb") as f:
        digest = blake3.blake3(max_threads=blake3.blake3.AUTO)
        buffer = bytearray(8 << 20)
        view = memoryview(buffer)
        while n := f.readinto(buffer):
            digest.update(view[:n])
        return f.tell(), "blake3:" + digest.hexdigest()


def packet_rows(
    decoded: DecodedPackets, sensor: str, geo: GeoTagger, context: TagContext
) -> pa.Table:
    """Store rows for decoded packets: country/AS per source, then fingerprint tags.

    The one enrichment path of file ingest and the collector (:mod:`teiten.collector`).
    """
    geo_tags = geo.tag(decoded.src)  # first: fingerprints may use the AS
    tags = tag_packets(decoded, context.for_chunk(geo_tags))
    return packets_table(decoded, sensor, geo_tags, tags)


def ingest(
    paths: Iterable[str | os.PathLike[str]],
    store: Store,
    geo: GeoTagger,
    *,
    sensor: str = "default",
    progress: Progress | None = None,
    context: TagContext | None = None,
) -> IngestReport:
    """Ingest every file; one file's failure never stops the others.

    ``context`` carries reference data the fingerprints need (e.g. the research
    scanner list, see :func:`teiten.store.research.tag_context`); by default, none.
    """
    context = context or TagContext()
    report = IngestReport()
    for path in paths:
        report.results.append(_ingest_file(Path(path), store, geo, sensor, progress, context))
    return report


def _ingest_file(
    path: Path,
    store: Store,
    geo: GeoTagger,
    sensor: str,
    progress: Progress | None,
    context: TagContext,
) -> FileResult:
    name = str(path)
    try:
        size, digest = file_digest(path)
    except OSError as exc:
        return FileResult(name, "failed", error=f"cannot read {name}: {exc.strerror or exc}")
    known = store.manifest.find_input(digest)
    if known is not None:
        if progress:
            progress(size)
        return FileResult(
            name,
            "duplicate",
            duplicates=known.packets,
            warnings=[f"already in the store (ingested as {known.name}); nothing added"],
        )
    try:
        reader = open_capture(path)
    except CaptureError as exc:
        if progress:
            progress(size)
        return FileResult(name, "failed", error=str(exc))

    result = FileResult(name, "ingested")
    skipped: Counter[str] = Counter()
    writer = store.writer(sensor, geo.database, geo.edition)
    sink = _WriteThreads(writer)
    consumed = 0
    try:
        with reader:
            try:
                for batch in reader:
                    decoded = decode_batch(batch)
                    ok = decoded.reason == 0
                    if not ok.all():
                        skipped.update(decoded.skip_counts())
                        decoded = decoded.select(ok)
                    if len(decoded.ts_ns):
                        sink.put(packet_rows(decoded, sensor, geo, context))
                    if progress:
                        progress(reader.file_bytes_read - consumed)
                        consumed = reader.file_bytes_read
            except CorruptCaptureError as exc:
                result.status, result.error = "partial", str(exc)
            skipped.update(reader.skipped)
            result.warnings.extend(reader.warnings)
            if reader.truncated:
                result.warnings.append(reader.truncated)
        sink.finish()
        result.packets = writer.packets
        result.skipped = sum(skipped.values())
        result.skipped_reasons = dict(skipped.most_common())
        writer.commit(
            [
                InputRecord(
                    digest,
                    name,
                    size,
                    result.packets,
                    result.skipped,
                    result.skipped_reasons,
                    result.error,
                )
            ]
        )
    except (OSError, sqlite3.Error, pa.ArrowException) as exc:
        sink.abandon()
        writer.abort()
        return FileResult(
            name,
            "failed",
            error=f"could not write {name} into the store {store.root}: {exc}; "
            "nothing from this file was stored — free space or fix the store, then ingest it again",
        )
    except BaseException:
        sink.abandon()
        writer.abort()
        raise
    if progress:
        progress(size - consumed if size > consumed else 0)
    return result


class _WriteThreads:
    """Encode Parquet on worker threads (one file lane each) while decoding goes on.

    Tables are dealt round-robin to the lanes; pyarrow releases the GIL while
    encoding, so with the decoder (numba, GIL released too) all cores work.
    """

    _DONE = object()

    def __init__(self, writer: BatchWriter, lanes: int = WRITE_LANES, depth: int = 2) -> None:
        self._writer = writer
        self._error: BaseException | None = None
        self._queues: list[queue.Queue[Any]] = [queue.Queue(maxsize=depth) for _ in range(lanes)]
        self._threads = [
            threading.Thread(
                target=self._run, args=(lane,), name=f"teiten-writer-{lane}", daemon=True
            )
            for lane in range(lanes)
        ]
        self._next = 0
        self._abandoned = False
        for thread in self._threads:
            thread.start()

    def _run(self, lane: int) -> None:
        q = self._queues[lane]
        while (item := q.get()) is not self._DONE:
            if self._error is None:
                try:
                    self._writer.write(item, lane)
                except BaseException as exc:  # re-raised on the ingest thread
                    self._error = exc
        if self._error is None and not self._abandoned:
            try:
                self._writer.flush(lane)
            except BaseException as exc:
                self._error = exc

    def put(self, table: pa.Table) -> None:
        self._raise()
        self._queues[self._next].put(table)
        self._next = (self._next + 1) % len(self._queues)

    def finish(self) -> None:
        self._stop()
        self._raise()

    def abandon(self) -> None:
        self._abandoned = True
        self._stop()

    def _stop(self) -> None:
        for q, thread in zip(self._queues, self._threads, strict=True):
            if thread.is_alive():
                q.put(self._DONE)
        for thread in self._threads:
            thread.join()

    def _raise(self) -> None:
        if self._error is not None:
            raise self._error
