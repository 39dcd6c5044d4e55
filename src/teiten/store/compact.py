"""Compaction: many small Parquet files of a day merged into few large ones.

A collector stores each sensor batch as it arrives, so a day can collect
thousands of small files, and every query pays for opening them. Compaction
rewrites a day's small files (fewer than ``small_rows`` rows each) into files
of whole row groups, hard-links the day's large files unchanged, and swaps the
new day folder in atomically (:mod:`teiten.store.rewrite`, which also records the
new files' digests in the manifest for ``teiten store check``). Rows are copied,
never changed (their ``batch`` column is filled from the file name for files
written before it existed): every count stays the same. It holds the writer
lock, so ingest and the collector wait for it; a crash at any point leaves the
old files or the new ones, and recovery clears the rest.

Queries that started before a swap may fail with a missing file and can simply
be run again.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import asdict, dataclass, replace
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq

from teiten.store import period_rollups, rollup
from teiten.store.dataset import PARQUET_OPTIONS, ROW_GROUP_ROWS, Store
from teiten.store.parts import with_batch
from teiten.store.rewrite import Rewrite
from teiten.store.schema import SCHEMA

__all__ = ["CompactedDay", "compact"]

FILE_ROW_GROUPS = 16  # row groups per compacted file (~8 M rows)


@dataclass(frozen=True)
class CompactedDay:
    """What compaction did to one day."""

    day: str
    files_before: int
    files_after: int
    rows: int
    bytes_before: int
    bytes_after: int
    rollup_merged: bool = False  # its rollup files were merged too (teiten.store.rollup)

    def as_json(self) -> dict[str, Any]:
        return asdict(self)


def compact(
    store: Store,
    *,
    days: Iterable[str] | None = None,
    min_files: int = 4,
    small_rows: int = ROW_GROUP_ROWS,
    sum_periods: bool = True,
) -> list[CompactedDay]:
    """Compact every day (or ``days``, as ``YYYY-MM-DD``) with ≥ ``min_files`` small files,
    then (``sum_periods``) sum the month and quarter rollups that are stale or missing."""
    if min_files < 2:
        raise ValueError(f"min_files must be ≥ 2, not {min_files}")
    wanted = None if days is None else {f"day={d}" for d in days}
    done = []
    with store.lock():
        for folder in sorted((store.root / "packets").glob("day=*")):
            if wanted is not None and folder.name not in wanted:
                continue
            files = sorted(folder.glob("*.parquet"))
            small = [f for f in files if pq.ParquetFile(f).metadata.num_rows < small_rows]
            if len(small) >= min_files:
                done.append(_compact_day(store, folder, files, small))
        merged = rollup.merge_days(store, days=days, min_files=min_files)
        if sum_periods:
            period_rollups.build(store)  # the months and quarters whose days changed, or ended
    return [replace(d, rollup_merged=d.day in merged) for d in done]


def _compact_day(store: Store, folder: Path, files: list[Path], small: list[Path]) -> CompactedDay:
    rewrite = Rewrite(store, "compact")
    bytes_before = sum(f.stat().st_size for f in files)
    try:
        for f in files:
            if f not in small:
                rewrite.link(folder.name, f)
        new_day = rewrite.folder(folder.name)
        rows = _merge(small, new_day, rewrite.rewrite_id)
        written = sorted(new_day.glob(f"{rewrite.rewrite_id}-*.parquet"))
        rewrite.add_day(folder.name, [f.name for f in small], written)
    except BaseException:
        rewrite.abandon()
        raise
    rewrite.apply()
    after = sorted(folder.glob("*.parquet"))
    return CompactedDay(
        day=folder.name.removeprefix("day="),
        files_before=len(files),
        files_after=len(after),
        rows=rows,
        bytes_before=bytes_before,
        bytes_after=sum(f.stat().st_size for f in after),
    )


def _merge(small: list[Path], out: Path, name: str) -> int:
    """Copy the rows of ``small`` (in order) into files of whole row groups under ``out``."""
    rows = 0
    part = 0
    writer: pq.ParquetWriter | None = None
    groups = 0
    pending: list[pa.Table] = []
    pending_rows = 0

    def flush(force: bool) -> None:
        nonlocal writer, part, groups, pending, pending_rows
        while pending_rows >= ROW_GROUP_ROWS or (force and pending_rows):
            table = pa.concat_tables(pending)
            group, rest = table.slice(0, ROW_GROUP_ROWS), table.slice(ROW_GROUP_ROWS)
            if writer is None:
                writer = pq.ParquetWriter(out / f"{name}-{part}.parquet", SCHEMA, **PARQUET_OPTIONS)
            writer.write_table(group, row_group_size=ROW_GROUP_ROWS)
            groups += 1
            pending, pending_rows = ([rest] if rest.num_rows else []), rest.num_rows
            if groups == FILE_ROW_GROUPS:
                writer.close()
                writer, groups, part = None, 0, part + 1

    for path in small:
        table = with_batch(pq.read_table(path, schema=SCHEMA), path.name)
        rows += table.num_rows
        pending.append(table)
        pending_rows += table.num_rows
        flush(False)
    flush(True)
    if writer is not None:
        writer.close()
    return rows
