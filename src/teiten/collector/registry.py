"""The collector's sensor registry: who may upload, with which token, for which prefixes.

``<store>/collector/registry.sqlite`` (mode 0600, in a 0700 folder) holds, per
sensor label, a SHA-256 hash of its bearer token (the token is 256 random bits,
so a fast hash suffices; it is shown once, when issued, and never stored) and
its registered prefixes, which every uploaded batch's destinations must lie in.
The prefixes are secret: nothing here logs them, and only
``teiten sensors registered --show-prefixes`` prints them.

Registering a sensor also declares its size (address counts only) in the store's
manifest (:func:`teiten.store.sensors.declare_sensor`), so rate estimates work.
"""

from __future__ import annotations

import hashlib
import hmac
import ipaddress
import json
import os
import secrets
import sqlite3
import threading
import time
from dataclasses import dataclass
from pathlib import Path

from teiten.errors import OptionError, StoreError
from teiten.store import Store
from teiten.store.sensors import LABEL, declare_sensor

__all__ = ["REGISTRY_FILE", "RegisteredSensor", "Registry", "normalise_prefixes"]

REGISTRY_FILE = Path("collector") / "registry.sqlite"

_SCHEMA = """
CREATE TABLE IF NOT EXISTS sensors (
    name       TEXT PRIMARY KEY,
    token_hash TEXT NOT NULL,   -- 'sha256:<hex>' of the bearer token
    prefixes   TEXT NOT NULL,   -- JSON list of CIDR strings (secret)
    issued_at  REAL NOT NULL    -- Unix time the current token was issued
);
"""
# Compared against when the sensor is unknown, so both failures take the same time.
_NO_SENSOR = "sha256:" + "0" * 64


@dataclass(frozen=True)
class RegisteredSensor:
    """A registered sensor: its label and prefixes (never its token)."""

    name: str
    prefixes: tuple[str, ...]
    issued_at: float

    def counts(self) -> dict[str, int]:
        """How many prefixes of each family (what may be shown without ``--show-prefixes``)."""
        v6 = sum(1 for p in self.prefixes if ":" in p)
        return {"ipv4_prefixes": len(self.prefixes) - v6, "ipv6_prefixes": v6}


def _hash(token: str) -> str:
    return "sha256:" + hashlib.sha256(token.encode()).hexdigest()


def normalise_prefixes(prefixes: list[str] | tuple[str, ...]) -> tuple[str, ...]:
    """Validated CIDR prefixes in canonical form; raise :class:`OptionError`."""
    if not prefixes:
        raise OptionError("register a sensor with at least one --prefix CIDR (its darknet)")
    out = []
    for text in prefixes:
        try:
            net = ipaddress.ip_network(text.strip(), strict=False)
        except ValueError as exc:
            raise OptionError(f"--prefix {text!r} is not a CIDR prefix: {exc}") from exc
        out.append(str(net))
    return tuple(dict.fromkeys(out))


class Registry:
    """``<store>/collector/registry.sqlite``; safe to share between threads."""

    def __init__(self, store_root: str | os.PathLike[str]) -> None:
        self.path = Path(store_root) / REGISTRY_FILE
        self._lock = threading.Lock()
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            os.chmod(self.path.parent, 0o700)
            os.close(os.open(self.path, os.O_CREAT | os.O_RDWR, 0o600))
            os.chmod(self.path, 0o600)
            self._db = sqlite3.connect(
                self.path, isolation_level=None, timeout=30, check_same_thread=False
            )
            self._db.executescript(_SCHEMA)
        except (OSError, sqlite3.DatabaseError) as exc:
            raise StoreError(
                f"{self.path}: the collector's sensor registry cannot be opened ({exc}); "
                "check the store directory's permissions and free space"
            ) from exc

    def close(self) -> None:
        self._db.close()

    def add(self, store: Store, name: str, prefixes: list[str], *, replace: bool = False) -> str:
        """Register ``name`` for ``prefixes`` and return its new token (shown once).

        Raises :class:`OptionError` for a bad label or prefix, or when ``name`` is
        registered already and ``replace`` is false. Also declares the sensor's
        size in ``store`` (counts only).
        """
        if not LABEL.fullmatch(name):
            raise OptionError(
                f"sensor label {name!r}: use 1-64 letters, digits, '.', '_' or '-' "
                "(starting with a letter or digit)"
            )
        normal = normalise_prefixes(prefixes)
        token = secrets.token_urlsafe(32)
        with self._lock:
            exists = self._db.execute("SELECT 1 FROM sensors WHERE name = ?", (name,)).fetchone()
            if exists and not replace:
                raise OptionError(
                    f"sensor {name} is registered already; use --replace to issue a new token "
                    "(the old one stops working) and replace its prefixes"
                )
            declare_sensor(store, name, prefixes=normal)
            self._db.execute(
                "INSERT OR REPLACE INTO sensors VALUES (?, ?, ?, ?)",
                (name, _hash(token), json.dumps(normal), time.time()),
            )
        return token

    def revoke(self, name: str) -> bool:
        """Forget ``name`` (its token stops working at once); False if it was not registered."""
        with self._lock:
            cursor = self._db.execute("DELETE FROM sensors WHERE name = ?", (name,))
        return cursor.rowcount > 0

    def sensors(self) -> list[RegisteredSensor]:
        """Every registered sensor, by label."""
        with self._lock:
            rows = self._db.execute(
                "SELECT name, prefixes, issued_at FROM sensors ORDER BY name"
            ).fetchall()
        return [RegisteredSensor(r[0], tuple(json.loads(r[1])), r[2]) for r in rows]

    def authenticate(self, name: str, token: str) -> RegisteredSensor | None:
        """The sensor if ``token`` is its current token, else None (constant-time compare)."""
        with self._lock:
            row = self._db.execute(
                "SELECT name, token_hash, prefixes, issued_at FROM sensors WHERE name = ?",
                (name,),
            ).fetchone()
        expected = row[1] if row else _NO_SENSOR
        if not hmac.compare_digest(expected.encode(), _hash(token).encode()) or row is None:
            return None
        return RegisteredSensor(row[0], tuple(json.loads(row[2])), row[3])
