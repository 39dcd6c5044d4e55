"""What is known about the ports a darknet sees probed: services, products, malware, CVEs.

The curated, dated knowledge base ships with the package (``ports.toml``, loaded and
validated once); vulnerability feeds the user downloaded (CISA KEV, NVD CVE API 2.0)
add CVE links through ``teiten knowledge import``, kept in the store::

    kb = load_knowledge()                      # packaged file; store=DIR merges imports
    kb.edition                                 # datetime.date of the curated edition
    kb.for_port("tcp", 37215)                  # PortKnowledge | None
    kb.items("tcp", 37215)                     # [{"kind", "id", "title", "published"}]
    kb.items("tcp", 7001, as_of=period.last_day)   # only what was known by then
    import_feed("known_exploited_vulnerabilities.json", store="teiten-data")

Ports the knowledge base does not describe get IANA's name from
:func:`teiten.enrich.services.service_name` (a packaged, dated registry snapshot).
"""

from teiten.knowledge.feeds import ImportReport, import_feed, read_feed
from teiten.knowledge.loader import load_knowledge
from teiten.knowledge.model import (
    Cve,
    ImportedFeed,
    KnowledgeBase,
    Malware,
    PortKnowledge,
    Product,
)

__all__ = [
    "Cve",
    "ImportReport",
    "ImportedFeed",
    "KnowledgeBase",
    "Malware",
    "PortKnowledge",
    "Product",
    "import_feed",
    "load_knowledge",
    "read_feed",
]
