"""The knowledge a finding about a port links to: only what was known at the period's end."""

from __future__ import annotations

from datetime import date

from knowledge._kb import weblogic_kb
from teiten.analyze.phenomena import PhenomenaSettings
from teiten.analyze.phenomena.links import port_knowledge
from teiten.knowledge import Cve, KnowledgeBase, Malware

END = date(2019, 6, 30)  # the period's last day


def _kb() -> KnowledgeBase:
    return weblogic_kb(
        malware=(Malware("Botnet", sources=("https://example.org/b",), reported=date(2019, 7, 2)),),
        cves=(
            Cve("CVE-2019-7002", "two days after the period", date(2019, 7, 2)),
            Cve("CVE-2019-6001", "in the window", date(2019, 6, 1)),
            Cve("CVE-2018-0001", "long before", date(2018, 1, 1)),
        ),
    )


def test_a_change_near_the_end_cites_nothing_from_after_the_period():
    """The change's lag window (7 days) reaches past the period's end; the end wins."""
    settings = PhenomenaSettings()
    items = port_knowledge(_kb(), "tcp", 7001, settings, until=END, change=date(2019, 6, 28))
    assert [(i["id"], i["near_change"]) for i in items] == [
        ("CVE-2019-6001", True),
        ("CVE-2018-0001", False),
    ]


def test_a_change_early_in_the_period_cites_nothing_after_its_window():
    settings = PhenomenaSettings()
    items = port_knowledge(_kb(), "tcp", 7001, settings, until=END, change=date(2019, 4, 26))
    assert [i["id"] for i in items] == ["CVE-2018-0001"]


def test_without_a_change_everything_known_at_the_end():
    items = port_knowledge(_kb(), "tcp", 7001, PhenomenaSettings(), until=END)
    assert [i["id"] for i in items] == ["CVE-2019-6001", "CVE-2018-0001"]
    later = port_knowledge(_kb(), "tcp", 7001, PhenomenaSettings(), until=date(2019, 7, 2))
    assert [i["id"] for i in later] == ["CVE-2019-7002", "CVE-2019-6001", "CVE-2018-0001", "Botnet"]
