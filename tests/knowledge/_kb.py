"""A knowledge base of one port (7001/tcp), for tests of what may be cited when."""

from __future__ import annotations

from datetime import date

from teiten.knowledge import Cve, KnowledgeBase, Malware, PortKnowledge, Product


def weblogic_kb(
    *,
    cves: tuple[Cve, ...] = (),
    malware: tuple[Malware, ...] = (),
    products: tuple[Product, ...] = (),
) -> KnowledgeBase:
    """7001/tcp with exactly these CVEs, malware and products."""
    entry = PortKnowledge(
        proto="tcp",
        port=7001,
        service="weblogic",
        summary="Oracle WebLogic Server.",
        references=("https://example.org/weblogic",),
        products=products,
        malware=malware,
        cves=cves,
    )
    return KnowledgeBase("test", date(2026, 11, 28), "test.toml", {("tcp", 7001): entry})
