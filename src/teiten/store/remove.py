"""``teiten store remove``: take ingested inputs, a sensor or a span of days out of the store.

Exactly the selected rows go, and with them their manifest entries, so a wrong
ingest can be undone and done again (an input removed is no longer a duplicate):

* ``inputs`` (names or digests): the rows of their batches. A batch holds one file
  ingest's rows; a collector batch may hold several sensor uploads, which must then
  all be named. Files named after the batch go whole; compacted files (rows of many
  batches) are rewritten without the rows whose ``batch`` column is one of them.
* ``sensor``: every row of that sensor label, and its batches and inputs (its declared
  size stays, see ``teiten sensors``).
* ``days`` (UTC, inclusive): the day folders, whole. Batches with every row in them go
  with their inputs; a batch that also has rows on other days keeps those rows and its
  inputs stay recorded (so re-ingesting such an input is still a duplicate).

It is all or nothing, like compaction (:mod:`teiten.store.rewrite`): the new day
folders are built under ``staging/``, the removal is recorded in the manifest, the
folders are swapped in, and one transaction updates the manifest; a crash anywhere
leaves the store as it was or, at its next opening, as it is meant to be after.
The manifest keeps every removal (``rewrites`` table, kind ``remove``).

Raw retention (:mod:`teiten.store.retention`) drops old days with the same machinery
(:func:`drop_raw_days`, kind ``retain``), but keeps every batch and input recorded and
leaves the rollups alone: they are all that is left of those days. So a removal never
reaches into such a day: an input, a sensor or days whose packets are partly rolled up
only cannot be taken apart again, and the request is refused.
"""

from __future__ import annotations

import contextlib
import os
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from teiten.errors import OptionError, StoreDamageError, StoreError
from teiten.store import rollup
from teiten.store.dataset import PARQUET_OPTIONS, ROW_GROUP_ROWS, Store
from teiten.store.manifest import BatchRecord, InputRecord
from teiten.store.parts import batch_of_name, rows_by_batch, with_batch
from teiten.store.retention import rolled_up_only
from teiten.store.rewrite import Rewrite, step
from teiten.store.schema import SCHEMA

__all__ = ["Removal", "drop_raw_days", "remove"]


@dataclass
class Removal:
    """What a removal took out (or, in a dry run, would take out)."""

    request: dict[str, Any]
    inputs: list[InputRecord] = field(default_factory=list)  # gone from the manifest
    batches: int = 0  # batches gone from the manifest
    packets: int = 0  # rows removed
    days: list[str] = field(default_factory=list)  # YYYY-MM-DD of the day folders changed
    files_removed: int = 0
    files_rewritten: int = 0
    dry_run: bool = False
    warnings: list[str] = field(default_factory=list)
    removal_id: str | None = None  # its record in the manifest

    def as_json(self) -> dict[str, Any]:
        return {
            "request": self.request,
            "packets": self.packets,
            "inputs": [
                {"name": i.name, "digest": i.digest, "sensor": i.sensor, "packets": i.packets}
                for i in self.inputs
            ],
            "batches": self.batches,
            "days": self.days,
            "files_removed": self.files_removed,
            "files_rewritten": self.files_rewritten,
            "dry_run": self.dry_run,
            "warnings": self.warnings,
            "removal_id": self.removal_id,
        }


@dataclass
class _Target:
    """Which rows go: those of ``batches``, of ``sensor``, or in the ``days`` folders."""

    batches: set[str] = field(default_factory=set)
    sensor: str | None = None
    days: set[str] | None = None  # day=YYYY-MM-DD folders that may hold them (None: all)
    whole_days: bool = False  # every row of those days goes


def remove(
    store: Store,
    *,
    inputs: Sequence[str] = (),
    sensor: str | None = None,
    days: tuple[date, date] | None = None,
    dry_run: bool = False,
) -> Removal:
    """Remove the rows and manifest entries of ``inputs`` (of ``sensor``, if also
    given), or of ``sensor``, or of the UTC ``days`` (first, last); see the module."""
    if bool(inputs) + (days is not None) + (sensor is not None and not inputs) != 1:
        raise OptionError("remove --input NAME (repeatable), --sensor S or --days FROM..TO")
    request: dict[str, Any] = (
        {"inputs": list(inputs), "sensor": sensor}
        if inputs
        else {"days": [days[0].isoformat(), days[1].isoformat()]}
        if days
        else {"sensor": sensor}
    )
    lock = contextlib.nullcontext() if dry_run else store.lock()
    with lock:
        plan = _Plan(store, Removal(request, dry_run=dry_run), kind="remove")
        if inputs:
            plan.select_inputs(inputs, sensor)
        elif days is not None:
            plan.select_days(days)
        else:
            plan.select_sensor(sensor or "")
        plan.decide()
        if not dry_run:
            was_complete = rollup.complete(store)
            store.manifest.set(rollup.META_KEY, None)  # a crash from here: queries read packets
            plan.execute()
            rollup.roll_up(store, days=plan.removal.days, mark_complete=was_complete)
    return plan.removal


def drop_raw_days(
    store: Store, days: Sequence[str], meta: dict[str, str], *, dry_run: bool = False
) -> Removal:
    """Raw retention's drop: the packet files of ``days`` (``YYYY-MM-DD``) go, atomically
    as a removal's do, while every batch and input stays recorded (a batch's packet count
    shrinks by its rows dropped; its parts stay, so reports still name its inputs) and
    the rollups are not touched. The transaction that completes it also sets ``meta``
    (the raw horizon). The caller holds the writer lock."""
    request = {"days": sorted(days), **meta}
    plan = _Plan(store, Removal(request, dry_run=dry_run), kind="retain")
    plan.select_folders({f"day={d}" for d in days}, keep_batches=True)
    plan.decide()
    if not dry_run:
        plan.execute({"meta": meta})
    return plan.removal


class _Plan:
    def __init__(self, store: Store, removal: Removal, kind: str) -> None:
        self.store = store
        self.removal = removal
        self.kind = kind  # of its rewrite: remove, or retain (raw retention)
        self.committed = {b.batch_id: b for b in store.manifest.batches(state="committed")}
        self.by_batch = store.manifest.inputs_by_batch()
        self.recorded = store.manifest.files()
        self.target = _Target()
        self.delete: set[str] = set()  # batches that go from the manifest
        self.shrink: dict[str, dict[str, Any]] = {}  # batch -> packets and emptied days
        self.actions: dict[str, list[tuple[Path, str]]] = {}  # day -> (file, drop|keep|filter)
        self.unknown_days: set[str] = set()  # with rows of no known batch (older compaction)
        self.rolled_only = set(rolled_up_only(store))  # day=… folders retention emptied

    # --- what goes -------------------------------------------------------------------

    def select_inputs(self, wanted: Sequence[str], sensor: str | None) -> None:
        candidates = [
            (b, i)
            for b, records in self.by_batch.items()
            for i in records
            if sensor is None or i.sensor == sensor
        ]
        chosen: dict[tuple[str, str | None], tuple[str, InputRecord]] = {}
        for text in wanted:
            hits = _match(text, candidates)
            if not hits:
                raise OptionError(
                    f"--input {text}: no such input in {self.store.root}"
                    + (f" under sensor {sensor}" if sensor else "")
                    + "; give the name it was ingested as or its digest "
                    "(`teiten store info --json` counts them, the ingest answer lists them)"
                )
            if len(hits) > 1:
                listed = "; ".join(f"{i.name} ({i.sensor}, {i.digest})" for _, i in hits[:5])
                how = (
                    "narrow it with --sensor"
                    if len({i.digest for _, i in hits}) == 1
                    else "give its digest (and --sensor if it was stored under several)"
                )
                raise OptionError(f"--input {text} matches {len(hits)} inputs: {listed}; {how}")
            batch, record = hits[0]
            chosen[(record.digest, record.sensor)] = (batch, record)
        for batch in {b for b, _ in chosen.values()}:
            others = [i for i in self.by_batch[batch] if (i.digest, i.sensor) not in chosen]
            if others:
                names = ", ".join(i.name for i in others[:5])
                raise OptionError(
                    f"the rows of {len(others)} more input(s) ({names}) were stored in the same "
                    "batch (a collector group): name them too to remove that batch"
                )
        self.target.batches = {b for b, _ in chosen.values()}
        self.delete = set(self.target.batches)
        self.target.days = {d for b in self.delete for d in _days(self.committed[b])}
        self._refuse_rolled_only(
            self.target.days,
            "of " + ", ".join(sorted(i.name for _, i in chosen.values())[:3]) + " ",
        )

    def select_sensor(self, sensor: str) -> None:
        known = sorted({b.sensor for b in self.committed.values()})
        if sensor not in known:
            raise OptionError(
                f"--sensor {sensor}: no stored batch has that sensor; known: "
                + (", ".join(known) or "none")
            )
        self.target.sensor = sensor
        self.delete = {b.batch_id for b in self.committed.values() if b.sensor == sensor}
        days = {d for b in self.delete for d in _days(self.committed[b])}
        self._refuse_rolled_only(days, f"of sensor {sensor} ")

    def select_days(self, days: tuple[date, date]) -> None:
        first, last = days
        if first > last:
            raise OptionError(f"--days {first}..{last}: the first day is after the last")
        lo, hi = first.isoformat(), last.isoformat()
        self._refuse_rolled_only(
            {d for d in self.rolled_only if lo <= d.removeprefix("day=") <= hi}, ""
        )
        folders = {
            p.name
            for p in (self.store.root / "packets").glob("day=*")
            if lo <= p.name.removeprefix("day=") <= hi
        }
        if not folders:
            raise OptionError(f"--days {first}..{last}: the store holds no packets on those days")
        self.select_folders(folders)

    def select_folders(self, folders: set[str], *, keep_batches: bool = False) -> None:
        """Every row of the day ``folders``. Batches with every row in them go, unless
        ``keep_batches`` (raw retention): then each batch stays, with fewer packets."""
        self.target.days = folders
        self.target.whole_days = True
        for batch in self.committed.values():
            spread = _days(batch)
            if spread and spread <= folders and not keep_batches:
                self.delete.add(batch.batch_id)
            elif spread & folders:
                self.shrink[batch.batch_id] = {
                    "packets": 0,
                    "emptied_days": [] if keep_batches else sorted(spread & folders),
                }

    def _refuse_rolled_only(self, days: set[str], what: str) -> None:
        """Refuse a removal reaching days whose packets raw retention dropped: their
        rollups hold those rows without saying which input they came from."""
        hit = sorted(d.removeprefix("day=") for d in days & self.rolled_only)
        if hit:
            span = hit[0] if len(hit) == 1 else f"{hit[0]}..{hit[-1]} ({len(hit)} days)"
            raise OptionError(
                f"the packets {what}on {span} were dropped by raw retention (only their "
                "rollups, the counts every report reads, are left): they cannot be removed "
                "any more (`teiten store info` says from which day raw packets are kept)"
            )

    # --- file by file ----------------------------------------------------------------

    def decide(self) -> None:
        """Keep, drop or filter each file of the days that hold rows to remove."""
        removal = self.removal
        gone: Counter[str | None] = Counter()
        for folder in sorted((self.store.root / "packets").glob("day=*")):
            if self.target.days is not None and folder.name not in self.target.days:
                continue
            files = sorted(folder.glob("*.parquet"))
            actions = [(path, *self._action(folder.name, path)) for path in files]
            if all(action == "keep" for _, action, _ in actions):
                continue
            self.actions[folder.name] = [(path, action) for path, action, _ in actions]
            for _, action, counts in actions:
                gone.update(counts)
                removal.files_removed += action == "drop"
                removal.files_rewritten += action == "filter"
            removal.days.append(folder.name.removeprefix("day="))
        removal.packets = sum(gone.values())
        for batch_id, cut in self.shrink.items():
            cut["packets"] = gone[batch_id]
        if self.shrink and gone[None]:
            removal.warnings.append(
                f"{gone[None]:,} of the rows removed carry no batch (merged by an older "
                "compaction): the packet counts of the batches they came from are not lowered"
            )
        for batch_id in sorted(self.delete):
            batch = self.committed[batch_id]
            unknown = self.unknown_days & _days(batch)
            if self.target.batches and gone[batch_id] < batch.packets and unknown:
                raise StoreError(
                    f"{self.store.root}: rows of batch {batch_id} were merged by an older "
                    "compaction into files that do not say which batch a row came from; "
                    "remove them with --days or --sensor instead"
                )
            if gone[batch_id] != batch.packets and not self.target.whole_days:
                removal.warnings.append(
                    f"batch {batch_id}: {gone[batch_id]:,} rows found of the {batch.packets:,} "
                    "the manifest records (`teiten store check` tells what is missing)"
                )
            removal.inputs.extend(self.by_batch.get(batch_id, []))
        removal.batches = len(self.delete)

    def _action(self, day: str, path: Path) -> tuple[str, Counter[str | None]]:
        """``drop``, ``keep`` or ``filter`` for one file, and the rows it loses per batch."""
        target = self.target
        named = batch_of_name(path.name)
        if target.whole_days:
            return "drop", self._counts(path, named)
        if named is not None and (target.batches or named in self.committed):
            batch = self.committed.get(named)
            hit = named in target.batches or (batch is not None and batch.sensor == target.sensor)
            return ("drop", self._counts(path, named)) if hit else ("keep", Counter())
        try:
            if target.batches:
                counts = rows_by_batch(path)
                lost: Counter[str | None] = Counter(
                    {b: n for b, n in counts.items() if b in target.batches}
                )
                if None in counts:
                    self.unknown_days.add(day)
            else:
                table = pq.read_table(path, schema=_SENSOR_AND_BATCH)
                mask = pc.equal(table.column("sensor").cast(pa.string()), target.sensor)
                lost = _counts(table.filter(mask).column("batch"))
        except (OSError, pa.ArrowException) as exc:
            raise StoreDamageError(
                path,
                f"{path}: cannot tell which of its rows to remove, the file is unreadable "
                f"({exc}); restore it from a backup, or remove its whole day "
                f"(`teiten store remove --days {day.removeprefix('day=')}`)",
            ) from exc
        total = pq.ParquetFile(path).metadata.num_rows
        removed = sum(lost.values())
        if removed == 0:
            return "keep", Counter()
        return ("drop" if removed == total else "filter"), lost

    def _counts(self, path: Path, named: str | None) -> Counter[str | None]:
        """Rows per batch of a file that goes whole (its record's count if unreadable)."""
        try:
            return rows_by_batch(path)
        except (OSError, pa.ArrowException):
            rel = path.relative_to(self.store.root).as_posix()
            rows = self.recorded[rel].rows if rel in self.recorded else 0
            self.removal.warnings.append(
                f"{rel} is unreadable; it is removed"
                + (f" with the {rows:,} rows it was written with" if rows else ", uncounted")
            )
            return Counter({named: rows})

    # --- doing it --------------------------------------------------------------------

    def execute(self, extra: dict[str, Any] | None = None) -> None:
        rewrite = Rewrite(self.store, self.kind)
        try:
            for day, actions in self.actions.items():
                folder = rewrite.folder(day)
                drop: list[str] = []
                written: list[Path] = []
                for path, action in actions:
                    if action == "keep":
                        rewrite.link(day, path)
                        continue
                    drop.append(path.name)
                    if action == "filter":
                        out = folder / f"{rewrite.rewrite_id}-{len(written)}.parquet"
                        self._filter(path, out)
                        written.append(out)
                rewrite.add_day(day, drop, written)
                step()
        except BaseException:
            rewrite.abandon()
            raise
        removal = self.removal
        effects = {
            "delete_batches": sorted(self.delete),
            "shrink_batches": {b: c for b, c in self.shrink.items() if b not in self.delete},
            "request": removal.request,
            "removed": {
                "packets": removal.packets,
                "inputs": [{"name": i.name, "digest": i.digest} for i in removal.inputs],
            },
        }
        removal.removal_id = rewrite.rewrite_id
        rewrite.apply({**effects, **(extra or {})})

    def _filter(self, path: Path, out: Path) -> None:
        """Write the rows of ``path`` that stay to ``out`` (whole row groups)."""
        table = with_batch(pq.read_table(path, schema=SCHEMA), path.name)
        if self.target.batches:
            column = table.column("batch").cast(pa.string())
            keep = pc.invert(pc.is_in(column, pa.array(sorted(self.target.batches))))
        else:
            keep = pc.not_equal(table.column("sensor").cast(pa.string()), self.target.sensor)
        kept = table.filter(pc.fill_null(keep, True))
        with pq.ParquetWriter(out, SCHEMA, **PARQUET_OPTIONS) as writer:
            writer.write_table(kept, row_group_size=ROW_GROUP_ROWS)


def _days(batch: BatchRecord) -> set[str]:
    """The day folders (``day=…``) a batch wrote rows to."""
    return {final.split("/")[1] for _, final in batch.parts}


_SENSOR_AND_BATCH = pa.schema([SCHEMA.field("sensor"), SCHEMA.field("batch")])


def _counts(column: pa.ChunkedArray) -> Counter[str | None]:
    """Rows per value of a (dictionary) string column."""
    counts: Counter[str | None] = Counter()
    for item in pc.value_counts(column.cast(pa.string())).to_pylist():
        counts[item["values"]] += item["counts"]
    return counts


def _match(text: str, candidates: list[tuple[str, InputRecord]]) -> list[tuple[str, InputRecord]]:
    """The inputs ``text`` names: a digest (with or without its ``algo:`` prefix, or a
    prefix of 8+ hex digits), else the name it was ingested as, its absolute path, or
    its file name."""
    tests = [
        lambda i: text in (i.digest, i.digest.partition(":")[2]),
        lambda i: len(text) >= 8 and i.digest.partition(":")[2].startswith(text.lower()),
        lambda i: i.name == text,
        lambda i: os.path.abspath(i.name) == os.path.abspath(text),
        lambda i: os.path.basename(i.name) == os.path.basename(text),
    ]
    for test in tests:
        hits = [(b, i) for b, i in candidates if test(i)]
        if hits:
            return hits
    return []
