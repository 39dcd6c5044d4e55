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

Files: ``rollups/day=YYYY-MM-DD/<batch>.{keys,sources,dsts}.parquet`` — every
write batch (ingest, the collector, ``simulate --store``) rolls up its own rows and
commits those files with its packet files, atomically (:class:`~teiten.store.BatchWriter`);
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

from teiten.store.schema import T_NS_SQL
from teiten.store.swap import fsync_path

if TYPE_CHECKING:
    import duckdb

    from teiten.store.dataset import Store

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
_PARQUET = {"compression": "zstd", "compression_level": 3, "use_dictionary": True}
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
    """The rollups of written rows, built as they are written (from any thread).

    The same rows as :func:`keys_sql` / :func:`sources_sql` / :func:`dsts_sql` give (the
    tests hold them to it), computed faster: categorical columns are grouped by integer
    codes (one dictionary per column for all the rows added) and addresses as two
    64-bit halves, and only the aggregated rows are turned back into strings and bytes.
    """

    def __init__(self, folder: Path) -> None:
        """Files are written into ``folder`` as ``day=…-<n>.<table>.parquet``."""
        self._folder = folder
        self._lock = threading.Lock()
        self._local = threading.local()
        self._names: dict[str, dict[str, int]] = {c: {} for c in _CODED}
        self._keys: dict[str, list[pa.Table]] = {}
        self._dsts: dict[str, list[pa.Table]] = {}
        self._written: dict[str, list[dict[str, Path]]] = {}
        self._parts = itertools.count()

    def _con(self) -> duckdb.DuckDBPyConnection:
        con = getattr(self._local, "con", None)
        if con is None:
            import duckdb

            con = duckdb.connect(":memory:", config={"threads": 1})
            self._local.con = con
        return con

    def add(self, day: str, rows: pa.Table | pa.RecordBatch) -> None:
        """Roll up ``rows`` (store rows of ``day``, ``day=YYYY-MM-DD``)."""
        import pyarrow.compute as pc

        coded = {name: self._coded(name, rows.column(name)) for name in _CODED}
        proto = _array(rows.column("proto"))
        icmp = pc.is_in(proto, pa.array([1, 58], pa.uint8()))
        no_port, no_type = pa.scalar(None, pa.uint16()), pa.scalar(None, pa.uint8())
        src_hi, src_lo = _halves(rows.column("src"))
        dst_hi, dst_lo = _halves(rows.column("dst"))
        t_ns = pc.add(
            pc.multiply(_array(rows.column("ts")).cast(pa.int64()), 1000),
            _array(rows.column("ts_ns")).cast(pa.int64()),
        )
        table = pa.table(
            {
                **coded,
                "proto": proto,
                "port": pc.if_else(icmp, no_port, _array(rows.column("dport"))),
                "icmp_type": pc.if_else(icmp, _array(rows.column("icmp_type")), no_type),
                "asn": _array(rows.column("asn")),
                "tags": _array(rows.column("tags")),
                "src_hi": src_hi,
                "src_lo": src_lo,
                "t_ns": t_ns,
                "ipv4": pc.equal(_array(rows.column("ip_version")), 4),
                "dst_hi": dst_hi,
                "dst_lo": dst_lo,
            }
        )
        con = self._con()
        keys = _query(con, f"SELECT {_CODED_KEYS}, {_FIRST_SUMS} FROM _t GROUP BY ALL", table)
        dsts = _query(con, "SELECT DISTINCT sensor, dst_hi, dst_lo FROM _t WHERE ipv4", table)
        with self._lock:
            parts = self._keys.setdefault(day, [])
            parts.append(keys)
            self._dsts.setdefault(day, []).append(dsts)
            # Written out once they add up, so memory stays bounded however many
            # packets a batch holds (queries sum a day's files; compaction merges them).
            full = sum(p.num_rows for p in parts) > _FLUSH_ROWS
            if full:
                key_parts, dst_parts = self._keys.pop(day), self._dsts.pop(day)
        if full:
            self._write(day, key_parts, dst_parts)

    def _coded(self, name: str, column: pa.ChunkedArray | pa.Array) -> pa.Array:
        """``column``'s values as this object's int32 codes of them (nulls stay null)."""
        import pyarrow.compute as pc

        chunks = column.chunks if isinstance(column, pa.ChunkedArray) else [column]
        out = []
        for chunk in chunks:
            if not pa.types.is_dictionary(chunk.type):
                chunk = chunk.dictionary_encode()
            with self._lock:
                known = self._names[name]
                mapping = [known.setdefault(v, len(known)) for v in chunk.dictionary.to_pylist()]
            out.append(pc.take(pa.array(mapping, pa.int32()), chunk.indices))
        return pa.concat_arrays(out) if out else pa.array([], pa.int32())

    def finish(self) -> dict[str, list[dict[str, Path]]]:
        """Write what is held; every file written, per day: ``[{table name: path}]``."""
        with self._lock:
            held = [(day, self._keys.pop(day), self._dsts.pop(day)) for day in list(self._keys)]
        for day, key_parts, dst_parts in held:
            self._write(day, key_parts, dst_parts)
        return dict(sorted(self._written.items()))

    def _write(self, day: str, key_parts: list[pa.Table], dst_parts: list[pa.Table]) -> None:
        import pyarrow.compute as pc

        con = self._con()
        keys = _merge(con, key_parts, f"{_CODED_KEYS}, {_SUMS}")
        dsts = _merge(con, dst_parts, "DISTINCT *")
        sources = _query(con, f"SELECT {_CODED_SOURCES}, {_SUMS} FROM _t GROUP BY ALL", keys)
        # Rows of one traffic kind together: a query of probes skips backscatter's row groups.
        keys, sources = (
            t.take(pc.sort_indices(t, [("kind", "ascending")])) for t in (keys, sources)
        )
        tables = {
            "keys": self._decoded(keys, KEYS_SCHEMA),
            "sources": self._decoded(sources, SOURCES_SCHEMA),
            "dsts": self._decoded(dsts, DSTS_SCHEMA),
        }
        stem = f"{day}-{next(self._parts)}"
        paths = {
            t: _write(table, self._folder / f"{stem}.{t}.parquet") for t, table in tables.items()
        }
        with self._lock:
            self._written.setdefault(day, []).append(paths)

    def _decoded(self, table: pa.Table, schema: pa.Schema) -> pa.Table:
        """Coded rows back as ``schema``'s columns: strings, addresses."""
        columns = []
        for f in schema:
            if f.name in _CODED:
                names = sorted(self._names[f.name], key=self._names[f.name].__getitem__)
                codes = _array(table.column(f.name)).cast(pa.int32())
                columns.append(pa.DictionaryArray.from_arrays(codes, pa.array(names, pa.string())))
            elif f.name in ("src", "dst"):
                columns.append(_joined(table.column(f.name + "_hi"), table.column(f.name + "_lo")))
            else:
                columns.append(_array(table.column(f.name)).cast(f.type))
        return pa.Table.from_arrays(columns, schema=schema)

    def close(self) -> None:
        con = getattr(self._local, "con", None)
        if con is not None:
            con.close()


_CODED = ("sensor", "kind", "country")
_FLUSH_ROWS = 1 << 20  # partial rollup rows of a day held before they are written
_CODED_KEYS = "sensor, kind, proto, port, icmp_type, country, asn, tags, src_hi, src_lo"
_CODED_SOURCES = "sensor, kind, country, asn, tags, src_hi, src_lo"
_FIRST_SUMS = "count(*) AS packets, min(t_ns) AS first_ns, max(t_ns) AS last_ns"
_SUMS = "sum(packets)::BIGINT AS packets, min(first_ns) AS first_ns, max(last_ns) AS last_ns"


def _merge(con: duckdb.DuckDBPyConnection, parts: list[pa.Table], select: str) -> pa.Table:
    """Partial rollups as one: ``select`` over them (grouped when it sums)."""
    table = pa.concat_tables(parts)
    if len(parts) == 1:
        return table
    group = " GROUP BY ALL" if "sum(" in select else ""
    return _query(con, f"SELECT {select} FROM _t{group}", table)


def _array(column: pa.ChunkedArray | pa.Array) -> pa.Array:
    return column.combine_chunks() if isinstance(column, pa.ChunkedArray) else column


def _halves(column: pa.ChunkedArray | pa.Array) -> tuple[np.ndarray, np.ndarray]:
    """16-byte addresses as their high and low 64 bits (big-endian, so order is kept)."""
    array = _array(column)
    words = np.frombuffer(array.buffers()[1], dtype=">u8")
    words = words[2 * array.offset : 2 * (array.offset + len(array))]
    return words[0::2].astype(np.uint64), words[1::2].astype(np.uint64)


def _joined(hi: pa.ChunkedArray, lo: pa.ChunkedArray) -> pa.Array:
    """:func:`_halves` back as 16-byte addresses."""
    words = np.empty((len(hi), 2), dtype=">u8")
    words[:, 0] = _array(hi).to_numpy()
    words[:, 1] = _array(lo).to_numpy()
    return pa.FixedSizeBinaryArray.from_buffers(
        pa.binary(16), len(hi), [None, pa.py_buffer(words.tobytes())]
    )


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


def _files(paths: list[Path]) -> str:
    """SQL reading the Parquet files ``paths``."""
    listed = ", ".join("'" + str(p).replace("'", "''") + "'" for p in paths)
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
