"""Replacing day folders of the dataset, all or nothing, across crashes.

Compaction and removal change the dataset the same way. For each day they touch,
a new folder is built under ``staging/<rewrite_id>/day=…`` (files that stay are
hard-linked, changed ones written anew and flushed to disk), then:

1. the manifest records the rewrite as *pending* with its plan: per day, the names
   of the live files it drops and the records (rows, bytes, digest) of the files it
   adds, and, for a removal, the inputs and batches that go;
2. each day folder is swapped in (:mod:`teiten.store.swap`);
3. one manifest transaction applies the plan (file records, inputs, batches);
4. the staging folder is deleted.

A crash before step 1 leaves staging debris, which the next writer deletes: nothing
changed. After it, the next writer (:meth:`Store.recover`), or the next command
to open a writable store, finishes steps 2–4: everything changes. Whether a day
was already swapped is read from the live folder itself — it was if it holds
none of the files the plan drops — so a swap is never done twice.
"""

from __future__ import annotations

import os
import shutil
import sys
import time
import uuid
from dataclasses import asdict
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from teiten.errors import StoreError
from teiten.store.manifest import RewriteRecord
from teiten.store.parts import file_record
from teiten.store.swap import finish_swap, fsync_path, swap_in

if TYPE_CHECKING:
    from teiten.store.dataset import Store

__all__ = ["Rewrite", "finish", "step"]


class Rewrite:
    """One rewrite being prepared; the caller holds the store's writer lock."""

    def __init__(self, store: Store, kind: str) -> None:
        stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%S")
        self.store = store
        self.kind = kind
        self.rewrite_id = f"{kind}-{stamp}-{uuid.uuid4().hex[:12]}"
        self.staging = store.root / "staging" / self.rewrite_id
        self.days: list[dict[str, Any]] = []

    def folder(self, day: str) -> Path:
        """The new folder of ``day`` (``day=YYYY-MM-DD``), to fill."""
        path = self.staging / day
        path.mkdir(parents=True, exist_ok=True)
        return path

    def link(self, day: str, live: Path) -> None:
        """Keep a live file of ``day`` as it is (a hard link, no copy)."""
        os.link(live, self.folder(day) / live.name)

    def add_day(self, day: str, drop: list[str], written: list[Path]) -> None:
        """Plan ``day``: its live files ``drop`` go, the new ``written`` ones come."""
        if not drop:
            raise ValueError(f"a rewrite of {day} must drop a file")
        folder = self.folder(day)
        added = []
        for path in written:
            fsync_path(path)
            record = file_record(path, f"packets/{day}/{path.name}")
            added.append({**asdict(record), "name": path.name})
        fsync_path(folder)
        self.days.append({"day": day, "drop": sorted(drop), "add": added})

    def apply(self, effects: dict[str, Any] | None = None) -> RewriteRecord:
        """Steps 1–4; from step 1 on, a failure is finished by recovery."""
        plan = {"days": self.days, **(effects or {})}
        if self.staging.exists():
            fsync_path(self.staging)
        self.store.manifest.begin_rewrite(self.rewrite_id, self.kind, plan)
        step()
        record = RewriteRecord(self.rewrite_id, self.kind, "pending", 0.0, plan)
        finish(self.store, record)
        return record

    def abandon(self) -> None:
        """Drop what was prepared (only before :meth:`apply`)."""
        shutil.rmtree(self.staging, ignore_errors=True)


def finish(store: Store, rewrite: RewriteRecord) -> None:
    """Steps 2–4 of a pending rewrite (idempotent: recovery may run it again)."""
    root = store.root
    staging = root / "staging" / rewrite.rewrite_id
    for day in rewrite.plan["days"]:
        finish_swap(root, staging)  # a two-rename swap a crash cut short
        live = root / "packets" / day["day"]
        if _swapped(live, day["drop"]):
            continue
        if not (staging / day["day"]).is_dir():
            raise StoreError(
                f"{root}: the {rewrite.kind} {rewrite.rewrite_id} lost its new folder "
                f"{staging / day['day']} before it was swapped in; the store needs repair "
                "(restore it from a backup)"
            )
        swap_in(root, staging, day["day"])
        step()
    store.manifest.finish_rewrite(rewrite)
    for day in rewrite.plan["days"]:
        live = root / "packets" / day["day"]
        if live.is_dir() and not any(live.iterdir()):
            live.rmdir()  # every row of the day was removed
    shutil.rmtree(staging, ignore_errors=True)


def step() -> None:
    """Pause between two steps when ``TEITEN_TEST_STEP_SECONDS`` is set, saying so on
    stderr: the crash tests kill a removal there (``kill -9``) to show that every step
    is safe to die in."""
    if seconds := os.environ.get("TEITEN_TEST_STEP_SECONDS"):
        print("teiten: test step", file=sys.stderr, flush=True)
        time.sleep(float(seconds))


def _swapped(live: Path, drop: list[str]) -> bool:
    return not live.is_dir() or not any((live / name).exists() for name in drop)
