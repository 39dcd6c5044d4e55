"""Stored events: analysis results (scan events, DoS attacks) kept beside the packets.

Layout::

    <root>/events/<family>/<period>/<key>.parquet

``family`` is ``scans`` or ``dos`` (or ``findings``: a period's phenomena,
:mod:`teiten.analyze.phenomena.stored`); ``period`` the period's label (``2019Q2``,
``2019-04-01..2019-04-07``); ``key`` a digest of everything the result depends on
besides the packets (period bounds, parameters, sensor declarations). The
packets it depends on are summed up as a *state*: a digest of the committed
batches holding rows of the days read. The state is kept in the file's
metadata; a file whose state differs from the store's is stale and is
recomputed. Files are written to a temporary name and renamed into place, so a
reader never sees a partial one; they are plain Parquet, readable by DuckDB:
``duckdb -c "select * from 'teiten-data/events/scans/*/*.parquet'"``.

They are a cache, which ``teiten store rollup`` fills for the ended months and quarters
(:func:`teiten.analyze.sessions.prepare_events`). When the store cannot be written (a
read-only mount, another user's store), they go to ``$XDG_CACHE_HOME/teiten/stores/
<digest of the store's path>/events/`` (``~/.cache/…`` by default); when that cannot be
written either, the result is only kept in memory. Reading looks in both places.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import re
import uuid
from collections.abc import Iterable
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pyarrow as pa
import pyarrow.parquet as pq

if TYPE_CHECKING:
    from teiten.store.dataset import Store

__all__ = [
    "EVENT_FAMILIES",
    "EventFile",
    "EventStore",
    "cache_folder",
    "day_batches",
    "digest",
    "read_meta",
    "read_with_meta",
    "write_first",
]

EVENT_FAMILIES = ("scans", "dos")
STORED_FAMILIES = (*EVENT_FAMILIES, "findings")  # and a period's phenomena, kept alike
_META = b"teiten.events"
_DAY = re.compile(r"(?:^|/)day=(\d{4}-\d{2}-\d{2})/")
ROW_GROUP = 131_072  # rows per row group: a file is decoded on every core


class EventFile:
    """One stored result: its rows and the metadata it was computed with."""

    def __init__(self, table: pa.Table, meta: dict[str, Any], path: Path | None = None) -> None:
        self.table = table
        self.meta = meta
        self.path = path  # where it was read from


def cache_folder(store: Store, part: str = "events") -> Path:
    """Where ``part`` (``events``, ``sessions``) of ``store`` goes when the store itself
    cannot be written."""
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    key = hashlib.blake2b(os.fsencode(store.root.resolve()), digest_size=8).hexdigest()
    return Path(base) / "teiten" / "stores" / key / part


def day_batches(store: Store, first: date, last: date) -> dict[date, list[str]]:
    """The committed batches holding rows of each day ``first`` … ``last`` that has any
    (sorted ids)."""
    lo, hi = first.isoformat(), last.isoformat()
    found: dict[date, set[str]] = {}
    for b in store.manifest.batches(state="committed"):
        for _, final in b.parts:
            m = _DAY.search(final)
            if m and lo <= m[1] <= hi:
                found.setdefault(date.fromisoformat(m[1]), set()).add(b.batch_id)
    return {day: sorted(ids) for day, ids in sorted(found.items())}


def digest(ids: Iterable[str]) -> str:
    """A state: the digest of batch ids."""
    return hashlib.blake2b("\n".join(sorted(ids)).encode(), digest_size=16).hexdigest()


def read_with_meta(
    path: Path, key: bytes, columns: list[str] | None = None
) -> tuple[pa.Table, dict[str, Any]] | None:
    """A Parquet file's rows (only ``columns``, when given) and the JSON kept under
    ``key`` in its metadata; None when it is missing, unreadable or cut short (a full
    disk): the caller recomputes it."""
    try:
        table = pq.read_table(path, columns=columns)
    except (OSError, pa.ArrowException):
        return None
    raw = (table.schema.metadata or {}).get(key)
    try:
        meta = json.loads(raw) if raw else {}
    except ValueError:
        meta = {}
    return table.replace_schema_metadata(None), meta


def read_meta(path: Path, key: bytes) -> dict[str, Any] | None:
    """The JSON kept under ``key`` in a Parquet file's metadata, read from its footer
    alone (``{}`` when it has none); None when the file is missing or unreadable."""
    try:
        raw = (pq.read_schema(path).metadata or {}).get(key)
        return json.loads(raw) if raw else {}
    except (OSError, pa.ArrowException, ValueError):
        return None


def write_first(
    table: pa.Table, paths: list[Path], key: bytes, meta: dict[str, Any]
) -> Path | None:
    """Write ``table`` with ``meta`` (JSON under ``key``) atomically (a temporary file,
    then a rename) to the first of ``paths`` that can be written; None when none can."""
    metadata = {**(table.schema.metadata or {}), key: json.dumps(meta, default=str)}
    table = table.replace_schema_metadata(metadata)
    for path in paths:
        tmp = path.with_name(f".{path.stem}-{uuid.uuid4().hex[:8]}.tmp")
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            pq.write_table(table, tmp, compression="zstd", row_group_size=ROW_GROUP)
            os.replace(tmp, path)
        except OSError:
            with contextlib.suppress(OSError):
                tmp.unlink(missing_ok=True)
            continue
        return path
    return None


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
        return digest(
            sorted({i for ids in day_batches(self.store, first, last).values() for i in ids})
        )

    def path(self, family: str, period_label: str, key: str, root: Path | None = None) -> Path:
        if family not in STORED_FAMILIES:
            raise ValueError(f"unknown event family {family!r}")
        folder = re.sub(r"[^0-9A-Za-z._-]+", "_", period_label)
        return (root or self.root) / family / folder / f"{key}.parquet"

    def load(
        self,
        family: str,
        period_label: str,
        key: str,
        state: str,
        columns: list[str] | None = None,
    ) -> EventFile | None:
        """The stored result (from the store, else the cache folder; only ``columns``,
        when given), or None when there is none or it is stale."""
        for root in self.roots:
            path = self.path(family, period_label, key, root)
            found = read_with_meta(path, _META, columns)
            if found is not None and found[1].get("state") == state:
                return EventFile(found[0], found[1], path)
        return None

    def load_meta(
        self, family: str, period_label: str, key: str, state: str
    ) -> tuple[dict[str, Any], Path] | None:
        """The metadata of the current stored result and its file, from the file's footer
        alone (a damaged file that still has it is found damaged by :meth:`load`)."""
        for root in self.roots:
            path = self.path(family, period_label, key, root)
            meta = read_meta(path, _META)
            if meta is not None and meta.get("state") == state:
                return meta, path
        return None

    def current(self, family: str, period_label: str, key: str, state: str) -> bool:
        """Whether :meth:`load` would find a current result (see :meth:`load_meta`)."""
        return self.load_meta(family, period_label, key, state) is not None

    def save(
        self, family: str, period_label: str, key: str, table: pa.Table, meta: dict[str, Any]
    ) -> Path | None:
        """Write ``table`` with ``meta`` atomically (temporary file, then rename) into the
        store, else the cache folder; None when neither can be written (a full disk, a
        read-only store of another user with no home): the caller keeps its result."""
        paths = [self.path(family, period_label, key, root) for root in self.roots]
        return write_first(table, paths, _META, meta)
