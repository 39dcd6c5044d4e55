"""Rollups: the store's packets counted per day, row key and source, exact and small.

Every answer teiten publishes — rankings by any metric and filter, daily series,
phenomena, the report — is a sum or a distinct count over these columns, so it can be
read from the rollup instead of the packets, with the same result:

``keys``  per UTC day: ``sensor, kind, proto, port, icmp_type, country, asn, tags, src``
          → ``packets`` and the ``first_ns`` / ``last_ns`` of those packets. ``port`` is
          the destination port (NULL for ICMP, whose row key is ``icmp_type``, and for
          packets without ports). Distinct sources over any period stay exact: ``src``
          is a key, so a period's sources are the distinct ``src`` of its days' rows.
``sources`` the same without ``proto, port, icmp_type``: per day ``sensor, kind, country,
          asn, tags, src``. Much smaller where sources reach many ports (a quarter of
          the 300 M-packet simulation: 4 M rows against 16 M), so whatever does not
          need the port (country rankings, totals, sources per day) reads this one.
``dsts``  per UTC day: ``sensor, dst`` of IPv4 packets (the observed darknet size).

Files: ``rollups/day=YYYY-MM-DD/<batch>-<n>.{keys,sources,dsts}.parquet`` — every
write batch (ingest, the collector, ``simulate --store``) rolls up its own rows as it
writes them (:class:`Rollups`) and commits those files with its packet files,
atomically (:class:`~teiten.store.BatchWriter`);
``teiten store rollup`` rebuilds whole days from the packets for a store written
before rollups existed, and compaction merges a day's files into one.

The store's manifest says whether the rollup covers every stored packet (``meta``
key ``rollups`` = ``complete v1``): a new store starts complete and every writer keeps it
so; a store of an earlier release is not, and its queries read the packets (the same
SQL over a view that rolls them up on the fly) until ``teiten store rollup`` has run.
"""

from __future__ import annotations

import itertools
import os
import queue
import shutil
import threading
import time
import uuid
from collections.abc import Iterable
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

from teiten.errors import StoreError
from teiten.store.schema import T_NS_SQL, address_array, dictionary_array, masked_array
from teiten.store.swap import fsync_path

if TYPE_CHECKING:  # the counting kernels (numba) are imported by the writers that count
    import duckdb

    from teiten.store.dataset import Store
    from teiten.store.rollup_counts import Columns, DayCounts, PacketColumns

__all__ = [
    "DSTS_SCHEMA",
    "KEYS_SCHEMA",
    "SCHEMAS",
    "SOURCES_SCHEMA",
    "RolledDay",
    "Rollups",
    "complete",
    "days_to_roll_up",
    "dsts_sql",
    "keys_sql",
    "merge_days",
    "rebuild",
    "roll_up",
    "views",
]

_DICT = pa.dictionary(pa.int32(), pa.string())
KEY_COLUMNS = ["sensor", "kind", "proto", "port", "icmp_type", "country", "asn", "tags", "src"]
KEYS_SCHEMA = pa.schema(
    [
        pa.field("sensor", _DICT, nullable=False),
        pa.field("kind", _DICT, nullable=False),
        pa.field("proto", pa.uint8(), nullable=False),
        pa.field("port", pa.uint16()),
        pa.field("icmp_type", pa.uint8()),
        pa.field("country", _DICT),
        pa.field("asn", pa.uint32()),
        pa.field("tags", pa.uint32(), nullable=False),
        pa.field("src", pa.binary(16), nullable=False),
        pa.field("packets", pa.int64(), nullable=False),
        pa.field("first_ns", pa.int64(), nullable=False),
        pa.field("last_ns", pa.int64(), nullable=False),
    ]
)
SOURCE_COLUMNS = ["sensor", "kind", "country", "asn", "tags", "src"]
SOURCES_SCHEMA = pa.schema(
    [
        f
        for f in KEYS_SCHEMA
        if f.name in SOURCE_COLUMNS or f.name in ("packets", "first_ns", "last_ns")
    ]
)
DSTS_SCHEMA = pa.schema(
    [pa.field("sensor", _DICT, nullable=False), pa.field("dst", pa.binary(16), nullable=False)]
)
SCHEMAS = {"keys": KEYS_SCHEMA, "sources": SOURCES_SCHEMA, "dsts": DSTS_SCHEMA}
META_KEY = "rollups"
VERSION = 1  # of the rollup tables; a store rolled up by another version is rolled up anew
COMPLETE = f"complete v{VERSION}"
_ICMP = "(1, 58)"
T_NS = T_NS_SQL  # a packet's time in ns since the epoch, over the packets' columns
# Measured on the rollup of 2 M bench packets: 2.7× as fast to write as zstd level 3 with
# every column tried as a dictionary and min/max statistics on every column, and 24 %
# smaller. The instants, in no order within a kind, are delta-encoded and not compressed
# (zstd gains 1 %); ports compress better without a dictionary; statistics only where
# rows are sorted or constant (kind, sensor).
_INSTANTS = ("first_ns", "last_ns")
_DICTIONARY = ["sensor", "kind", "icmp_type", "country", "asn", "tags", "packets"]
_COLUMNS = sorted({f.name for schema in SCHEMAS.values() for f in schema})
_PARQUET = {
    "write_batch_size": 1 << 16,  # values per encoder call: fewer calls, same pages
    "compression": {c: "none" if c in _INSTANTS else "zstd" for c in _COLUMNS},
    "compression_level": {c: 1 for c in _COLUMNS if c not in _INSTANTS},
    "use_dictionary": _DICTIONARY,
    "column_encoding": {c: "DELTA_BINARY_PACKED" for c in _INSTANTS},
    "write_statistics": ["sensor", "kind"],
}
_ROW_GROUP = 1 << 17


def keys_sql(relation: str, *, day: bool = False) -> str:
    """The ``keys`` rollup of the packets in ``relation`` (with ``day`` as a column)."""
    return (
        f"SELECT {'day, ' if day else ''}sensor, kind, proto, "
        f"CASE WHEN proto IN {_ICMP} THEN NULL ELSE dport END AS port, "
        f"CASE WHEN proto IN {_ICMP} THEN icmp_type END AS icmp_type, "
        "country, asn, tags, src, count(*) AS packets, "
        f"min({T_NS}) AS first_ns, max({T_NS}) AS last_ns "
        f"FROM {relation} GROUP BY ALL"
    )


def summed_sql(columns: list[str], relation: str, *, day: bool = False) -> str:
    """Rows of ``keys`` or ``sources`` (``relation``) summed over all but ``columns``."""
    return (
        f"SELECT {'day, ' if day else ''}{', '.join(columns)}, sum(packets) AS packets, "
        f"min(first_ns) AS first_ns, max(last_ns) AS last_ns FROM {relation} GROUP BY ALL"
    )


def sources_sql(relation: str, *, day: bool = False) -> str:
    """The ``sources`` rollup of ``relation`` (``keys`` rows)."""
    return summed_sql(SOURCE_COLUMNS, relation, day=day)


def dsts_sql(relation: str, *, day: bool = False) -> str:
    """The ``dsts`` rollup (observed IPv4 destinations per sensor) of ``relation``."""
    return (
        f"SELECT DISTINCT {'day, ' if day else ''}sensor, dst FROM {relation} WHERE ip_version = 4"
    )


_ORDER = {"keys": " ORDER BY kind, proto, port, icmp_type, src", "sources": " ORDER BY kind, src"}


def complete(store: Store) -> bool:
    """Whether the rollup covers every stored packet (queries may read it)."""
    return store.manifest.get(META_KEY) == COMPLETE


def views(relation: str) -> dict[str, str]:
    """SQL of each rollup computed from the packets in ``relation`` (with ``day``), the
    ``sources`` one reading a ``keys`` view."""
    return {
        "keys": keys_sql(relation, day=True),
        "sources": sources_sql("keys", day=True),
        "dsts": dsts_sql(relation, day=True),
    }


class Rollups:
    """The rollups of written rows, counted as they are written (from any thread).

    The same rows as :func:`keys_sql` / :func:`sources_sql` / :func:`dsts_sql` give (the
    tests hold them to it), counted by a compiled loop into hash tables, a set a day
    (:mod:`teiten.store.rollup_counts`): categorical columns as integer codes (one
    dictionary per column for all the rows added), addresses as 64-bit words; only the
    counted rows become strings and bytes again. A day's ``keys`` are written out
    whenever they reach ``_FLUSH_ROWS`` rows, so memory stays bounded however many
    packets a batch holds (queries sum a day's files; compaction merges them); its
    ``sources`` and ``dsts``, which repeat from one such part to the next, at the end
    (or when they reach as many rows). Days other than the one being added to are
    written out whole once the rows held for all days reach that limit.

    The counting runs in a thread of its own, a few batches behind the writers: they
    go on encoding while it counts (it alone touches what is counted, so there is no
    lock to wait for), and only wait when it is ``_QUEUED`` batches behind.
    """

    def __init__(self, folder: Path) -> None:
        """Files are written into ``folder`` as ``day=…-<n>.<table>.parquet``."""
        self._folder = folder
        self._names: dict[str, dict[str, int]] = {c: {} for c in _CODED}
        self._days: dict[str, DayCounts] = {}
        self._written: dict[str, list[dict[str, Path]]] = {}
        self._parts = itertools.count()
        from teiten.store.rollup_counts import empty_columns

        self._into = empty_columns(_ROW_GROUP)
        self._queue: queue.Queue[tuple[str, pa.RecordBatch, int] | None] = queue.Queue(_QUEUED)
        self._worker: threading.Thread | None = None
        self._start_lock = threading.Lock()
        self._error: BaseException | None = None

    def add(self, day: str, rows: pa.Table | pa.RecordBatch) -> None:
        """Roll up ``rows`` (store rows of ``day``, ``day=YYYY-MM-DD``); an error met
        counting earlier rows is raised here (or by :meth:`finish`)."""
        self._raise()
        with self._start_lock:
            if self._worker is None:
                self._worker = threading.Thread(target=self._work, name="teiten-rollup")
                self._worker.start()
        for batch in rows.to_batches() if isinstance(rows, pa.Table) else [rows]:
            self._queue.put((day, batch, len(rows)))

    def finish(self) -> dict[str, list[dict[str, Path]]]:
        """Write what is held; every file written, per day: ``[{table name: path}]``."""
        self._stop()
        self._raise()
        for day, counts in self._days.items():
            self._flush(day, counts, final=True)
        self._days.clear()
        return dict(sorted(self._written.items()))

    def close(self) -> None:
        """Drop what is held (an aborted batch)."""
        self._stop()
        self._days.clear()

    def _stop(self) -> None:
        """Let the counting thread count what was added, and end."""
        with self._start_lock:
            worker, self._worker = self._worker, None
        if worker is not None:
            self._queue.put(None)
            worker.join()

    def _raise(self) -> None:
        if self._error is not None:
            raise self._error

    def _work(self) -> None:
        """Count what is added until told to stop; after an error, only take it."""
        while (item := self._queue.get()) is not None:
            if self._error is None:
                try:
                    self._count(*item)
                except BaseException as exc:  # raised in add or finish
                    self._error = exc

    def _count(self, day: str, batch: pa.RecordBatch, expected: int) -> None:
        """Count ``batch`` (``expected``: about how many rows of ``day`` come at once)."""
        columns = self._columns(batch)
        start = 0
        while start < batch.num_rows:
            counts = self._days.get(day)
            if counts is None:
                from teiten.store.rollup_counts import DayCounts

                counts = self._days[day] = DayCounts(_FLUSH_ROWS, expected)
            start = counts.add(columns, start)
            if counts.full:
                self._flush(day, counts, final=False)
            self._flush_other_days(day)

    def _flush_other_days(self, day: str) -> None:
        """Write out every day but ``day`` whole and forget it, once the rows held for
        all days reach the limit: a batch of many days holds about one day's tables."""
        if sum(c.keys.n + c.sources.n for c in self._days.values()) > _FLUSH_ROWS:
            for other in [other for other in self._days if other != day]:
                self._flush(other, self._days.pop(other), final=True)

    def _columns(self, batch: pa.RecordBatch) -> PacketColumns:
        """What the kernel reads of ``batch``: its buffers as numpy arrays, no copies."""
        (sensor, sensor_codes), (kind, kind_codes), (country, country_codes) = (
            self._coded(name, batch.column(name)) for name in _CODED
        )
        port, icmp_type, asn = (batch.column(c) for c in ("dport", "icmp_type", "asn"))
        bits = [_bits(column) for column in (country, port, icmp_type, asn)]
        from teiten.store.rollup_counts import PacketColumns

        return PacketColumns(
            _values(sensor, np.int32),
            sensor_codes,
            _values(kind, np.int32),
            kind_codes,
            _values(country, np.int32),
            country_codes,
            bits[0][0],
            _values(batch.column("proto"), np.uint8),
            _values(port, np.uint16),
            bits[1][0],
            _values(icmp_type, np.uint8),
            bits[2][0],
            _values(asn, np.uint32),
            bits[3][0],
            _values(batch.column("tags"), np.uint32),
            _addresses(batch.column("src")),
            _addresses(batch.column("dst")),
            _values(batch.column("ip_version"), np.uint8),
            _values(batch.column("ts"), np.int64),
            _values(batch.column("ts_ns"), np.uint16),
            np.array([offset for _, offset in bits], np.int64),
        )

    def _coded(self, name: str, column: pa.Array) -> tuple[pa.Array, np.ndarray]:
        """``column``'s dictionary indices, and this object's codes of its values."""
        if not pa.types.is_dictionary(column.type):
            column = column.dictionary_encode()
        known = self._names[name]
        codes = [known.setdefault(v, len(known)) for v in column.dictionary.to_pylist()]
        from teiten.store._rollup_kernel import MAX_CODE

        if len(known) > MAX_CODE[name]:
            raise StoreError(f"more than {MAX_CODE[name]:,} distinct {name} values in one batch")
        return column.indices.cast(pa.int32()), np.array(codes, np.int32)

    def _flush(self, day: str, counts: DayCounts, *, final: bool) -> None:
        """Write the files of what ``counts`` holds, and forget it: its ``keys`` rows, and
        its ``sources`` and ``dsts`` when ``final`` or full. (Sources and destinations
        repeat from one keys part to the next: held until the end, they are written
        once.) The tables keep their memory for the next rows: memory already in use
        costs no page faults, which cost as much as the counting."""
        names = {name: sorted(known, key=known.__getitem__) for name, known in self._names.items()}
        counts.fold()
        stem = f"{day}-{next(self._parts)}"
        tables = [("keys", counts.keys)]
        if final or counts.sources_full:
            tables.append(("sources", counts.sources))
        paths = {table: self._folder / f"{stem}.{table}.parquet" for table, _ in tables}
        for table, counted in tables:
            rows = counted.rows[: counted.n]
            _write_counted(rows, SCHEMAS[table], names, paths[table], self._into)
            counted.clear()
        if final or counts.dsts_full:
            rows = counts.dsts.rows()
            columns = [dictionary_array(rows[:, 0], names["sensor"]), address_array(rows[:, 1:])]
            paths["dsts"] = self._folder / f"{stem}.dsts.parquet"
            _write(pa.Table.from_arrays(columns, schema=DSTS_SCHEMA), paths["dsts"])
            counts.dsts.clear()
        self._written.setdefault(day, []).append(paths)


def _write_counted(
    rows: np.ndarray,
    schema: pa.Schema,
    names: dict[str, list[str]],
    path: Path,
    into: Columns | None = None,
) -> None:
    """Counted ``keys`` or ``sources`` rows as ``schema``'s file, a row group at a time, one
    traffic kind's rows together (a query of probes skips backscatter's row groups);
    ``into``: room for a row group's columns, reused from one file to the next."""
    from teiten.store.rollup_counts import columns, empty_columns, kind_order

    order = kind_order(rows)
    into = into or empty_columns(min(len(order), _ROW_GROUP))
    with pq.ParquetWriter(path, schema, **_PARQUET) as writer:
        for start in range(0, len(order), _ROW_GROUP):
            c = columns(rows, order[start : start + _ROW_GROUP], into)
            arrays = {
                "sensor": dictionary_array(c.sensor, names["sensor"]),
                "kind": dictionary_array(c.kind, names["kind"]),
                "proto": pa.array(c.proto),
                "port": masked_array(c.value, c.has_port, pa.uint16()),
                "icmp_type": masked_array(c.value, c.has_icmp_type, pa.uint8()),
                "country": dictionary_array(c.country, names["country"]),
                "asn": masked_array(c.asn, c.has_asn, pa.uint32()),
                "tags": pa.array(c.tags),
                "src": address_array(c.src),
                "packets": pa.array(c.packets),
                "first_ns": pa.array(c.first),
                "last_ns": pa.array(c.last),
            }
            table = pa.Table.from_arrays([arrays[f.name] for f in schema], schema=schema)
            writer.write_table(table, row_group_size=_ROW_GROUP)


_CODED = ("sensor", "kind", "country")
_FLUSH_ROWS = 1 << 20  # rollup rows of a day counted before they are written
_QUEUED = 1  # batches added and not yet counted, at most (Rollups)
_NO_BITS = np.frombuffer(b"", np.uint8)  # read-only, as Arrow's buffers are


def _values(array: pa.Array, dtype: type[np.generic]) -> np.ndarray:
    """The values of a fixed-width ``array`` (what a NULL slot holds is undefined)."""
    return np.frombuffer(
        array.buffers()[1], dtype, count=len(array), offset=array.offset * np.dtype(dtype).itemsize
    )


def _bits(array: pa.Array) -> tuple[np.ndarray, int]:
    """``array``'s validity bitmap (empty: no NULLs) and the bit its first value is at."""
    bitmap = array.buffers()[0]
    if bitmap is None or not array.null_count:
        return _NO_BITS, 0
    return np.frombuffer(bitmap, np.uint8), array.offset


def _addresses(array: pa.Array) -> np.ndarray:
    """16-byte addresses as two 64-bit words each (in memory order)."""
    words = array.buffers()[1]
    return np.frombuffer(words, np.int64, 2 * len(array), 16 * array.offset).reshape(-1, 2)


def _query(con: duckdb.DuckDBPyConnection, sql: str, table: pa.Table) -> pa.Table:
    """``sql`` over ``table`` (named ``_t``)."""
    con.register("_t", table)
    try:
        return con.sql(sql).to_arrow_table()
    finally:
        con.unregister("_t")


def _write_day(
    con: duckdb.DuckDBPyConnection, folder: Path, name: str, keys: pa.Table, dsts: pa.Table
) -> dict[str, Path]:
    """A day's rollup files from its ``keys`` and ``dsts`` rows: ``{table: path}``."""
    keys = _typed(keys, KEYS_SCHEMA)
    tables = {
        "keys": keys,
        "sources": _typed(_query(con, sources_sql("_t") + _ORDER["sources"], keys), SOURCES_SCHEMA),
        "dsts": _typed(dsts, DSTS_SCHEMA),
    }
    return {t: _write(table, folder / f"{name}.{t}.parquet") for t, table in tables.items()}


def _typed(table: pa.Table, schema: pa.Schema) -> pa.Table:
    """``table`` with exactly ``schema``'s columns and types."""
    columns = []
    for f in schema:
        column = table.column(f.name)
        if pa.types.is_dictionary(f.type):
            column = column.cast(pa.string()).dictionary_encode().cast(f.type)
        else:
            column = column.cast(f.type)
        columns.append(column)
    return pa.Table.from_arrays(columns, schema=schema)


def _write(table: pa.Table, path: Path) -> Path:
    pq.write_table(table, path, row_group_size=_ROW_GROUP, **_PARQUET)
    return path


@dataclass(frozen=True)
class RolledDay:
    """What ``teiten store rollup`` made of one day."""

    day: str
    packets: int
    rows: int  # rows of its keys rollup
    sources: int
    bytes: int  # of its rollup files

    def as_json(self) -> dict[str, Any]:
        return asdict(self)


def rebuild(store: Store, *, days: Iterable[str] | None = None) -> list[RolledDay]:
    """Roll up every stored day (or ``days``, ``YYYY-MM-DD``) from its packets anew.

    Takes the writer lock. The rollup is marked incomplete while it is rebuilt (queries
    read the packets meanwhile), so a crash leaves a store that answers correctly,
    slowly, until this runs again. A whole rebuild leaves the rollup complete; rebuilt
    ``days`` leave it as complete as it was.
    """
    with store.lock():
        return roll_up(store, days=days, mark_complete=days is None or complete(store))


def roll_up(store: Store, *, days: Iterable[str] | None, mark_complete: bool) -> list[RolledDay]:
    """:func:`rebuild` for a caller that holds the writer lock; the rollup of a day
    without packets is dropped. ``mark_complete``: mark the rollup complete when done."""

    live, rolled, wanted = days_to_roll_up(store, days)
    store.manifest.set(META_KEY, None)
    staging = store.root / "staging" / f"rollup-{uuid.uuid4().hex[:12]}"
    out: list[RolledDay] = []
    try:
        for day in sorted(wanted):
            if day in live:
                out.append(_rebuild_day(store, day, staging))
            elif day in rolled:
                shutil.rmtree(store.root / "rollups" / day)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    if mark_complete:
        store.manifest.set(META_KEY, COMPLETE)
    return out


def days_to_roll_up(
    store: Store, days: Iterable[str] | None
) -> tuple[set[str], set[str], set[str]]:
    """The day folders (``day=…``) holding packets, those holding rollups, and those a
    rebuild of ``days`` (None: every day) rolls up or, without packets, clears.

    A day whose raw packets raw retention dropped (:mod:`teiten.store.retention`) is left
    out: its rollups are all that is left of it. Asking for one is an error."""
    from teiten.errors import OptionError
    from teiten.store.retention import raw_since, rolled_up_only

    packets = store.root / "packets"
    live = {p.name for p in packets.glob("day=*") if any(p.glob("*.parquet"))}
    rolled = {p.name for p in (store.root / "rollups").glob("day=*")}
    kept = set(rolled_up_only(store))
    if days is None:
        return live, rolled, (live | rolled) - kept
    wanted = {f"day={d}" for d in days}
    if wanted & kept:
        asked = min(wanted & kept).removeprefix("day=")
        raise OptionError(
            f"--day {asked}: its raw packets were dropped by raw retention (they are kept "
            f"from {raw_since(store)} on), so its rollups cannot be rebuilt; they are kept "
            "as they are"
        )
    return live, rolled, wanted


def _rebuild_day(store: Store, day: str, staging: Path) -> RolledDay:
    folder = staging / day
    folder.mkdir(parents=True)
    rollups = Rollups(folder)
    try:
        for path in sorted((store.root / "packets" / day).glob("*.parquet")):
            for rows in pq.ParquetFile(path).iter_batches(1 << 19, columns=_READ):
                rollups.add(day, rows)
        written = [p for parts in rollups.finish().values() for p in parts]
    finally:
        rollups.close()
    for path in folder.iterdir():
        fsync_path(path)
    fsync_path(folder)
    keys = pq.read_table([p["keys"] for p in written], columns=["packets", "src"])
    _replace_folder(folder, store.root / "rollups" / day)
    import pyarrow.compute as pc

    size = sum(p.stat().st_size for p in (store.root / "rollups" / day).iterdir())
    packets = int(pc.sum(keys.column("packets")).as_py() or 0)
    sources = len(pc.unique(keys.column("src")))
    return RolledDay(day.removeprefix("day="), packets, keys.num_rows, sources, size)


_READ = [
    "ts", "ts_ns", "sensor", "ip_version", "src", "dst", "proto", "dport", "icmp_type",
    "kind", "country", "asn", "tags",
]  # fmt: skip


def merge_days(store: Store, *, days: Iterable[str] | None, min_files: int) -> list[str]:
    """Merge the rollup files of each day (or ``days``) that has ≥ ``min_files`` write
    batches' files into one per table (what compaction does to the packets); a caller
    holding the writer lock. Returns the days merged (``YYYY-MM-DD``)."""
    import duckdb

    from teiten.store.retention import rolled_up_only

    wanted = None if days is None else {f"day={d}" for d in days}
    untouched = set(rolled_up_only(store))  # their only copy: left as they are
    staging = store.root / "staging" / f"rollup-{uuid.uuid4().hex[:12]}"
    merged = []
    con = duckdb.connect(":memory:")
    try:
        for live in sorted((store.root / "rollups").glob("day=*")):
            keys = sorted(live.glob("*.keys.parquet"))
            if len(keys) < min_files or (wanted is not None and live.name not in wanted):
                continue
            if live.name in untouched:
                continue
            table = _typed(
                con.sql(summed_sql(KEY_COLUMNS, _files(keys)) + _ORDER["keys"]).to_arrow_table(),
                KEYS_SCHEMA,
            )
            dsts = con.sql(f"SELECT DISTINCT * FROM {_files(sorted(live.glob('*.dsts.parquet')))}")
            folder = staging / live.name
            folder.mkdir(parents=True)
            name = f"rollup-{time.strftime('%Y%m%dT%H%M%S', time.gmtime())}-{uuid.uuid4().hex[:8]}"
            for path in _write_day(con, folder, name, table, dsts.to_arrow_table()).values():
                fsync_path(path)
            fsync_path(folder)
            _replace_folder(folder, live)
            merged.append(live.name.removeprefix("day="))
    finally:
        con.close()
        shutil.rmtree(staging, ignore_errors=True)
    return merged


def _files(paths: list[Path], *, day: bool = False) -> str:
    """SQL reading the Parquet files ``paths`` (with ``day``: day files, their folder's
    day as column ``day``)."""
    listed = ", ".join("'" + str(p).replace("'", "''") + "'" for p in paths)
    if day:
        return f"read_parquet([{listed}], hive_partitioning = true, hive_types = {{'day': DATE}})"
    return f"read_parquet([{listed}])"


def _replace_folder(new: Path, live: Path) -> None:
    """Make ``new`` the folder ``live`` (its old content is deleted)."""
    from teiten.store.swap import exchange

    live.parent.mkdir(parents=True, exist_ok=True)
    if live.exists() and exchange(new, live):
        shutil.rmtree(new)  # the old folder, now under staging
        return
    if live.exists():
        old = new.with_name(new.name + ".old")
        os.replace(live, old)
        os.replace(new, live)
        shutil.rmtree(old)
    else:
        os.replace(new, live)
