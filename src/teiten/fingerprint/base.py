"""The fingerprint shape and the function that applies them all."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import numpy as np

from teiten.fingerprint.registry import TAG_BITS

if TYPE_CHECKING:
    from teiten.decode import DecodedPackets

__all__ = ["FINGERPRINTS", "Fingerprint", "TagContext", "tag_packets"]


@dataclass(frozen=True)
class TagContext:
    """What predicates may need beyond the packet: per-ingest reference data.

    ``research`` answers, per packet, whether the source is in the user's list
    of research/benign scanner networks (``None`` when no list is configured).
    """

    research: Callable[[DecodedPackets, np.ndarray], np.ndarray] | None = None
    extra: dict[str, object] = field(default_factory=dict)


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


def tag_packets(packets: DecodedPackets, context: TagContext | None = None) -> np.ndarray:
    """The ``tags`` column (uint32) for decoded packets: one bit per matching fingerprint."""
    context = context or TagContext()
    tags = np.zeros(len(packets.ts_ns), np.uint32)
    for fp in FINGERPRINTS:
        hit = fp.match(packets, context)
        tags |= hit.astype(np.uint32) << np.uint32(TAG_BITS[fp.label])
    return tags
