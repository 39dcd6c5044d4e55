"""What a query function returns: a statement (or conditions) and its parameters."""

from __future__ import annotations

from typing import Any, NamedTuple

__all__ = ["NO_CONDITION", "Condition", "Statement", "merged"]


class Statement(NamedTuple):
    """A statement's text (``$name`` markers) and its markers' values."""

    sql: str
    params: dict[str, Any]


class Condition(NamedTuple):
    """Conditions to append to a ``WHERE`` clause (``" AND …"``, or ``""``) and the
    values of their markers."""

    sql: str
    params: dict[str, Any]


NO_CONDITION = Condition("", {})


def merged(*params: dict[str, Any]) -> dict[str, Any]:
    """One statement's markers from its parts (a name given twice is a bug: it would bind
    one value where two were meant)."""
    out: dict[str, Any] = {}
    for part in params:
        clash = out.keys() & part.keys()
        if clash:
            raise ValueError(f"SQL parameter given twice: {', '.join(sorted(clash))}")
        out |= part
    return out
