"""All detectors over one period: :func:`find_phenomena`."""

from __future__ import annotations

import contextlib
from collections.abc import Iterable
from typing import TYPE_CHECKING

from teiten.analyze.periods import Period, parse_period
from teiten.analyze.phenomena import stored
from teiten.analyze.phenomena.changes import changes
from teiten.analyze.phenomena.crossovers import crossovers
from teiten.analyze.phenomena.entrants import new_entrants
from teiten.analyze.phenomena.mirai import mirai_share_trend
from teiten.analyze.phenomena.model import Finding
from teiten.analyze.phenomena.review import SCAN_COLUMNS, review
from teiten.analyze.phenomena.settings import PhenomenaSettings
from teiten.analyze.scans import scan_events
from teiten.errors import RawPacketsDroppedError
from teiten.knowledge import KnowledgeBase
from teiten.store import queries

if TYPE_CHECKING:
    from teiten.store import Engine

__all__ = ["find_phenomena", "prepare_findings"]


def find_phenomena(
    engine: Engine,
    period: Period,
    *,
    kb: KnowledgeBase,
    settings: PhenomenaSettings | None = None,
) -> list[Finding]:
    """The period's findings (``[]`` for an empty period): the detectors' results reviewed
    (:func:`.review.review`: attributed, judged, merged) — headlines first, then the rest,
    each most notable first. Kept in the store and read back while current
    (:mod:`.stored`)."""
    settings = settings or PhenomenaSettings()
    if not engine.rows(*queries.holdings.has_rows("sources", period.start, period.end)):
        return []
    at = stored.place(engine, period, settings, kb)
    kept = stored.load(engine, period, at)
    if kept is not None:
        return kept
    found = [
        *new_entrants(engine, period, settings, kb),
        *changes(engine, period, settings, kb),
        *crossovers(engine, period, settings),
        *mirai_share_trend(engine, period, settings),
    ]
    scans = scan_events(engine, period, limit=0, columns=SCAN_COLUMNS).table if found else None
    findings = review(engine, period, found, settings, kb, scans=scans)
    stored.save(engine, period, at, settings, findings)
    return findings


def prepare_findings(engine: Engine, labels: Iterable[str], kb: KnowledgeBase) -> list[str]:
    """Find and keep, at the default settings, the findings of the periods ``labels``
    whose stored ones are missing or stale (what ``teiten store rollup`` does for the
    ended months and quarters after their events); which ones."""
    settings = PhenomenaSettings()
    done = []
    for label in labels:
        period = parse_period(label)
        if stored.stored(engine, period, stored.place(engine, period, settings, kb)):
            continue
        with contextlib.suppress(RawPacketsDroppedError):  # events it cannot have
            find_phenomena(engine, period, kb=kb, settings=settings)
            done.append(label)
    return done
