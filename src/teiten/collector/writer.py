"""One writer thread per store: tags validated batches and commits them exactly once.

Request handlers validate a batch and hand it over with :meth:`StoreWriter.submit`;
the writer thread owns the store (its manifest connection, the geo tagger's
caches) and serialises every write. Batches waiting together from the same
sensor are committed as one group (one Parquet file per day, one manifest
transaction listing every batch id as an input), which keeps the number of files
and commits down when many small batches arrive at once.

Exactly once: a batch id is looked up in the manifest under the store's writer
lock, after :meth:`teiten.store.Store.recover` has rolled forward any commit a
crash interrupted; the rows and the batch id become durable in the same commit
(staged Parquet is fsynced, then the manifest records the batch as pending with
its inputs in one transaction, then the parts are renamed into place). A crash
before that transaction leaves only staging debris (the sensor retries and the
batch is stored); a crash after it is finished by the next writer (the retry is
answered "duplicate").

After each group it stores, the writer applies the store's raw retention
(:mod:`teiten.store.retention`); packets of days whose raw packets were dropped are
refused (counted as skipped in the batch's input record, logged as a warning).

Every ``compact_interval`` seconds (between groups, on the same thread) the
writer compacts the days it wrote since the last run that gathered
``compact_min_files`` small files (:func:`teiten.store.compact.compact`; the
first run after a start looks at every day), so a day of many small batches
does not stay thousands of files; uploads wait in the queue meanwhile.
"""

from __future__ import annotations

import errno
import logging
import sqlite3
import threading
import time
from collections import deque
from collections.abc import Callable
from concurrent.futures import Future
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

import pyarrow as pa

from teiten.collector.metrics import CollectorMetrics
from teiten.decode import DecodedPackets
from teiten.enrich import GeoTagger, RirTagger
from teiten.errors import StoreError, StoreWriteError, TeitenError
from teiten.fingerprint import ResearchNetworks, TagContext
from teiten.ingest import packet_rows
from teiten.store import InputRecord, Store
from teiten.store.asn import ASN_DIR as ASN_FOLDER
from teiten.store.asn import EDITIONS_FILE
from teiten.store.compact import compact
from teiten.store.research import LIST_FILE, load_research_networks, record_tagging
from teiten.store.retention import (
    SKIP_REASON,
    OldPackets,
    after_write,
    raw_since,
    set_retention,
)

__all__ = ["Outcome", "StoreWriter", "UploadedBatch"]

log = logging.getLogger("teiten.collector")

GROUP_ROWS = 1 << 20  # at most this many rows are committed together
COMPACT_INTERVAL = 3600.0  # seconds between compactions of the store (0: never)
TAGGING_RECORD_SECONDS = 300.0  # how often research-list tagging records are written


@dataclass
class UploadedBatch:
    """A validated batch waiting to be stored."""

    batch_id: str  # "blake3:<hex>" of the body
    sensor: str
    seq: int
    size: int  # body bytes
    decoded: DecodedPackets
    future: Future[Outcome] = field(default_factory=Future)

    @property
    def input_name(self) -> str:
        return f"{self.sensor}/batch-{self.seq}"


@dataclass(frozen=True)
class Outcome:
    """What became of a batch: ``stored`` (with its packets) or ``duplicate``."""

    status: str
    packets: int


def _mtime(path: Path) -> int | None:
    try:
        return path.stat().st_mtime_ns
    except FileNotFoundError:
        return None


class StoreWriter:
    """The store's single writer thread (start it, submit batches, stop it)."""

    def __init__(
        self,
        store_root: Path,
        geo: GeoTagger,
        *,
        research_scanners: bool = True,
        metrics: CollectorMetrics | None = None,
        group_rows: int = GROUP_ROWS,
        compact_interval: float = COMPACT_INTERVAL,
        compact_min_files: int = 4,
        raw_retention_days: int | None = None,
        reopen_geo: Callable[[], GeoTagger] | None = None,
    ) -> None:
        """``raw_retention_days``: set in the store at start (None: leave its setting).
        ``reopen_geo``: opens the tagger again when the store's AS editions change (an
        ``asn import`` or ``asn use`` while the collector runs); None: ``geo`` always."""
        self.store_root = store_root
        self.raw_retention_days = raw_retention_days
        self.geo = geo
        self._reopen_geo = reopen_geo
        self._editions_mtime = _mtime(store_root / ASN_FOLDER / EDITIONS_FILE)
        self.research_scanners = research_scanners
        self.metrics = metrics or CollectorMetrics()
        self.group_rows = group_rows
        self.last_error: str | None = None
        self.last_error_at: float | None = None
        self._jobs: deque[UploadedBatch] = deque()
        self._wake = threading.Condition()
        self._stopping = False
        self._ready = threading.Event()
        self._startup_error: BaseException | None = None
        self._thread = threading.Thread(target=self._run, name="teiten-store-writer", daemon=True)
        self._store: Store | None = None
        self._research: ResearchNetworks | None = None
        self._research_mtime: float | None = None
        self._tagged: dict[str, int] = {}  # input names -> packets, since the last record
        self._tagged_since = time.monotonic()
        self.compact_interval = compact_interval
        self.compact_min_files = compact_min_files
        self._compacted_at = time.monotonic()
        # Days written since the last compaction; None: every day (the first run after
        # a start also settles days an earlier run wrote but did not compact).
        self._unsettled: set[str] | None = None

    # --- the request side -------------------------------------------------------------

    def start(self) -> None:
        """Open the store on the writer thread and finish any interrupted commit."""
        self._thread.start()
        self._ready.wait()
        if self._startup_error is not None:
            raise self._startup_error

    def submit(self, batch: UploadedBatch) -> Future[Outcome]:
        """Queue ``batch``; its future resolves to an :class:`Outcome` or raises."""
        with self._wake:
            if self._stopping:
                raise StoreWriteError("the collector is shutting down", disk_full=False)
            self._jobs.append(batch)
            self.metrics.queued.set(len(self._jobs))
            self._wake.notify()
        return batch.future

    @property
    def queued(self) -> int:
        return len(self._jobs)

    def stop(self) -> None:
        """Store what is queued, write the tagging record, close the store."""
        with self._wake:
            self._stopping = True
            self._wake.notify()
        self._thread.join()

    # --- the writer thread ------------------------------------------------------------

    def _run(self) -> None:
        try:
            self._store = Store(self.store_root)
            self._store.writer("collector", self.geo.database, self.geo.edition).abort()
            if self.raw_retention_days is not None:
                set_retention(self._store, self.raw_retention_days)
            self._reload_research()
        except BaseException as exc:  # reported by start()
            self._startup_error = exc
            self._ready.set()
            return
        self._ready.set()
        try:
            while (group := self._next_group()) is not None:
                try:
                    self._store_group(group)
                except BaseException as exc:  # never leave a request waiting
                    log.exception("store writer failed on a group of %d batches", len(group))
                    for job in group:
                        if not job.future.done():
                            job.future.set_exception(exc)
                self._maybe_record_tagging()
                self._maybe_compact()
        finally:
            self._record_tagging()
            self._store.close()

    def _next_group(self) -> list[UploadedBatch] | None:
        """The oldest job and the queued jobs of the same sensor after it (up to group_rows)."""
        with self._wake:
            while not self._jobs and not self._stopping:
                self._wake.wait()
            if not self._jobs:
                return None
            first = self._jobs.popleft()
            group, rows = [first], len(first.decoded)
            kept: deque[UploadedBatch] = deque()
            while self._jobs and rows < self.group_rows:
                job = self._jobs.popleft()
                if job.sensor == first.sensor and rows + len(job.decoded) <= self.group_rows:
                    group.append(job)
                    rows += len(job.decoded)
                else:
                    kept.append(job)
            self._jobs.extendleft(reversed(kept))
            self.metrics.queued.set(len(self._jobs))
            return group

    def _store_group(self, group: list[UploadedBatch]) -> None:
        assert self._store is not None
        store, sensor = self._store, group[0].sensor
        started = time.perf_counter()
        self._reload_research()
        self._reload_geo()
        context = TagContext(research=self._research)
        try:
            writer = store.writer(sensor, self.geo.database, self.geo.edition)
        except (OSError, sqlite3.Error, StoreError) as exc:
            self._fail(group, exc)
            return
        inputs: list[InputRecord] = []
        stored: dict[str, UploadedBatch] = {}  # batch id -> the job that stores it
        known: list[UploadedBatch] = []  # in the store already, or twice in this group
        kept: dict[str, int] = {}  # batch id -> its packets stored (less those refused)
        try:
            since = raw_since(store)  # the raw horizon, read under the writer lock
            for job in group:
                if job.batch_id in stored or store.manifest.find_inputs(job.batch_id):
                    known.append(job)
                    continue
                stored[job.batch_id] = job
                decoded, refused = _refuse_old(job, since)
                if len(decoded):
                    writer.write(packet_rows(decoded, sensor, self.geo, context))
                kept[job.batch_id] = len(decoded)
                inputs.append(
                    InputRecord(
                        job.batch_id,
                        job.input_name,
                        job.size,
                        len(decoded),
                        refused,
                        {SKIP_REASON: refused} if refused else {},
                    )
                )
            if inputs:
                writer.commit(inputs)
                if self._unsettled is not None:
                    self._unsettled.update(writer.days)
            else:
                writer.abort()
        except (OSError, sqlite3.Error, pa.ArrowException, StoreError) as exc:
            writer.abort()
            self._fail(group, exc)  # every job, also those not reached: none is stored
            return
        except BaseException:
            writer.abort()
            raise
        self.metrics.commit_seconds.observe(time.perf_counter() - started)
        self.last_error = None
        for job in stored.values():
            self._note_tagged(job)
            job.future.set_result(Outcome("stored", kept[job.batch_id]))
        for job in known:
            job.future.set_result(Outcome("duplicate", 0))
        if stored:
            self._retain()

    def _retain(self) -> None:
        """Raw retention after a commit; a failure waits for the next (nothing changed)."""
        assert self._store is not None
        try:
            done = after_write(self._store)
        except (OSError, sqlite3.Error, pa.ArrowException, StoreError) as exc:
            log.warning("raw retention failed: %s; the store is unchanged, trying again later", exc)
            return
        if done is not None and done.days:
            log.info(
                "raw retention: dropped the raw packets of %d day(s) (%d packets); raw "
                "packets are held from %s on",
                len(done.days),
                done.packets,
                done.raw_since,
            )

    def _fail(self, jobs: list[UploadedBatch], exc: BaseException) -> None:
        disk_full = _is_disk_full(exc)
        what = "the disk is full" if disk_full else "an I/O error (see the collector's log)"
        error = StoreWriteError(
            f"the collector cannot write its store: {what}; nothing of the batch was kept, "
            "send it again later",
            disk_full=disk_full,
        )
        self.metrics.write_failures.inc()
        self.last_error, self.last_error_at = ("disk full" if disk_full else str(exc)), time.time()
        log.error(
            "could not store %d batch(es) from sensor %s: %s; answered 507, the sensor will retry",
            len(jobs),
            jobs[0].sensor if jobs else "?",
            "disk full" if disk_full else exc,
        )
        for job in jobs:
            if not job.future.done():
                job.future.set_exception(error)

    # --- compaction ------------------------------------------------------------------

    def _maybe_compact(self) -> None:
        """Compact the store when the interval has passed; a failure waits for the next."""
        if self.compact_interval <= 0:
            return
        if time.monotonic() - self._compacted_at < self.compact_interval:
            return
        assert self._store is not None
        self._compacted_at = time.monotonic()
        days = None if self._unsettled is None else sorted(self._unsettled)
        if days == []:
            return  # nothing written since the last run
        started = time.perf_counter()
        try:
            done = compact(self._store, days=days, min_files=self.compact_min_files)
        except (OSError, sqlite3.Error, pa.ArrowException, StoreError) as exc:
            self.metrics.compactions.labels(result="failed").inc()
            log.warning("compaction failed: %s; the store is unchanged, trying again later", exc)
            return
        self._unsettled = set()
        self.metrics.compactions.labels(result="done").inc()
        merged = sum(d.files_before - d.files_after for d in done)
        self.metrics.compacted_files.inc(merged)
        if done:
            log.info(
                "compacted %d day(s): %d files merged away in %.1f s",
                len(done),
                merged,
                time.perf_counter() - started,
            )

    # --- research scanner list, as `teiten ingest` uses it ----------------------------

    def _reload_research(self) -> None:
        """Tag with the store's current research list (re-read when it changes)."""
        if not self.research_scanners:
            return
        assert self._store is not None
        try:
            mtime = (self._store.root / LIST_FILE).stat().st_mtime
        except FileNotFoundError:
            mtime = None
        if mtime == self._research_mtime:
            return
        self._record_tagging()  # what the previous list tagged
        self._research, self._research_mtime = load_research_networks(self._store), mtime
        if self._research is not None:
            log.info("tagging with the research scanner list %s", self._research.digest)
            if self._research.has_asns and isinstance(self.geo, RirTagger):
                log.warning(
                    "the research scanner list has AS entries, but the built-in RIR data has "
                    "no AS numbers; only its networks are matched (import an AS table with "
                    "`teiten asn import`: the collector picks it up, or set enrich.geoip_asn)"
                )

    def _reload_geo(self) -> None:
        """Open the tagger again when the store's AS editions changed since it was opened
        (a damaged new edition is logged and the tagger kept)."""
        if self._reopen_geo is None:
            return
        mtime = _mtime(self.store_root / ASN_FOLDER / EDITIONS_FILE)
        if mtime == self._editions_mtime:
            return
        try:
            self.geo = self._reopen_geo()
        except TeitenError as exc:
            log.warning("keeping the AS edition in use: %s", exc)
        else:
            log.info("tagging with AS edition %s", self.geo.edition or "(none)")
        self._editions_mtime = mtime

    def _note_tagged(self, job: UploadedBatch) -> None:
        if self._research is not None:
            self._tagged[job.input_name] = len(job.decoded)

    def _maybe_record_tagging(self) -> None:
        if time.monotonic() - self._tagged_since >= TAGGING_RECORD_SECONDS:
            self._record_tagging()

    def _record_tagging(self) -> None:
        """Note which batches the current list tagged (one record per sensor and interval)."""
        self._tagged_since = time.monotonic()
        if self._research is None or not self._tagged or self._store is None:
            return
        per_sensor: dict[str, list[int]] = {}
        for name, packets in self._tagged.items():
            counts = per_sensor.setdefault(name.split("/", 1)[0], [0, 0])
            counts[0] += 1
            counts[1] += packets
        files = [f"collector:{s} ({n} batches)" for s, (n, _) in sorted(per_sensor.items())]
        try:
            record_tagging(self._store, self._research, files, sum(self._tagged.values()))
        except (OSError, TeitenError) as exc:
            log.warning("could not record research-list tagging: %s; will try again", exc)
            return
        self._tagged.clear()


def _refuse_old(job: UploadedBatch, since: date | None) -> tuple[DecodedPackets, int]:
    """``job``'s packets the store may take, and how many were refused: those of days
    before the raw horizon ``since`` (raw retention dropped their raw packets; logged)."""
    old = None if since is None else OldPackets(since)
    kept = None if old is None else old.kept(job.decoded.ts_ns)
    if kept is None or old is None:
        return job.decoded, 0
    log.warning("sensor %s, batch %s: %s", job.sensor, job.batch_id, old.warning())
    return job.decoded.select(kept), old.refused


def _is_disk_full(exc: BaseException) -> bool:
    while exc is not None:
        if isinstance(exc, OSError) and exc.errno in (errno.ENOSPC, errno.EDQUOT):
            return True
        if isinstance(exc, sqlite3.Error) and "full" in str(exc):
            return True
        if isinstance(exc, pa.ArrowException) and "No space left" in str(exc):
            return True
        exc = exc.__cause__ or exc.__context__  # type: ignore[assignment]
    return False
