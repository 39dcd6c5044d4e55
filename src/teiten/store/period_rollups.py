"""Period rollups: the ``keys`` and ``sources`` rollups summed over whole calendar months,
quarters and ISO weeks, for answers about a whole period (rankings and their totals),
and their *digests*: what their unfiltered rankings and their daily series show,
computed once.

A quarter's day rollups repeat a source once per day it was seen; summed over the
quarter they hold each (row key, source) once. On the 300 M-packet simulation the
rows of the top 10 ports shrink 13-fold (persistent scanners), which is where a
ranking spends its time (the shown rows grouped by source). Sums and distinct counts
over the period stay exact: the rows are the day rows summed, keys unchanged.

Files: ``period_rollups/<label>/{keys,sources}.parquet`` (``2019Q2``, ``2019-04``,
``2019-W15``), each row's ``day`` the period's first day, so a query's ``day >= start
AND day < end`` selects it when the period lies inside those bounds;
``digest-<name>.parquet`` (of :data:`DIGESTS`) beside them; and for a month
``daily-<name>.parquet`` (of :data:`DAILY`): per day and row, the counts a time series
draws. Each file records the *state* it
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
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING

import pyarrow.parquet as pq

from teiten.store import queries, rollup
from teiten.store.swap import fsync_path

if TYPE_CHECKING:
    import duckdb
    import pyarrow as pa

    from teiten.store.dataset import Store

__all__ = [
    "DAILY",
    "DIGESTS",
    "TABLES",
    "CalendarPeriod",
    "build",
    "cover",
    "current",
    "daily_files",
    "day_files",
    "digest_file",
    "path",
    "period_state",
    "periods_of",
]

TABLES = {"keys": rollup.KEY_COLUMNS, "sources": rollup.SOURCE_COLUMNS}
# A period's unfiltered rankings, summed once (teiten.store.queries.rankings, "digests"):
# per dimension its rows, and the totals and packets per tags value, of each traffic kind.
DIGESTS = (*queries.rankings.DIMENSIONS, "totals", "tags")
# A month's daily series, summed once (teiten.store.queries.series, "daily digests"):
# per day, the totals and every port and country row, of each traffic kind.
DAILY = tuple(queries.series.DAILY_DIGESTS)
LAYOUT_VERSION = 6  # of the files' columns and order: part of every period's state
FOLDER = "period_rollups"
_META = b"teiten.period_rollup"
RECORD_KEY = _META.decode()  # the footer metadata key of what a period file records
Span = tuple[date, date]  # whole UTC days, start inclusive, end exclusive


@dataclass(frozen=True)
class CalendarPeriod:
    """A calendar month or quarter, or an ISO week: whole UTC days ``start`` … ``end``
    (exclusive)."""

    label: str
    start: date
    end: date

    @property
    def kind(self) -> str:
        """``week``, ``quarter`` or ``month``."""
        return "week" if "W" in self.label else "quarter" if "Q" in self.label else "month"

    def previous(self) -> CalendarPeriod:
        """The month, quarter or ISO week before this one."""
        return _of_kind(self.kind, self.start - timedelta(days=1))

    def following(self) -> CalendarPeriod:
        """The month, quarter or ISO week after this one."""
        return _of_kind(self.kind, self.end)

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


def _week(year: int, week: int) -> CalendarPeriod:
    start = date.fromisocalendar(year, week, 1)
    return CalendarPeriod(f"{year}-W{week:02d}", start, start + timedelta(days=7))


def _of_kind(kind: str, day: date) -> CalendarPeriod:
    """The period of ``kind`` (``week``, ``month``, ``quarter``) holding ``day``."""
    if kind == "week":
        return _week(*day.isocalendar()[:2])
    if kind == "month":
        return _month(day.year, day.month)
    return _quarter(day.year, (day.month - 1) // 3 + 1)


def periods_of(days: Iterable[date], *, weeks: bool = False) -> list[CalendarPeriod]:
    """The months, then the quarters (then, with ``weeks``, the ISO weeks) holding any of
    ``days`` that have ended (UTC)."""
    today = datetime.now(UTC).date()
    days = set(days)
    months = {(d.year, d.month) for d in days}
    quarters = {(y, (m - 1) // 3 + 1) for y, m in months}
    found = [_month(y, m) for y, m in sorted(months)]
    found += [_quarter(y, q) for y, q in sorted(quarters)]
    if weeks:
        found += [_week(y, w) for y, w in sorted({d.isocalendar()[:2] for d in days})]
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
    text = f"v{rollup.VERSION}.{LAYOUT_VERSION}\n" + "\n".join(sorted(listed))
    return hashlib.blake2b(text.encode(), digest_size=16).hexdigest()


def path(store: Store, period: CalendarPeriod, table: str) -> Path:
    """The file of ``period``'s ``table`` (a rollup of :data:`TABLES`)."""
    return store.root / FOLDER / period.label / f"{table}.parquet"


def digest_path(store: Store, period: CalendarPeriod, name: str, kind: str = "digest") -> Path:
    """The file of ``period``'s digest ``name`` (of :data:`DIGESTS`; of :data:`DAILY` with
    ``kind="daily"``)."""
    return store.root / FOLDER / period.label / f"{kind}-{name}.parquet"


def _files(store: Store, period: CalendarPeriod) -> list[Path]:
    """Every file of ``period``: its rollups, digests, daily digests (a month's)."""
    found = [digest_path(store, period, d) for d in DIGESTS]
    found += [path(store, period, t) for t in TABLES]
    if period.kind == "month":
        found += [digest_path(store, period, d, "daily") for d in DAILY]
    return found


def read_record(path: Path) -> bytes | None:
    """What the period file ``path`` records (:data:`RECORD_KEY`), read with pyarrow (its
    footer parsed); None when it records nothing or cannot be read."""
    try:
        return (pq.read_schema(path).metadata or {}).get(_META)
    except (OSError, ValueError):
        return None  # damaged: not used, summed anew by the next build


@dataclass(frozen=True)
class Checks:
    """How a caller checks that period files are current: the period states it found so
    far by label (``known``: for callers over an unchanging store, e.g. a server's
    engines at one store version) and how it reads what a file records (``read``: an
    engine that reads the file next reads it so; DuckDB then parses its footer once)."""

    known: dict[str, str] | None = None
    read: Callable[[Path], bytes | None] = read_record


_ALONE = Checks()  # no states kept, records read with pyarrow


def _stored_state(
    path: Path, field: str = "state", read: Callable[[Path], bytes | None] = read_record
) -> str | None:
    """What ``path`` records it was summed from: its period's ``state``, or (a dimension's
    digest) the ``previous`` period's state its previous ranks were taken at."""
    try:
        stat = path.stat()
    except OSError:
        return None  # none yet: summed by the next build
    # Read once per file as it is (a server checks them again at each store version).
    key = (str(path), stat.st_ino, stat.st_size, stat.st_mtime_ns)
    record = _RECORDS.get(key)
    if record is None:
        raw = read(path)
        record = json.loads(raw) if raw else {}
        if len(_RECORDS) >= _RECORDS_KEPT:
            _RECORDS.clear()
        _RECORDS[key] = record
    found = record.get(field)
    return str(found) if found is not None else None


# What each period file records (_META), by path and what stat says of the file.
_RECORDS: dict[tuple[str, int, int, int], dict[str, object]] = {}
_RECORDS_KEPT = 1 << 14


def current(
    store: Store,
    period: CalendarPeriod,
    state: str | None = None,
    *,
    files: Iterable[Path] | None = None,
    checks: Checks = _ALONE,
) -> bool:
    """Whether ``period``'s ``files`` (default: all of them) were summed from the day
    rollups the store has now (``checks``: how). A question checks only the files it
    reads: each records the state it was summed from, and reading a record parses the
    file's footer (a quarter's ``keys``: 148 kB)."""
    state = state or _state(store, period, checks)
    wanted = _files(store, period) if files is None else files
    return all(_stored_state(p, read=checks.read) == state for p in wanted)


def _state(store: Store, period: CalendarPeriod, checks: Checks) -> str:
    """:func:`period_state`, found once per label in ``checks.known``."""
    if checks.known is None:
        return period_state(store, period)
    found = checks.known.get(period.label)
    if found is None:
        found = checks.known[period.label] = period_state(store, period)
    return found


def cover(
    store: Store, start: date, end: date, table: str, checks: Checks = _ALONE
) -> tuple[list[CalendarPeriod], list[Span]]:
    """Split the days ``start`` … ``end`` (exclusive) into periods whose rollup ``table``
    is current (quarters first, then months, then ISO weeks) and the day ranges left to
    read from the day rows."""
    if not (store.root / FOLDER).is_dir():
        return [], [(start, end)] if start < end else []
    used: list[CalendarPeriod] = []
    for period in [*_inside(start, end), *_weeks_inside(start, end)]:
        if any(_overlaps(period, u) for u in used):
            continue
        if current(store, period, files=[path(store, period, table)], checks=checks):
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


def digest_file(
    store: Store, name: str, start: date, end: date, checks: Checks = _ALONE
) -> str | None:
    """SQL reading digest ``name`` of the days ``start`` … ``end`` (exclusive), when they
    are one whole month, quarter or ISO week whose digest is current; else None."""
    file = _current_digest(store, name, start, end, checks)
    return rollup._files([file[1]]) if file else None


def ranked_file(
    store: Store, name: str, start: date, end: date, checks: Checks = _ALONE
) -> str | None:
    """:func:`digest_file` of dimension ``name``, its rows with their previous ranks, when
    the previous period has not changed since those were taken; else None."""
    file = _current_digest(store, name, start, end, checks)
    if file is None:
        return None
    period, found = file
    if _stored_state(found, "previous", checks.read) != _state(store, period.previous(), checks):
        return None
    return rollup._files([found])


def _current_digest(
    store: Store, name: str, start: date, end: date, checks: Checks
) -> tuple[CalendarPeriod, Path] | None:
    """The month, quarter or ISO week that is exactly ``start`` … ``end`` and its digest
    ``name``, when that digest is current."""
    period = _whole(start, end)
    if period is None:
        return None
    file = digest_path(store, period, name)
    return (period, file) if current(store, period, files=[file], checks=checks) else None


def daily_files(
    store: Store, name: str, start: date, end: date, checks: Checks = _ALONE
) -> str | None:
    """SQL reading daily digest ``name`` (of :data:`DAILY`) of the months overlapping the
    days ``start`` … ``end`` (exclusive), when each is current or holds no rolled-up day;
    else None (a month not summed yet: read the rollups)."""
    found = []
    month = _month(start.year, start.month)
    while month.start < end:
        file = digest_path(store, month, name, "daily")
        if current(store, month, files=[file], checks=checks):
            found.append(file)
        elif _holds_days(store, month):
            return None
        month = _month(month.end.year, month.end.month)
    return rollup._files(found) if found else None


def _holds_days(store: Store, period: CalendarPeriod) -> bool:
    return any((store.root / "rollups" / f"day={d}").is_dir() for d in period.days())


def _whole(start: date, end: date) -> CalendarPeriod | None:
    """The month, quarter or ISO week that is exactly ``start`` … ``end``, if any."""
    week = _week(*start.isocalendar()[:2])
    candidates = [*_inside(start, end), week]
    return next((p for p in candidates if (p.start, p.end) == (start, end)), None)


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


def _weeks_inside(start: date, end: date) -> list[CalendarPeriod]:
    """ISO weeks lying wholly within ``start`` … ``end``."""
    week = _week(*start.isocalendar()[:2])
    found = []
    while week.start < end:
        if start <= week.start and week.end <= end:
            found.append(week)
        week = week.following()
    return found


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
    not count its days' packets, or a digest that does not count its days' (or rollup's);
    or ""."""
    import duckdb

    total = "SELECT coalesce(sum(packets), 0) FROM "
    counts: dict[str, int] = {}  # the packets of the days' rollup files, per table
    checked: list[tuple[Path, str, str]] = []  # a file, its rows, the table it counts
    for table in TABLES:
        days = _day_files(store, period, table)
        try:
            counts[table] = _one(con, total + rollup._files(days)) if days else 0
        except duckdb.Error as exc:
            return f"a day's {table} rollup cannot be read ({str(exc).splitlines()[0]})"
        checked.append((path(store, period, table), "", table))
    digests = [digest_path(store, period, name) for name in DIGESTS if name != "tags"]
    if period.kind == "month":
        digests += [digest_path(store, period, name, "daily") for name in DAILY]
    for file in digests:
        table = "keys" if file.stem.endswith("-ports") else "sources"
        checked.append((file, " WHERE traffic = 'all'", table))
    for file, rows, table in checked:
        try:
            summed = _one(con, total + rollup._files([file]) + rows)
        except duckdb.Error as exc:
            return f"{file.name} cannot be read ({str(exc).splitlines()[0]})"
        if summed != counts[table]:
            return (
                f"its {file.stem} counts {summed:,} packets, "
                f"its days' {table} rollups {counts[table]:,}"
            )
    return ""


def _one(con: duckdb.DuckDBPyConnection, sql: str) -> int:
    return int((con.execute(sql).fetchone() or (0,))[0])


def _parse(label: str) -> CalendarPeriod | None:
    """The month (``2019-04``), quarter (``2019Q2``) or ISO week (``2019-W15``) named
    ``label``, else None."""
    try:
        if "W" in label:
            year, week = label.split("-W")
            return _week(int(year), int(week))
        if "Q" in label:
            year, q = label.split("Q")
            return _quarter(int(year), int(q))
        year, month = label.split("-")
        return _month(int(year), int(month))
    except ValueError:
        return None


def build(store: Store, *, days: Iterable[date] | None = None) -> list[str]:
    """Sum the ended months, quarters and ISO weeks holding ``days`` (default: every
    rolled-up day) whose files are missing or stale; a caller holding the writer lock.
    Returns their labels. Nothing is summed while the store's day rollups are incomplete."""
    if not rollup.complete(store):
        return []
    if days is None:
        days = [
            date.fromisoformat(p.name.removeprefix("day="))
            for p in (store.root / "rollups").glob("day=*")
        ]
    built = []
    periods = periods_of(days, weeks=True)
    for period in periods:
        state = period_state(store, period)
        if not current(store, period, state):
            _sum(store, period, state)
            built.append(period.label)
    # The periods after those: their previous ranks were taken from a period now changed.
    today = datetime.now(UTC).date()
    following = {p.following() for p in periods} - set(periods)
    for period in [*periods, *sorted(following, key=lambda p: (p.kind, p.start))]:
        if period.label not in built and period.end <= today and _ranks_stale(store, period):
            _rerank(store, period)
            built.append(period.label)
    return built


_Previous = tuple["CalendarPeriod | None", str | None]


def _previous(store: Store, period: CalendarPeriod) -> _Previous:
    """What ``period``'s rows take their previous ranks from: its previous period, whose
    digests are current (None: it holds no rolled-up day, so no row has a previous rank),
    and that period's state; (None, None) when its digests are stale (no previous ranks
    can be taken)."""
    before = period.previous()
    if not _holds_days(store, before):
        return None, period_state(store, before)
    if current(store, before):
        return before, period_state(store, before)
    return None, None


def _ranks_stale(store: Store, period: CalendarPeriod) -> bool:
    """Whether ``period``'s digests are current but their previous ranks were taken from
    another state of the previous period than the one it has now (whose ranks can be
    taken)."""
    if not (store.root / FOLDER / period.label).is_dir() or not current(store, period):
        return False
    _, state = _previous(store, period)
    taken = {_stored_state(digest_path(store, period, name), "previous") for name in _DIMENSIONS}
    return state is not None and taken != {state}


def _rerank(store: Store, period: CalendarPeriod) -> None:
    """Take ``period``'s previous ranks anew into its dimensions' digests (files replaced
    one by one, each whole)."""
    import duckdb

    from teiten.store.engine import duckdb_config

    previous = _previous(store, period)
    staging = store.root / "staging" / f"period-ranks-{uuid.uuid4().hex[:12]}"
    staging.mkdir(parents=True)
    con = duckdb.connect(":memory:", config=duckdb_config())
    try:
        for name in _DIMENSIONS:
            live = digest_path(store, period, name)
            meta = {_META: (pq.read_schema(live).metadata or {})[_META]}
            rows = (
                "(SELECT * EXCLUDE (previous_rank_packets, previous_rank_sources) "
                f"FROM {rollup._files([live])})"
            )
            _write_ranked(con, store, rows, name, previous, staging / live.name, meta)
        for file in staging.iterdir():
            os.replace(file, store.root / FOLDER / period.label / file.name)
        fsync_path(store.root / FOLDER / period.label)
    finally:
        con.close()
        shutil.rmtree(staging, ignore_errors=True)


def _day_files(store: Store, period: CalendarPeriod, table: str) -> list[Path]:
    """The day rollup files of ``period``'s ``table``."""
    return day_files(store, table, period.start, period.end)


def day_files(store: Store, table: str, start: date, end: date) -> list[Path]:
    """The day rollup files of ``table`` (of :data:`TABLES`) for the days ``start`` …
    ``end`` (exclusive): what a query of those days reads, found without listing the
    store's other days."""
    found = []
    day = start
    while day < end:
        found += sorted((store.root / "rollups" / f"day={day}").glob(f"*.{table}.parquet"))
        day += timedelta(days=1)
    return found


def _inputs(store: Store, period: CalendarPeriod, table: str) -> list[Path]:
    """The files to sum ``period``'s ``table`` from: a quarter's three months when they
    are current (the same rows, fewer of them), else its days' rollup files."""
    if period.kind == "quarter":
        months = [_month(period.start.year, period.start.month + i) for i in range(3)]
        if all(current(store, m, files=[path(store, m, table)]) for m in months):
            return [path(store, m, table) for m in months]
    return _day_files(store, period, table)


def _sum(store: Store, period: CalendarPeriod, state: str) -> None:
    """Write ``period``'s files from its day rollups, streamed (memory stays bounded): its
    rollups, then the digests from them, then a month's daily digests from its days'
    rollups."""
    import duckdb

    from teiten.store.engine import duckdb_config, memory_limit

    live = store.root / FOLDER / period.label
    staging = store.root / "staging" / f"period-rollup-{uuid.uuid4().hex[:12]}"
    staging.mkdir(parents=True)
    # Half of DuckDB's memory: summing a quarter's rows and grouping them by source took
    # DuckDB's whole limit and Python's own on top (1.31 GB at 300 M packets).
    con = duckdb.connect(":memory:", config=duckdb_config() | {"memory_limit": memory_limit(0.5)})
    meta = {_META: json.dumps({"state": state, "period": period.label}).encode()}
    try:
        relations = {}
        for table in TABLES:
            _sum_table(con, store, period, table, staging / f"{table}.parquet", meta)
            relations[table] = rollup._files([staging / f"{table}.parquet"])
        _digest(con, relations, staging, meta, _previous(store, period), store)
        if period.kind == "month":
            _daily(con, store, period, staging, meta)
        for empty in staging.glob("_empty-*"):
            empty.unlink()
        fsync_path(staging)
        rollup._replace_folder(staging, live)
    finally:
        con.close()
        shutil.rmtree(staging, ignore_errors=True)


def _read(files: list[Path], table: str, staging: Path, *, day: bool = False) -> str:
    """SQL reading ``files`` (rollup ``table``'s day files; with ``day``, their day as a
    column); none: an empty file of its columns."""
    if files:
        return rollup._files(files, day=day)
    empty = staging / f"_empty-{table}.parquet"
    pq.write_table(rollup.SCHEMAS[table].empty_table(), empty)
    read = rollup._files([empty])
    return f"(SELECT *, NULL::DATE AS day FROM {read})" if day else read


def _sum_table(
    con: duckdb.DuckDBPyConnection,
    store: Store,
    period: CalendarPeriod,
    table: str,
    out: Path,
    meta: dict[bytes, bytes],
) -> None:
    """Write ``period``'s rollup ``table``, summed from its inputs, into ``out``."""
    import pyarrow as pa

    schema = rollup.SCHEMAS[table].append(pa.field("day", pa.date32(), nullable=False))
    files = _inputs(store, period, table)
    with pq.ParquetWriter(out, schema.with_metadata(meta), **_PARQUET) as writer:
        if files:
            select = rollup.summed_sql(TABLES[table], rollup._files(files))
            result = con.sql(select + _ORDER[table]).to_arrow_reader(1 << 20)
            for batch in result:
                rows = rollup._typed(pa.Table.from_batches([batch]), rollup.SCHEMAS[table])
                days = pa.array([period.start] * rows.num_rows, pa.date32())
                rows = rows.append_column(schema.field("day"), days)
                writer.write_table(rows, row_group_size=_ROW_GROUP)
    fsync_path(out)


# A period's rows by traffic kind and country, in row groups small enough (with their
# min/max statistics) that a question about one country (its ranking, its infected
# hosts) reads that country's groups only. Every other question reads them all, as
# before (unfiltered rankings read the digests).
_ORDER = {
    "keys": " ORDER BY kind, country, proto, port, icmp_type, src",
    "sources": " ORDER BY kind, country, src",
}
_ROW_GROUP = 1 << 14
_PARQUET = rollup._PARQUET | {"write_statistics": ["kind", "country"]}


def _digest(
    con: duckdb.DuckDBPyConnection,
    relations: dict[str, str],
    folder: Path,
    meta: dict[bytes, bytes],
    previous: _Previous,
    store: Store,
) -> None:
    """Write into ``folder`` the digests (:data:`DIGESTS`) of the rollups ``relations``
    (SQL per table) read; a dimension's rows with their ranks in the ``previous`` period
    (as :func:`_previous` gives it)."""
    from teiten.fingerprint.registry import TAG_BITS

    rankings, tags = queries.rankings, list(TAG_BITS)
    for name in DIGESTS:
        parts = []
        for traffic in rankings.TRAFFIC:
            where = queries.filters.where(kind=None if traffic == "all" else traffic)
            if name in rankings.DIMENSIONS:
                table, keys = rankings.DIMENSIONS[name]
                statement = rankings.digest_rows(
                    relations[table], keys, tags, where=where, top=rankings.TOP_SOURCES
                )
            else:
                made = rankings.digest_totals if name == "totals" else rankings.digest_tags
                statement = made(relations["sources"], where)
            parts.append(_of_traffic(con.sql(statement.sql, params=statement.params), traffic))
        out = folder / f"digest-{name}.parquet"
        if name in rankings.DIMENSIONS:
            con.register("_digest_rows", _int64(parts))
            try:
                _write_ranked(con, store, "_digest_rows", name, previous, out, meta)
            finally:
                con.unregister("_digest_rows")
            continue
        pq.write_table(_int64(parts).replace_schema_metadata(meta), out)
        fsync_path(out)


_DIMENSIONS = tuple(queries.rankings.DIMENSIONS)
# Rows per row group of a dimension's digest past its front rows (FRONT_RANKS): few
# groups keep the footer small, which a ranking of the front rows reads too.
_DIGEST_ROW_GROUP = 1 << 17
_DIGEST_PARQUET = {"write_statistics": ["traffic", "rank_packets", "rank_sources"]}


def _write_ranked(
    con: duckdb.DuckDBPyConnection,
    store: Store,
    rows: str,
    name: str,
    previous: _Previous,
    out: Path,
    meta: dict[bytes, bytes],
) -> None:
    """Write to ``out`` the digest of dimension ``name`` whose rows (of every traffic kind)
    ``rows`` reads, each with its ranks in the ``previous`` period (and its state, which
    ``meta`` then records: :func:`_previous`): its front rows
    (:data:`~teiten.store.queries.rankings.FRONT_RANKS`) in a row group of their own."""
    import pyarrow.compute as pc

    rankings = queries.rankings
    before, state = previous
    read = rollup._files([digest_path(store, before, name)]) if before else None
    statement = rankings.with_previous_ranks(rows, read, rankings.DIMENSIONS[name][1])
    table = con.sql(statement.sql, params=statement.params).to_arrow_table()
    lead = pc.min_element_wise(table["rank_packets"], table["rank_sources"])
    front = int(pc.sum(pc.less_equal(lead, rankings.FRONT_RANKS)).as_py() or 0)
    record = json.loads(meta[_META]) | {"previous": state}
    schema = table.schema.with_metadata({_META: json.dumps(record).encode()})
    with pq.ParquetWriter(out, schema, **_DIGEST_PARQUET) as writer:
        if front:
            writer.write_table(table.slice(0, front), row_group_size=front)
        if front < table.num_rows:
            writer.write_table(table.slice(front), row_group_size=_DIGEST_ROW_GROUP)
    fsync_path(out)


def _daily(
    con: duckdb.DuckDBPyConnection,
    store: Store,
    period: CalendarPeriod,
    folder: Path,
    meta: dict[bytes, bytes],
) -> None:
    """Write into ``folder`` the daily digests (:data:`DAILY`) of the month ``period``,
    from its days' rollups, streamed: rows ordered by traffic kind, row and day, so that
    one row's series reads a row group or two."""
    import pyarrow as pa

    series = queries.series
    for name in DAILY:
        table, keys = series.DAILY_DIGESTS[name]
        relation = _read(_day_files(store, period, table), table, folder, day=True)
        out = folder / f"daily-{name}.parquet"
        writer: pq.ParquetWriter | None = None
        try:
            for traffic in queries.rankings.TRAFFIC:
                where = queries.filters.where(kind=None if traffic == "all" else traffic)
                statement = series.daily_digest(relation, keys, where)
                result = con.sql(statement.sql, params=statement.params)
                reader = result.to_arrow_reader(_DAILY_ROW_GROUP)
                schema = reader.schema.insert(0, pa.field("traffic", pa.string()))
                if writer is None:
                    writer = pq.ParquetWriter(out, schema.with_metadata(meta))
                for batch in reader:
                    kinds = pa.array([traffic] * batch.num_rows, pa.string())
                    rows = pa.Table.from_batches([batch]).add_column(0, "traffic", kinds)
                    writer.write_table(rows, row_group_size=_DAILY_ROW_GROUP)
        finally:
            if writer is not None:
                writer.close()
        fsync_path(out)


# Rows per row group of a daily digest: one row's series reads one or two, and fewer
# groups keep the footer small (a quarter's port series: 7-10 ms with 16 k, 4-5 ms).
_DAILY_ROW_GROUP = 1 << 16


def _of_traffic(result: duckdb.DuckDBPyRelation, traffic: str) -> pa.Table:
    """``result``'s rows, with ``traffic`` as their first column."""
    import pyarrow as pa

    part = result.to_arrow_table()
    return part.add_column(0, "traffic", pa.array([traffic] * len(part), pa.string()))


def _int64(parts: list[pa.Table]) -> pa.Table:
    """``parts`` as one table, sums (HUGEINT, as decimals) as int64: they fit."""
    import pyarrow as pa
    import pyarrow.compute as pc

    rows = pa.concat_tables(parts)
    for i, f in enumerate(rows.schema):
        if pa.types.is_decimal(f.type):
            rows = rows.set_column(i, f.name, pc.cast(rows.column(i), pa.int64()))
    return rows
