"""Stored events: analysis results (scan events, DoS attacks) kept beside the packets.

Layout::

    <root>/events/<family>/<period>/<key>.parquet

``family`` is ``scans`` or ``dos``; ``period`` the period's label (``2019Q2``,
``2019-04-01..2019-04-07``); ``key`` a digest of everything the result depends on
besides the packets (period bounds, parameters, sensor declarations). The
packets it depends on are summed up as a *state*: a digest of the committed
batches holding rows of the days read. The state is kept in the file's
metadata; a file whose state differs from the store's is stale and is
recomputed. Files are written to a temporary name and renamed into place, so a
reader never sees a partial one; they are plain Parquet, readable by DuckDB:
``duckdb -c "select * from 'teiten-data/events/scans/*/*.parquet'"``.

They are a cache. When the store cannot be written (a read-only mount, another
user's store), they go to ``$XDG_CACHE_HOME/teiten/stores/<digest of the store's
path>/events/`` (``~/.cache/…`` by default); when that cannot be written either,
the result is only kept in memory. Reading looks in both places.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import re
import uuid
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pyarrow as pa
import pyarrow.parquet as pq

if TYPE_CHECKING:
    from teiten.store.dataset import Store

__all__ = ["EVENT_FAMILIES", "EventFile", "EventStore", "cache_folder"]

EVENT_FAMILIES = ("scans", "dos")
_META = b"teiten.events"
_DAY = re.compile(r"(?:^|/)day=(\d{4}-\d{2}-\d{2})/")


class EventFile:
    """One stored result: its rows and the metadata it was computed with."""

    def __init__(self, table: pa.Table, meta: dict[str, Any], path: Path | None = None) -> None:
        self.table = table
        self.meta = meta
        self.path = path  # where it was read from


def cache_folder(store: Store) -> Path:
    """Where events of ``store`` go when the store itself cannot be written."""
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    key = hashlib.blake2b(os.fsencode(store.root.resolve()), digest_size=8).hexdigest()
    return Path(base) / "teiten" / "stores" / key / "events"


class EventStore:
    """Read and write ``<store>/events``; cheap to create."""

    def __init__(self, store: Store) -> None:
        self.store = store
        self.root = store.root / "events"
        self.roots = [self.root, cache_folder(store)]  # where to look, where to write

    @staticmethod
    def key(inputs: dict[str, Any]) -> str:
        """A short digest of what a result depends on besides the packets."""
        text = json.dumps(inputs, sort_keys=True, default=str)
        return hashlib.blake2b(text.encode(), digest_size=12).hexdigest()

    def state(self, first: date, last: date) -> str:
        """Digest of the committed batches holding rows of days ``first`` … ``last``."""
        lo, hi = first.isoformat(), last.isoformat()
        ids = sorted(
            b.batch_id
            for b in self.store.manifest.batches(state="committed")
            if any(lo <= m[1] <= hi for _, final in b.parts if (m := _DAY.search(final)))
        )
        return hashlib.blake2b("\n".join(ids).encode(), digest_size=16).hexdigest()

    def path(self, family: str, period_label: str, key: str, root: Path | None = None) -> Path:
        if family not in EVENT_FAMILIES:
            raise ValueError(f"unknown event family {family!r}")
        folder = re.sub(r"[^0-9A-Za-z._-]+", "_", period_label)
        return (root or self.root) / family / folder / f"{key}.parquet"

    def load(self, family: str, period_label: str, key: str, state: str) -> EventFile | None:
        """The stored result (from the store, else the cache folder), or None when there
        is none or it is stale."""
        for root in self.roots:
            path = self.path(family, period_label, key, root)
            try:
                table = pq.read_table(path)
            except (OSError, pa.ArrowException):
                continue  # none, unreadable, or cut short by a full disk: recompute it
            raw = (table.schema.metadata or {}).get(_META)
            meta = json.loads(raw) if raw else {}
            if meta.get("state") == state:
                return EventFile(table.replace_schema_metadata(None), meta, path)
        return None

    def save(
        self, family: str, period_label: str, key: str, table: pa.Table, meta: dict[str, Any]
    ) -> Path | None:
        """Write ``table`` with ``meta`` atomically (temporary file, then rename) into the
        store, else the cache folder; None when neither can be written (a full disk, a
        read-only store of another user with no home): the caller keeps its result."""
        metadata = {**(table.schema.metadata or {}), _META: json.dumps(meta, default=str)}
        table = table.replace_schema_metadata(metadata)
        for root in self.roots:
            path = self.path(family, period_label, key, root)
            tmp = path.with_name(f".{path.stem}-{uuid.uuid4().hex[:8]}.tmp")
            try:
                path.parent.mkdir(parents=True, exist_ok=True)
                pq.write_table(table, tmp, compression="zstd")
                os.replace(tmp, path)
            except OSError:
                with contextlib.suppress(OSError):
                    tmp.unlink(missing_ok=True)
                continue
            return path
        return None
