"""The sent-log: which feed went to whom, and how far an interrupted delivery got.

``<store>/notify/sent.sqlite`` (mode 0600, in a 0700 folder) holds one row per feed
(recipient, period, digest). A delivery writes ``sending`` before it starts,
``committing`` at the point past which the receiver may accept the feed (the final dot
of an SMTP message, an HTTP request, the rename of a delivered file), then ``sent``
with the receiver's answer, or ``failed`` with why. Each change is its own committed
transaction (synchronous = FULL), so after a crash or a ``kill -9`` the row says what
is known: ``sending`` (it cannot have arrived: send it), ``committing`` (it may have),
``sent`` (never again). ``maybe_delivered`` keeps that an earlier attempt ended
uncertain, whatever later attempts said.

One sender at a time: :meth:`SentLog.lock` holds ``<store>/notify/send.lock``.
"""

from __future__ import annotations

import fcntl
import os
import sqlite3
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, NamedTuple

from teiten.closing import Closing
from teiten.errors import StoreError
from teiten.notify.archive import NOTIFY, private_folders

__all__ = ["SENT_LOG", "FeedKey", "LogEntry", "SentLog"]

SENT_LOG = NOTIFY / "sent.sqlite"
SEND_LOCK = NOTIFY / "send.lock"

_SCHEMA = """
CREATE TABLE IF NOT EXISTS deliveries (
    recipient       TEXT NOT NULL,
    period          TEXT NOT NULL,     -- the feed's period label
    digest          TEXT NOT NULL,     -- 'sha256:<hex>' of the feed (teiten.notify.feeds)
    transport       TEXT NOT NULL,     -- directory | smtp | https
    identity        TEXT NOT NULL,     -- what tells a duplicate: Message-ID, Idempotency-Key, file
    state           TEXT NOT NULL CHECK (state IN ('sending', 'committing', 'sent', 'failed')),
    maybe_delivered INTEGER NOT NULL DEFAULT 0,  -- an earlier attempt ended without knowing
    attempts        INTEGER NOT NULL DEFAULT 0,
    updated_at      REAL NOT NULL,     -- Unix time of the last change
    sent_at         REAL,              -- ... of the answer that it was delivered
    detail          TEXT,              -- the receiver's answer, or why it failed (no secret)
    PRIMARY KEY (recipient, period, digest)
);
"""


class FeedKey(NamedTuple):
    """Which feed: its recipient, period label and digest."""

    recipient: str
    period: str
    digest: str


@dataclass(frozen=True)
class LogEntry:
    """A feed's row of the sent-log."""

    key: FeedKey
    transport: str
    identity: str
    state: str
    maybe_delivered: bool
    attempts: int
    updated_at: float
    sent_at: float | None
    detail: str | None

    @property
    def uncertain(self) -> bool:
        """Not known to be delivered, but it may have been."""
        return self.state == "committing" or (self.state != "sent" and self.maybe_delivered)


class SentLog(Closing):
    """``<store>/notify/sent.sqlite``. ``read_only``: never creates it (a dry run); a
    missing file then reads as empty."""

    def __init__(self, store_root: Path, *, read_only: bool = False) -> None:
        self.root = Path(store_root)
        self.path = self.root / SENT_LOG
        self.read_only = read_only
        self._db: sqlite3.Connection | None = None
        try:
            self._db = self._open()
        except (OSError, sqlite3.Error) as exc:
            raise self._error(exc) from exc

    def close(self) -> None:
        if self._db is not None:
            self._db.close()
            self._db = None

    def _open(self) -> sqlite3.Connection | None:
        if self.read_only:
            if not self.path.is_file():
                return None
            return sqlite3.connect(f"file:{self.path}?mode=ro", uri=True, isolation_level=None)
        private_folders(self.root, self.path.parent)
        os.close(os.open(self.path, os.O_CREAT | os.O_RDWR, 0o600))
        os.chmod(self.path, 0o600)
        db = sqlite3.connect(self.path, isolation_level=None, timeout=30)
        db.execute("PRAGMA synchronous = FULL")
        db.executescript(_SCHEMA)
        return db

    def _error(self, exc: Exception) -> StoreError:
        return StoreError(
            f"{self.path}: the notification sent-log cannot be read or written ({exc}); check "
            "the store directory's permissions and free space"
        )

    @contextmanager
    def lock(self) -> Iterator[None]:
        """Hold the store's send lock (one ``teiten notify send`` at a time)."""
        path = self.root / SEND_LOCK
        fd = os.open(path, os.O_CREAT | os.O_RDWR, 0o600)
        try:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                raise StoreError(
                    f"{path}: another `teiten notify send` is sending from this store; "
                    "wait for it to finish"
                ) from None
            yield
        finally:
            os.close(fd)

    def get(self, key: FeedKey) -> LogEntry | None:
        rows = self._run(
            "SELECT recipient, period, digest, transport, identity, state, maybe_delivered, "
            "attempts, updated_at, sent_at, detail FROM deliveries "
            "WHERE recipient = ? AND period = ? AND digest = ?",
            key,
        )
        if not rows:
            return None
        r = rows[0]
        return LogEntry(FeedKey(*r[:3]), r[3], r[4], r[5], bool(r[6]), r[7], r[8], r[9], r[10])

    def begin(self, key: FeedKey, transport: str, identity: str) -> None:
        """An attempt starts: ``sending``, one more attempt."""
        self._run(
            "INSERT INTO deliveries (recipient, period, digest, transport, identity, state, "
            "attempts, updated_at) VALUES (?, ?, ?, ?, ?, 'sending', 1, ?) "
            "ON CONFLICT (recipient, period, digest) DO UPDATE SET state = 'sending', "
            "transport = excluded.transport, identity = excluded.identity, "
            "attempts = attempts + 1, updated_at = excluded.updated_at",
            (*key, transport, identity, time.time()),
        )

    def committing(self, key: FeedKey) -> None:
        """The attempt reaches the point past which the receiver may accept the feed."""
        self._set(key, "state = 'committing'")

    def sent(self, key: FeedKey, detail: str) -> None:
        self._set(key, "state = 'sent', sent_at = ?, detail = ?", time.time(), detail)

    def failed(self, key: FeedKey, detail: str, *, maybe_delivered: bool) -> None:
        """The attempt failed; ``maybe_delivered``: it may have arrived all the same."""
        self._set(
            key,
            "state = 'failed', detail = ?, maybe_delivered = max(maybe_delivered, ?)",
            detail,
            int(maybe_delivered),
        )

    def _set(self, key: FeedKey, assignments: str, *values: object) -> None:
        self._run(
            f"UPDATE deliveries SET {assignments}, updated_at = ? "
            "WHERE recipient = ? AND period = ? AND digest = ?",
            (*values, time.time(), *key),
        )

    def _run(self, sql: str, args: tuple[object, ...] = ()) -> list[tuple[Any, ...]]:
        if self._db is None:
            if self.read_only:
                return []
            raise RuntimeError("the sent-log is closed")
        try:
            return self._db.execute(sql, args).fetchall()
        except sqlite3.Error as exc:
            raise self._error(exc) from exc
