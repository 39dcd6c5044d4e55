"""The query engine seam: analyses are SQL over the ``packets``, ``keys``, ``sources`` and
``dsts`` views, run by DuckDB (local, the default) or Apache Spark (:mod:`teiten.store.spark`).

Locally the views are DuckDB over the day-partitioned Parquet dataset (partition
pruning on ``day``). ``keys``, ``sources`` and ``dsts`` are the rollups
(:mod:`teiten.store.rollup`): their files when the store's rollup is complete, else the
same aggregation computed from the packets on the fly — the same rows either way, only
slower — together with the rollup files of the days whose raw packets raw retention
dropped (:mod:`teiten.store.retention`), which nothing else holds.

Every analysis statement is written once, in :mod:`teiten.store.queries`, in SQL both
engines run with the same answer (``$name`` parameters and a dict, the one parameter
style); what must differ between them is in :mod:`teiten.store.dialect`.
:func:`open_engine` picks the engine: the ``engine`` argument, else ``$TEITEN_ENGINE``,
else DuckDB.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from datetime import date
from functools import cached_property
from pathlib import Path
from types import TracebackType
from typing import Any, Protocol, Self, TypeVar

import duckdb
import pyarrow as pa

from teiten.errors import OptionError
from teiten.store import period_rollups, rollup
from teiten.store.dataset import Store
from teiten.store.events import EventStore
from teiten.store.manifest import SensorRecord
from teiten.store.period_rollups import Span
from teiten.store.retention import dropped_days, require_raw, rolled_up_only
from teiten.store.schema import SCHEMA, T_NS_SQL
from teiten.store.sensors import declared_sensors
from teiten.store.sessions import SessionStore

__all__ = ["ENGINES", "DuckDBEngine", "Engine", "StoreSide", "engine_name", "open_engine"]

ENGINES = ("duckdb", "spark")
ENV_ENGINE = "TEITEN_ENGINE"
Params = dict[str, Any]  # the values of a statement's ``$name`` markers
_T = TypeVar("_T")


class Engine(Protocol):
    """What an analysis may use of an engine: SQL over the store's views."""

    store: Store
    rolled_up: bool  # the rollup views read the rollup files (else the packets)
    dialect: str  # "duckdb" or "spark" (see teiten.store.dialect)

    def rows(self, sql: str, params: Params | None = None) -> list[dict[str, Any]]:
        """Run a query (``$name`` markers, their values in ``params``); rows as dicts of
        Python values (int, str, bytes, date …)."""
        ...

    def table(
        self, sql: str, params: Params | None = None, *, tables: dict[str, pa.Table] | None = None
    ) -> pa.Table:
        """Run a query (``$name`` markers, their values in ``params``); the result as an
        Arrow table. ``tables``: Arrow tables the query reads by name besides the store's
        views."""
        ...

    @property
    def events(self) -> EventStore:
        """The store's cache of computed scan events and DoS attacks."""
        ...

    def relation(self, name: str, *spans: Span) -> str:
        """What to read rollup ``name``'s rows of the days of ``spans`` (each a start and
        an exclusive end) from, for a FROM clause: the view, or its period rollups where
        they cover whole quarters, months or ISO weeks of a span (one never reaches across two
        spans: a query telling a period from its previous one by ``day`` passes both),
        with the other days' rollup files (:mod:`teiten.store.period_rollups`). Either
        way the rows sum to the same answers."""
        ...

    def digests(self, name: str, span: Span) -> str | None:
        """What to read digest ``name`` (:data:`~teiten.store.period_rollups.DIGESTS`) of
        ``span`` from, when it is a whole month, quarter or ISO week whose digest is
        current; else None."""
        ...

    def ranked(self, name: str, span: Span) -> str | None:
        """What to read the digest of dimension ``name`` of ``span`` from, its rows with
        their ranks in the previous period (``previous_rank_packets``,
        ``previous_rank_sources``), when ``span`` is a whole month, quarter or ISO week
        whose digest and previous ranks are current; else None."""
        ...

    def daily(self, name: str, start: date, end: date) -> str | None:
        """What to read daily digest ``name`` (:data:`~teiten.store.period_rollups.DAILY`)
        of the days ``start`` … ``end`` (exclusive) from, when every month they overlap has
        a current one or holds no day; else None."""
        ...

    def kept_rows(self, sql: str, params: Params | None = None) -> list[dict[str, Any]]:
        """:meth:`rows` of a query reading only files that stay as they are while the
        store does (digests): an engine may keep the answer for the next asker."""
        ...

    @property
    def sessions(self) -> SessionStore:
        """The store's per-day session fragments (scans, DoS)."""
        ...

    def declared_sensors(self) -> dict[str, SensorRecord]:
        """The sizes declared for the store's sensors."""
        ...

    def dropped_days(self, first: date, last: date) -> list[date]:
        """The days of ``first`` … ``last`` whose raw packets retention dropped (rollups
        and any stored fragments still hold them)."""
        ...

    def require_raw(self, first: date, last: date, what: str) -> None:
        """Fail with one line when ``what`` needs raw packets of a day ``first`` …
        ``last`` that retention dropped."""
        ...

    def close(self) -> None: ...

    def __enter__(self) -> Self: ...

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None: ...


def engine_name(engine: str | None = None) -> str:
    """``engine`` (``duckdb`` or ``spark``), else ``$TEITEN_ENGINE``, else ``duckdb``."""
    name = (engine or os.environ.get(ENV_ENGINE) or "duckdb").strip().lower()
    if name not in ENGINES:
        where = "--engine" if engine else f"${ENV_ENGINE}"
        raise OptionError(f"unknown engine {name!r} ({where}): use one of {', '.join(ENGINES)}")
    return name


def open_engine(store: Store, engine: str | None = None, *, rollups: bool | None = None) -> Engine:
    """The engine named ``engine`` (:func:`engine_name`) over ``store``. ``rollups`` as for
    :class:`DuckDBEngine`."""
    if engine_name(engine) == "spark":
        from teiten.store.spark import SparkEngine

        return SparkEngine(store, rollups=rollups)
    return DuckDBEngine(store, rollups=rollups)


def _quoted(path: Path | str) -> str:
    """``path`` inside a single-quoted SQL string."""
    return str(path).replace("'", "''")


ENV_MEMORY = "TEITEN_MEMORY_LIMIT"
DEFAULT_MEMORY = "1GB"


_UNITS = {"": 1, "b": 1, "kb": 10**3, "mb": 10**6, "gb": 10**9, "tb": 10**12}
_UNITS |= {"kib": 2**10, "mib": 2**20, "gib": 2**30, "tib": 2**40}


def memory_limit(share: float = 1.0) -> str:
    """DuckDB's memory limit (``$TEITEN_MEMORY_LIMIT``, default 1 GB), or ``share`` of it
    for work that holds much besides DuckDB's memory (a limit not in bytes, as a
    percentage, is kept whole)."""
    import re

    text = os.environ.get(ENV_MEMORY) or DEFAULT_MEMORY
    found = re.fullmatch(r"\s*(\d+(?:\.\d+)?)\s*([a-zA-Z]*)\s*", text)
    if share >= 1 or found is None or found[2].lower() not in _UNITS:
        return text
    return f"{int(float(found[1]) * _UNITS[found[2].lower()] * share)}B"


def duckdb_config() -> dict[str, str | bool | int | float | list[str]]:
    """DuckDB's settings: memory bounded (``$TEITEN_MEMORY_LIMIT``, default 1 GB — DuckDB
    would take 80 % of the machine) and spilled to a private temporary folder, never to
    the working directory."""
    import tempfile

    base = Path(tempfile.gettempdir())
    _remove_orphan_spills(base)
    spill = str(base / f"{SPILL_PREFIX}{os.getpid()}")
    return {"memory_limit": memory_limit(), "temp_directory": spill}


SPILL_PREFIX = "teiten-duckdb-"


def _remove_orphan_spills(base: Path) -> None:
    """Delete the spill folders of teiten processes that are gone (killed mid-query: DuckDB
    removes its folder only on a clean exit), so they do not fill the disk."""
    import shutil

    for folder in base.glob(f"{SPILL_PREFIX}*"):
        pid = folder.name.removeprefix(SPILL_PREFIX)
        if not pid.isdigit() or int(pid) == os.getpid():
            continue
        try:
            os.kill(int(pid), 0)
        except ProcessLookupError:
            shutil.rmtree(folder, ignore_errors=True)
        except PermissionError:
            pass  # another user's live process


def rolled_up_only_files(store: Store, table: str) -> list[Path]:
    """The rollup files of ``table`` (``keys``, ``dsts``) on days held as rollups only,
    which a view aggregating the packets must add (``sources`` is derived from ``keys``)."""
    if table == "sources":
        return []
    return [
        path
        for day in rolled_up_only(store)
        for path in sorted((store.root / "rollups" / day).glob(f"*.{table}.parquet"))
    ]


class StoreSide:
    """What every engine gives an analysis of the store besides SQL: the cache of computed
    events and the declared sensor sizes (analyses touch no files themselves)."""

    store: Store

    @cached_property
    def events(self) -> EventStore:
        """The store's cache of computed scan events and DoS attacks."""
        return EventStore(self.store)

    @cached_property
    def sessions(self) -> SessionStore:
        """The store's per-day session fragments (scans, DoS)."""
        return SessionStore(self.store)

    def declared_sensors(self) -> dict[str, SensorRecord]:
        """The sizes declared for the store's sensors (``teiten sensors declare``)."""
        return declared_sensors(self.store)

    def dropped_days(self, first: date, last: date) -> list[date]:
        """The days of ``first`` … ``last`` whose raw packets retention dropped."""
        return dropped_days(self.store, first, last)

    def require_raw(self, first: date, last: date, what: str) -> None:
        """Fail (:class:`~teiten.errors.RawPacketsDroppedError`) when ``what`` needs raw
        packets of a day ``first`` … ``last`` that retention dropped."""
        require_raw(self.store, first, last, what)

    def relation(self, name: str, *spans: Span) -> str:
        """The view ``name`` (an engine that reads period rollups overrides this)."""
        return name

    def digests(self, name: str, span: Span) -> str | None:
        """None: no digests (an engine that reads period rollups overrides this)."""
        return None

    def ranked(self, name: str, span: Span) -> str | None:
        """None: no digests (an engine that reads period rollups overrides this)."""
        return None

    def daily(self, name: str, start: date, end: date) -> str | None:
        """None: no daily digests (an engine that reads period rollups overrides this)."""
        return None

    def rows(self, sql: str, params: Params | None = None) -> list[dict[str, Any]]:
        raise NotImplementedError  # each engine runs its queries its own way

    def kept_rows(self, sql: str, params: Params | None = None) -> list[dict[str, Any]]:
        """:meth:`rows` (an engine that keeps answers overrides this)."""
        return self.rows(sql, params)


class DuckDBEngine(StoreSide):
    """An embedded DuckDB connection with the store's views."""

    dialect = "duckdb"

    def __init__(
        self, store: Store, *, threads: int | None = None, rollups: bool | None = None
    ) -> None:
        """``rollups``: read the rollup files (None: when the store's rollup is complete;
        False: always aggregate the packets, as the tests' reference answers do)."""
        self.store = store
        self.con = duckdb.connect(":memory:", config=duckdb_config())
        from teiten.fingerprint.registry import tag_sql_macro

        self.con.execute(tag_sql_macro())
        # Parquet footers read once per database (GLOBAL: its cursors, which answer a
        # server's questions, read them too): answers read the same period files again
        # and again (files are replaced, never rewritten in place).
        self.con.execute("SET GLOBAL parquet_metadata_cache = true")
        if threads:
            self.con.execute(f"SET threads = {int(threads)}")
        if store.has_packets():
            glob = _quoted(store.packets_glob)
            self.con.execute(
                f"CREATE VIEW packets AS SELECT *, {T_NS_SQL} AS t_ns FROM read_parquet("
                f"'{glob}', hive_partitioning = true, hive_types = {{'day': DATE}}, "
                "union_by_name = true)"
            )
        else:
            empty = SCHEMA.empty_table().append_column("day", pa.array([], pa.date32()))
            self._empty_table("_empty_packets", empty)
            self.con.execute(
                f"CREATE VIEW packets AS SELECT *, {T_NS_SQL} AS t_ns FROM _empty_packets"
            )
        self.rolled_up = rollup.complete(store) if rollups is None else rollups
        for name, sql in rollup.views("packets").items():
            if not self.rolled_up:
                only = rolled_up_only_files(store, name)
                if only:  # days held as rollups only join the packets' aggregation
                    listed = ", ".join("'" + str(f).replace("'", "''") + "'" for f in only)
                    sql = (
                        f"SELECT * FROM ({sql}) UNION ALL BY NAME SELECT * FROM read_parquet("
                        f"[{listed}], hive_partitioning = true, hive_types = {{'day': DATE}})"
                    )
                self.con.execute(f"CREATE VIEW {name} AS {sql}")
            elif any((store.root / "rollups").glob(f"*/*.{name}.parquet")):
                files = store.root / "rollups" / "*" / f"*.{name}.parquet"
                glob = _quoted(files)
                self.con.execute(
                    f"CREATE VIEW {name} AS SELECT * FROM read_parquet('{glob}', "
                    "hive_partitioning = true, hive_types = {'day': DATE})"
                )
            else:
                schema = rollup.SCHEMAS[name]
                empty = schema.empty_table().append_column("day", pa.array([], pa.date32()))
                self._empty_table(f"_empty_{name}", empty)
                self.con.execute(f"CREATE VIEW {name} AS SELECT * FROM _empty_{name}")
        # What relation(), digests(), ranked(), daily() found and kept_rows() answered,
        # once engines share this one's database (see sharing() and _once()).
        self._relations: dict[tuple[object, ...], Any] | None = None
        # Each period's state (of its day rollup files) by label, once engines share.
        self._known: dict[str, str] | None = None

    def _empty_table(self, name: str, empty: pa.Table) -> None:
        """A table with ``empty``'s columns and no row, in the database (not registered on
        this connection only, so that :meth:`sharing` engines read it too)."""
        self.con.register("_empty", empty)
        self.con.execute(f"CREATE TABLE {name} AS SELECT * FROM _empty")
        self.con.unregister("_empty")

    def sharing(self, store: Store) -> DuckDBEngine:
        """An engine over this one's database (its views, settings and memory limit) with
        a connection of its own, for another thread; ``store`` is the same store opened
        again (its manifest connection belongs to one thread). Closing it closes only its
        connection. Valid while the store's version is the one this engine was opened
        at (a server opens a new one when the store changes)."""
        twin = object.__new__(DuckDBEngine)
        twin.store = store
        twin.con = self.con.cursor()
        twin.rolled_up = self.rolled_up
        if self._relations is None:
            self._relations = {}  # the store does not change under engines that share
        twin._relations = self._relations
        if self._known is None:
            self._known = {}
        twin._known = self._known
        return twin

    def relation(self, name: str, *spans: Span) -> str:
        """The period rollup files covering whole quarters, months or ISO weeks of ``spans`` and the
        other days' rollup files (see :class:`Engine`)."""
        if name not in period_rollups.TABLES:
            return name
        return self._held((name, spans), lambda: self._relation(name, spans)) or name

    def digests(self, name: str, span: Span) -> str | None:
        """The digest file of ``span`` when it is a whole month, quarter or ISO week with a
        current digest (see :class:`Engine`)."""
        found = self._held(
            (f"digest-{name}", (span,)),
            lambda: period_rollups.digest_file(self.store, name, *span, self._checks()) or "",
        )
        return found or None

    def ranked(self, name: str, span: Span) -> str | None:
        """The digest file of ``span`` when its rows' previous ranks are current (see
        :class:`Engine`)."""
        found = self._held(
            (f"ranked-{name}", (span,)),
            lambda: period_rollups.ranked_file(self.store, name, *span, self._checks()) or "",
        )
        return found or None

    def kept_rows(self, sql: str, params: Params | None = None) -> list[dict[str, Any]]:
        """:meth:`rows`, kept for the engines sharing this one's database (see
        :class:`Engine`)."""
        key = ("rows", sql, repr(sorted((params or {}).items())))
        found: list[dict[str, Any]] = self._once(key, lambda: self.rows(sql, params))
        return [dict(row) for row in found]

    def daily(self, name: str, start: date, end: date) -> str | None:
        """The daily digest files of the months over ``start`` … ``end`` (see :class:`Engine`)."""
        found = self._held(
            (f"daily-{name}", ((start, end),)),
            lambda: period_rollups.daily_files(self.store, name, start, end, self._checks()) or "",
        )
        return found or None

    def _checks(self) -> period_rollups.Checks:
        """How this engine checks that period files are current: the states found so far
        by the engines sharing its database, and each file's record read by DuckDB (whose
        footer cache the query reading the file then uses: parsed once, not twice)."""
        return period_rollups.Checks(self._known, self._record)

    def _record(self, path: Path) -> bytes | None:
        """What the period file ``path`` records (None: nothing, or it cannot be read)."""
        sql = "SELECT value FROM parquet_kv_metadata($path) WHERE key = $key"
        try:
            found = self.con.execute(
                sql, {"path": str(path), "key": period_rollups.RECORD_KEY}
            ).fetchone()
        except duckdb.Error:
            return None  # damaged: not used, summed anew by the next build
        return bytes(found[0]) if found else None

    def _once(self, key: tuple[object, ...], find: Callable[[], _T]) -> _T:
        """What ``find`` gives, found once for the engines sharing this one's database
        (the store does not change under them); found each time by an engine alone."""
        if self._relations is not None and key in self._relations:
            found: _T = self._relations[key]
            return found
        found = find()
        if self._relations is not None:
            self._relations[key] = found
        return found

    def _held(self, key: tuple[str, tuple[Span, ...]], find: Callable[[], str]) -> str:
        """What ``find`` gives: the period rollups' states read once for the sharing
        engines; "" without rollups."""
        return self._once(key, find) if self.rolled_up else ""

    def _relation(self, name: str, spans: tuple[Span, ...]) -> str:
        used: list[period_rollups.CalendarPeriod] = []
        left: list[Span] = []
        for start, end in spans:
            files, days = period_rollups.cover(self.store, start, end, name, self._checks())
            used += files
            left += days
        parts = [
            f"SELECT * FROM read_parquet('{_quoted(period_rollups.path(self.store, p, name))}')"
            for p in used
        ]
        # The other days' files by name: the view's glob lists every day of the store,
        # which cost more than reading a week's rows (and grows with the store).
        rest = [f for a, b in left for f in period_rollups.day_files(self.store, name, a, b)]
        if rest:
            parts.append(f"SELECT * FROM {rollup._files(rest, day=True)}")
        if not parts:
            return name
        return "(" + " UNION ALL BY NAME ".join(parts) + ")"

    def rows(self, sql: str, params: Params | None = None) -> list[dict[str, Any]]:
        """Run a query; rows as dicts."""
        cur = self.con.execute(sql, params or None)
        names = [d[0] for d in cur.description]
        return [dict(zip(names, row, strict=True)) for row in cur.fetchall()]

    def table(
        self, sql: str, params: Params | None = None, *, tables: dict[str, pa.Table] | None = None
    ) -> pa.Table:
        """Run a query; the result as an Arrow table (``tables``: Arrow tables it reads)."""
        for name, table in (tables or {}).items():
            self.con.register(name, table)
        try:
            return self.con.sql(sql, params=params or None).to_arrow_table()
        finally:
            for name in tables or {}:
                self.con.unregister(name)

    def close(self) -> None:
        self.con.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *_: object) -> None:
        self.close()
