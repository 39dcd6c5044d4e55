"""Fingerprints: small named predicates over decoded packets, stored as tag bits.

Each module of this package registers one fingerprint (or one small family) —
a stable label, the rule's source in its docstring, a vectorised ``match`` —
when it is imported; importing the package imports them all. :func:`tag_packets`
runs every registered fingerprint at ingest and packs the results into the
``tags`` column (bits in :data:`TAG_BITS`). See ``docs/fingerprints.md``.

Scanner tools: ``mirai``, ``zmap``, ``masscan``; backscatter kinds: ``bs-*``;
spoofed or erratic packets (CAIDA corsaro3's filters): ``src-eq-dst``,
``port-zero``, ``ip-reserved-flag``, ``abnormal-tcp-flags``; the user's list of
research scanners: ``research``.
"""

from teiten.fingerprint import (  # noqa: F401 - each module registers its fingerprints
    backscatter,
    masscan,
    mirai,
    research,
    spoofing,
    tcpflags,
    zmap,
)
from teiten.fingerprint.base import FINGERPRINTS, Fingerprint, TagContext, register, tag_packets
from teiten.fingerprint.registry import TAG_BITS, tag_labels, tag_mask, tag_sql_macro
from teiten.fingerprint.research import ResearchEntry, ResearchNetworks

__all__ = [
    "FINGERPRINTS",
    "TAG_BITS",
    "Fingerprint",
    "ResearchEntry",
    "ResearchNetworks",
    "TagContext",
    "register",
    "tag_labels",
    "tag_mask",
    "tag_packets",
    "tag_sql_macro",
]
