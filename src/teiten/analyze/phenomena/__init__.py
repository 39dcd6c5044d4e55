"""Notable phenomena of a period, found in the store with the evidence behind each.

    with open_engine(store) as engine:
        findings = find_phenomena(engine, parse_period("2019Q2"), kb=load_knowledge())
    for f in findings: print(f.kind, f.text["ja"])

Detectors: new entrants to the top N (:mod:`.entrants`), surges and drops
against a robust trailing baseline (:mod:`.changes`), crossovers in the focus
country's port series (:mod:`.crossovers`) and the trend of its Mirai-type
share (:mod:`.mirai`); port findings link to the knowledge base (:mod:`.links`).
:func:`previous_observed` says whether the previous period has data to compare
with (a store's first period has none, and so no new entrants).
"""

from teiten.analyze.phenomena.entrants import previous_observed
from teiten.analyze.phenomena.find import find_phenomena
from teiten.analyze.phenomena.model import Finding
from teiten.analyze.phenomena.settings import PhenomenaSettings

__all__ = ["Finding", "PhenomenaSettings", "find_phenomena", "previous_observed"]
