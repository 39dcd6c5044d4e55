"""What a simulation actually generated, day by day, and what its scenario's events look like.

Counted while chunks are generated (one ``np.unique`` per chunk), so the
ground truth holds the series a detector should find, not the ones the
scenario asked for: a ramp's effect, a crossover's first day, a campaign's
first packet, all measured on the generated packets.
"""

from __future__ import annotations

from datetime import date
from typing import Any

import numpy as np

from teiten.simulate.config import SimulationConfig
from teiten.simulate.generator import SimulatedChunk
from teiten.simulate.population import dotted
from teiten.simulate.scenario import (
    Change,
    Crossover,
    Host,
    Selector,
    day_floor,
    days_between,
)

__all__ = ["DailyCounts", "HostCounts"]

_NS_PER_DAY = 86_400 * 10**9
_PROTOS = ("tcp", "udp", "icmp")
_WINDOW_DAYS = 14  # days averaged on each side of a change
TOP_PORTS = 30  # daily series kept for this many ports (plus those a scenario names)
TOP_PAIRS = 100  # and for this many (country, port) pairs


def _label(proto: int, port: int) -> str:
    return f"{port}/{_PROTOS[proto]}" if proto < 2 else f"icmp-type-{port}"


class DailyCounts:
    """Probe packets per (day, country, port) and packets per (day, scenario group)."""

    def __init__(self, config: SimulationConfig) -> None:
        self.config = config
        self.days = days_between(config.start, config.end)
        self.first_ns = int(day_floor(config.start).timestamp()) * 10**9
        self._parts: list[tuple[np.ndarray, np.ndarray]] = []
        self._group_parts: list[tuple[np.ndarray, np.ndarray]] = []
        self._kinds: np.ndarray | None = None
        self._groups = 1

    def add(self, chunk: SimulatedChunk) -> None:
        pop = chunk.population
        if self._kinds is None:
            behaviours = pop.behaviours
            self._kinds = np.array([b.kind == "probe" for b in behaviours])
            self._icmp = np.array([b.icmp_type if b.proto == "icmp" else 0 for b in behaviours])
            self._groups = 1 if pop.envelope is None else len(pop.envelope.members)
        day = (chunk.batch.ts_ns - self.first_ns) // _NS_PER_DAY
        group = pop.group[chunk.source]
        key = day * self._groups + group
        self._group_parts.append(_counted(key))
        probe = self._kinds[chunk.behaviour]
        proto = np.select([chunk.proto == 6, chunk.proto == 17], [0, 1], 2)[probe]
        port = np.where(proto < 2, chunk.dport[probe], self._icmp[chunk.behaviour[probe]])
        country = pop.country[chunk.source[probe]].astype(np.int64)
        key = day[probe] << 40 | country << 24 | proto.astype(np.int64) << 16 | port
        self._parts.append(_counted(key))
        self._countries = pop.countries

    def _table(self) -> tuple[np.ndarray, np.ndarray]:
        if not self._parts:
            return np.zeros(0, np.int64), np.zeros(0, np.int64)
        keys, counts = _merge(self._parts)
        self._parts = [(keys, counts)]
        return keys, counts

    def series(self, port: tuple[int, str], country: str | None = None) -> np.ndarray:
        """Daily probe packets to ``port`` (``(23, "tcp")``), from ``country`` if given."""
        keys, counts = self._table()
        number, proto = port
        hit = (keys >> 16 & 0xFF) == _PROTOS.index(proto)
        hit &= (keys & 0xFFFF) == number
        if country is not None:
            code = self._countries.index(country) if country in self._countries else -1
            hit &= (keys >> 24 & 0xFFFF) == code
        return np.bincount(keys[hit] >> 40, weights=counts[hit], minlength=len(self.days)).astype(
            np.int64
        )[: len(self.days)]

    def as_json(self, named: set[tuple[str | None, str]]) -> dict[str, Any]:
        """Daily series of the top ports and (country, port) pairs, plus the ``named`` ones."""
        keys, counts = self._table()
        n_days = len(self.days)
        port_key = keys & 0xFFFFFF
        ports, inverse = np.unique(port_key, return_inverse=True)
        totals = np.bincount(inverse, weights=counts)
        pair_key = keys & ((1 << 40) - 1)
        pairs, pair_inverse = np.unique(pair_key, return_inverse=True)
        pair_totals = np.bincount(pair_inverse, weights=counts)
        labels = [_label(int(k >> 16), int(k & 0xFFFF)) for k in ports.tolist()]
        keep = set(np.argsort(-totals, kind="stable")[:TOP_PORTS].tolist())
        keep |= {i for i, label in enumerate(labels) if (None, label) in named}
        pair_labels = [
            (self._countries[int(k >> 24)], _label(int(k >> 16 & 0xFF), int(k & 0xFFFF)))
            for k in pairs.tolist()
        ]
        keep_pairs = set(np.argsort(-pair_totals, kind="stable")[:TOP_PAIRS].tolist())
        keep_pairs |= {i for i, pair in enumerate(pair_labels) if pair in named}
        day = keys >> 40
        by_port: dict[str, list[int]] = {}
        for i in sorted(keep, key=lambda i: -totals[i]):
            rows = inverse == i
            by_port[labels[i]] = _daily(day[rows], counts[rows], n_days)
        by_pair: dict[str, dict[str, list[int]]] = {}
        for i in sorted(keep_pairs, key=lambda i: -pair_totals[i]):
            rows = pair_inverse == i
            country, label = pair_labels[i]
            by_pair.setdefault(country, {})[label] = _daily(day[rows], counts[rows], n_days)
        return {
            "days": [d.isoformat() for d in self.days],
            "probes": _daily(day, counts, n_days),
            "by_port": by_port,
            "by_country_port": by_pair,
        }

    def group_series(self) -> np.ndarray:
        """Packets per (group, day), every kind."""
        if not self._group_parts:
            return np.zeros((self._groups, len(self.days)), dtype=np.int64)
        keys, counts = _merge(self._group_parts)
        self._group_parts = [(keys, counts)]
        out = np.zeros(self._groups * len(self.days), dtype=np.int64)
        out[keys] = counts
        return out.reshape(len(self.days), self._groups).T

    def change_events(
        self, changes: tuple[Change, ...], members: tuple[tuple[int, ...], ...]
    ) -> list[dict[str, Any]]:
        """Each change with what its selection actually sent, per day."""
        per_group = self.group_series()
        out = []
        for c, change in enumerate(changes):
            mine = [g for g, m in enumerate(members) if c in m]
            daily = per_group[mine].sum(axis=0)
            event = change.as_json()
            event["observed"] = self._observed(change, daily)
            out.append(event)
        return out

    def _index(self, when: date) -> int:
        return (when - self.days[0]).days

    def _observed(self, change: Change, daily: np.ndarray) -> dict[str, Any]:
        sent = np.flatnonzero(daily)
        at = self._index(change.start.date())
        if change.kind == "ramp":  # the ramp's first and last days (up to 14, a third of it)
            assert change.end is not None
            end = self._index(change.end.date())
            width = min(_WINDOW_DAYS, max(1, (end - at) // 3))
            before, after = (at, at + width), (end - width, end)
        else:
            before, after = (at - _WINDOW_DAYS, at), (at, at + _WINDOW_DAYS)
        means = [_mean(daily, *window) for window in (before, after)]
        ratio = means[1] / means[0] if means[0] and means[1] is not None else None
        return {
            "packets": int(daily.sum()),
            "first_day": self.days[sent[0]].isoformat() if len(sent) else None,
            "last_day": self.days[sent[-1]].isoformat() if len(sent) else None,
            "daily_mean_before": means[0],
            "daily_mean_after": means[1],
            "ratio": None if ratio is None else round(ratio, 3),
        }

    def crossover_events(self, crossovers: tuple[Crossover, ...]) -> list[dict[str, Any]]:
        """Each crossover with the first day (and first week) the rising series is above."""
        out = []
        for x in crossovers:
            rising, falling = (self._selector_series(s) for s in (x.rising, x.falling))
            above = rising > falling
            weekly = [_rolling_week(s) for s in (rising, falling)]
            week_above = np.flatnonzero(weekly[0] > weekly[1])
            event = x.as_json()
            event["observed"] = {
                "first_day": _day(self.days, np.flatnonzero(above)),
                "days_above": int(above.sum()),
                # first day ending a 7-day window whose sum is above
                "first_day_7d": _day(self.days, week_above + 6),
                # first day from which every 7-day window is above
                "sustained_from_7d": _sustained(self.days, weekly[0] > weekly[1]),
                "rising_packets": int(rising.sum()),
                "falling_packets": int(falling.sum()),
            }
            out.append(event)
        return out

    def _selector_series(self, sel: Selector) -> np.ndarray:
        country = sel.countries[0] if sel.countries else None
        return self.series(sel.ports[0], country)


class HostCounts:
    """What each of a scenario's single hosts sent: packets per day, first and last packet."""

    def __init__(self, config: SimulationConfig) -> None:
        self.hosts: tuple[Host, ...] = () if config.scenario is None else config.scenario.hosts
        self.days = days_between(config.start, config.end)
        self.first_ns = int(day_floor(config.start).timestamp()) * 10**9
        self.rows = np.zeros(0, dtype=np.int64)  # population row of each host
        self.addr: list[str] = []
        self.countries: list[str] = []
        self.daily = np.zeros((len(self.hosts), len(self.days)), dtype=np.int64)
        self.first = np.full(len(self.hosts), -1, dtype=np.int64)
        self.last = np.full(len(self.hosts), -1, dtype=np.int64)

    def add(self, chunk: SimulatedChunk) -> None:
        if not self.hosts:
            return
        pop = chunk.population
        if not len(self.rows):
            names = [b.name for b in pop.behaviours]
            kinds = [names.index(h.id) for h in self.hosts]
            self.rows = np.array([np.flatnonzero(pop.behaviour == k)[0] for k in kinds])
            self.addr = dotted(pop.addr[self.rows])
            self.countries = [pop.countries[c] for c in pop.country[self.rows].tolist()]
        hit = np.flatnonzero(chunk.source >= self.rows.min())
        which = np.searchsorted(self.rows, chunk.source[hit])
        mine = (which < len(self.rows)) & (self.rows[np.minimum(which, len(self.rows) - 1)]
                                           == chunk.source[hit])  # fmt: skip
        which, ts = which[mine], chunk.batch.ts_ns[hit[mine]]
        day = (ts - self.first_ns) // _NS_PER_DAY
        np.add.at(self.daily, (which, day), 1)
        for h in np.unique(which).tolist():
            times = ts[which == h]
            self.first[h] = times[0] if self.first[h] < 0 else self.first[h]
            self.last[h] = times[-1]

    def as_json(self) -> list[dict[str, Any]]:
        """Each host as the scenario planted it, with its address and what it sent."""
        out = []
        for h, host in enumerate(self.hosts):
            sent = np.flatnonzero(self.daily[h])
            out.append(
                {
                    **host.as_json(),
                    "requested": host.packets,
                    "packets": int(self.daily[h].sum()),
                    "address": self.addr[h] if self.addr else None,
                    "country": self.countries[h] if self.countries else host.country,
                    "first_ns": int(self.first[h]) if self.first[h] >= 0 else None,
                    "last_ns": int(self.last[h]) if self.last[h] >= 0 else None,
                    "daily": {self.days[d].isoformat(): int(self.daily[h, d]) for d in sent},
                }
            )
        return out


def _rolling_week(daily: np.ndarray) -> np.ndarray:
    """Sums of each 7-day window (none when fewer than 7 days)."""
    if len(daily) < 7:
        return np.zeros(0, dtype=np.int64)
    total = np.concatenate(([0], np.cumsum(daily)))
    return total[7:] - total[:-7]


def _counted(key: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    keys, counts = np.unique(key, return_counts=True)
    return keys, counts.astype(np.int64)


def _merge(parts: list[tuple[np.ndarray, np.ndarray]]) -> tuple[np.ndarray, np.ndarray]:
    keys = np.concatenate([k for k, _ in parts])
    counts = np.concatenate([c for _, c in parts])
    unique, inverse = np.unique(keys, return_inverse=True)
    return unique, np.bincount(inverse, weights=counts, minlength=len(unique)).astype(np.int64)


def _daily(day: np.ndarray, counts: np.ndarray, n_days: int) -> list[int]:
    return np.bincount(day, weights=counts, minlength=n_days)[:n_days].astype(np.int64).tolist()


def _mean(daily: np.ndarray, lo: int, hi: int) -> float | None:
    lo, hi = max(lo, 0), min(hi, len(daily))
    return round(float(daily[lo:hi].mean()), 2) if hi > lo else None


def _sustained(days: list[date], above: np.ndarray) -> str | None:
    if not len(above) or not above[-1]:
        return None
    below = np.flatnonzero(~above)
    return days[int(below[-1]) + 1 + 6 if len(below) else 6].isoformat()


def _day(days: list[date], index: np.ndarray) -> str | None:
    return days[int(index[0])].isoformat() if len(index) else None
