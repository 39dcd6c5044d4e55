"""Stored session fragments: each UTC day's scan and DoS sessions, kept beside the packets.

Layout::

    <root>/sessions/<family>/<YYYY-MM-DD>.parquet

One file per family (``scans``, ``dos``) and day holds the sessions of that day's
packets alone (:mod:`teiten.analyze.sessions` computes and merges them). Its metadata
records what it was computed from: the day's *state* (a digest of the committed
batches holding rows of that day, as for stored events) and the parameters the
fragments depend on (timeout, storage floor, version). A file whose metadata differs
from what a query expects is stale, and one that cannot be read is damaged: either is
computed anew and replaced, so a batch added to one day recomputes that day only.

Files are written to a temporary name and renamed into place (never rewritten in
place). Like stored events they are a cache: when the store cannot be written they go
to ``$XDG_CACHE_HOME/teiten/stores/<digest of the store's path>/sessions/``, and when
that cannot be written either they are only kept in memory. Reading looks in both.
"""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pyarrow as pa

from teiten.store.events import (
    EVENT_FAMILIES,
    cache_folder,
    day_batches,
    digest,
    read_meta,
    read_with_meta,
    write_first,
)

if TYPE_CHECKING:
    from teiten.store.dataset import Store

__all__ = ["SessionStore"]

_META = b"teiten.sessions"


class SessionStore:
    """Read and write ``<store>/sessions``; cheap to create."""

    def __init__(self, store: Store) -> None:
        self.store = store
        self.root = store.root / "sessions"
        self.roots = [self.root, cache_folder(store, "sessions")]  # where to look, to write

    def states(self, first: date, last: date) -> dict[date, str]:
        """The state of each day ``first`` … ``last`` that holds committed rows."""
        return {day: digest(ids) for day, ids in day_batches(self.store, first, last).items()}

    def path(self, family: str, day: date | str, root: Path | None = None) -> Path:
        """A day's file, or (``day`` a name: :meth:`period_part`) a period's."""
        if family not in EVENT_FAMILIES:
            raise ValueError(f"unknown event family {family!r}")
        name = day.isoformat() if isinstance(day, date) else day
        return (root or self.root) / family / f"{name}.parquet"

    @staticmethod
    def period_part(label: str, part: str) -> str:
        """The name of one part (``fragments``, ``chained``) of a calendar period's
        pieces, for :meth:`load` and :meth:`save`: ``periods/<label>.<part>``."""
        return f"periods/{label}.{part}"

    def load(self, family: str, day: date | str, expected: dict[str, Any]) -> pa.Table | None:
        """The day's stored fragments whose metadata has every item of ``expected``
        (state, parameters), from the store or else the cache folder; None when there
        are none, they are stale, or the file is damaged."""
        for root in self.roots:
            found = read_with_meta(self.path(family, day, root), _META)
            if found is not None and all(found[1].get(k) == v for k, v in expected.items()):
                return found[0]
        return None

    def current(self, family: str, day: date | str, expected: dict[str, Any]) -> bool:
        """Whether the day's stored fragments have every item of ``expected`` (read from
        the file's metadata alone, not its rows)."""
        found = (read_meta(self.path(family, day, r), _META) for r in self.roots)
        return any(
            meta is not None and all(meta.get(k) == v for k, v in expected.items())
            for meta in found
        )

    def save(
        self, family: str, day: date | str, table: pa.Table, meta: dict[str, Any]
    ) -> Path | None:
        """Write the day's fragments with ``meta``, atomically, into the store, else the
        cache folder; None when neither can be written (the caller keeps its table)."""
        return write_first(table, [self.path(family, day, r) for r in self.roots], _META, meta)
