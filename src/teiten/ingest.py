"""Ingest: capture files → decoded, tagged rows in the store, exactly once per input.

Per file: stream it through reader → decoder → country/AS tagger → Parquet
batch and commit, unless the manifest already has its bytes (keyed by their
digest). The reading thread hashes and splits the file into batches; worker
threads (one per core) decode, tag and write them, each into its own files.
A file is hashed before reading only when the store holds an input of the
same size, the only kind that can be a duplicate; any other is hashed in the
same pass that reads it, and checked again under the writer lock before commit.

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
from typing import Any, Protocol

import blake3
import pyarrow as pa

from teiten.capture import PacketBatch, open_capture
from teiten.capture.source import DigestingFile
from teiten.decode import DecodedPackets, decode_batch
from teiten.enrich import GeoTagger
from teiten.errors import CaptureError, CorruptCaptureError, StoreError
from teiten.fingerprint import TagContext, tag_packets
from teiten.store import InputRecord, Store, packets_table
from teiten.store.compact import CompactedDay, compact

__all__ = ["FileResult", "IngestReport", "file_digest", "ingest", "packet_rows"]

# Decode/enrich/write threads (store lanes, so files per day) per input: one per usable
# core, at most 8 (each buffers up to a row group per day it writes).
WORKERS = max(1, min(8, len(os.sched_getaffinity(0))))
AUTO_COMPACT_MIN_FILES = 32  # small files a day may gather before ingest compacts it
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
    days: list[str] = field(default_factory=list)  # UTC days its packets were stored in


@dataclass
class IngestReport:
    """The sum over files; ``as_json`` is the CLI's documented JSON answer."""

    results: list[FileResult] = field(default_factory=list)
    dry_run: bool = False  # nothing was stored: ``packets`` counts what would have been
    compacted: list[CompactedDay] = field(default_factory=list)  # days merged afterwards
    compact_error: str | None = None  # why that merge failed (the ingest itself stands)

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
            "warnings": [f"{r.file}: {w}" for r in self.results for w in r.warnings]
            + ([self.compact_error] if self.compact_error else []),
            "inputs": [asdict(r) for r in self.results],
            "dry_run": self.dry_run,
            "compacted": [c.as_json() for c in self.compacted],
        }


def file_digest(path: Path) -> tuple[int, str]:
    """Size and ``blake3:<hex>`` digest of a file's bytes (the manifest's key).

    BLAKE3 is a cryptographic hash about three times faster than SHA-256 here,
    which matters when the digest is a full extra pass over every capture.
    """
    digest = blake3.blake3(max_threads=blake3.blake3.AUTO)
    with open(path, "rb") as f:
        size = DigestingFile(f, digest).finish()
    return size, _key(digest)


def _key(digest: blake3.blake3) -> str:
    return "blake3:" + digest.hexdigest()


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
    dry_run: bool = False,
    compact_min_files: int = AUTO_COMPACT_MIN_FILES,
) -> IngestReport:
    """Ingest every file; one file's failure never stops the others.

    ``context`` carries reference data the fingerprints need (e.g. the research
    scanner list, see :func:`teiten.store.research.tag_context`); by default, none.
    ``dry_run`` does everything but write: every file is read, decoded and tagged
    and the report says what would be stored; the store is only read (duplicates).
    Afterwards, each day written that holds ``compact_min_files`` small files or
    more is compacted (0: never), so that a store fed file by file (hourly
    captures) keeps few files a day; a failed compaction changes nothing and is
    reported as a warning.
    """
    context = context or TagContext()
    report = IngestReport(dry_run=dry_run)
    for path in paths:
        report.results.append(
            _ingest_file(Path(path), store, geo, sensor, progress, context, dry_run)
        )
    days = sorted({day for r in report.results for day in r.days})
    if days and compact_min_files:
        try:
            report.compacted = compact(store, days=days, min_files=compact_min_files)
        except (OSError, sqlite3.Error, pa.ArrowException, StoreError) as exc:
            report.compact_error = (
                f"the ingested packets are stored, but compacting their days failed: {exc}; "
                "run `teiten store compact` later"
            )
    return report


def _ingest_file(
    path: Path,
    store: Store,
    geo: GeoTagger,
    sensor: str,
    progress: Progress | None,
    context: TagContext,
    dry_run: bool,
) -> FileResult:
    name = str(path)
    try:
        size = path.stat().st_size
        # Only a file of a size already recorded can be a duplicate: hash such a
        # file first; hash any other in the same pass that decodes it.
        digest = file_digest(path)[1] if store.manifest.has_size(size) else None
    except OSError as exc:
        return FileResult(name, "failed", error=f"cannot read {name}: {exc.strerror or exc}")
    if digest is not None and (known := store.manifest.find_input(digest)) is not None:
        if progress:
            progress(size)
        return _duplicate(name, known)
    hasher = blake3.blake3() if digest is None else None
    try:
        reader = open_capture(path, digest=hasher)
    except CaptureError as exc:
        if progress:
            progress(size)
        return FileResult(name, "failed", error=str(exc))
    except OSError as exc:
        return FileResult(name, "failed", error=f"cannot read {name}: {exc.strerror or exc}")

    result = FileResult(name, "ingested")
    try:
        writer: RowSink = (
            _DryRunSink() if dry_run else store.writer(sensor, geo.database, geo.edition)
        )
    except (OSError, sqlite3.Error) as exc:
        reader.close()
        return FileResult(name, "failed", error=_write_error(name, store, exc))
    rows = _BatchRows(sensor, geo, context)
    workers = _Workers(writer, rows)
    consumed = 0
    try:
        with reader:
            try:
                for batch in reader:
                    workers.put(batch)
                    if progress:
                        progress(reader.file_bytes_read - consumed)
                        consumed = reader.file_bytes_read
            except CorruptCaptureError as exc:
                result.status, result.error = "partial", str(exc)
            if hasher is not None:
                size = reader.finish_digest()
                digest = _key(hasher)
            result.warnings.extend(reader.warnings)
            if reader.truncated:
                result.warnings.append(reader.truncated)
            read_skips = reader.skipped
        workers.finish()
        assert digest is not None
        # The writer lock is held: no other ingest can commit these bytes meanwhile.
        if (known := store.manifest.find_input(digest)) is not None:
            writer.abort()
            if progress:
                progress(size - consumed if size > consumed else 0)
            return _duplicate(name, known)
        skipped = rows.skipped + read_skips
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
        result.days = writer.days
    except (OSError, sqlite3.Error, pa.ArrowException) as exc:
        workers.abandon()
        writer.abort()
        return FileResult(name, "failed", error=_write_error(name, store, exc))
    except BaseException:
        workers.abandon()
        writer.abort()
        raise
    if progress:
        progress(size - consumed if size > consumed else 0)
    return result


def _write_error(name: str, store: Store, exc: BaseException) -> str:
    return (
        f"could not write {name} into the store {store.root}: {exc}; "
        "nothing from this file was stored — free space or fix the store, then ingest it again"
    )


def _duplicate(name: str, known: InputRecord) -> FileResult:
    return FileResult(
        name,
        "duplicate",
        duplicates=known.packets,
        warnings=[f"already in the store (ingested as {known.name}); nothing added"],
    )


class RowSink(Protocol):
    """Where workers put store rows: a store batch, or a dry run's counter."""

    packets: int
    days: list[str]

    def write(self, table: pa.Table, lane: int = 0) -> None: ...
    def flush(self, lane: int) -> None: ...
    def commit(self, inputs: list[InputRecord]) -> None: ...
    def abort(self) -> None: ...


class _DryRunSink:
    """The sink of a dry run: counts rows, stores (and commits) nothing."""

    def __init__(self) -> None:
        self.packets = 0
        self.days: list[str] = []
        self._lock = threading.Lock()

    def write(self, table: pa.Table, lane: int = 0) -> None:
        with self._lock:
            self.packets += table.num_rows

    def flush(self, lane: int) -> None:
        return None

    def commit(self, inputs: list[InputRecord]) -> None:
        return None

    def abort(self) -> None:
        return None


class _BatchRows:
    """One capture batch → its store rows (None if every packet was skipped).

    Called by several worker threads at once; skip counts are summed under a lock.
    """

    def __init__(self, sensor: str, geo: GeoTagger, context: TagContext) -> None:
        self._sensor = sensor
        self._geo = geo
        self._context = context
        self._lock = threading.Lock()
        self.skipped: Counter[str] = Counter()

    def __call__(self, batch: PacketBatch) -> pa.Table | None:
        decoded = decode_batch(batch)
        ok = decoded.reason == 0
        if not ok.all():
            counts = decoded.skip_counts()
            with self._lock:
                self.skipped.update(counts)
            decoded = decoded.select(ok)
        if not len(decoded.ts_ns):
            return None
        return packet_rows(decoded, self._sensor, self._geo, self._context)


class _Workers:
    """Decode, enrich and write on worker threads while this thread reads the file.

    Each worker takes the next batch from one shared queue and writes its rows
    to its own store lane (its own Parquet files). numba, numpy and pyarrow
    release the GIL for the heavy parts, so every core works.
    """

    _DONE = object()

    def __init__(
        self,
        writer: RowSink,
        rows: Callable[[PacketBatch], pa.Table | None],
        workers: int = WORKERS,
    ) -> None:
        self._writer = writer
        self._rows = rows
        self._error: BaseException | None = None
        self._abandoned = False
        self._queue: queue.Queue[Any] = queue.Queue(maxsize=2 * workers)
        self._threads = [
            threading.Thread(target=self._run, args=(lane,), name=f"teiten-ingest-{lane}")
            for lane in range(workers)
        ]
        for thread in self._threads:
            thread.daemon = True
            thread.start()

    def _run(self, lane: int) -> None:
        while (item := self._queue.get()) is not self._DONE:
            if self._error is None and not self._abandoned:
                try:
                    table = self._rows(item)
                    if table is not None:
                        self._writer.write(table, lane)
                except BaseException as exc:  # re-raised on the reading thread
                    self._error = exc
        if self._error is None and not self._abandoned:
            try:
                self._writer.flush(lane)
            except BaseException as exc:
                self._error = exc

    def put(self, batch: PacketBatch) -> None:
        self._raise()
        self._queue.put(batch)

    def finish(self) -> None:
        self._stop()
        self._raise()

    def abandon(self) -> None:
        self._abandoned = True
        self._stop()

    def _stop(self) -> None:
        for thread in self._threads:
            if thread.is_alive():
                self._queue.put(self._DONE)
        for thread in self._threads:
            thread.join()

    def _raise(self) -> None:
        if self._error is not None:
            raise self._error
