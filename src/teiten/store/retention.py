"""Raw retention: the raw packets of old days dropped once rolled up; their rollups stay.

Every published number is read from the rollups (:mod:`teiten.store.rollup`), which are a
few bytes per packet; the raw packets are what scan and DoS events and a source's own
history need. A store may so keep its raw packets for ``raw_retention_days`` only
(none, the default: keep every packet). The setting is kept in the store's manifest
(``meta`` key ``raw_retention_days``), so every writer — ingest, the collector,
``teiten simulate --store`` — honours it; ``teiten store retention`` sets it.

**The horizon.** The reference day is the newest day holding raw packets, but never
later than today (UTC). Raw packets of days more than N days before it are dropped: the
first day kept is ``reference − N``, so N whole days are kept besides the newest (which
is usually still being written). Relative to the newest stored day rather than to today,
a store replayed from old captures keeps its last N days instead of dropping everything
(and refusing every packet it is given); never later than today, one packet with a clock
years ahead cannot push the horizon past every real day.

**What is dropped.** Only a day whose rollups are current — the store's rollup is
complete and the day has its ``keys``, ``sources`` and ``dsts`` files — never one that is
not rolled up. The drop is a rewrite like ``teiten store remove --days``
(:func:`teiten.store.remove.drop_raw_days`): all or nothing across crashes. Its packet
files and their records go; its batches and inputs stay recorded (so ingesting an old
capture again is still a duplicate, and reports still name their inputs); its rollups
are not touched. The transaction that completes it records the **raw horizon**
(``meta`` key ``raw_since``: the first day from which every raw packet is kept), which
never moves back. It runs after each write batch commits (:func:`after_write`) and with
``teiten store retain``.

**After a drop.** Writers refuse packets of days before ``raw_since`` (:class:`OldPackets`):
they could not be checked against the packets already counted there. Rankings, series,
phenomena and reports read the rollups, which still hold those days. What needs raw
packets — scan and DoS events, ``teiten sources``, a source's events — calls
:func:`require_raw`, which fails with one line naming the days and the horizon;
:class:`RawCheckedEvents` does it for events only when no stored result answers them
(stored events stay valid: their state digests the batches, which the drop keeps).
"""

from __future__ import annotations

import contextlib
import threading
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from teiten.errors import OptionError, RawPacketsDroppedError
from teiten.store.events import EventFile, EventStore

if TYPE_CHECKING:
    from teiten.store.dataset import Store

__all__ = [
    "HORIZON_KEY",
    "MAX_DAYS",
    "RETENTION_KEY",
    "SKIP_REASON",
    "OldPackets",
    "RawCheckedEvents",
    "Retention",
    "after_write",
    "check_days",
    "horizon",
    "raw_since",
    "require_raw",
    "retain",
    "retention_days",
    "rolled_up_only",
    "set_retention",
]

RETENTION_KEY = "raw_retention_days"  # meta: days of raw packets kept; absent: all
HORIZON_KEY = "raw_since"  # meta: the first day (YYYY-MM-DD) whose raw packets are all kept
MAX_DAYS = 36_500
SKIP_REASON = "older than the store's raw horizon"
_NS_PER_DAY = 86_400 * 1_000_000_000
_ONE_DAY = timedelta(days=1)
_TABLES = ("keys", "sources", "dsts")


# --- the setting -------------------------------------------------------------------------


def check_days(value: object, where: str = "--days") -> int:
    """``value`` as a number of days to keep raw packets (1 … :data:`MAX_DAYS`)."""
    if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= MAX_DAYS:
        raise OptionError(
            f"{where} must be a whole number of days from 1 to {MAX_DAYS:,}, not {value!r} "
            "(to keep every raw packet, use --keep-all)"
        )
    return value


def retention_days(store: Store) -> int | None:
    """Days of raw packets the store keeps (None: every packet)."""
    value = store.manifest.get(RETENTION_KEY)
    return None if value is None else int(value)


def set_retention(store: Store, days: int | None) -> None:
    """Keep ``days`` of raw packets (None: keep every one). Takes the writer lock, so a
    store that cannot be written says so; nothing is dropped here (:func:`retain`)."""
    if days is not None:
        check_days(days)
    with store.lock():
        store.manifest.set(RETENTION_KEY, None if days is None else str(days))


def raw_since(store: Store) -> date | None:
    """The first day from which every raw packet is kept (None: none was ever dropped)."""
    value = store.manifest.get(HORIZON_KEY)
    return None if value is None else date.fromisoformat(value)


def _has_packets(folder: Path) -> bool:
    return any(folder.glob("*.parquet"))


def _day(folder: str) -> date:
    return date.fromisoformat(folder.removeprefix("day="))


def newest_day(store: Store) -> date | None:
    """The newest day holding raw packets."""
    for folder in sorted((store.root / "packets").glob("day=*"), reverse=True):
        if _has_packets(folder):
            return _day(folder.name)
    return None


def horizon(store: Store, today: date | None = None) -> date | None:
    """The first day whose raw packets the setting keeps (see the module); None: all."""
    days = retention_days(store)
    newest = newest_day(store)
    if days is None or newest is None:
        return None
    return min(newest, today or datetime.now(UTC).date()) - timedelta(days=days)


def rolled_up_only(store: Store) -> list[str]:
    """The day folders (``day=…``) whose raw packets were dropped: rollups, no packets."""
    since = raw_since(store)
    if since is None:
        return []
    bound = f"day={since.isoformat()}"
    packets = store.root / "packets"
    return sorted(
        p.name
        for p in (store.root / "rollups").glob("day=*")
        if p.name < bound and not _has_packets(packets / p.name)
    )


def require_raw(store: Store, first: date, last: date, what: str = "this answer") -> None:
    """Raise :class:`~teiten.errors.RawPacketsDroppedError` when a day of ``first`` …
    ``last`` (inclusive) is held as rollups only: what needs raw packets calls this, so
    that it fails with one line instead of silently counting less.

    The one place to teach that some of those days are answered otherwise (e.g. by
    stored per-day event fragments)."""
    since = raw_since(store)
    if since is None or first >= since or last < first:
        return
    lo, hi = f"day={first.isoformat()}", f"day={last.isoformat()}"
    gone = [d for d in rolled_up_only(store) if lo <= d <= hi]
    if gone:
        raise RawPacketsDroppedError(what, since, (_day(gone[0]), _day(gone[-1])))


class RawCheckedEvents(EventStore):
    """The store's event cache, refusing to let events be computed without raw packets.

    :func:`teiten.analyze.events.collect` asks for the ``state`` of the days it reads,
    then ``load``-s a stored result, and computes one only when none is stored. A stored
    result stays exact after a drop (its state digests the batches, which are kept); one
    computed now would miss the dropped days. So a ``load`` that finds nothing calls
    :func:`require_raw` for those days, less the one edge day on each side that events
    read only to mark ``continues_before`` / ``continues_after``.
    """

    _days: tuple[date, date] | None = None

    def state(self, first: date, last: date) -> str:
        self._days = (first, last)
        return super().state(first, last)

    def load(self, family: str, period_label: str, key: str, state: str) -> EventFile | None:
        found = super().load(family, period_label, key, state)
        if found is None and self._days is not None:
            first, last = self._days
            what = {"scans": "scan events", "dos": "DoS attacks"}.get(family, family)
            require_raw(self.store, first + _ONE_DAY, last - _ONE_DAY, f"{what} of {period_label}")
        return found


# --- what writers refuse -----------------------------------------------------------------


class OldPackets:
    """Packets of days before the raw horizon, refused by every writer and counted.

    Those days are rolled up and their raw packets are gone, so a packet could not be
    checked against the ones counted there (a capture ingested again in part, or an
    overlapping one): it is refused rather than risk counting it twice. Thread-safe.
    """

    def __init__(self, since: date) -> None:
        self.since = since
        self._bound = int(np.datetime64(since, "D").astype(np.int64)) * _NS_PER_DAY
        self._lock = threading.Lock()
        self.days: Counter[str] = Counter()  # refused packets per day

    @classmethod
    def of(cls, store: Store) -> OldPackets | None:
        """The refusal for ``store`` (None when it never dropped raw packets)."""
        since = raw_since(store)
        return None if since is None else cls(since)

    @property
    def refused(self) -> int:
        return sum(self.days.values())

    def kept(self, ts_ns: np.ndarray) -> np.ndarray | None:
        """Which of the packets at ``ts_ns`` (ns since the epoch) may be stored; None:
        all of them."""
        old = ts_ns < self._bound
        if not old.any():
            return None
        days = np.unique(ts_ns[old] // _NS_PER_DAY, return_counts=True)
        with self._lock:
            for day, n in zip(*days, strict=True):
                self.days[str(np.datetime64(int(day), "D"))] += int(n)
        return ~old

    def warning(self) -> str | None:
        """What was refused, for the answer (None: nothing)."""
        if not self.days:
            return None
        days = sorted(self.days)
        span = days[0] if len(days) == 1 else f"{days[0]}..{days[-1]} ({len(days)} days)"
        return (
            f"{self.refused:,} packets of {span} were not stored: they are older than the "
            f"store's raw horizon (raw packets are kept from {self.since} on; earlier days "
            "are held as rollups only, to which no packet can be added without risking "
            "counting it twice)"
        )


# --- dropping ----------------------------------------------------------------------------


@dataclass
class Retention:
    """What a retention run dropped (or, in a dry run, would drop)."""

    raw_retention_days: int | None
    raw_since: str | None  # the raw horizon after the run
    days: list[str] = field(default_factory=list)  # YYYY-MM-DD whose raw packets went
    packets: int = 0
    files: int = 0
    kept: list[str] = field(default_factory=list)  # before the horizon, but not rolled up
    warnings: list[str] = field(default_factory=list)
    dry_run: bool = False
    removal_id: str | None = None  # its record in the manifest (rewrites, kind retain)

    def as_json(self) -> dict[str, Any]:
        return {
            "raw_retention_days": self.raw_retention_days,
            "raw_since": self.raw_since,
            "dropped_days": self.days,
            "packets": self.packets,
            "files": self.files,
            "kept_days": self.kept,
            "warnings": self.warnings,
            "dry_run": self.dry_run,
            "removal_id": self.removal_id,
        }


def retain(store: Store, *, dry_run: bool = False, today: date | None = None) -> Retention:
    """Drop the raw packets of the days before the horizon that are rolled up (see the
    module); takes the writer lock (a dry run only reads)."""
    lock = contextlib.nullcontext() if dry_run else store.lock()
    with lock:
        return _retain(store, dry_run, today)


def after_write(store: Store) -> Retention | None:
    """:func:`retain` after a write batch committed; None (at once) when the store keeps
    every raw packet."""
    if retention_days(store) is None:
        return None
    return retain(store)


def _retain(store: Store, dry_run: bool, today: date | None) -> Retention:
    from teiten.store import rollup
    from teiten.store.remove import drop_raw_days

    since = raw_since(store)
    done = Retention(retention_days(store), since.isoformat() if since else None, dry_run=dry_run)
    bound = horizon(store, today)
    if bound is None:
        return done
    old = [
        p.name
        for p in sorted((store.root / "packets").glob("day=*"))
        if p.name < f"day={bound.isoformat()}" and _has_packets(p)
    ]
    if not old:
        return done
    if not rollup.complete(store):
        done.kept = [d.removeprefix("day=") for d in old]
        done.warnings.append(
            f"the raw packets of {len(old)} day(s) before {bound} are kept: the store's "
            "rollups are not complete, and raw packets go only once rolled up; run "
            "`teiten store rollup`"
        )
        return done
    rolled = [d for d in old if all(_rolled(store, d, t) for t in _TABLES)]
    done.kept = [d.removeprefix("day=") for d in old if d not in rolled]
    if done.kept:
        done.warnings.append(
            f"the raw packets of {len(done.kept)} day(s) before {bound} are kept: they have "
            f"no rollups ({', '.join(done.kept[:3])}{' …' if len(done.kept) > 3 else ''}); "
            "`teiten store rollup --day D` rolls one up, and the next run drops it"
        )
    if not rolled:
        return done
    new_since = max(bound, since) if since else bound  # never moves back
    removal = drop_raw_days(
        store,
        [d.removeprefix("day=") for d in rolled],
        {HORIZON_KEY: new_since.isoformat()},
        dry_run=dry_run,
    )
    done.raw_since = new_since.isoformat()
    done.days = removal.days
    done.packets = removal.packets
    done.files = removal.files_removed
    done.warnings += removal.warnings
    done.removal_id = removal.removal_id
    return done


def _rolled(store: Store, day: str, table: str) -> bool:
    return any((store.root / "rollups" / day).glob(f"*.{table}.parquet"))
