"""``teiten store check``: every Parquet file of the dataset against the manifest.

Each problem found has a ``kind``:

* ``unreadable`` — a file whose footer or pages cannot be decoded;
* ``digest`` — a file whose bytes differ from the BLAKE3 digest the manifest recorded
  when it was written (bit rot, a partial copy, an edit by hand);
* ``schema`` — columns that differ from :data:`teiten.store.schema.SCHEMA`;
* ``missing`` — a file the manifest records that is not on disk;
* ``unexpected`` — a file with rows of no committed batch (copied in by hand, or left
  by a crash of a teiten that did not record its files): queries count its rows;
* ``rows`` — a file whose row count differs from its record, or a committed batch whose
  rows on disk differ from the packets the manifest records for it;
* ``rollup`` — a day whose rollups (:mod:`teiten.store.rollup`) do not count the packets
  its files hold, or cannot be read (checked when the store's rollup is complete), or a
  day whose raw packets raw retention dropped (:mod:`teiten.store.retention`) that lost
  its rollups, all that was left of it. The rollups of such days have no packets to be
  compared with;
* ``period-rollup`` — a month's or quarter's rollup (:mod:`teiten.store.period_rollups`)
  that queries would read (its recorded state is the store's) but that cannot be read,
  does not count the packets of its days' rollups, or whose digests (the period's
  unfiltered rankings) do not count the packets of its rollups;
* ``pending`` — an interrupted write the next writer finishes (opening a store one
  may write finishes it at once, so this is seen only on a read-only store).

Files without a record (written before teiten recorded digests, and large files a
compaction of such a store kept) are decoded completely instead and counted as
``unrecorded_files``. Compaction and removal record the files they write, so the
check stays exact after them.
"""

from __future__ import annotations

import shlex
from collections import Counter
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pyarrow as pa
import pyarrow.parquet as pq

from teiten.store import rollup
from teiten.store.dataset import Store
from teiten.store.manifest import BatchRecord, InputRecord
from teiten.store.parts import batch_of_name, file_digest, rows_by_batch, schema_problems
from teiten.store.retention import rolled_up_only

if TYPE_CHECKING:
    import duckdb

__all__ = ["CheckReport", "Problem", "check"]


@dataclass(frozen=True)
class Problem:
    """One thing wrong, where, and what to do about it."""

    kind: str
    file: str | None  # relative to the store
    detail: str
    fix: str
    inputs: list[str] = field(default_factory=list)  # names of the inputs it concerns


@dataclass
class CheckReport:
    """What ``teiten store check`` found; ``as_json`` is its documented ``--json``."""

    store: str
    files: int = 0
    rows: int = 0
    batches: int = 0
    inputs: int = 0
    verified_digests: int = 0
    unrecorded_files: int = 0
    rollups: str = "incomplete"  # "complete": queries read them (teiten.store.rollup)
    problems: list[Problem] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems

    def as_json(self) -> dict[str, Any]:
        data = asdict(self)
        data["ok"] = self.ok
        return data


class _Checker:
    def __init__(self, store: Store) -> None:
        manifest = store.manifest
        self.store = store
        self.root = store.root
        self.recorded = manifest.files()
        self.committed = {b.batch_id: b for b in manifest.batches(state="committed")}
        self.pending = {b.batch_id for b in manifest.batches(state="pending")}
        self.inputs = manifest.inputs_by_batch()
        self.name_uses = Counter(i.name for v in self.inputs.values() for i in v)
        self.report = CheckReport(
            str(store.root),
            batches=len(self.committed),
            inputs=sum(len(v) for v in self.inputs.values()),
        )
        self.found: Counter[str] = Counter()  # rows per committed batch
        self.day_rows: Counter[str] = Counter()  # rows per day folder
        self.rolled_up = rollup.complete(store)
        self.rolled_only = set(rolled_up_only(store))  # raw packets dropped: no packets
        self.dropped = {  # every day folder raw retention emptied, by its records
            day["day"]
            for r in manifest.rewrites(state="done", kind="retain")
            for day in r.plan.get("days", [])
        }
        self.report.rollups = "complete" if self.rolled_up else "incomplete"
        self.unknown_days: set[str] = set()  # days holding rows of no known batch
        self.reported: set[str] = set()  # batches already named in a file's problem
        if manifest.has_pending():
            self._add(
                "pending",
                None,
                "an interrupted write (ingest, compaction or removal) waits to be finished",
                "run any command that writes (e.g. `teiten store compact`) as a user who may "
                "write the store; it finishes the write first",
                [],
            )

    def run(self) -> CheckReport:
        on_disk = sorted((self.root / "packets").glob("day=*/*.parquet"))
        for path in on_disk:
            self._file(path)
        present = {p.relative_to(self.root).as_posix() for p in on_disk}
        for rel in sorted(set(self.recorded) - present):
            batch = batch_of_name(Path(rel).name)
            batches = {batch} if batch else set()  # a compacted file: its batches fall short
            self.reported.update(batches)
            self._add(
                "missing",
                rel,
                f"the manifest records this file ({self.recorded[rel].rows:,} rows); "
                "it is not on disk",
                self._fix(rel, batches),
                self._names(batches),
            )
        self._batches()
        if self.rolled_up:
            self._rollups()
            self._period_rollups()
        self._dropped_days()
        return self.report

    def _dropped_days(self) -> None:
        """Days raw retention dropped must keep their rollups: nothing else counts them."""
        for day in sorted(self.dropped - self.day_rows.keys()):
            folder = self.root / "rollups" / day
            lacking = [
                t for t in ("keys", "sources", "dsts") if not any(folder.glob(f"*.{t}.parquet"))
            ]
            if lacking:
                self._add(
                    "rollup",
                    f"rollups/{day}",
                    f"{day.removeprefix('day=')}: its raw packets were dropped (raw retention) "
                    f"and its {', '.join(lacking)} rollup is missing: its counts are lost",
                    f"restore rollups/{day}/ from a backup; it cannot be rebuilt",
                )

    def _rollups(self) -> None:
        """Each day's rollups against its packets: the packets they count, per table (on
        days whose packet files are sound: their problems are reported already)."""
        import duckdb

        if any(p.file is None for p in self.report.problems):
            return  # rows that cannot be placed: no day's count can be trusted
        damaged = {p.file.split("/")[1] for p in self.report.problems if p.file}
        folders = {p.name for p in (self.root / "rollups").glob("day=*")}
        con = duckdb.connect(":memory:")
        try:
            for day in sorted((folders | set(self.day_rows)) - damaged - self.rolled_only):
                problem = _rollup_problem(con, self.root / "rollups" / day, self.day_rows[day])
                if problem:
                    self._add(
                        "rollup",
                        f"rollups/{day}",
                        f"{day.removeprefix('day=')}: {problem}",
                        f"run `teiten store rollup --store {shlex.quote(str(self.root))} "
                        f"--day {day.removeprefix('day=')}`: it rebuilds that day's rollups "
                        "from its packets",
                    )
        finally:
            con.close()

    def _period_rollups(self) -> None:
        """Each month and quarter rollup queries would read, against its days' rollups."""
        import duckdb

        from teiten.store import period_rollups

        con = duckdb.connect(":memory:")
        try:
            for label, problem in period_rollups.problems(self.store, con):
                self._add(
                    "period-rollup",
                    f"{period_rollups.FOLDER}/{label}",
                    f"{label}: {problem}",
                    f"delete {shlex.quote(str(self.root / period_rollups.FOLDER / label))} and "
                    f"run `teiten store rollup --periods --store {shlex.quote(str(self.root))}`",
                )
        finally:
            con.close()

    def _file(self, path: Path) -> None:
        rel = path.relative_to(self.root).as_posix()
        day = path.parent.name
        record = self.recorded.get(rel)
        self.report.files += 1
        named = batch_of_name(path.name)
        try:
            parquet = pq.ParquetFile(path)
            counts = rows_by_batch(path, parquet)
        except (OSError, pa.ArrowException) as exc:
            self._unreadable(rel, day, named, exc)
            return
        rows = parquet.metadata.num_rows
        self.report.rows += rows
        self.day_rows[day] += rows
        batches = {b for b in counts if b is not None}
        for detail in schema_problems(parquet.schema_arrow):
            self._add("schema", rel, detail, self._fix(rel, batches), self._names(batches))
        if record is not None:
            size = path.stat().st_size
            if size != record.bytes or file_digest(path) != record.digest:
                detail = (
                    f"{size:,} bytes, {record.bytes:,} when written"
                    if size != record.bytes
                    else f"its bytes changed since it was written (recorded {record.digest})"
                )
                self._add("digest", rel, detail, self._fix(rel, batches), self._names(batches))
                self.reported.update(batches)
            else:
                self.report.verified_digests += 1
            if rows != record.rows:
                self._add(
                    "rows",
                    rel,
                    f"{rows:,} rows, {record.rows:,} when written",
                    self._fix(rel, batches),
                    self._names(batches),
                )
                self.reported.update(batches)
        else:
            self.report.unrecorded_files += 1
            try:
                for group in range(parquet.num_row_groups):
                    parquet.read_row_group(group)
            except (OSError, pa.ArrowException) as exc:
                self._unreadable(rel, day, named, exc, batches)
        strays = sorted(b for b in batches if b not in self.committed and b not in self.pending)
        if strays:
            self._add(
                "unexpected",
                rel,
                f"{sum(counts[b] for b in strays):,} rows of batches the manifest does not "
                f"list ({', '.join(strays[:3])}{' …' if len(strays) > 3 else ''}); "
                "queries count them",
                "move the file out of packets/ unless you know where its rows come from",
            )
        for batch, n in counts.items():
            if batch is None:
                self.unknown_days.add(day)
            elif batch in self.committed:
                self.found[batch] += n

    def _unreadable(
        self,
        rel: str,
        day: str,
        named: str | None,
        exc: BaseException,
        batches: set[str] | None = None,
    ) -> None:
        batches = batches or ({named} if named else set())
        if not batches:
            self.unknown_days.add(day)
        self.reported.update(batches)
        detail = (str(exc).strip().splitlines() or [type(exc).__name__])[0]
        self._add("unreadable", rel, detail, self._fix(rel, batches), self._names(batches))

    def _batches(self) -> None:
        """Rows on disk per committed batch against the packets the manifest records."""
        for batch_id, batch in self.committed.items():
            if batch_id in self.reported:
                continue
            found = self.found[batch_id]
            if found == batch.packets:
                continue
            if found < batch.packets and self.unknown_days & _days(batch):
                continue  # its rows may be among those of no known batch: see the total
            gone = [final for _, final in batch.parts if not (self.root / final).exists()]
            detail = f"batch {batch_id}: the manifest records {batch.packets:,} packets, "
            detail += f"the files hold {found:,}"
            if found < batch.packets and gone:
                detail += f" (not on disk: {', '.join(gone)})"
            self._add("rows", None, detail, self._fix(None, {batch_id}), self._names({batch_id}))
        if self.unknown_days and not self.report.problems:
            expected = sum(b.packets for b in self.committed.values())
            if expected != self.report.rows:
                self._add(
                    "rows",
                    None,
                    f"the files hold {self.report.rows:,} rows, the manifest records "
                    f"{expected:,} packets (rows merged by an older compaction carry no batch, "
                    "so the difference cannot be placed)",
                    "restore the store from a backup, or remove the affected days "
                    "(`teiten store remove --days FROM..TO`) and ingest their captures again",
                )

    def _names(self, batches: set[str]) -> list[str]:
        return [i.name for b in sorted(batches) for i in self.inputs.get(b, [])]

    def _fix(self, rel: str | None, batches: set[str]) -> str:
        """What to do: restore the file, or remove its inputs (or its day) and ingest again."""
        inputs = [i for b in sorted(batches) for i in self.inputs.get(b, [])]
        what = f"restore {rel or 'the store'} from a backup, or "
        if inputs:
            args = " ".join(f"--input {shlex.quote(self._argument(i))}" for i in inputs)
            return f"{what}remove the rows (`teiten store remove {args}`) and ingest again"
        day = rel.split("/")[1].removeprefix("day=") if rel else "FROM..TO"
        return f"{what}remove the day (`teiten store remove --days {day}`) and ingest it again"

    def _argument(self, record: InputRecord) -> str:
        """How ``--input`` names this input: by name, by digest if the name is not unique."""
        return record.name if self.name_uses[record.name] == 1 else record.digest

    def _add(
        self, kind: str, rel: str | None, detail: str, fix: str, names: list[str] | None = None
    ) -> None:
        self.report.problems.append(Problem(kind, rel, detail, fix, names or []))


def _rollup_problem(con: duckdb.DuckDBPyConnection, folder: Path, packets: int) -> str | None:
    """What is wrong with the rollups in ``folder`` of a day of ``packets`` packets."""
    import duckdb

    for table in ("keys", "sources"):
        counted = 0
        for path in sorted(folder.glob(f"*.{table}.parquet")):
            name = str(path).replace("'", "''")
            try:
                sql = f"SELECT coalesce(sum(packets), 0) FROM read_parquet('{name}')"
                counted += int((con.execute(sql).fetchone() or (0,))[0])
            except duckdb.Error as exc:
                return f"{path.name} cannot be read ({str(exc).splitlines()[0]})"
        if counted != packets:
            return (
                f"the {table} rollup counts {counted:,} packets, the packet files hold {packets:,}"
            )
    return None


def _days(batch: BatchRecord) -> set[str]:
    return {final.split("/")[1] for _, final in batch.parts}


def check(store: Store) -> CheckReport:
    """Verify every Parquet file of ``store`` against its manifest (reads only)."""
    return _Checker(store).run()
