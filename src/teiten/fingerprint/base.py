"""The fingerprint shape, the registration hook, and the function that applies them all."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING

import numpy as np

from teiten.fingerprint.registry import TAG_BITS

if TYPE_CHECKING:
    from teiten.decode import DecodedPackets
    from teiten.enrich import GeoTags
    from teiten.fingerprint.research import ResearchNetworks

__all__ = ["FINGERPRINTS", "Fingerprint", "TagContext", "register", "tag_packets"]


@dataclass(frozen=True)
class TagContext:
    """What predicates may need beyond the packet headers.

    ``research`` is the user's list of research/benign scanner networks (``None``
    when no list is configured); it is per ingest. ``geo`` is the country/AS of
    each packet of the chunk being tagged (AS numbers only when the ingest's
    database has them); ingest sets it per chunk with :meth:`for_chunk`.
    """

    research: ResearchNetworks | None = None
    geo: GeoTags | None = None

    def for_chunk(self, geo: GeoTags | None) -> TagContext:
        """This context with the geo tags of one chunk."""
        return replace(self, geo=geo)


@dataclass(frozen=True)
class Fingerprint:
    """A named predicate; ``match`` returns a bool per packet (False where not applicable)."""

    label: str
    match: Callable[[DecodedPackets, TagContext], np.ndarray]
    summary: str

    def __post_init__(self) -> None:
        if self.label not in TAG_BITS:
            raise ValueError(f"fingerprint {self.label!r} has no bit in TAG_BITS")


FINGERPRINTS: list[Fingerprint] = []  # filled by the modules of this package, in import order


def register(fingerprint: Fingerprint) -> Fingerprint:
    """Add ``fingerprint`` to :data:`FINGERPRINTS` (once per label)."""
    if any(fp.label == fingerprint.label for fp in FINGERPRINTS):
        raise ValueError(f"fingerprint {fingerprint.label!r} is registered twice")
    FINGERPRINTS.append(fingerprint)
    return fingerprint


def tag_packets(packets: DecodedPackets, context: TagContext | None = None) -> np.ndarray:
    """The ``tags`` column (uint32) for decoded packets: one bit per matching fingerprint.

    Rows the decoder skipped (``reason != 0``; ingest drops them before tagging)
    hold zeros, which some rules would read as a match, so they get no tags.
    """
    context = context or TagContext()
    tags = np.zeros(len(packets.ts_ns), np.uint32)
    for fp in FINGERPRINTS:
        hit = fp.match(packets, context)
        tags |= hit.astype(np.uint32) << np.uint32(TAG_BITS[fp.label])
    if packets.reason.any():
        tags[packets.reason != 0] = 0
    return tags
