"""Operator bearer tokens of ``teiten serve``: who may see more than the public aggregates.

``<store>/web/tokens.sqlite`` (mode 0600, in a 0700 folder) holds, per token
name, a SHA-256 hash of its token (256 random bits, so a fast hash suffices; the
token is shown once, when issued, and never stored or logged), as the collector's
sensor registry does (:mod:`teiten.collector.registry`). A token carries no
name: a request's token is found by its hash. The file is made by the first
``add``; :meth:`Tokens.verify` reads it on every call, so tokens added, rotated
or removed take effect in a running server at once.
"""

from __future__ import annotations

import hashlib
import hmac
import os
import secrets
import sqlite3
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from teiten.errors import OptionError, StoreError
from teiten.store import Store
from teiten.store.sensors import LABEL

__all__ = ["TOKENS_FILE", "Tokens", "WebToken"]

TOKENS_FILE = Path("web") / "tokens.sqlite"

_SCHEMA = """
CREATE TABLE IF NOT EXISTS tokens (
    name       TEXT PRIMARY KEY,
    token_hash TEXT NOT NULL UNIQUE,  -- 'sha256:<hex>' of the bearer token
    issued_at  REAL NOT NULL          -- Unix time the current token was issued
);
"""
# Compared against when no token matches, so a miss takes the time of a hit.
_NO_TOKEN = "sha256:" + "0" * 64


@dataclass(frozen=True)
class WebToken:
    """An operator token's name and when it was issued (never the token)."""

    name: str
    issued_at: float


def _hash(token: str) -> str:
    return "sha256:" + hashlib.sha256(token.encode()).hexdigest()


class Tokens:
    """``<store>/web/tokens.sqlite``; safe to share between threads.

    The store must exist (:class:`~teiten.errors.NotAStoreError` otherwise); the
    file is opened when first needed and made by the first :meth:`add`.
    """

    def __init__(self, store_root: str | os.PathLike[str]) -> None:
        Store(store_root, create=False).close()
        self.path = Path(store_root) / TOKENS_FILE
        self._lock = threading.Lock()
        self._db: sqlite3.Connection | None = None

    def close(self) -> None:
        with self._lock:
            if self._db is not None:
                self._db.close()
                self._db = None

    def add(self, name: str) -> str:
        """Issue a token for ``name`` and return it (shown once; only its hash is kept).

        Raises :class:`OptionError` for a bad name or one that exists already.
        """
        if not LABEL.fullmatch(name):
            raise OptionError(
                f"token name {name!r}: use 1-64 letters, digits, '.', '_' or '-' "
                "(starting with a letter or digit)"
            )
        token = secrets.token_urlsafe(32)
        try:
            with self._connection(create=True) as db:
                assert db is not None  # create=True makes the file
                db.execute("INSERT INTO tokens VALUES (?, ?, ?)", (name, _hash(token), time.time()))
        except sqlite3.IntegrityError:
            raise OptionError(
                f"web token {name} exists already; `teiten web tokens rotate {name}` issues it "
                "a new token (the old one stops working)"
            ) from None
        return token

    def rotate(self, name: str) -> str:
        """Issue a new token for ``name`` (its old one stops working) and return it."""
        token = secrets.token_urlsafe(32)
        with self._connection() as db:
            changed = db is not None and (
                db.execute(
                    "UPDATE tokens SET token_hash = ?, issued_at = ? WHERE name = ?",
                    (_hash(token), time.time(), name),
                ).rowcount
                > 0
            )
        if not changed:
            raise self._unknown(name)
        return token

    def remove(self, name: str) -> None:
        """Forget ``name``: its token stops working at once."""
        with self._connection() as db:
            removed = (
                db is not None
                and db.execute("DELETE FROM tokens WHERE name = ?", (name,)).rowcount > 0
            )
        if not removed:
            raise self._unknown(name)

    def list(self) -> list[WebToken]:
        """Every token's name and issue time, by name."""
        with self._connection() as db:
            if db is None:
                return []
            rows = db.execute("SELECT name, issued_at FROM tokens ORDER BY name").fetchall()
        return [WebToken(name, issued_at) for name, issued_at in rows]

    def verify(self, token: str) -> str | None:
        """The name of ``token``, or None if it is no current token (constant-time compare)."""
        digest = _hash(token)
        with self._connection() as db:
            row = None
            if db is not None:
                row = db.execute(
                    "SELECT name, token_hash FROM tokens WHERE token_hash = ?", (digest,)
                ).fetchone()
        expected = row[1] if row else _NO_TOKEN
        if not hmac.compare_digest(expected.encode(), digest.encode()) or row is None:
            return None
        name: str = row[0]
        return name

    @staticmethod
    def _unknown(name: str) -> OptionError:
        return OptionError(f"no web token named {name} (see `teiten web tokens list`)")

    @contextmanager
    def _connection(self, *, create: bool = False) -> Iterator[sqlite3.Connection | None]:
        """The open database under the lock (None while the file is missing and not
        ``create``); SQLite and file system errors become a :class:`StoreError`."""
        with self._lock:
            try:
                if self._db is None and (create or self.path.exists()):
                    self._db = self._open(create)
                yield self._db
            except sqlite3.IntegrityError:
                raise
            except (OSError, sqlite3.DatabaseError) as exc:
                raise StoreError(
                    f"{self.path}: the web's operator tokens cannot be read or written ({exc}); "
                    "check the store directory's permissions and free space"
                ) from exc

    def _open(self, create: bool) -> sqlite3.Connection:
        if create:
            self.path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
            os.chmod(self.path.parent, 0o700)
            os.close(os.open(self.path, os.O_CREAT | os.O_RDWR, 0o600))
            os.chmod(self.path, 0o600)
        db = sqlite3.connect(self.path, isolation_level=None, timeout=30, check_same_thread=False)
        try:
            db.executescript(_SCHEMA)
        except BaseException:
            db.close()
            raise
        return db
