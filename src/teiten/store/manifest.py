"""The store's manifest: which inputs were ingested, into which batch, tagged how.

A SQLite file beside the Parquet dataset. Inputs are keyed by a digest of
their bytes (``blake3:<hex>``), so the same capture ingested twice (under any name) adds nothing.
A batch is first recorded as ``pending`` with the list of its Parquet parts,
then its parts are renamed into the dataset, then it becomes ``committed``;
a crash in between is rolled forward by :meth:`Manifest.pending`'s caller.

It also holds the sensors' declared sizes (how many addresses each one monitors),
which Internet-wide rate estimates scale by. Only the counts are kept, never the
prefixes: a sensor's addresses must not be recoverable from the store.
"""

from __future__ import annotations

import json
import sqlite3
from dataclasses import dataclass, field
from pathlib import Path

from teiten.errors import StoreError

__all__ = ["BatchRecord", "InputRecord", "Manifest", "SensorRecord"]

_SCHEMA = """
CREATE TABLE IF NOT EXISTS batches (
    batch_id     TEXT PRIMARY KEY,
    state        TEXT NOT NULL CHECK (state IN ('pending', 'committed')),
    created_at   REAL NOT NULL,
    sensor       TEXT NOT NULL,
    geo_database TEXT NOT NULL,
    geo_edition  TEXT NOT NULL,
    packets      INTEGER NOT NULL,
    parts        TEXT NOT NULL   -- JSON list of [staging path, dataset path], relative to the store
);
CREATE INDEX IF NOT EXISTS batches_pending ON batches (state) WHERE state = 'pending';
CREATE TABLE IF NOT EXISTS inputs (
    digest       TEXT PRIMARY KEY,  -- 'blake3:<hex>' of the input's bytes
    name         TEXT NOT NULL,
    size         INTEGER NOT NULL,
    batch_id     TEXT NOT NULL REFERENCES batches(batch_id),
    packets      INTEGER NOT NULL,
    skipped      INTEGER NOT NULL,
    skip_reasons TEXT NOT NULL,  -- JSON object reason -> count
    error        TEXT            -- set when only the packets before a corrupt record were kept
);
CREATE INDEX IF NOT EXISTS inputs_size ON inputs (size);
CREATE TABLE IF NOT EXISTS sensors (
    name           TEXT PRIMARY KEY,
    ipv4_addresses INTEGER NOT NULL CHECK (ipv4_addresses >= 0),  -- monitored IPv4 addresses
    ipv6_prefixes  INTEGER NOT NULL CHECK (ipv6_prefixes >= 0),   -- monitored IPv6 prefixes
    declared_at    REAL NOT NULL    -- Unix time of the latest declaration
);
"""


@dataclass(frozen=True)
class InputRecord:
    """One ingested input file."""

    digest: str
    name: str
    size: int
    packets: int
    skipped: int
    skip_reasons: dict[str, int] = field(default_factory=dict)
    error: str | None = None


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


@dataclass(frozen=True)
class SensorRecord:
    """A sensor's declared size: address counts only, never its prefixes."""

    name: str
    ipv4_addresses: int
    ipv6_prefixes: int
    declared_at: float


class Manifest:
    """Access to ``manifest.sqlite``; every change is one transaction."""

    def __init__(self, path: Path) -> None:
        self.path = path
        try:
            self._db = sqlite3.connect(path, isolation_level=None, timeout=30)
            self._db.execute("PRAGMA journal_mode=WAL")
            self._db.execute("PRAGMA synchronous=FULL")
            self._db.executescript(_SCHEMA)
        except sqlite3.DatabaseError as exc:
            raise StoreError(
                f"{path}: the store manifest cannot be read ({exc}); "
                "restore it from a backup or point --store at another directory"
            ) from exc

    def close(self) -> None:
        self._db.close()

    def find_input(self, digest: str) -> InputRecord | None:
        """The committed input with these bytes, if any."""
        row = self._db.execute(
            "SELECT i.digest, i.name, i.size, i.packets, i.skipped, i.skip_reasons, i.error "
            "FROM inputs i JOIN batches b USING (batch_id) "
            "WHERE i.digest = ? AND b.state = 'committed'",
            (digest,),
        ).fetchone()
        if row is None:
            return None
        return InputRecord(row[0], row[1], row[2], row[3], row[4], json.loads(row[5]), row[6])

    def has_size(self, size: int) -> bool:
        """Whether any recorded input has exactly ``size`` bytes (only such a file can be
        a duplicate, so only then must ingest hash it before reading it)."""
        row = self._db.execute("SELECT 1 FROM inputs WHERE size = ? LIMIT 1", (size,))
        return row.fetchone() is not None

    def begin(self, batch: BatchRecord, inputs: list[InputRecord]) -> None:
        """Record a batch as pending, with its inputs, in one transaction."""
        with self._transaction():
            self._db.execute(
                "INSERT INTO batches VALUES (?, 'pending', ?, ?, ?, ?, ?, ?)",
                (
                    batch.batch_id,
                    batch.created_at,
                    batch.sensor,
                    batch.geo_database,
                    batch.geo_edition,
                    batch.packets,
                    json.dumps(batch.parts),
                ),
            )
            self._db.executemany(
                "INSERT INTO inputs VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                [
                    (
                        i.digest,
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
        sql = "SELECT * FROM batches"
        args: tuple[str, ...] = ()
        if state is not None:
            sql += " WHERE state = ?"
            args = (state,)
        rows = self._db.execute(sql + " ORDER BY created_at", args).fetchall()
        return [
            BatchRecord(
                r[0], r[1], r[2], r[3], r[4], r[5], r[6], [tuple(p) for p in json.loads(r[7])]
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
            "SELECT i.digest, i.name, i.size, i.packets, i.skipped, i.skip_reasons, i.error "
            "FROM inputs i JOIN batches b USING (batch_id) WHERE b.state = 'committed' "
            "ORDER BY b.created_at"
        ).fetchall()
        return [InputRecord(r[0], r[1], r[2], r[3], r[4], json.loads(r[5]), r[6]) for r in rows]

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

    def _transaction(self) -> _Transaction:
        return _Transaction(self._db)


class _Transaction:
    def __init__(self, db: sqlite3.Connection) -> None:
        self._db = db

    def __enter__(self) -> None:
        self._db.execute("BEGIN IMMEDIATE")

    def __exit__(self, exc_type: object, *_: object) -> None:
        self._db.execute("ROLLBACK" if exc_type else "COMMIT")
