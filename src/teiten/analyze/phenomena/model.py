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
    """

    kind: str
    subject: dict[str, Any]
    title: dict[str, str]
    text: dict[str, str]
    evidence: dict[str, Any] = field(default_factory=dict)
    knowledge: list[dict[str, Any]] = field(default_factory=list)
    score: float = 0.0  # how notable: orders findings within a report

    def as_json(self) -> dict[str, Any]:
        return asdict(self)
