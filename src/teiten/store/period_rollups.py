"""Period rollups: the ``keys`` and ``sources`` rollups summed over whole calendar months
and quarters, for answers about a whole period (rankings and their totals).

A quarter's day rollups repeat a source once per day it was seen; summed over the
quarter they hold each (row key, source) once. On the 300 M-packet simulation the
rows of the top 10 ports shrink 13-fold (persistent scanners), which is where a
ranking spends its time (the shown rows grouped by source). Sums and distinct counts
over the period stay exact: the rows are the day rows summed, keys unchanged.

Files: ``period_rollups/<label>/{keys,sources}.parquet`` (``2019Q2``, ``2019-04``),
each row's ``day`` the period's first day, so a query's ``day >= start AND day < end``
selects it when the period lies inside those bounds. Each file records the *state* it
was summed from: a digest of the names and sizes of the period's day rollup files. A
query uses a file only when that state is the store's (:func:`cover`), else it reads
the day rows — the same answer, slower. Any change to a day (ingest of late data,
removal, a rebuild, compaction's merge) changes the state; ``teiten store rollup``
and compaction sum the stale ones anew. Only periods that have ended (UTC) are summed:
the current one would be stale at the next batch.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import shutil
import uuid
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING

import pyarrow.parquet as pq

from teiten.store import queries, rollup
from teiten.store.swap import fsync_path

if TYPE_CHECKING:
    import duckdb

    from teiten.store.dataset import Store

__all__ = [
    "DIGESTS",
    "TABLES",
    "CalendarPeriod",
    "build",
    "cover",
    "current",
    "digest_files",
    "path",
    "period_state",
    "periods_of",
]

TABLES = {"keys": rollup.KEY_COLUMNS, "sources": rollup.SOURCE_COLUMNS}
# A period's unfiltered rankings, summed once (teiten.store.queries.rankings, "digests"):
# per dimension its rows, and the totals and packets per tags value, of each traffic kind.
DIGESTS = (*queries.rankings.DIMENSIONS, "totals", "tags")
DIGEST_VERSION = 2  # of the digests' columns: part of every period's state
FOLDER = "period_rollups"
_META = b"teiten.period_rollup"
Span = tuple[date, date]  # whole UTC days, start inclusive, end exclusive


@dataclass(frozen=True)
class CalendarPeriod:
    """A calendar month or quarter: whole UTC days ``start`` … ``end`` (exclusive)."""

    label: str
    start: date
    end: date

    def days(self) -> Iterator[date]:
        day = self.start
        while day < self.end:
            yield day
            day += timedelta(days=1)


def _month(year: int, month: int) -> CalendarPeriod:
    end = date(year + month // 12, month % 12 + 1, 1)
    return CalendarPeriod(f"{year}-{month:02d}", date(year, month, 1), end)


def _quarter(year: int, q: int) -> CalendarPeriod:
    end = date(year + q // 4, (q % 4) * 3 + 1, 1)
    return CalendarPeriod(f"{year}Q{q}", date(year, 3 * q - 2, 1), end)


def periods_of(days: Iterable[date]) -> list[CalendarPeriod]:
    """The months, then the quarters, holding any of ``days`` that have ended (UTC)."""
    today = datetime.now(UTC).date()
    months = {(d.year, d.month) for d in days}
    quarters = {(y, (m - 1) // 3 + 1) for y, m in months}
    found = [_month(y, m) for y, m in sorted(months)] + [
        _quarter(y, q) for y, q in sorted(quarters)
    ]
    return [p for p in found if p.end <= today]


def period_state(store: Store, period: CalendarPeriod) -> str:
    """Digest of the names and sizes of ``period``'s day rollup files (``keys``, ``sources``)."""
    listed = []
    for day in period.days():
        folder = store.root / "rollups" / f"day={day.isoformat()}"
        with contextlib.suppress(FileNotFoundError):
            for entry in os.scandir(folder):
                if entry.name.endswith((".keys.parquet", ".sources.parquet")):
                    listed.append(f"{day}/{entry.name}/{entry.stat().st_size}")
    text = f"v{rollup.VERSION}.{DIGEST_VERSION}\n" + "\n".join(sorted(listed))
    return hashlib.blake2b(text.encode(), digest_size=16).hexdigest()


def path(store: Store, period: CalendarPeriod, table: str) -> Path:
    """The file of ``period``'s ``table`` (a rollup of :data:`TABLES`)."""
    return store.root / FOLDER / period.label / f"{table}.parquet"


def digest_path(store: Store, period: CalendarPeriod, name: str) -> Path:
    """The file of ``period``'s digest ``name`` (of :data:`DIGESTS`)."""
    return store.root / FOLDER / period.label / f"digest-{name}.parquet"


def _files(store: Store, period: CalendarPeriod) -> list[Path]:
    return [path(store, period, t) for t in TABLES] + [
        digest_path(store, period, d) for d in DIGESTS
    ]


def _stored_state(path: Path) -> str | None:
    try:
        meta = pq.read_schema(path).metadata or {}
    except (OSError, ValueError):
        return None  # none yet, or damaged: not used, summed anew by the next build
    raw = meta.get(_META)
    return json.loads(raw).get("state") if raw else None


def current(store: Store, period: CalendarPeriod, state: str | None = None) -> bool:
    """Whether ``period``'s files were summed from the day rollups the store has now."""
    state = state or period_state(store, period)
    return all(_stored_state(p) == state for p in _files(store, period))


def cover(store: Store, start: date, end: date) -> tuple[list[CalendarPeriod], list[Span]]:
    """Split the days ``start`` … ``end`` (exclusive) into periods with current files
    (quarters first, then months) and the day ranges left to read from the day rows."""
    if not (store.root / FOLDER).is_dir():
        return [], [(start, end)] if start < end else []
    used: list[CalendarPeriod] = []
    for period in _inside(start, end):
        if not any(_overlaps(period, u) for u in used) and current(store, period):
            used.append(period)
    used.sort(key=lambda p: p.start)
    left: list[Span] = []
    at = start
    for period in used:
        if at < period.start:
            left.append((at, period.start))
        at = period.end
    if at < end:
        left.append((at, end))
    return used, left


def digest_files(store: Store, name: str, spans: Iterable[Span]) -> list[str] | None:
    """SQL reading digest ``name`` of each span, when each is one whole month or quarter
    whose digest is current (or that holds no rolled-up day: no rows then, unless no span
    holds any); else None."""
    found: list[Path | None] = []
    for start, end in spans:
        inside = [p for p in _inside(start, end) if (p.start, p.end) == (start, end)]
        if not inside:
            return None
        period = inside[0]
        if current(store, period):
            found.append(digest_path(store, period, name))
        elif any((store.root / "rollups" / f"day={d}").is_dir() for d in period.days()):
            return None
        else:
            found.append(None)
    some = next((f for f in found if f is not None), None)
    if some is None:
        return None
    return [
        rollup._files([f]) if f else f"(SELECT * FROM {rollup._files([some])} WHERE FALSE)"
        for f in found
    ]


def _inside(start: date, end: date) -> list[CalendarPeriod]:
    """Quarters, then months, lying wholly within ``start`` … ``end``."""
    months = []
    day = date(start.year, start.month, 1)
    while day < end:
        months.append(_month(day.year, day.month))
        day = months[-1].end
    quarters = {_quarter(m.start.year, (m.start.month - 1) // 3 + 1) for m in months}
    inside = sorted(quarters, key=lambda p: p.start) + months
    return [p for p in inside if start <= p.start and p.end <= end]


def _overlaps(a: CalendarPeriod, b: CalendarPeriod) -> bool:
    return a.start < b.end and b.start < a.end


def problems(store: Store, con: duckdb.DuckDBPyConnection) -> Iterator[tuple[str, str]]:
    """``(label, what is wrong)`` of each current period rollup whose files cannot be read,
    do not count the packets of its days' rollup files, or whose digests do not count the
    packets of its rollups (``teiten store check``)."""
    for folder in sorted((store.root / FOLDER).glob("*")):
        period = _parse(folder.name)
        if period is None or not current(store, period):
            continue  # not read by queries: summed anew by the next build
        wrong = _miscounted(store, period, con)
        if wrong:
            yield period.label, wrong


def _miscounted(store: Store, period: CalendarPeriod, con: duckdb.DuckDBPyConnection) -> str:
    """What is wrong with ``period``'s files: one that cannot be read, a rollup that does
    not count its days' packets, or a digest that does not count its rollup's; or ""."""
    import duckdb

    total = "SELECT coalesce(sum(packets), 0) FROM "
    counts: dict[str, int] = {}
    for table in TABLES:
        days = [
            p
            for day in period.days()
            for p in (store.root / "rollups" / f"day={day}").glob(f"*.{table}.parquet")
        ]
        try:
            counts[table] = _one(con, total + rollup._files([path(store, period, table)]))
            counted = _one(con, total + rollup._files(days)) if days else 0
        except duckdb.Error as exc:
            return f"{table}.parquet cannot be read ({str(exc).splitlines()[0]})"
        if counts[table] != counted:
            summed = counts[table]
            return f"its {table} rollup counts {summed:,} packets, its days' rollups {counted:,}"
    for name in DIGESTS:
        if name == "tags":
            continue
        where = " WHERE traffic = 'all'"
        try:
            summed = _one(con, total + rollup._files([digest_path(store, period, name)]) + where)
        except duckdb.Error as exc:
            return f"digest-{name}.parquet cannot be read ({str(exc).splitlines()[0]})"
        table = "keys" if name == "ports" else "sources"
        if summed != counts[table]:
            return (
                f"its {name} digest counts {summed:,} packets, its {table} rollup {counts[table]:,}"
            )
    return ""


def _one(con: duckdb.DuckDBPyConnection, sql: str) -> int:
    return int((con.execute(sql).fetchone() or (0,))[0])


def _parse(label: str) -> CalendarPeriod | None:
    """The month (``2019-04``) or quarter (``2019Q2``) named ``label``, else None."""
    try:
        if "Q" in label:
            year, q = label.split("Q")
            return _quarter(int(year), int(q))
        year, month = label.split("-")
        return _month(int(year), int(month))
    except ValueError:
        return None


def build(store: Store, *, days: Iterable[date] | None = None) -> list[str]:
    """Sum the ended months and quarters holding ``days`` (default: every rolled-up day)
    whose files are missing or stale; a caller holding the writer lock. Returns their
    labels. Nothing is summed while the store's day rollups are incomplete."""
    if not rollup.complete(store):
        return []
    if days is None:
        days = [
            date.fromisoformat(p.name.removeprefix("day="))
            for p in (store.root / "rollups").glob("day=*")
        ]
    built = []
    for period in periods_of(days):
        state = period_state(store, period)
        if not current(store, period, state):
            _sum(store, period, state)
            built.append(period.label)
    return built


def _inputs(store: Store, period: CalendarPeriod, table: str) -> list[Path]:
    """The files to sum ``period``'s ``table`` from: a quarter's three months when they
    are current (the same rows, fewer of them), else its days' rollup files."""
    if "Q" in period.label:
        months = [_month(period.start.year, period.start.month + i) for i in range(3)]
        if all(current(store, m) for m in months):
            return [path(store, m, table) for m in months]
    return [
        p
        for day in period.days()
        for p in (store.root / "rollups" / f"day={day}").glob(f"*.{table}.parquet")
    ]


def _sum(store: Store, period: CalendarPeriod, state: str) -> None:
    """Write ``period``'s files from its day rollups, streamed (memory stays bounded)."""
    import duckdb
    import pyarrow as pa

    from teiten.store.engine import duckdb_config, memory_limit

    live = store.root / FOLDER / period.label
    staging = store.root / "staging" / f"period-rollup-{uuid.uuid4().hex[:12]}"
    staging.mkdir(parents=True)
    # Half of DuckDB's memory: summing a quarter's rows and grouping them by source took
    # DuckDB's whole limit and Python's own on top (1.31 GB at 300 M packets).
    con = duckdb.connect(":memory:", config=duckdb_config() | {"memory_limit": memory_limit(0.5)})
    meta = {_META: json.dumps({"state": state, "period": period.label}).encode()}
    try:
        for table, columns in TABLES.items():
            schema = rollup.SCHEMAS[table].append(pa.field("day", pa.date32(), nullable=False))
            files = _inputs(store, period, table)
            out = staging / f"{table}.parquet"
            with pq.ParquetWriter(out, schema.with_metadata(meta), **rollup._PARQUET) as writer:
                if files:
                    select = rollup.summed_sql(columns, rollup._files(files))
                    result = con.sql(select + rollup._ORDER[table]).to_arrow_reader(1 << 20)
                    for batch in result:
                        rows = rollup._typed(pa.Table.from_batches([batch]), rollup.SCHEMAS[table])
                        days = pa.array([period.start] * rows.num_rows, pa.date32())
                        rows = rows.append_column(schema.field("day"), days)
                        writer.write_table(rows, row_group_size=rollup._ROW_GROUP)
            fsync_path(out)
        _digest(con, staging, meta)
        fsync_path(staging)
        rollup._replace_folder(staging, live)
    finally:
        con.close()
        shutil.rmtree(staging, ignore_errors=True)


def _digest(con: duckdb.DuckDBPyConnection, folder: Path, meta: dict[bytes, bytes]) -> None:
    """Write the digests (:data:`DIGESTS`) of the period rollups in ``folder``."""
    import pyarrow as pa
    import pyarrow.compute as pc

    from teiten.fingerprint.registry import TAG_BITS

    rankings, tags = queries.rankings, list(TAG_BITS)
    for name in DIGESTS:
        parts = []
        for traffic in rankings.TRAFFIC:
            where = queries.filters.where(kind=None if traffic == "all" else traffic)
            if name in rankings.DIMENSIONS:
                table, keys = rankings.DIMENSIONS[name]
                relation = rollup._files([folder / f"{table}.parquet"])
                statement = rankings.digest_rows(
                    relation, keys, tags, where=where, top=rankings.TOP_SOURCES
                )
            else:
                relation = rollup._files([folder / "sources.parquet"])
                made = rankings.digest_totals if name == "totals" else rankings.digest_tags
                statement = made(relation, where)
            part = con.sql(statement.sql, params=statement.params).to_arrow_table()
            kinds = pa.array([traffic] * len(part), pa.string())
            parts.append(part.add_column(0, "traffic", kinds))
        rows = pa.concat_tables(parts)
        for i, f in enumerate(rows.schema):  # sums come as HUGEINT (decimal): they fit int64
            if pa.types.is_decimal(f.type):
                rows = rows.set_column(i, f.name, pc.cast(rows.column(i), pa.int64()))
        out = folder / f"digest-{name}.parquet"
        pq.write_table(rows.replace_schema_metadata(meta), out)
        fsync_path(out)
