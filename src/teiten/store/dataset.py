"""The on-disk store: a Parquet dataset partitioned by UTC day, plus its manifest.

Layout::

    <root>/packets/day=2019-04-01/<batch_id>-<lane>.parquet   the rows (see store.schema)
    <root>/manifest.sqlite                             inputs and batches
    <root>/staging/<batch_id>/                         parts being written
    <root>/writer.lock                                 one writer at a time

Readers glob ``packets/*/*.parquet`` and never see a partial file: parts are
written under ``staging/`` and renamed into place only after the manifest
records the batch as pending, then the batch is marked committed. A writer that
finds a pending batch (a crash mid-commit) finishes its renames; staging
folders with no manifest entry are debris of an aborted write and are removed.

Opening an existing store (``create=False``, what every query does) writes
nothing: the manifest is opened read-only, no folder is made, and a directory
without a manifest is refused (:class:`~teiten.errors.NotAStoreError`). A store on
a read-only mount, or one that belongs to another user, can so be queried.
"""

from __future__ import annotations

import contextlib
import errno
import fcntl
import os
import shutil
import sqlite3
import threading
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from pathlib import Path
from typing import IO

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

from teiten.errors import NotAStoreError, StoreError
from teiten.store import rollup
from teiten.store.damage import os_error, permission_error
from teiten.store.manifest import BatchRecord, FileRecord, InputRecord, Manifest
from teiten.store.parts import file_record
from teiten.store.rewrite import finish
from teiten.store.rollup import Rollups
from teiten.store.schema import SCHEMA
from teiten.store.swap import finish_swap, fsync_path

__all__ = ["BatchWriter", "Store", "default_store_path"]

NS_PER_DAY = 86_400 * 1_000_000_000
# Per column, the encoding that writes fastest without making the files larger (measured
# on 1 M bench rows: 311 ns a row against 390 with zstd on every column, dictionaries on
# the small ones and statistics on most; 2 % smaller). Only encodings every reader of the
# store knows (DuckDB, Spark): no byte-stream split, which DuckDB reads for floats only.
_DICTIONARY = [
    "sensor", "tcp_flags", "ttl", "ip_len", "icmp_type", "kind", "country", "tags", "batch",
]  # fmt: skip
_DELTA = ["ts", "sport", "tcp_opt_mask", "ip_id", "ip_flags", "icmp_code"]  # DELTA_BINARY_PACKED
_UNCOMPRESSED = [  # zstd would gain 5 % or less
    "ts", "sport", "tcp_seq", "ttl", "ip_id", "icmp_code", "kind", "tags",
]  # fmt: skip
PARQUET_OPTIONS = {
    "write_batch_size": 1 << 16,  # values per encoder call: fewer calls, same pages
    "compression": {f.name: "none" if f.name in _UNCOMPRESSED else "zstd" for f in SCHEMA},
    "compression_level": {f.name: 1 for f in SCHEMA if f.name not in _UNCOMPRESSED},
    "use_dictionary": _DICTIONARY,
    "column_encoding": {c: "DELTA_BINARY_PACKED" for c in _DELTA},
    # Min/max statistics prune row groups by time (and sensor, batch); on the other
    # columns they never do: each row group holds about their whole range.
    "write_statistics": ["ts", "ts_ns", "sensor", "batch"],
}
ROW_GROUP_ROWS = 1 << 19  # rows buffered per day and lane before a row group is written
# For benchmarks/bench_ingest.py only, to measure what the rollups cost: set, write batches
# without their rollups; the store's rollup is then marked incomplete (queries read the
# packets until `teiten store rollup`).
NO_ROLLUPS_ENV = "TEITEN_BENCH_NO_ROLLUPS"


def default_store_path(path: str | os.PathLike[str] | None = None) -> Path:
    """``path`` if given, else ``$TEITEN_STORE``, else ``./teiten-data``."""
    if path is not None:
        return Path(path)
    return Path(os.environ.get("TEITEN_STORE") or "teiten-data")


class Store:
    """A teiten store directory. Cheap to open; writing takes a lock.

    ``create=True`` (ingest, the collector) makes the store if it is missing;
    ``create=False`` opens an existing one and writes nothing until a write is
    asked for, except that an interrupted write (a crash) is finished when the
    store is writable and no writer is at work. A store written by an older
    teiten (an older store schema) is refused (:class:`~teiten.errors.StoreVersionError`)
    unless ``upgrading`` (:func:`teiten.store.migrate.migrate` opens it so).
    """

    def __init__(
        self,
        root: str | os.PathLike[str] | None = None,
        *,
        create: bool = True,
        upgrading: bool = False,
    ) -> None:
        from teiten.store.migrate import require_current  # it reads the store: not at import

        self.root = default_store_path(root)
        manifest = self.root / "manifest.sqlite"
        if not create:
            try:
                manifest.stat()
            except (FileNotFoundError, NotADirectoryError):
                raise NotAStoreError(self.root) from None
            except PermissionError as exc:
                raise permission_error(manifest, errno.EACCES) from exc
            self.manifest = Manifest(manifest, read_only=True)
            if self.manifest.has_pending():
                self._finish_interrupted_write()
            if not upgrading:  # a store of an older schema is only opened to migrate it
                require_current(self)
            return
        if manifest.is_file() and not upgrading:
            # Refuse an older store before opening its manifest for writing (which would
            # bring its tables up to date: a change to a store this teiten refuses).
            self.manifest = Manifest(manifest, read_only=True)
            require_current(self)
            self.manifest.close()
        try:
            if not self.root.exists():
                self.root.mkdir(parents=True)
            elif not self.root.is_dir():
                raise StoreError(f"{self.root}: exists and is not a directory")
            (self.root / "packets").mkdir(exist_ok=True)
        except OSError as exc:
            raise os_error(exc, self.root) from exc
        self.manifest = Manifest(manifest)
        if not upgrading:
            require_current(self)

    @property
    def writable(self) -> bool:
        """Whether this process may change the store (its folder and manifest)."""
        return os.access(self.root, os.W_OK) and os.access(self.root / "manifest.sqlite", os.W_OK)

    def _finish_interrupted_write(self) -> None:
        """Roll a crashed write forward now, unless this user cannot or a writer is busy
        (which then owns it); ``teiten store check`` reports one still pending. A
        failure leaves it to the next writer: a read goes on with what is there."""
        if not self.writable:
            return
        try:
            handle = open(self.root / "writer.lock", "a+")  # noqa: SIM115 - closed below
        except OSError:
            return
        with handle:
            try:
                fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except OSError:
                return
            with contextlib.suppress(StoreError, OSError, sqlite3.Error):
                self.manifest.for_writing()
                self.recover()

    @property
    def packets_glob(self) -> str:
        return str(self.root / "packets" / "*" / "*.parquet")

    def has_packets(self) -> bool:
        return any((self.root / "packets").glob("*/*.parquet"))

    def writer(self, sensor: str, geo_database: str, geo_edition: str) -> BatchWriter:
        """Open a batch for writing (takes the store's writer lock until closed)."""
        return BatchWriter(self, sensor, geo_database, geo_edition)

    def lock(self) -> IO[str]:
        """Take the store's writer lock (one writer at a time) and recover from any
        interrupted write; closing the returned file releases the lock."""
        try:
            handle = open(self.root / "writer.lock", "a+")  # noqa: SIM115 - held by the caller
        except OSError as exc:
            raise os_error(exc, self.root) from exc
        try:
            fcntl.flock(handle, fcntl.LOCK_EX)
            self.manifest.for_writing()
            self.recover()
            if self.manifest.get(rollup.META_KEY) is None and not self.manifest.batches():
                self.manifest.set(rollup.META_KEY, rollup.COMPLETE)  # new: rolled up from the start
        except BaseException:
            handle.close()
            raise
        return handle

    def recover(self) -> list[str]:
        """Finish pending commits and rewrites (compaction, removal) and drop staging
        debris; call with the writer lock held."""
        done = []
        for batch in self.manifest.batches(state="pending"):
            for staged, final in batch.parts:
                src, dst = self.root / staged, self.root / final
                if src.exists():
                    dst.parent.mkdir(parents=True, exist_ok=True)
                    os.replace(src, dst)
                elif not dst.exists():
                    raise StoreError(
                        f"{self.root}: batch {batch.batch_id} lost its part {staged}; "
                        "the store needs repair"
                    )
            self.manifest.commit(batch.batch_id)
            done.append(batch.batch_id)
        for rewrite in self.manifest.rewrites(state="pending"):
            finish(self, rewrite)
            done.append(rewrite.rewrite_id)
        staging = self.root / "staging"
        if staging.exists():
            folders = list(staging.iterdir())
            known = self.manifest.known_batches([f.name for f in folders])
            for folder in folders:
                finish_swap(self.root, folder)
                if folder.name not in known or not any(folder.iterdir()):
                    shutil.rmtree(folder, ignore_errors=True)
        return done

    def close(self) -> None:
        self.manifest.close()


class BatchWriter:
    """Rows of one input, written to staging and committed atomically."""

    def __init__(self, store: Store, sensor: str, geo_database: str, geo_edition: str) -> None:
        self.store = store
        self.sensor = sensor
        self.geo_database = geo_database
        self.geo_edition = geo_edition
        stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%S")
        self.batch_id = f"{stamp}-{uuid.uuid4().hex[:12]}"
        self.packets = 0
        self.first_ts: int | None = None  # ns since the epoch of the earliest row written
        self.last_ts: int | None = None
        self.days: list[str] = []  # UTC days (YYYY-MM-DD) of the rows, once committed
        self._begun = False
        self._writers: dict[tuple[int, int], pq.ParquetWriter] = {}
        self._pending: dict[tuple[int, int], list[pa.Table]] = {}
        self._count_lock = threading.Lock()
        self._batch_value = pa.array([self.batch_id], pa.string())
        self._lock = store.lock()
        self._staging = store.root / "staging" / self.batch_id
        self._rollups = None if os.environ.get(NO_ROLLUPS_ENV) else Rollups(self._staging)
        try:
            self._staging.mkdir(parents=True)
        except BaseException:
            self._lock.close()
            raise

    def write(self, table: pa.Table, lane: int = 0) -> None:
        """Append rows; they are split into their UTC-day partitions.

        Each ``lane`` writes its own files, so several threads (one per lane)
        can encode Parquet at once.
        """
        if table.num_rows == 0:
            return
        table = self._with_batch(table)
        ts = ts_ns(table)
        days = ts // NS_PER_DAY
        first, last = int(days.min()), int(days.max())
        if first == last:
            self._buffer(first, lane, table)
        else:
            for day in np.unique(days):
                self._buffer(int(day), lane, table.filter(pa.array(days == day)))
        low, high = int(ts.min()), int(ts.max())
        with self._count_lock:
            self.packets += table.num_rows
            self.first_ts = low if self.first_ts is None else min(self.first_ts, low)
            self.last_ts = high if self.last_ts is None else max(self.last_ts, high)

    def _with_batch(self, table: pa.Table) -> pa.Table:
        """The rows with this batch's id in their ``batch`` column (see store.schema)."""
        indices = pa.array(np.zeros(table.num_rows, np.int32))
        column = pa.DictionaryArray.from_arrays(indices, self._batch_value)
        i = table.schema.get_field_index("batch")
        if i < 0:
            return table.append_column(SCHEMA.field("batch"), column)
        return table.set_column(i, SCHEMA.field("batch"), column)

    def _buffer(self, day: int, lane: int, table: pa.Table) -> None:
        """Collect rows into large row groups (fewer, bigger pages encode faster)."""
        key = (day, lane)
        pending = self._pending.setdefault(key, [])
        pending.append(table)
        if sum(t.num_rows for t in pending) >= ROW_GROUP_ROWS:
            self._flush(key)

    def flush(self, lane: int) -> None:
        """Write the buffered rows of ``lane`` (called by that lane's thread when done)."""
        for key in [k for k in list(self._pending) if k[1] == lane]:  # list(): atomic copy
            self._flush(key)

    def _flush(self, key: tuple[int, int]) -> None:
        pending = self._pending.pop(key, [])
        if not pending:
            return
        writer = self._writers.get(key)
        if writer is None:
            day, lane = key
            path = self._staging / f"{day_name(day)}-{lane}.parquet"
            writer = pq.ParquetWriter(path, SCHEMA, **PARQUET_OPTIONS)
            self._writers[key] = writer
        table = pending[0] if len(pending) == 1 else pa.concat_tables(pending)
        writer.write_table(table, row_group_size=ROW_GROUP_ROWS)
        if self._rollups is not None:
            self._rollups.add(day_name(key[0]), table)

    def commit(self, inputs: list[InputRecord]) -> None:
        """Make the rows visible and record ``inputs`` as ingested, atomically."""
        for key in list(self._pending):
            self._flush(key)
        # The rollups' last rows are written while the packet files are synced and hashed.
        with ThreadPoolExecutor(1, thread_name_prefix="teiten-rollup") as pool:
            rolled = pool.submit(self._rollup_parts)
            for writer in self._writers.values():
                writer.close()
            parts = []
            files: list[FileRecord] = []
            for day, lane in sorted(self._writers):
                name = day_name(day)
                staged = self._staging / f"{name}-{lane}.parquet"
                fsync_path(staged)
                final = f"packets/{name}/{self.batch_id}-{lane}.parquet"
                parts.append((str(staged.relative_to(self.store.root)), final))
                files.append(file_record(staged, final))
            parts += rolled.result()
        if self._rollups is None:
            self.store.manifest.set(rollup.META_KEY, None)
        self.days = sorted({day_name(day).removeprefix("day=") for day, _ in self._writers})
        self._writers.clear()
        record = BatchRecord(
            self.batch_id,
            "pending",
            time.time(),
            self.sensor,
            self.geo_database,
            self.geo_edition,
            self.packets,
            parts,
            self.first_ts,
            self.last_ts,
        )
        self.store.manifest.begin(record, inputs, files)
        self._begun = True  # from here on the batch is durable: recovery finishes it
        self.store.recover()
        self.close()

    def _rollup_parts(self) -> list[tuple[str, str]]:
        """The rollup files of the batch, written and synced: (staged, final) paths."""
        if self._rollups is None:
            return []
        parts = []
        for name, written in self._rollups.finish().items():
            for n, tables in enumerate(written):
                for table, staged in tables.items():
                    fsync_path(staged)
                    final = f"rollups/{name}/{self.batch_id}-{n}.{table}.parquet"
                    parts.append((str(staged.relative_to(self.store.root)), final))
        self._rollups.close()
        return parts

    def abort(self) -> None:
        """Drop everything written in this batch (unless its commit already began)."""
        if self._begun:
            self.close()
            return
        for writer in self._writers.values():
            with contextlib.suppress(OSError):
                writer.close()
        self._writers.clear()
        self._pending.clear()
        if self._rollups is not None:
            self._rollups.close()
        shutil.rmtree(self._staging, ignore_errors=True)
        self.close()

    def close(self) -> None:
        if not self._lock.closed:
            if self._staging.exists() and not any(self._staging.iterdir()):
                self._staging.rmdir()
            self._lock.close()  # releases the flock

    def __enter__(self) -> BatchWriter:
        return self

    def __exit__(self, exc_type: object, *_: object) -> None:
        if not self._lock.closed:
            self.abort()


def ts_ns(table: pa.Table) -> np.ndarray:
    """The instants of store rows as int64 ns since the epoch (``ts`` µs and ``ts_ns``)."""
    micros = table.column("ts").combine_chunks().cast(pa.int64()).to_numpy()
    return micros * 1000 + table.column("ts_ns").combine_chunks().to_numpy().astype(np.int64)


def day_name(day: int) -> str:
    """The partition folder (``day=YYYY-MM-DD``) of a day counted from the epoch."""
    return "day=" + np.datetime64(day, "D").astype(str)
