"""Rows a new capture shares with stored ones: rotated files that overlap by a few seconds.

Two rows of one sensor are the same packet when every field the decoder takes
from its headers and its time to the nanosecond agree (:data:`PACKET_KEY`): a row is one packet
seen at one nanosecond, so equal keys mean the same frame stored twice. (The
same packets under another sensor label are refused whole by ingest, or stored
again under ``--force``.) Ingest keeps the
rows of a new capture that are not stored yet and counts the others as
overlapping. Only batches whose time span (recorded in the manifest) meets the
new rows' span are read, and only for that window: a capture that overlaps
nothing costs one comparison per batch of rows.
"""

from __future__ import annotations

import threading
from typing import TYPE_CHECKING, Any

import numpy as np
import pyarrow as pa

from teiten.store.dataset import NS_PER_DAY, day_name, ts_ns
from teiten.store.schema import T_NS_SQL

if TYPE_CHECKING:
    from teiten.store.dataset import Store

__all__ = ["PACKET_KEY", "Overlap"]

PACKET_KEY = (
    "ts", "ts_ns", "src", "dst", "proto", "sport", "dport", "tcp_flags", "tcp_seq", "tcp_ack",
    "tcp_window", "ttl", "ip_id", "ip_len", "wirelen", "icmp_type", "icmp_code",
)  # fmt: skip
_HASH = f"hash({T_NS_SQL}, {', '.join(PACKET_KEY[2:])})"  # ts and ts_ns as one: ns


class Overlap:
    """Drops, from rows about to be stored, those the store (or this run) already holds.

    Safe to call from several worker threads at once. ``remember`` keeps rows of
    a dry run in memory so that later files of the same run are compared with
    them as a real run compares them with the store.
    """

    def __init__(self, store: Store, sensor: str) -> None:
        self._store = store
        self._sensor = sensor
        self._starts = self._ends = np.empty(0, np.int64)
        self.refresh()
        self._memory: list[tuple[np.ndarray, np.ndarray]] = []  # (ts, key hash) of this run
        self._con: Any = None
        self._lock = threading.Lock()

    def refresh(self) -> None:
        """Read the stored batches' spans again (after a commit); resets ``overlapping``."""
        spans = self._store.manifest.spans(self._sensor)
        self._starts = np.array([s for s, _ in spans], np.int64)
        self._ends = np.array([e for _, e in spans], np.int64)
        self.overlapping = 0

    def filter(self, table: pa.Table) -> pa.Table:
        """``table`` without the rows already stored (counted in ``overlapping``)."""
        ts = ts_ns(table)
        low, high = int(ts.min()), int(ts.max())
        stored = self._stored_hashes(low, high)
        if stored is None:
            return table
        keep = ~np.isin(self._hashes(table), stored)
        dropped = int(keep.size - keep.sum())
        if not dropped:
            return table
        with self._lock:
            self.overlapping += dropped
        return table.filter(pa.array(keep))

    def keys(self, table: pa.Table) -> tuple[np.ndarray, np.ndarray]:
        """Timestamps and packet-key hashes of ``table``'s rows (for :meth:`remember`)."""
        return ts_ns(table), self._hashes(table)

    def remember(self, keys: list[tuple[np.ndarray, np.ndarray]]) -> None:
        """Hold rows' keys as if stored (a dry run's file, when more files follow)."""
        with self._lock:
            self._memory.extend(keys)

    def _stored_hashes(self, low: int, high: int) -> np.ndarray | None:
        found: list[np.ndarray] = []
        hits = (self._starts <= high) & (self._ends >= low)
        if hits.any():
            lo = max(low, int(self._starts[hits].min()))
            hi = min(high, int(self._ends[hits].max()))
            found.append(self._read_window(lo, hi))
        for ts, hashes in list(self._memory):
            inside = (ts >= low) & (ts <= high)
            if inside.any():
                found.append(hashes[inside])
        return np.concatenate(found) if found else None

    def _read_window(self, low: int, high: int) -> np.ndarray:
        files = [
            str(path)
            for day in range(low // NS_PER_DAY, high // NS_PER_DAY + 1)
            for path in (self._store.root / "packets" / day_name(day)).glob("*.parquet")
        ]
        if not files:
            return np.empty(0, np.uint64)
        with self._cursor() as cursor:
            return cursor.execute(
                f"SELECT {_HASH} AS h FROM read_parquet($files, union_by_name = true) "
                f"WHERE {T_NS_SQL} BETWEEN $low AND $high AND sensor = $sensor",
                {"files": files, "low": low, "high": high, "sensor": self._sensor},
            ).fetchnumpy()["h"]

    def _hashes(self, table: pa.Table) -> np.ndarray:
        with self._cursor() as cursor:  # its own connection: the name is its own too
            cursor.register("new_rows", table.select(list(PACKET_KEY)))
            return cursor.execute(f"SELECT {_HASH} AS h FROM new_rows").fetchnumpy()["h"]

    def _cursor(self) -> Any:
        with self._lock:
            if self._con is None:
                import duckdb  # only captures that overlap something pay for the import

                self._con = duckdb.connect(":memory:")
            return self._con.cursor()

    def close(self) -> None:
        if self._con is not None:
            self._con.close()
            self._con = None
