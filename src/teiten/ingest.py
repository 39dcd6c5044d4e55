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

import numpy as np
import pyarrow as pa

from teiten.capture import PacketBatch, open_capture
from teiten.capture.identity import FILE_PREFIX, ContentDigest, content_key
from teiten.decode import DecodedPackets, decode_batch
from teiten.enrich import GeoTagger
from teiten.errors import CaptureError, StoreError
from teiten.fingerprint import TagContext, tag_packets
from teiten.store import InputRecord, Store, packets_table
from teiten.store.compact import CompactedDay, compact
from teiten.store.dataset import NS_PER_DAY, day_name, ts_ns
from teiten.store.overlap import Overlap
from teiten.store.retention import SKIP_REASON, OldPackets, Retention, after_write

__all__ = ["FileResult", "IngestReport", "ingest", "packet_rows"]

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
    duplicates: int = 0  # packets of an input stored before (nothing of it is added)
    overlapping: int = 0  # packets it shares with stored inputs (not added again)
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
    retained: list[Retention] = field(default_factory=list)  # raw retention's drops
    retention_error: str | None = None  # why one failed (the ingest itself stands)

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
            "overlapping": sum(r.overlapping for r in self.results),
            "skipped": sum(r.skipped for r in self.results),
            "errors": [{"file": r.file, "error": r.error} for r in self.results if r.error],
            "skipped_reasons": dict(reasons.most_common()),
            "warnings": [f"{r.file}: {w}" for r in self.results for w in r.warnings]
            + list(dict.fromkeys(w for r in self.retained for w in r.warnings))
            + [e for e in (self.compact_error, self.retention_error) if e],
            "inputs": [asdict(r) for r in self.results],
            "dry_run": self.dry_run,
            "compacted": [c.as_json() for c in self.compacted],
            "raw_dropped": {
                "days": sorted(d for r in self.retained for d in r.days),
                "packets": sum(r.packets for r in self.retained),
                "raw_since": next((r.raw_since for r in reversed(self.retained)), None),
            },
        }


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
    force: bool = False,
    compact_min_files: int = AUTO_COMPACT_MIN_FILES,
) -> IngestReport:
    """Ingest every file; one file's failure never stops the others.

    An input already stored (the same packets, see :mod:`teiten.capture.identity`)
    under this sensor is a duplicate and adds nothing; stored under another
    sensor, it is refused unless ``force``. Rows a file shares with stored ones
    (see :mod:`teiten.store.overlap`) are not stored again and are counted as
    ``overlapping``. ``context`` carries reference data the fingerprints need
    (e.g. the research scanner list, see :func:`teiten.store.research.tag_context`).
    ``dry_run`` does everything but write: every file is read, decoded and tagged
    and the report says what would be stored, as a real run would (later files
    of the run are compared with earlier ones); the store is only read.
    Afterwards, each day written that holds ``compact_min_files`` small files or
    more is compacted (0: never), so that a store fed file by file (hourly
    captures) keeps few files a day; a failed compaction changes nothing and is
    reported as a warning.

    A store with raw retention (:mod:`teiten.store.retention`) drops its old raw packets
    after each file stored, and packets of days it dropped are refused (counted as
    skipped, with a warning naming the days and the horizon).
    """
    files = [Path(p) for p in paths]
    run = _Run(store, geo, sensor, progress, context or TagContext(), dry_run, force)
    report = IngestReport(dry_run=dry_run)
    try:
        for i, path in enumerate(files):
            result = run.file(path, more=i + 1 < len(files))
            report.results.append(result)
            if result.packets and not dry_run and report.retention_error is None:
                _retain(store, report)
    finally:
        run.close()
    days = sorted({day for r in report.results for day in r.days})
    if days and compact_min_files:
        try:
            # Not the month and quarter sums: each capture of an ended month would sum it
            # and its quarter again (queries read the day rows meanwhile, the same answers).
            report.compacted = compact(
                store, days=days, min_files=compact_min_files, sum_periods=False
            )
        except (OSError, sqlite3.Error, pa.ArrowException, StoreError) as exc:
            report.compact_error = (
                f"the ingested packets are stored, but compacting their days failed: {exc}; "
                "run `teiten store compact` later"
            )
    return report


def _retain(store: Store, report: IngestReport) -> None:
    """Raw retention after a file was stored; a failure is a warning (nothing changed)."""
    try:
        done = after_write(store)
    except (OSError, sqlite3.Error, pa.ArrowException, StoreError) as exc:
        report.retention_error = (
            f"the ingested packets are stored, but dropping the raw packets older than the "
            f"store's raw retention failed: {exc}; run `teiten store retain` later"
        )
        return
    if done is not None and (done.days or done.warnings):
        report.retained.append(done)


class _Run:
    """One ingest run: its settings, and what it stored so far (a dry run's memory)."""

    def __init__(
        self,
        store: Store,
        geo: GeoTagger,
        sensor: str,
        progress: Progress | None,
        context: TagContext,
        dry_run: bool,
        force: bool,
    ) -> None:
        self.store = store
        self.geo = geo
        self.sensor = sensor
        self.progress = progress
        self.context = context
        self.dry_run = dry_run
        self.force = force
        self.overlap = Overlap(store, sensor)
        self._stored: dict[str, list[InputRecord]] = {}  # inputs a dry run would have stored

    def close(self) -> None:
        self.overlap.close()

    def _advance(self, n: int) -> None:
        if self.progress and n > 0:
            self.progress(n)

    def _known(self, key: str) -> list[InputRecord]:
        return [*self.store.manifest.find_inputs(key), *self._stored.get(key, [])]

    def _settled(self, name: str, known: list[InputRecord]) -> FileResult | None:
        """The answer for an input stored before (None: store it)."""
        if not known:
            return None
        for record in known:
            if record.sensor in (self.sensor, None):
                return FileResult(
                    name,
                    "duplicate",
                    duplicates=record.packets,
                    warnings=[f"already in the store (ingested as {record.name}); nothing added"],
                )
        if self.force:
            return None
        other = known[0]
        return FileResult(
            name,
            "failed",
            error=(
                f"{name}: the same packets are already stored under sensor '{other.sensor}' "
                f"(ingested as {other.name}); nothing added — a capture belongs to one sensor; "
                f"pass --force to store them under '{self.sensor}' as well"
            ),
        )

    def _pre_check(self, path: Path, size: int) -> FileResult | None:
        """A file of a recorded size may be a byte-identical re-ingest: settle it before
        decoding anything. (Other copies are found by their content after reading.)"""
        prefixes = self.store.manifest.sizes(size)
        if not prefixes:
            return None
        try:
            read = content_key(path, with_file_digest=FILE_PREFIX in prefixes)
        except CaptureError:
            return None  # reading it again reports the error
        known = self._known(read.key) + (self._known(read.file_key) if read.file_key else [])
        result = self._settled(str(path), known)
        if result is not None:
            self._advance(size)
            _add_notes(result, read.error, read.warnings)
        return result

    def file(self, path: Path, *, more: bool) -> FileResult:
        name = str(path)
        try:
            size = path.stat().st_size
            settled = self._pre_check(path, size)
        except OSError as exc:
            return FileResult(name, "failed", error=f"cannot read {name}: {exc.strerror or exc}")
        if settled is not None:
            return settled
        try:
            reader = open_capture(path)
        except CaptureError as exc:
            self._advance(size)
            return FileResult(name, "failed", error=str(exc))
        except OSError as exc:
            return FileResult(name, "failed", error=f"cannot read {name}: {exc.strerror or exc}")

        result = FileResult(name, "ingested")
        try:
            writer: RowSink = (
                _DryRunSink(self.overlap if more else None)
                if self.dry_run
                else self.store.writer(self.sensor, self.geo.database, self.geo.edition)
            )
        except (OSError, sqlite3.Error) as exc:
            reader.close()
            return FileResult(name, "failed", error=_write_error(name, self.store, exc))
        self.overlap.refresh()  # the writer lock is held: no other ingest commits meanwhile
        old = OldPackets.of(self.store)  # likewise the raw horizon
        rows = _BatchRows(self.sensor, self.geo, self.context, self.overlap, old)
        workers = _Workers(writer, rows)
        content = ContentDigest()
        consumed = 0
        try:
            with reader:
                try:
                    for batch in reader:
                        content.update(batch)
                        workers.put(batch)
                        self._advance(reader.file_bytes_read - consumed)
                        consumed = reader.file_bytes_read
                except CaptureError as exc:  # damage or an unsupported block mid-file
                    result.status, result.error = "partial", reader.stopped_by(exc)
                result.warnings.extend(reader.notes)
                read_skips = reader.skipped
            workers.finish()
            key = content.key()
            settled = self._settled(name, self._known(key))
            if settled is None and writer.packets == 0 and self.overlap.overlapping:
                settled = FileResult(
                    name,
                    "duplicate",
                    duplicates=self.overlap.overlapping,
                    warnings=["every packet is already in the store (from other inputs)"],
                )
            if settled is not None:
                writer.abort()
                self._advance(size - consumed)
                _add_notes(settled, result.error, result.warnings)
                return settled
            skipped = rows.skipped + read_skips
            result.packets = writer.packets
            result.overlapping = self.overlap.overlapping
            if old is not None and (refused := old.warning()):
                result.warnings.append(refused)
            if result.overlapping:
                result.warnings.append(
                    f"{result.overlapping:,} packets were already in the store (the capture "
                    "overlaps stored ones); only the others were added"
                )
            result.skipped = sum(skipped.values())
            result.skipped_reasons = dict(skipped.most_common())
            record = InputRecord(
                key,
                name,
                size,
                result.packets,
                result.skipped,
                result.skipped_reasons,
                result.error,
                self.sensor,
            )
            writer.commit([record])
            result.days = writer.days
            if self.dry_run:
                self._stored.setdefault(key, []).append(record)
        except (OSError, sqlite3.Error, pa.ArrowException) as exc:
            workers.abandon()
            writer.abort()
            return FileResult(name, "failed", error=_write_error(name, self.store, exc))
        except BaseException:
            workers.abandon()
            writer.abort()
            raise
        self._advance(size - consumed)
        return result


def _add_notes(result: FileResult, error: str | None, warnings: list[str]) -> None:
    """What reading found goes with any answer: damage is news even in a duplicate."""
    result.error = result.error or error
    result.warnings[:0] = warnings


def _write_error(name: str, store: Store, exc: BaseException) -> str:
    return (
        f"could not write {name} into the store {store.root}: {exc}; "
        "nothing from this file was stored — free space or fix the store, then ingest it again"
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
    """The sink of a dry run: counts rows and their days, stores nothing; when later
    files follow, hands the rows' keys to ``overlap`` at commit, as a store would hold them."""

    def __init__(self, overlap: Overlap | None) -> None:
        self.packets = 0
        self.days: list[str] = []
        self._days: set[int] = set()
        self._overlap = overlap
        self._keys: list[tuple[np.ndarray, np.ndarray]] = []
        self._lock = threading.Lock()

    def write(self, table: pa.Table, lane: int = 0) -> None:
        day = ts_ns(table) // NS_PER_DAY
        first, last = int(day.min()), int(day.max())
        days = {first} if first == last else set(np.unique(day).tolist())
        keys = self._overlap.keys(table) if self._overlap is not None else None
        with self._lock:
            self.packets += table.num_rows
            self._days |= days
            if keys is not None:
                self._keys.append(keys)

    def flush(self, lane: int) -> None:
        return None

    def commit(self, inputs: list[InputRecord]) -> None:
        self.days = sorted(day_name(d).removeprefix("day=") for d in self._days)
        if self._overlap is not None:
            self._overlap.remember(self._keys)

    def abort(self) -> None:
        return None


class _BatchRows:
    """One capture batch → its store rows (None if every packet was skipped).

    Called by several worker threads at once; skip counts are summed under a lock.
    """

    def __init__(
        self,
        sensor: str,
        geo: GeoTagger,
        context: TagContext,
        overlap: Overlap | None = None,
        old: OldPackets | None = None,
    ) -> None:
        self._sensor = sensor
        self._geo = geo
        self._context = context
        self._overlap = overlap
        self._old = old  # packets before the raw horizon, refused
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
        if self._old is not None and (kept := self._old.kept(decoded.ts_ns)) is not None:
            with self._lock:
                self.skipped[SKIP_REASON] += int(len(kept) - kept.sum())
            decoded = decoded.select(kept)
        if not len(decoded.ts_ns):
            return None
        table = packet_rows(decoded, self._sensor, self._geo, self._context)
        if self._overlap is not None:
            table = self._overlap.filter(table)
        return table if table.num_rows else None


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
