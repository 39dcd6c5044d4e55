"""The store's manifest: which inputs were ingested, into which batch, tagged how.

A SQLite file beside the Parquet dataset. Inputs are keyed by the digest of
the packets they hold (``packets-blake3:<hex>``, see :mod:`teiten.capture.identity`)
and the sensor they were stored under, so the same capture ingested twice (under
any name, compressed or rewritten in another format) adds nothing. Inputs stored
before that rule carry a digest of their file bytes (``blake3:<hex>``).
Each batch records the time span of its rows, so that ingest can find the stored
rows a new capture may overlap without reading the dataset.
A batch is first recorded as ``pending`` with the list of its Parquet parts,
then its parts are renamed into the dataset, then it becomes ``committed``;
a crash in between is rolled forward by :meth:`Manifest.pending`'s caller.

It also holds the sensors' declared sizes (how many addresses each one monitors),
which Internet-wide rate estimates scale by. Only the counts are kept, never the
prefixes: a sensor's addresses must not be recoverable from the store.
"""

from __future__ import annotations

import contextlib
import json
import os
import sqlite3
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import quote

from teiten.store.damage import manifest_error

__all__ = ["BatchRecord", "FileRecord", "InputRecord", "Manifest", "RewriteRecord", "SensorRecord"]

_INPUTS = """
CREATE TABLE IF NOT EXISTS inputs (
    digest       TEXT NOT NULL,  -- 'packets-blake3:<hex>' of its packets (older: 'blake3:<hex>')
    sensor       TEXT NOT NULL,  -- the label it was stored under (its batch's sensor)
    name         TEXT NOT NULL,
    size         INTEGER NOT NULL,
    batch_id     TEXT NOT NULL REFERENCES batches(batch_id),
    packets      INTEGER NOT NULL,
    skipped      INTEGER NOT NULL,
    skip_reasons TEXT NOT NULL,  -- JSON object reason -> count
    error        TEXT,           -- set when only the packets before a corrupt record were kept
    PRIMARY KEY (digest, sensor)
);
"""
_INPUTS_INDEX = "CREATE INDEX IF NOT EXISTS inputs_size ON inputs (size);"
_SCHEMA = f"""
CREATE TABLE IF NOT EXISTS batches (
    batch_id     TEXT PRIMARY KEY,
    state        TEXT NOT NULL CHECK (state IN ('pending', 'committed')),
    created_at   REAL NOT NULL,
    sensor       TEXT NOT NULL,
    geo_database TEXT NOT NULL,
    geo_edition  TEXT NOT NULL,
    packets      INTEGER NOT NULL,
    parts        TEXT NOT NULL,  -- JSON list of [staging path, dataset path], relative to the store
    first_ts     INTEGER,        -- ns since the epoch of its earliest row (NULL: older stores)
    last_ts      INTEGER         -- ... and of its latest row
);
CREATE INDEX IF NOT EXISTS batches_pending ON batches (state) WHERE state = 'pending';
{_INPUTS}
{_INPUTS_INDEX}
CREATE TABLE IF NOT EXISTS sensors (
    name           TEXT PRIMARY KEY,
    ipv4_addresses INTEGER NOT NULL CHECK (ipv4_addresses >= 0),  -- monitored IPv4 addresses
    ipv6_prefixes  INTEGER NOT NULL CHECK (ipv6_prefixes >= 0),   -- monitored IPv6 prefixes
    declared_at    REAL NOT NULL    -- Unix time of the latest declaration
);
"""
# What `teiten store check` verifies files against, and the journal of day rewrites
# (compaction, removal) that recovery rolls forward; see teiten.store.rewrite.
_UPKEEP = """
CREATE TABLE IF NOT EXISTS files (
    path   TEXT PRIMARY KEY,  -- 'packets/day=YYYY-MM-DD/<name>.parquet'
    rows   INTEGER NOT NULL,
    bytes  INTEGER NOT NULL,
    digest TEXT NOT NULL      -- 'blake3:<hex>' of the file's bytes
);
CREATE TABLE IF NOT EXISTS rewrites (
    rewrite_id TEXT PRIMARY KEY,  -- also the name of its folder under staging/
    kind       TEXT NOT NULL,     -- 'compact' | 'remove' | 'retain' (raw retention's drop)
    state      TEXT NOT NULL CHECK (state IN ('pending', 'done')),  -- done: removals, kept
    created_at REAL NOT NULL,
    plan       TEXT NOT NULL      -- JSON: the days swapped, files dropped and added, effects
);
CREATE TABLE IF NOT EXISTS meta (
    key   TEXT PRIMARY KEY,  -- 'rollups': 'complete' when every stored row is rolled up;
                             -- 'raw_retention_days', 'raw_since': see teiten.store.retention
    value TEXT NOT NULL
);
"""


@dataclass(frozen=True)
class InputRecord:
    """One ingested input file (``sensor``: its batch's sensor, set when read back)."""

    digest: str
    name: str
    size: int
    packets: int
    skipped: int
    skip_reasons: dict[str, int] = field(default_factory=dict)
    error: str | None = None
    sensor: str | None = None


@dataclass(frozen=True)
class BatchRecord:
    """One committed (or pending) write into the dataset."""

    batch_id: str
    state: str
    created_at: float
    sensor: str
    geo_database: str
    geo_edition: str
    packets: int
    parts: list[tuple[str, str]]
    first_ts: int | None = None  # ns since the epoch of the earliest row written
    last_ts: int | None = None


@dataclass(frozen=True)
class FileRecord:
    """A Parquet file of the dataset as written: what `teiten store check` compares."""

    path: str  # relative to the store: packets/day=YYYY-MM-DD/<name>.parquet
    rows: int
    bytes: int
    digest: str  # 'blake3:<hex>' of the file's bytes


@dataclass(frozen=True)
class RewriteRecord:
    """A replacement of day folders (compaction, removal); see :mod:`teiten.store.rewrite`."""

    rewrite_id: str
    kind: str
    state: str
    created_at: float
    plan: dict[str, Any]


@dataclass(frozen=True)
class SensorRecord:
    """A sensor's declared size: address counts only, never its prefixes."""

    name: str
    ipv4_addresses: int
    ipv6_prefixes: int
    declared_at: float


class Manifest:
    """Access to ``manifest.sqlite``; every change is one transaction.

    ``read_only`` opens it without writing anything (no tables created, no upgrade
    of an older manifest on disk, no journal files): a query on a read-only store
    still works. The first change reopens it for writing.
    """

    def __init__(self, path: Path, *, read_only: bool = False) -> None:
        self.path = path
        self.read_only = read_only
        try:
            self._db = _open_read_only(path) if read_only else _open_for_writing(path)
        except (sqlite3.Error, OSError) as exc:
            raise manifest_error(path, exc) from exc

    def close(self) -> None:
        self._db.close()

    def find_inputs(self, digest: str) -> list[InputRecord]:
        """The committed inputs with this key (one per sensor they were stored under)."""
        rows = self._db.execute(
            f"SELECT {_INPUT_COLUMNS} FROM inputs i JOIN batches b USING (batch_id) "
            "WHERE i.digest = ? AND b.state = 'committed' ORDER BY b.created_at",
            (digest,),
        ).fetchall()
        return [_input(r) for r in rows]

    def sizes(self, size: int) -> set[str]:
        """Key prefixes (``packets-blake3:``, ``blake3:`` …) of inputs of exactly ``size``
        bytes: only a file of a recorded size can be a byte-identical re-ingest, so only
        then does ingest digest it before decoding it."""
        rows = self._db.execute(
            "SELECT DISTINCT substr(digest, 1, instr(digest, ':')) FROM inputs WHERE size = ?",
            (size,),
        )
        return {r[0] for r in rows}

    def spans(self, sensor: str) -> list[tuple[int, int]]:
        """``(first_ts, last_ts)`` of every committed batch of ``sensor`` that recorded one."""
        rows = self._db.execute(
            "SELECT first_ts, last_ts FROM batches WHERE state = 'committed' AND sensor = ? "
            "AND first_ts IS NOT NULL ORDER BY first_ts",
            (sensor,),
        )
        return [(r[0], r[1]) for r in rows]

    def begin(
        self, batch: BatchRecord, inputs: list[InputRecord], files: list[FileRecord] | None = None
    ) -> None:
        """Record a batch as pending, with its inputs (and its parts' digests), in one
        transaction."""
        with self._transaction():
            self._db.executemany(
                "INSERT OR REPLACE INTO files VALUES (?, ?, ?, ?)",
                [(f.path, f.rows, f.bytes, f.digest) for f in files or []],
            )
            self._db.execute(
                "INSERT INTO batches (batch_id, state, created_at, sensor, geo_database, "
                "geo_edition, packets, parts, first_ts, last_ts) "
                "VALUES (?, 'pending', ?, ?, ?, ?, ?, ?, ?, ?)",
                (
                    batch.batch_id,
                    batch.created_at,
                    batch.sensor,
                    batch.geo_database,
                    batch.geo_edition,
                    batch.packets,
                    json.dumps(batch.parts),
                    batch.first_ts,
                    batch.last_ts,
                ),
            )
            self._db.executemany(
                "INSERT INTO inputs (digest, sensor, name, size, batch_id, packets, skipped, "
                "skip_reasons, error) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                [
                    (
                        i.digest,
                        batch.sensor,
                        i.name,
                        i.size,
                        batch.batch_id,
                        i.packets,
                        i.skipped,
                        json.dumps(i.skip_reasons, sort_keys=True),
                        i.error,
                    )
                    for i in inputs
                ],
            )

    def commit(self, batch_id: str) -> None:
        with self._transaction():
            self._db.execute(
                "UPDATE batches SET state = 'committed' WHERE batch_id = ?", (batch_id,)
            )

    def batches(self, state: str | None = None) -> list[BatchRecord]:
        sql = f"SELECT {_BATCH_COLUMNS} FROM batches"
        args: tuple[str, ...] = ()
        if state is not None:
            sql += " WHERE state = ?"
            args = (state,)
        rows = self._db.execute(sql + " ORDER BY created_at", args).fetchall()
        return [
            BatchRecord(
                r[0],
                r[1],
                r[2],
                r[3],
                r[4],
                r[5],
                r[6],
                [tuple(p) for p in json.loads(r[7])],
                r[8],
                r[9],
            )
            for r in rows
        ]

    def known_batches(self, batch_ids: list[str]) -> set[str]:
        """Those of ``batch_ids`` the manifest records (pending or committed)."""
        known: set[str] = set()
        for i in range(0, len(batch_ids), 500):
            chunk = batch_ids[i : i + 500]
            marks = ",".join("?" * len(chunk))
            rows = self._db.execute(
                f"SELECT batch_id FROM batches WHERE batch_id IN ({marks})", chunk
            ).fetchall()
            known.update(r[0] for r in rows)
        return known

    def inputs(self) -> list[InputRecord]:
        rows = self._db.execute(
            f"SELECT {_INPUT_COLUMNS} FROM inputs i JOIN batches b USING (batch_id) "
            "WHERE b.state = 'committed' ORDER BY b.created_at"
        ).fetchall()
        return [_input(r) for r in rows]

    def declare_sensor(self, record: SensorRecord) -> None:
        """Record (or replace) a sensor's declared size."""
        with self._transaction():
            self._db.execute(
                "INSERT OR REPLACE INTO sensors VALUES (?, ?, ?, ?)",
                (record.name, record.ipv4_addresses, record.ipv6_prefixes, record.declared_at),
            )

    def sensors(self) -> list[SensorRecord]:
        """Every declared sensor, by name."""
        rows = self._db.execute("SELECT * FROM sensors ORDER BY name").fetchall()
        return [SensorRecord(r[0], r[1], r[2], r[3]) for r in rows]

    # --- files and day rewrites (teiten.store.rewrite, check, remove) -------------------

    def inputs_by_batch(self) -> dict[str, list[InputRecord]]:
        """The committed inputs of each committed batch (several for a collector group)."""
        rows = self._db.execute(
            f"SELECT {_INPUT_COLUMNS}, b.batch_id FROM inputs i JOIN batches b USING (batch_id) "
            "WHERE b.state = 'committed' ORDER BY b.created_at"
        ).fetchall()
        found: dict[str, list[InputRecord]] = {}
        for r in rows:
            found.setdefault(r[-1], []).append(_input(r[:-1]))
        return found

    def files(self) -> dict[str, FileRecord]:
        """The recorded Parquet files by path (files written before teiten recorded
        them, and large files compaction kept, may have none)."""
        rows = self._db.execute("SELECT path, rows, bytes, digest FROM files").fetchall()
        return {r[0]: FileRecord(*r) for r in rows}

    def has_pending(self) -> bool:
        """Whether a batch or a rewrite waits for recovery to finish it."""
        row = self._db.execute(
            "SELECT EXISTS (SELECT 1 FROM batches WHERE state = 'pending') "
            "OR EXISTS (SELECT 1 FROM rewrites WHERE state = 'pending')"
        ).fetchone()
        return bool(row[0])

    def store_version(self) -> int:
        """The schema version of the store's packet files (see teiten.store.schema), kept in
        SQLite's ``user_version``; 0: not recorded (a store of a teiten before schema 3)."""
        return int(self._db.execute("PRAGMA user_version").fetchone()[0])

    def set_store_version(self, version: int) -> None:
        self.for_writing()
        self._db.execute(f"PRAGMA user_version = {int(version)}")

    def rewrites(self, state: str | None = None, kind: str | None = None) -> list[RewriteRecord]:
        sql, args = "SELECT * FROM rewrites WHERE 1", list[str]()
        if state is not None:
            sql, args = sql + " AND state = ?", [*args, state]
        if kind is not None:
            sql, args = sql + " AND kind = ?", [*args, kind]
        rows = self._db.execute(sql + " ORDER BY created_at", args).fetchall()
        return [RewriteRecord(r[0], r[1], r[2], r[3], json.loads(r[4])) for r in rows]

    def begin_rewrite(self, rewrite_id: str, kind: str, plan: dict[str, Any]) -> None:
        """Record a rewrite as pending: from here on, recovery finishes it."""
        with self._transaction():
            self._db.execute(
                "INSERT INTO rewrites VALUES (?, ?, 'pending', ?, ?)",
                (rewrite_id, kind, time.time(), json.dumps(plan)),
            )

    def finish_rewrite(self, rewrite: RewriteRecord) -> None:
        """Apply a swapped rewrite to the manifest in one transaction: the file records
        of its days, for a removal its inputs, batches and packet counts, and the
        ``meta`` values its plan sets (raw retention's horizon)."""
        plan = rewrite.plan
        with self._transaction():
            for day in plan["days"]:
                folder = f"packets/{day['day']}/"
                self._db.executemany(
                    "DELETE FROM files WHERE path = ?", [(folder + n,) for n in day["drop"]]
                )
                self._db.executemany(
                    "INSERT OR REPLACE INTO files VALUES (?, ?, ?, ?)",
                    [(folder + f["name"], f["rows"], f["bytes"], f["digest"]) for f in day["add"]],
                )
            gone = [(b,) for b in plan.get("delete_batches", [])]
            self._db.executemany("DELETE FROM inputs WHERE batch_id = ?", gone)
            self._db.executemany("DELETE FROM batches WHERE batch_id = ?", gone)
            for batch_id, cut in plan.get("shrink_batches", {}).items():
                row = self._db.execute(
                    "SELECT parts FROM batches WHERE batch_id = ?", (batch_id,)
                ).fetchone()
                if row is None:
                    continue
                emptied = set(cut["emptied_days"])  # day=…: its packets and rollup parts go
                parts = [p for p in json.loads(row[0]) if p[1].split("/")[1] not in emptied]
                self._db.execute(
                    "UPDATE batches SET packets = packets - ?, parts = ? WHERE batch_id = ?",
                    (cut["packets"], json.dumps(parts), batch_id),
                )
            for key, value in plan.get("meta", {}).items():  # e.g. retention's raw horizon
                self._db.execute(
                    "INSERT INTO meta (key, value) VALUES (?, ?) "
                    "ON CONFLICT (key) DO UPDATE SET value = excluded.value",
                    (key, value),
                )
            if rewrite.kind in _KEPT_REWRITES:  # the store's record of what was taken out
                self._db.execute(
                    "UPDATE rewrites SET state = 'done' WHERE rewrite_id = ?", (rewrite.rewrite_id,)
                )
            else:
                self._db.execute("DELETE FROM rewrites WHERE rewrite_id = ?", (rewrite.rewrite_id,))

    def get(self, key: str) -> str | None:
        """A value of the store's ``meta`` table (None when unset)."""
        row = self._db.execute("SELECT value FROM meta WHERE key = ?", (key,)).fetchone()
        return None if row is None else str(row[0])

    def set(self, key: str, value: str | None) -> None:
        """Set (or with None, clear) a value of the ``meta`` table."""
        with self._transaction():
            if value is None:
                self._db.execute("DELETE FROM meta WHERE key = ?", (key,))
            else:
                self._db.execute(
                    "INSERT INTO meta (key, value) VALUES (?, ?) "
                    "ON CONFLICT (key) DO UPDATE SET value = excluded.value",
                    (key, value),
                )

    def for_writing(self) -> None:
        """Reopen a read-only manifest for writing (upgrading an older one on disk);
        the first change does it, a writer taking the store's lock does it first."""
        if not self.read_only:
            return
        try:
            db = _open_for_writing(self.path)
        except (sqlite3.Error, OSError) as exc:
            raise manifest_error(self.path, exc) from exc
        self._db.close()
        self._db, self.read_only = db, False

    def _transaction(self) -> _Transaction:
        self.for_writing()
        return _Transaction(self._db)


_KEPT_REWRITES = ("remove", "retain")  # kinds whose record stays once done (compact: not)
_INPUT_COLUMNS = "i.digest, i.name, i.size, i.packets, i.skipped, i.skip_reasons, i.error, b.sensor"
_BATCH_COLUMNS = (
    "batch_id, state, created_at, sensor, geo_database, geo_edition, packets, parts, "
    "first_ts, last_ts"
)


def _input(r: tuple) -> InputRecord:
    return InputRecord(r[0], r[1], r[2], r[3], r[4], json.loads(r[5]), r[6], r[7])


def _bring_up_to_date(db: sqlite3.Connection) -> None:
    """Create what is missing and migrate older tables (on disk, or in a private copy)."""
    db.executescript(_SCHEMA + _UPKEEP)
    _migrate(db)


def _open_for_writing(path: Path) -> sqlite3.Connection:
    db = sqlite3.connect(path, isolation_level=None, timeout=30)
    try:
        # A rollback journal, not WAL: a reader then needs no -shm/-wal files, so it
        # can read a store on a read-only mount or of another user and leaves nothing.
        with contextlib.suppress(sqlite3.OperationalError):  # still open elsewhere in WAL
            db.execute("PRAGMA journal_mode=DELETE")
        db.execute("PRAGMA synchronous=FULL")
        _bring_up_to_date(db)
    except BaseException:
        db.close()
        raise
    return db


def _open_read_only(path: Path) -> sqlite3.Connection:
    """A connection that writes nothing (see :class:`Manifest`).

    ``mode=ro`` normally; ``immutable=1`` for a WAL manifest (made by an earlier
    teiten) whose lock file is absent, since creating one would be a write. A
    manifest of an earlier teiten is upgraded in a private copy in memory.
    """
    uri = "file:" + quote(str(path.absolute())) + "?mode=ro"
    if _is_wal(path) and not path.with_name(path.name + "-shm").exists():
        uri += "&immutable=1"
    db = sqlite3.connect(uri, uri=True, isolation_level=None, timeout=30)
    try:
        try:
            db.execute("SELECT count(*) FROM sqlite_master").fetchone()
        except sqlite3.OperationalError as exc:
            # A writer died mid-transaction: only a writable connection may roll it back.
            if getattr(exc, "sqlite_errorcode", None) != 776 or not os.access(path, os.W_OK):
                raise
            sqlite3.connect(path, timeout=30).execute("SELECT 1 FROM sqlite_master").close()
            db.execute("SELECT count(*) FROM sqlite_master").fetchone()
        if _tables(db) != _current_tables():
            copy = sqlite3.connect(":memory:", isolation_level=None)
            db.backup(copy)
            db.close()
            db = copy
            _bring_up_to_date(db)
    except BaseException:
        db.close()
        raise
    return db


def _is_wal(path: Path) -> bool:
    with open(path, "rb") as f:
        header = f.read(20)
    return len(header) == 20 and header[18] == 2  # file format: 1 rollback, 2 WAL


def _tables(db: sqlite3.Connection) -> dict[str, list[tuple[Any, ...]]]:
    names = [r[0] for r in db.execute("SELECT name FROM sqlite_master WHERE type = 'table'")]
    return {n: db.execute(f"PRAGMA table_info('{n}')").fetchall() for n in sorted(names)}


_CURRENT: dict[str, list[tuple[Any, ...]]] = {}


def _current_tables() -> dict[str, list[tuple[Any, ...]]]:
    """The tables (and their columns) of a manifest this teiten writes."""
    if not _CURRENT:
        db = sqlite3.connect(":memory:", isolation_level=None)
        db.executescript(_SCHEMA + _UPKEEP)
        _migrate(db)
        _CURRENT.update(_tables(db))
        db.close()
    return _CURRENT


def _migrate(db: sqlite3.Connection) -> None:
    """Bring a manifest written by an earlier teiten to the current tables, in place.

    Version 1 keyed inputs by their digest alone and had no batch time spans.
    """
    batch_columns = {r[1] for r in db.execute("PRAGMA table_info(batches)")}
    input_columns = {r[1] for r in db.execute("PRAGMA table_info(inputs)")}
    if {"first_ts", "last_ts"} <= batch_columns and "sensor" in input_columns:
        return
    db.execute("BEGIN IMMEDIATE")
    try:
        if "first_ts" not in batch_columns:
            db.execute("ALTER TABLE batches ADD COLUMN first_ts INTEGER")
            db.execute("ALTER TABLE batches ADD COLUMN last_ts INTEGER")
        if "sensor" not in input_columns:
            db.execute("ALTER TABLE inputs RENAME TO inputs_v1")
            db.execute("DROP INDEX IF EXISTS inputs_size")
            db.execute(_INPUTS)
            db.execute(_INPUTS_INDEX)
            db.execute(
                "INSERT INTO inputs (digest, sensor, name, size, batch_id, packets, skipped, "
                "skip_reasons, error) SELECT i.digest, b.sensor, i.name, i.size, i.batch_id, "
                "i.packets, i.skipped, i.skip_reasons, i.error "
                "FROM inputs_v1 i JOIN batches b USING (batch_id)"
            )
            db.execute("DROP TABLE inputs_v1")
        db.execute("COMMIT")
    except BaseException:
        db.execute("ROLLBACK")
        raise


class _Transaction:
    def __init__(self, db: sqlite3.Connection) -> None:
        self._db = db

    def __enter__(self) -> None:
        self._db.execute("BEGIN IMMEDIATE")

    def __exit__(self, exc_type: object, *_: object) -> None:
        self._db.execute("ROLLBACK" if exc_type else "COMMIT")
