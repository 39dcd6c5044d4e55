"""Store schema versions: a store written by an older teiten is refused, then upgraded.

Store schema 3 keeps an instant as ``ts`` in microseconds (Parquet
``TIMESTAMP(MICROS, UTC)``, which Apache Spark reads) and ``ts_ns``, the nanoseconds
past it; schemas 1 and 2 kept ``ts`` in nanoseconds, which Spark refuses
(``PARQUET_TYPE_ILLEGAL``). The manifest records the version of a store's files
(:meth:`Manifest.store_version`); a store without that record that holds packet files
was written before schema 3. Every command refuses such a store with one line
(:class:`~teiten.errors.StoreVersionError`) except ``teiten store migrate``
(:func:`migrate`), which rewrites its older files:

* day by day, like compaction (:mod:`teiten.store.rewrite`): the new files are written
  under ``staging/``, the rewrite is recorded in the manifest, the day folder is
  swapped in and the file records (rows, bytes, digests) are replaced in one
  transaction. A crash leaves each day wholly old or wholly new; the next run (or any
  writer's recovery) finishes a recorded day, and the run migrates the days left;
* rows are copied in order with every column (the ``batch`` of files from before that
  column filled from the file name, as compaction does); only ``ts`` changes, split into
  whole microseconds and ``ts_ns`` without losing a nanosecond;
* a new file is named after the old one with ``-v3`` (``<batch>-<lane>-v3.parquet``
  still names its batch, see :func:`teiten.store.parts.batch_of_name`);
* the version is recorded once every day is done, and a run on a current store does
  nothing.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

from teiten.errors import StoreDamageError, StoreError, StoreVersionError
from teiten.store.parts import with_batch
from teiten.store.schema import SCHEMA, SCHEMA_VERSION

if TYPE_CHECKING:
    from teiten.store.dataset import Store

__all__ = ["Migration", "migrate", "require_current", "stored_version"]

_VERSION_KEY = b"teiten.schema_version"


@dataclass(frozen=True)
class Migration:
    """What a migration did (``migrated_files`` 0: the store was current already)."""

    store: str
    from_version: int
    to_version: int
    migrated_files: int
    packets: int  # rows of the migrated files

    def as_json(self) -> dict[str, Any]:
        return {
            "migrated_files": self.migrated_files,
            "packets": self.packets,
            "from_version": self.from_version,
            "to_version": self.to_version,
        }


def stored_version(store: Store) -> int:
    """The store schema of ``store``'s packet files: the manifest's record, else (a store
    of a teiten before schema 3) that of one file, below 3 — or the current one when
    nothing is stored yet."""
    recorded = store.manifest.store_version()
    if recorded:
        return recorded
    first = next((store.root / "packets").glob("day=*/*.parquet"), None)
    if first is None:
        return SCHEMA_VERSION  # nothing to upgrade
    try:
        found = _file_version(pq.read_schema(first))
    except (OSError, pa.ArrowException):
        found = SCHEMA_VERSION - 1  # a damaged file: `store migrate` names it
    return min(found, SCHEMA_VERSION - 1)


def require_current(store: Store) -> None:
    """Refuse (and close) a store of an older schema; a writable store that records no
    version and holds no packets (new, or made by an older teiten without any) is
    recorded as current."""
    version = stored_version(store)
    if version < SCHEMA_VERSION:
        store.close()
        raise StoreVersionError(store.root, version)
    if not store.manifest.read_only and store.manifest.store_version() == 0:
        store.manifest.set_store_version(SCHEMA_VERSION)


def migrate(root: str | Path | None) -> Migration:
    """Rewrite every packet file of an older store schema into the current one (see the
    module); holds the writer lock, and does nothing on a current store."""
    from teiten.store import rollup
    from teiten.store.dataset import Store

    store = Store(root, create=False, upgrading=True)
    try:
        with store.lock():  # finishes a migration a crash interrupted first
            before = stored_version(store)
            if before >= SCHEMA_VERSION:
                if not store.manifest.store_version():  # nothing stored yet
                    store.manifest.set_store_version(SCHEMA_VERSION)
                return Migration(str(store.root), before, before, 0, 0)
            versions: list[int] = []
            files = packets = 0
            for folder in sorted((store.root / "packets").glob("day=*")):
                old = []
                for path in sorted(folder.glob("*.parquet")):
                    schema = _read_schema(path)
                    if "ts_ns" not in schema.names:
                        old.append(path)
                        versions.append(_file_version(schema))
                if old:
                    packets += _migrate_day(store, folder, old)
                    files += len(old)
            store.manifest.set_store_version(SCHEMA_VERSION)
            if not rollup.complete(store):  # a store of that release has no rollups yet
                rollup.roll_up(store, days=None, mark_complete=True)
        first = min(versions, default=before)
        return Migration(str(store.root), first, SCHEMA_VERSION, files, packets)
    finally:
        store.close()


def _migrate_day(store: Store, folder: Path, old: list[Path]) -> int:
    """Swap in ``folder`` with its ``old`` files rewritten; their rows."""
    from teiten.store.rewrite import Rewrite

    rewrite = Rewrite(store, "migrate")
    rows = 0
    try:
        for path in sorted(folder.glob("*.parquet")):
            if path not in old:
                rewrite.link(folder.name, path)
        written = []
        for path in old:
            out = rewrite.folder(folder.name) / _new_name(path.name)
            rows += _rewrite_file(path, out)
            written.append(out)
        rewrite.add_day(folder.name, [p.name for p in old], written)
    except BaseException:
        rewrite.abandon()
        raise
    rewrite.apply()
    return rows


def _rewrite_file(path: Path, out: Path) -> int:
    """Copy the rows of ``path`` into ``out`` in the current schema, row group by row group."""
    from teiten.store.dataset import PARQUET_OPTIONS, ROW_GROUP_ROWS

    try:
        parquet = pq.ParquetFile(path)
        names = parquet.schema_arrow.names
        if lacking := [f.name for f in SCHEMA if f.name not in (*names, "ts_ns", "batch")]:
            raise StoreError(
                f"{path}: written before its column(s) {', '.join(lacking)} existed; teiten "
                "cannot migrate it: ingest its captures into a new store instead"
            )
        with pq.ParquetWriter(out, SCHEMA, **PARQUET_OPTIONS) as writer:
            for i in range(parquet.num_row_groups):
                table = upgrade_rows(parquet.read_row_group(i), path.name)
                writer.write_table(table, row_group_size=ROW_GROUP_ROWS)
        return int(parquet.metadata.num_rows)
    except (OSError, pa.ArrowException) as exc:
        raise _damaged(path, exc) from exc


def upgrade_rows(table: pa.Table, name: str) -> pa.Table:
    """Rows of an older packet file (named ``name``) in :data:`SCHEMA`: ``ts`` in ns split
    into µs and ``ts_ns``, a missing ``batch`` filled from the file name."""
    if "batch" not in table.column_names:
        batch = SCHEMA.field("batch")
        table = table.append_column(batch, pa.nulls(table.num_rows, batch.type))
    table = with_batch(table, name)
    ns = table.column("ts").cast(pa.int64()).to_numpy()
    micros, rest = np.divmod(ns, 1000)
    split = {
        "ts": pa.array(micros, SCHEMA.field("ts").type),
        "ts_ns": pa.array(rest.astype(np.uint16), pa.uint16()),
    }
    columns = [
        split[f.name] if f.name in split else table.column(f.name).cast(f.type) for f in SCHEMA
    ]
    return pa.Table.from_arrays(columns, schema=SCHEMA)


def _new_name(name: str) -> str:
    """``<stem>-v3.parquet``: the swap tells old files from new ones by name."""
    stem = re.sub(r"-v\d+$", "", name.removesuffix(".parquet"))
    return f"{stem}-v{SCHEMA_VERSION}.parquet"


def _read_schema(path: Path) -> pa.Schema:
    try:
        return pq.read_schema(path)
    except (OSError, pa.ArrowException) as exc:
        raise _damaged(path, exc) from exc


def _file_version(schema: pa.Schema) -> int:
    """The schema version a file was written with (1: before files recorded it)."""
    return int((schema.metadata or {}).get(_VERSION_KEY, b"1"))


def _damaged(path: Path, exc: BaseException) -> StoreDamageError:
    detail = (str(exc).strip().splitlines() or [type(exc).__name__])[0]
    return StoreDamageError(
        path,
        f"{path}: cannot migrate this Parquet file ({detail}); restore it from a backup, or "
        "remove its rows with the teiten that wrote the store (`teiten store remove`), "
        "then run `teiten store migrate` again (the days done so far stay migrated)",
    )
