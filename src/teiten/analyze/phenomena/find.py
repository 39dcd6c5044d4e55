"""All detectors over one period: :func:`find_phenomena`."""

from __future__ import annotations

from teiten.analyze.periods import Period
from teiten.analyze.phenomena.changes import changes
from teiten.analyze.phenomena.crossovers import crossovers
from teiten.analyze.phenomena.entrants import new_entrants
from teiten.analyze.phenomena.mirai import mirai_share_trend
from teiten.analyze.phenomena.model import Finding
from teiten.analyze.phenomena.review import review
from teiten.analyze.phenomena.settings import PhenomenaSettings
from teiten.analyze.scans import scan_events
from teiten.knowledge import KnowledgeBase, load_knowledge
from teiten.store import Store, open_engine

__all__ = ["find_phenomena"]


def find_phenomena(
    store: Store,
    period: Period,
    *,
    settings: PhenomenaSettings | None = None,
    kb: KnowledgeBase | None = None,
    engine_name: str | None = None,
) -> list[Finding]:
    """The period's findings (``[]`` for an empty period): the detectors' results reviewed
    (:func:`.review.review`: attributed, judged, merged) — headlines first, then the rest,
    each most notable first."""
    settings = settings or PhenomenaSettings()
    kb = kb if kb is not None else load_knowledge(store=store.root)
    with open_engine(store, engine_name) as engine:
        (row,) = engine.rows(
            "SELECT count(*) AS n FROM sources WHERE day >= ? AND day < ?",
            [period.start, period.end],
        )
        if not row["n"]:
            return []
        found = [
            *new_entrants(engine, period, settings, kb),
            *changes(engine, period, settings, kb),
            *crossovers(engine, period, settings),
            *mirai_share_trend(engine, period, settings),
        ]
        scans = scan_events(engine, period).rows if found else []
        return review(engine, period, found, settings, kb, scans=scans)
