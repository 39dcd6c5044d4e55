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
"""

from __future__ import annotations

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

from teiten.errors import StoreError

if TYPE_CHECKING:
    from teiten.store.dataset import Store

__all__ = ["EVENT_FAMILIES", "EventFile", "EventStore"]

EVENT_FAMILIES = ("scans", "dos")
_META = b"teiten.events"
_DAY = re.compile(r"(?:^|/)day=(\d{4}-\d{2}-\d{2})/")


class EventFile:
    """One stored result: its rows and the metadata it was computed with."""

    def __init__(self, table: pa.Table, meta: dict[str, Any]) -> None:
        self.table = table
        self.meta = meta


class EventStore:
    """Read and write ``<store>/events``; cheap to create."""

    def __init__(self, store: Store) -> None:
        self.store = store
        self.root = store.root / "events"

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

    def path(self, family: str, period_label: str, key: str) -> Path:
        if family not in EVENT_FAMILIES:
            raise ValueError(f"unknown event family {family!r}")
        folder = re.sub(r"[^0-9A-Za-z._-]+", "_", period_label)
        return self.root / family / folder / f"{key}.parquet"

    def load(self, family: str, period_label: str, key: str, state: str) -> EventFile | None:
        """The stored result, or None when there is none or it is stale."""
        path = self.path(family, period_label, key)
        if not path.exists():
            return None
        try:
            table = pq.read_table(path)
        except (OSError, pa.ArrowException):
            return None  # unreadable (e.g. cut short by a full disk): recompute it
        raw = (table.schema.metadata or {}).get(_META)
        meta = json.loads(raw) if raw else {}
        if meta.get("state") != state:
            return None
        return EventFile(table.replace_schema_metadata(None), meta)

    def save(
        self, family: str, period_label: str, key: str, table: pa.Table, meta: dict[str, Any]
    ) -> Path:
        """Write ``table`` with ``meta`` atomically (temporary file, then rename)."""
        path = self.path(family, period_label, key)
        tmp = path.with_name(f".{path.stem}-{uuid.uuid4().hex[:8]}.tmp")
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            metadata = {**(table.schema.metadata or {}), _META: json.dumps(meta, default=str)}
            pq.write_table(table.replace_schema_metadata(metadata), tmp, compression="zstd")
            os.replace(tmp, path)
        except OSError as exc:
            tmp.unlink(missing_ok=True)
            raise StoreError(
                f"{path}: could not store the {family} events ({exc}); "
                "free space or fix the store's permissions, then run the command again"
            ) from exc
        return path
