"""One rounding rule for every number a person reads (report text and tables, CLI tables).

- counts (packets, sources, events): whole numbers with thousands separators — ``410,119``;
- per-sensor values (packets per sensor): whole numbers, one decimal below 10 —
  ``38,298``, ``7.3`` (never ``38,298.0``);
- shares: percent with one decimal — ``7.5%`` — in the text as in the tables.

JSON output is not rounded by these: it keeps the exact values.
"""

from __future__ import annotations

__all__ = ["count", "per_sensor", "percent"]


def count(value: float) -> str:
    """A count: ``1,234,567``."""
    return f"{round(value):,}"


def per_sensor(value: float) -> str:
    """A per-sensor value: ``410,119``; below 10, one decimal: ``7.3``."""
    if abs(value) < 9.95:  # what rounds to 10.0 or more is written as a whole number
        return f"{value:.1f}"
    return f"{round(value):,}"


def percent(fraction: float) -> str:
    """A share (0–1) in percent with one decimal: ``7.5%``."""
    return f"{fraction * 100:.1f}%"
