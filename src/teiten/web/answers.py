"""Answers kept per store version, and the engine they are computed on.

Every answer the server gives (an API route's, a page's, the warmer's) goes through
:meth:`Answers.get_or_make`: found by its key (store version, route, query as parsed,
view), else made once: whoever asks for an answer being made waits for it rather than
making it again. Answers are made on an engine :class:`Engines` lends: one DuckDB
database per store version (its views opened once, one memory limit and one thread
pool for every query of the server), a connection of its own per computation.

At most ``makers`` answers (the machine's cores) are made at once, the others wait
their turn: each query already uses every core, and twenty at once would each finish
only when all do (on the 30 M-packet store, 20 clients asking 63 new questions: p95
6.3–7.7 s without the limit, 3.2–4.0 s with 2 makers on 2 cores).
"""

from __future__ import annotations

import contextlib
import os
import threading
from collections import OrderedDict
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from teiten.store import Engine, Store
    from teiten.store.engine import DuckDBEngine

__all__ = ["Answers", "Engines", "Held", "Key", "store_version"]

Key = tuple[str, ...]
Held = tuple[bytes, str]  # the body, its media type


def store_version(root: Path) -> tuple[str, float]:
    """What changes whenever an answer may: the manifest (every commit, retag, removal),
    the knowledge imported into the store and its AS editions (which name the ASes).
    (An opaque string, and its time.)"""
    parts, latest = [], 0.0
    for path in (root / "manifest.sqlite", root / "knowledge", root / "asn" / "editions.json"):
        try:
            stat = path.stat()
        except OSError:
            parts.append("-")
            continue
        parts.append(f"{stat.st_mtime_ns}:{stat.st_size}")
        latest = max(latest, stat.st_mtime)
    return "/".join(parts), latest


class Answers:
    """Answers by key, the least recently used dropped beyond ``entries``."""

    def __init__(self, entries: int, makers: int | None = None) -> None:
        self._entries = entries
        self.makers = makers or os.cpu_count() or 2  # answers made at once (one per core)
        self._makers = threading.Semaphore(self.makers)
        self._held: OrderedDict[Key, Held] = OrderedDict()
        self._making: dict[Key, threading.Event] = {}
        self._lock = threading.Lock()
        self.busy = 0  # answers being made for a client (not for the warmer)

    def get(self, key: Key) -> Held | None:
        with self._lock:
            found = self._held.get(key)
            if found is not None:
                self._held.move_to_end(key)
            return found

    def put(self, key: Key, value: Held) -> None:
        if self._entries <= 0:
            return
        with self._lock:
            self._held[key] = value
            self._held.move_to_end(key)
            while len(self._held) > self._entries:
                self._held.popitem(last=False)

    def get_or_make(
        self, key: Key, make: Callable[[], Held], *, for_client: bool = True
    ) -> tuple[Held, bool]:
        """The answer of ``key`` and whether it was made now (False: found, or made
        meanwhile by another asker, waited for). ``make``'s exception reaches only its
        own caller: a waiter then makes the answer itself."""
        while True:
            with self._lock:
                found = self._held.get(key)
                if found is not None:
                    self._held.move_to_end(key)
                    return found, False
                making = self._making.get(key)
                if making is None:
                    self._making[key] = threading.Event()
                    self.busy += for_client
                    break
            making.wait()
            if self._entries <= 0:  # nothing kept to find: make it here
                with self._makers:
                    return make(), True
        try:
            with self._makers:
                value = make()
            self.put(key, value)
            return value, True
        finally:
            with self._lock:
                self._making.pop(key).set()
                self.busy -= for_client


class _Shared:
    """An engine opened at one store version, and how many computations use it."""

    def __init__(self, version: str, engine: DuckDBEngine) -> None:
        self.version = version
        self.engine = engine
        self.lent = 0
        self.retired = False


class Engines:
    """The engines answers are computed on: with DuckDB, one database per store
    version, lent as an engine with a connection of its own (so a computation pays no
    opening of views); with Spark, none (each answer opens its own, as the CLI does)."""

    def __init__(self, store: Path, engine_name: str | None) -> None:
        self._store = store
        self._engine_name = engine_name
        self._current: _Shared | None = None
        self._lock = threading.Lock()
        self._stores = threading.local()  # each thread's opened store and its version

    @contextlib.contextmanager
    def lend(self) -> Iterator[Engine | None]:
        """An engine over the store as it is now (None: the caller opens its own),
        closed when the caller is done; the database it shares is closed once the store
        has changed and no computation uses it any more."""
        from teiten.store.engine import engine_name

        if engine_name(self._engine_name) != "duckdb":
            yield None
            return
        version = store_version(self._store)[0]
        shared = self._take(version)
        try:
            with shared.engine.sharing(self._opened(version)) as engine:
                yield engine
        finally:
            self._give_back(shared)

    def _opened(self, version: str) -> Store:
        """The store opened at ``version`` for this thread (its manifest connection
        belongs to one thread): opened again only when the version changes."""
        from teiten.store import Store

        held: tuple[str, Store] | None = getattr(self._stores, "held", None)
        if held is None or held[0] != version:
            held = self._stores.held = (version, Store(self._store, create=False))
        return held[1]

    def _take(self, version: str) -> _Shared:
        from teiten.store import Store
        from teiten.store.engine import DuckDBEngine

        with self._lock:
            current = self._current
            if current is None or current.version != version:
                # One DuckDB thread per computation: the server makes one answer per core
                # at a time (Answers' makers), and its small queries spent more time
                # handing work between threads than computing (first answers: 9 % less
                # CPU on the 30 M store).
                engine = DuckDBEngine(Store(self._store, create=False), threads=1)
                opened = _Shared(version, engine)
                if current is not None:
                    self._retire(current)
                self._current = current = opened
            current.lent += 1
            return current

    def _give_back(self, shared: _Shared) -> None:
        with self._lock:
            shared.lent -= 1
            if shared.retired and shared.lent == 0:
                shared.engine.close()

    def _retire(self, shared: _Shared) -> None:
        shared.retired = True
        if shared.lent == 0:
            shared.engine.close()

    def close(self) -> None:
        with self._lock:
            if self._current is not None:
                self._retire(self._current)
                self._current = None
