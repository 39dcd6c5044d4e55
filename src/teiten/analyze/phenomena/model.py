"""A finding: one notable phenomenon, its evidence, and its text in Japanese and English."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

__all__ = ["Finding"]


@dataclass(frozen=True)
class Finding:
    """One notable phenomenon of a period.

    ``kind`` names the detector ("new_entrant", "surge", "drop", "crossover",
    "mirai_share"); ``subject`` says what it is about (e.g. ``{"port": 3389,
    "proto": "tcp"}`` or ``{"country": "JP"}``); ``evidence`` holds what a reader
    needs to check it: ``"series"`` (``{"dates": [...], "values": {name: [...]}}``,
    daily), the ``"statistic"`` and ``"threshold"`` it was judged by, and the
    ``"dates"`` that matter (change date, crossover days). ``title`` and ``text``
    are keyed by language (``"en"``, ``"ja"``); ``knowledge`` lists linked
    knowledge-base entries (``{"kind", "id", "title", "published"}``).
    The fields after ``score`` are the review's (:func:`.review.review`).
    """

    kind: str
    subject: dict[str, Any]
    title: dict[str, str]
    text: dict[str, str]
    evidence: dict[str, Any] = field(default_factory=dict)
    knowledge: list[dict[str, Any]] = field(default_factory=list)
    score: float = 0.0  # how notable: orders findings within a report
    # Set by the review (:mod:`.review`) after the detectors: the finding's own dates, who
    # made it (:mod:`.attribution`; never an address), what was folded into it, and
    # whether it clears the thresholds (``notable``) and leads the report (``headline``).
    start: str | None = None
    end: str | None = None
    sources: int = 0
    top_sources_share: list[float] = field(default_factory=lambda: [0.0, 0.0])
    top_source: dict[str, Any] = field(default_factory=dict)
    attribution: str = "broad"
    merged: list[dict[str, Any]] = field(default_factory=list)
    notable: bool = False
    headline: bool = False

    def port(self) -> tuple[str, int] | None:
        """The (protocol, port) the finding is about: its subject's, or for a crossover
        the rising port's; None for a country or a share."""
        if "port" in self.subject:
            return str(self.subject["proto"]), int(self.subject["port"])
        if self.kind == "crossover":
            port, _, proto = str(self.subject["rising"]).partition("/")
            return proto, int(port)
        return None

    def as_json(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Finding:
        """The finding :meth:`as_json` gave (read back from JSON)."""
        return cls(**data)
