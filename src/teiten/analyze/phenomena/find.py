"""All detectors over one period: :func:`find_phenomena`."""

from __future__ import annotations

from typing import TYPE_CHECKING

from teiten.analyze.periods import Period
from teiten.analyze.phenomena.changes import changes
from teiten.analyze.phenomena.crossovers import crossovers
from teiten.analyze.phenomena.entrants import new_entrants
from teiten.analyze.phenomena.mirai import mirai_share_trend
from teiten.analyze.phenomena.model import Finding
from teiten.analyze.phenomena.review import SCAN_COLUMNS, review
from teiten.analyze.phenomena.settings import PhenomenaSettings
from teiten.analyze.scans import scan_events
from teiten.knowledge import KnowledgeBase
from teiten.store import queries

if TYPE_CHECKING:
    from teiten.store import Engine

__all__ = ["find_phenomena"]


def find_phenomena(
    engine: Engine,
    period: Period,
    *,
    kb: KnowledgeBase,
    settings: PhenomenaSettings | None = None,
) -> list[Finding]:
    """The period's findings (``[]`` for an empty period): the detectors' results reviewed
    (:func:`.review.review`: attributed, judged, merged) — headlines first, then the rest,
    each most notable first."""
    settings = settings or PhenomenaSettings()
    if not engine.rows(*queries.holdings.has_rows("sources", period.start, period.end)):
        return []
    found = [
        *new_entrants(engine, period, settings, kb),
        *changes(engine, period, settings, kb),
        *crossovers(engine, period, settings),
        *mirai_share_trend(engine, period, settings),
    ]
    scans = scan_events(engine, period, limit=0, columns=SCAN_COLUMNS).table if found else None
    return review(engine, period, found, settings, kb, scans=scans)
