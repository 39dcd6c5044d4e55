"""The feeds built, kept in the store: ``<store>/notify/feeds/<recipient>/<period>.json``
(the feed, as sent) and ``.csv`` beside it (the same rows, for people and spreadsheets).

The folder is the owner's alone (0700, files 0600: a feed is TLP-marked). A file is
written under a temporary name and renamed into place, so a reader sees the old feed or
the new one, never half of one. A recipient's previous feed is its feed with the latest
period starting before the one being built, whenever that was built: rebuilding a period
finds the same previous feed, and gives the same statuses.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from datetime import date
from pathlib import Path

from teiten.analyze.periods import Period
from teiten.errors import StoreError
from teiten.notify.feeds import Feed, parse_json, render_csv, render_json
from teiten.store.swap import fsync_path

__all__ = ["FEEDS", "NOTIFY", "Archive", "StoredFeed", "private_folders", "write_atomically"]

NOTIFY = Path("notify")
FEEDS = NOTIFY / "feeds"


@dataclass(frozen=True)
class StoredFeed:
    """A feed and the file it is kept in."""

    feed: Feed
    path: Path


class Archive:
    """The feeds of the store at ``store_root``."""

    def __init__(self, store_root: Path) -> None:
        self.root = Path(store_root) / FEEDS

    def path(self, recipient: str, period_label: str, suffix: str = ".json") -> Path:
        return self.root / recipient / f"{period_label}{suffix}"

    def feeds(self, recipient: str) -> list[StoredFeed]:
        """The recipient's feeds, oldest period first."""
        folder = self.root / recipient
        if not folder.is_dir():
            return []
        stored = [StoredFeed(self._read(p), p) for p in sorted(folder.glob("*.json"))]
        return sorted(stored, key=lambda s: s.feed.period_start)

    def previous(self, recipient: str, period: Period) -> Feed | None:
        """The recipient's feed of the latest period that starts before ``period`` (found
        by the files' names, which are period labels: only that one is read)."""
        folder = self.root / recipient
        starts = [(_start(p), p) for p in folder.glob("*.json")] if folder.is_dir() else []
        earlier = sorted((start, p) for start, p in starts if start and start < period.start)
        return self._read(earlier[-1][1]) if earlier else None

    def write(self, feed: Feed) -> tuple[StoredFeed, bool]:
        """Keep ``feed`` (JSON and CSV); unchanged (False) when the kept one has its
        digest: its files, and when they were generated, stay as they are."""
        path = self.path(feed.recipient, feed.period_label)
        if path.is_file():
            kept = self._read(path)
            if kept.digest == feed.digest:
                return StoredFeed(kept, path), False
        private_folders(self.root.parent.parent, path.parent)
        write_atomically(path.with_suffix(".csv"), render_csv(feed))
        write_atomically(path, render_json(feed))
        return StoredFeed(feed, path), True

    @staticmethod
    def _read(path: Path) -> Feed:
        try:
            return parse_json(path.read_bytes())
        except (OSError, ValueError, KeyError) as exc:
            raise StoreError(
                f"{path}: not a feed teiten wrote ({exc}); remove it and build its period again"
            ) from exc


def _start(path: Path) -> date | None:
    """The first day of the period a feed file is named after (None: not a period)."""
    from teiten.analyze.periods import parse_period
    from teiten.errors import PeriodError

    try:
        return parse_period(path.stem).start
    except PeriodError:
        return None


def private_folders(store_root: Path, folder: Path) -> None:
    """``folder`` (inside ``store_root``) and every folder between them, for their owner
    only."""
    level = store_root
    for part in folder.relative_to(store_root).parts:
        level = level / part
        level.mkdir(mode=0o700, exist_ok=True)
        os.chmod(level, 0o700)


def write_atomically(path: Path, data: bytes, mode: int = 0o600) -> None:
    """``data`` into ``path``: written beside it, flushed to disk, renamed into place."""
    temporary = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, mode)
    try:
        with os.fdopen(fd, "wb") as out:
            out.write(data)
            out.flush()
            os.fsync(out.fileno())
        os.replace(temporary, path)
    except BaseException:
        temporary.unlink(missing_ok=True)
        raise
    fsync_path(path.parent)
