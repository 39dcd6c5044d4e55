"""Daily series from the store: one GROUP BY per dimension, normalised per sensor.

A day's value is the probe packets of a key (a destination port, a source
country) divided by the number of sensors that recorded anything that day, so
a sensor joining or leaving the darknet does not look like a surge or a drop.
A day on which no sensor recorded anything is *missing* (NaN), not zero: an
outage is not a change in what the Internet sends.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from typing import TYPE_CHECKING, Any, Literal

import numpy as np

from teiten.store import queries

if TYPE_CHECKING:
    from teiten.store import Engine

__all__ = ["DailySeries", "daily_series", "day_range", "mirai_daily"]

Dimension = Literal["ports", "countries"]


@dataclass(frozen=True)
class DailySeries:
    """Per-sensor daily values of some keys over consecutive days."""

    days: list[date]
    keys: list[tuple[Any, ...]]  # (proto number, port) or (country,)
    values: np.ndarray  # shape (keys, days); NaN on days no sensor observed
    sensors: np.ndarray  # sensors observing each day

    def row(self, key: tuple[Any, ...]) -> np.ndarray:
        return self.values[self.keys.index(key)]


def day_range(first: date, end: date) -> list[date]:
    """Days ``first`` … ``end`` (exclusive)."""
    return [first + timedelta(days=i) for i in range((end - first).days)]


def sensors_per_day(engine: Engine, first: date, end: date) -> np.ndarray:
    """How many sensors recorded any packet on each day ``first`` … ``end``."""
    rows = engine.rows(*queries.series.sensors_per_day(first, end))
    out = np.zeros((end - first).days, np.float64)
    for r in rows:
        out[(r["day"] - first).days] = r["sensors"]
    return out


def daily_series(
    engine: Engine,
    dimension: Dimension,
    first: date,
    split: date,
    end: date,
    *,
    limit: int,
    country: str | None = None,
) -> DailySeries:
    """Daily probe packets per sensor of the ``limit`` largest keys in ``first`` … ``end``.

    Keys are chosen by the larger of their packets before ``split`` and from
    ``split`` on, so a port that only appears in the period competes with the
    ones that filled the baseline. ``country`` restricts to packets from it.
    """
    names = queries.series.DAILY_KEYS[dimension]
    rows = engine.rows(
        *queries.series.top_keys_per_day(
            engine.dialect, dimension, first, split, end, limit=limit, country=country
        )
    )
    days = day_range(first, end)
    sensors = sensors_per_day(engine, first, end)
    keys = sorted({tuple(r[k] for k in names) for r in rows})
    index = {k: i for i, k in enumerate(keys)}
    counts = np.zeros((len(keys), len(days)), np.float64)
    for r in rows:  # one row per (key, day): at most limit × days, never per packet
        counts[index[tuple(r[k] for k in names)], (r["day"] - first).days] = r["n"]
    return DailySeries(days, keys, per_sensor(counts, sensors), sensors)


def per_sensor(counts: np.ndarray, sensors: np.ndarray) -> np.ndarray:
    """Counts divided by the day's observing sensors; NaN where none observed."""
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(sensors > 0, counts / np.where(sensors > 0, sensors, 1), np.nan)


def mirai_daily(
    engine: Engine, country: str, first: date, end: date
) -> tuple[np.ndarray, np.ndarray]:
    """Daily probe packets from ``country``, and those tagged ``mirai``, per day."""
    rows = engine.rows(*queries.series.probes_per_day(country, first, end))
    total = np.zeros((end - first).days, np.float64)
    mirai = np.zeros_like(total)
    for r in rows:
        i = (r["day"] - first).days
        total[i], mirai[i] = r["country_probes"], r["country_mirai"]
    return total, mirai
