"""Fingerprints: small named predicates over decoded packets, stored as tag bits.

Each fingerprint is one module exposing a :class:`Fingerprint` (label, the rule's
source in its docstring, and a vectorised ``match``). :func:`tag_packets` runs
all of them at ingest and packs the results into the ``tags`` column.
"""

from teiten.fingerprint.base import FINGERPRINTS, Fingerprint, TagContext, tag_packets
from teiten.fingerprint.registry import TAG_BITS, tag_labels, tag_mask, tag_sql_macro

__all__ = [
    "FINGERPRINTS",
    "TAG_BITS",
    "Fingerprint",
    "TagContext",
    "tag_labels",
    "tag_mask",
    "tag_packets",
    "tag_sql_macro",
]
