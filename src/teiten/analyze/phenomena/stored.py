"""A period's findings kept in the store and reused while what they were found in holds.

Finding a quarter's phenomena reads its rollups day by day and every scan event of it
(seconds, growing with the data); the findings themselves are a few dozen rows. They
are kept as events are (:class:`teiten.store.events.EventStore`, family ``findings``)
under a key of everything they depend on besides the packets — the period, the
settings, the knowledge base's contents, the sensor declarations, the event
parameters, this module's version and teiten's — and the *state* of the packets of
every day the detectors read (the previous period and the changes' baselines
included). A late batch, a rebuild or a compaction of such a day changes the state,
and the next query finds them anew; a damaged file is found anew too. ``teiten store
rollup`` finds those of the ended months and quarters
(:func:`teiten.analyze.phenomena.find.prepare_findings`), so
the first report of an ended quarter reads them.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import asdict
from datetime import date, timedelta
from typing import TYPE_CHECKING, NamedTuple

import pyarrow as pa

from teiten import __version__
from teiten.analyze.phenomena.model import Finding

if TYPE_CHECKING:
    from teiten.analyze.periods import Period
    from teiten.analyze.phenomena.settings import PhenomenaSettings
    from teiten.knowledge import KnowledgeBase
    from teiten.store import Engine

__all__ = [
    "FAMILY",
    "FINDINGS_VERSION",
    "Place",
    "first_day_read",
    "load",
    "place",
    "save",
    "stored",
]

FAMILY = "findings"
FINDINGS_VERSION = 1  # bump when what a stored finding holds or means changes


def first_day_read(period: Period, settings: PhenomenaSettings) -> date:
    """The earliest day any detector reads for ``period``: the previous period's first
    (entrants, crossovers) or the first baseline day of a change traced back."""
    traced = period.start - timedelta(days=settings.baseline_days + settings.lookback_days)
    return min(period.previous().start, traced)


class Place(NamedTuple):
    """Where a period's findings are stored (key) and the state they must match."""

    key: str
    state: str


def place(engine: Engine, period: Period, settings: PhenomenaSettings, kb: KnowledgeBase) -> Place:
    """The key and the state ``period``'s findings at ``settings`` are stored under."""
    from teiten.analyze.events import declarations
    from teiten.analyze.scans import ScanParams

    knowledge = hashlib.blake2b(repr(kb).encode(), digest_size=12).hexdigest()
    key = engine.events.key(
        {
            "version": FINDINGS_VERSION,
            "teiten": __version__,
            "period": [period.start, period.end],
            "settings": asdict(settings),
            "knowledge": knowledge,
            "declared": declarations(engine),
            "scans": ScanParams().as_json(),
        }
    )
    state = engine.events.state(first_day_read(period, settings), period.end - timedelta(days=1))
    return Place(key, state)


def load(engine: Engine, period: Period, at: Place) -> list[Finding] | None:
    """``period``'s findings stored at ``at`` when current, else None."""
    found = engine.events.load(FAMILY, period.label, at.key, at.state)
    if found is None or found.meta.get("version") != FINDINGS_VERSION:
        return None
    try:
        return [
            Finding.from_json(json.loads(text))
            for text in found.table.column("finding").to_pylist()
        ]
    except (KeyError, TypeError, ValueError):
        return None  # not what this version writes: found anew


def save(
    engine: Engine,
    period: Period,
    at: Place,
    settings: PhenomenaSettings,
    findings: list[Finding],
) -> None:
    """Keep ``findings`` at ``at`` (when neither the store nor the cache folder can be
    written, they are not kept: the next query finds them again)."""
    rows = [json.dumps(f.as_json(), ensure_ascii=False) for f in findings]
    table = pa.table({"finding": pa.array(rows, pa.string())})
    meta = {
        "version": FINDINGS_VERSION,
        "period": period.as_json(),
        "settings": asdict(settings),
        "state": at.state,
    }
    engine.events.save(FAMILY, period.label, at.key, table, meta)


def stored(engine: Engine, period: Period, at: Place) -> bool:
    """Whether :func:`load` would find ``period``'s findings (from the file's metadata)."""
    return engine.events.current(FAMILY, period.label, at.key, at.state)
