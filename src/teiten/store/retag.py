"""Retagging stored days: AS numbers from an AS edition, the research tag from the list.

Tags are written once, at ingest: rows stored before ``teiten asn import`` have no AS
numbers (or those of the database of their time), and rows stored before ``teiten
scanners import`` lack the ``research`` tag the list would give them. ``teiten store
retag --asn`` sets the ``asn`` column of every stored row from the store's current AS
edition (a source the edition does not route gets none); ``--research`` sets the
``research`` tag bit from the stored list (by network, and by AS number as the rows now
carry them). Nothing else changes: every row keeps its other columns, so every count
stays the same.

Each day's files are written anew and swapped in atomically (:mod:`teiten.store.rewrite`:
a crash leaves the old files or the new ones), then its rollups are rebuilt
(:func:`teiten.store.rollup.roll_up`); the caller refreshes what is summed from them
(months, quarters, events), as ``teiten store rollup --day`` does. The edition and the
list version each retag applied are recorded in the manifest (``meta`` key ``retag``).
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

from teiten.enrich.geo import AsnTableTagger
from teiten.errors import OptionError
from teiten.fingerprint.registry import TAG_BITS
from teiten.store import rollup
from teiten.store.asn import load_asn_table
from teiten.store.dataset import PARQUET_OPTIONS, ROW_GROUP_ROWS
from teiten.store.parts import with_batch
from teiten.store.research import load_research_networks
from teiten.store.rewrite import Rewrite
from teiten.store.schema import SCHEMA

if TYPE_CHECKING:
    from teiten.fingerprint import ResearchNetworks
    from teiten.store.dataset import Store

__all__ = ["META_KEY", "RetaggedDay", "retag"]

META_KEY = "retag"
_RESEARCH = np.uint32(1 << TAG_BITS["research"])


@dataclass(frozen=True)
class RetaggedDay:
    """What a retag changed on one day."""

    day: str
    rows: int
    asn_changed: int  # rows whose AS number changed
    research_changed: int  # rows whose research tag changed

    def as_json(self) -> dict[str, Any]:
        return asdict(self)


def retag(
    store: Store, *, asn: bool, research: bool, days: Iterable[str] | None = None
) -> list[RetaggedDay]:
    """Retag every day with raw packets (or ``days``, ``YYYY-MM-DD``); see the module.
    Takes the writer lock. Days where nothing would change are left untouched."""
    if not asn and not research:
        raise OptionError("retag what? give --asn, --research or both")
    tagger = _asn_tagger(store) if asn else None
    networks = _research_list(store) if research else None
    wanted = None if days is None else {f"day={d}" for d in days}
    done = []
    with store.lock():
        folders = sorted((store.root / "packets").glob("day=*"))
        if wanted is not None:
            missing = sorted(wanted - {f.name for f in folders})
            if missing:
                raise OptionError(f"--day {missing[0].removeprefix('day=')}: no raw packets")
        for folder in folders:
            if wanted is None or folder.name in wanted:
                day = _retag_day(store, folder, tagger, networks)
                if day.asn_changed or day.research_changed:
                    done.append(day)
        if done:
            was_complete = rollup.complete(store)
            changed = [d.day for d in done]
            rollup.roll_up(store, days=changed, mark_complete=was_complete)
            _record(store, tagger, networks, changed)
    return done


def _asn_tagger(store: Store) -> AsnTableTagger:
    table = load_asn_table(store.root)
    if table is None:
        raise OptionError("--asn: the store has no AS edition; import one with teiten asn import")
    return AsnTableTagger(table)


def _research_list(store: Store) -> ResearchNetworks:
    networks = load_research_networks(store)
    if networks is None:
        raise OptionError(
            "--research: the store has no research scanner list; import one with "
            "teiten scanners import"
        )
    return networks


def _retag_day(
    store: Store,
    folder: Path,
    tagger: AsnTableTagger | None,
    networks: ResearchNetworks | None,
) -> RetaggedDay:
    """Write ``folder``'s files retagged and swap them in (when anything changed)."""
    rewrite = Rewrite(store, "retag")
    rows = asn_changed = research_changed = 0
    try:
        files = sorted(folder.glob("*.parquet"))
        written = []
        for path in files:
            table = with_batch(pq.read_table(path, schema=SCHEMA), path.name)
            new, a, r = _retagged(table, tagger, networks)
            rows, asn_changed, research_changed = (
                rows + len(table),
                asn_changed + a,
                research_changed + r,
            )
            out = rewrite.folder(folder.name) / f"{rewrite.rewrite_id}-{path.stem}.parquet"
            pq.write_table(new, out, row_group_size=ROW_GROUP_ROWS, **PARQUET_OPTIONS)
            written.append(out)
        if not (asn_changed or research_changed):
            rewrite.abandon()
        else:
            rewrite.add_day(folder.name, [f.name for f in files], written)
            rewrite.apply()
    except BaseException:
        rewrite.abandon()
        raise
    return RetaggedDay(folder.name.removeprefix("day="), rows, asn_changed, research_changed)


def _retagged(
    table: pa.Table, tagger: AsnTableTagger | None, networks: ResearchNetworks | None
) -> tuple[pa.Table, int, int]:
    """``table`` with its ``asn`` (``tagger``) and research tag (``networks``) set anew,
    and how many rows changed in each."""
    src = np.frombuffer(
        table.column("src").combine_chunks().buffers()[1], np.uint8, 16 * len(table)
    ).reshape(-1, 16)
    old_asn = table.column("asn").combine_chunks()
    asn_changed = research_changed = 0
    if tagger is not None:
        found = tagger.tag(src)
        new_asn = found.asn_array()
        asn_changed = _changed(old_asn, new_asn)
        table = table.set_column(table.schema.get_field_index("asn"), SCHEMA.field("asn"), new_asn)
    if networks is not None:
        asn = table.column("asn").combine_chunks()
        known = asn.is_valid().to_numpy(zero_copy_only=False)
        numbers = asn.fill_null(0).to_numpy(zero_copy_only=False)
        hit = networks.match(src, numbers, known)
        tags = table.column("tags").combine_chunks().to_numpy(zero_copy_only=False)
        new_tags = np.where(hit, tags | _RESEARCH, tags & ~_RESEARCH).astype(np.uint32)
        research_changed = int(np.count_nonzero(new_tags != tags))
        index = table.schema.get_field_index("tags")
        table = table.set_column(index, SCHEMA.field("tags"), pa.array(new_tags, pa.uint32()))
    return table, asn_changed, research_changed


def _changed(old: pa.Array, new: pa.Array) -> int:
    """Rows whose value differs (NULL against a value, or two values)."""
    a_valid = old.is_valid().to_numpy(zero_copy_only=False)
    b_valid = new.is_valid().to_numpy(zero_copy_only=False)
    a = old.fill_null(0).to_numpy(zero_copy_only=False)
    b = new.fill_null(0).to_numpy(zero_copy_only=False)
    return int(np.count_nonzero((a_valid != b_valid) | (a_valid & (a != b))))


def _record(
    store: Store,
    tagger: AsnTableTagger | None,
    networks: ResearchNetworks | None,
    days: list[str],
) -> None:
    """What the retag applied, to which days (the manifest's ``retag`` key, a list)."""
    done = json.loads(store.manifest.get(META_KEY) or "[]")
    done.append(
        {
            "at": datetime.now(UTC).isoformat(timespec="seconds"),
            "asn_edition": None if tagger is None else tagger.table.edition,
            "research_list": None if networks is None else networks.digest,
            "days": days,
        }
    )
    store.manifest.set(META_KEY, json.dumps(done))
