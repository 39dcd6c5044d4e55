"""Ground truth of a simulation: what was sent, counted while it is generated.

Tests and benchmarks use it as the oracle: the decoder, the store and tshark
must all find these counts in the files.
"""

from __future__ import annotations

import importlib.metadata
from collections import Counter
from typing import Any

import numpy as np

from teiten.simulate.config import SimulationConfig
from teiten.simulate.generator import SimulatedChunk
from teiten.simulate.observed import DailyCounts, HostCounts
from teiten.simulate.population import Population

__all__ = ["GENERATOR_VERSION", "GroundTruth"]

# Bump whenever the same configuration would give different bytes (caches key on it).
# 2: the built-in 2019q2's WebLogic scanners probe both 7001 and 7002 (ports_per_source).
GENERATOR_VERSION = 2

_PROTO_NAMES = {6: "tcp", 17: "udp", 1: "icmp"}


class GroundTruth:
    """Counts per behaviour, kind, country, sensor, port and file, fed chunk by chunk.

    With a scenario it also holds daily probe series (per port, per country and
    port) and the scenario's events with what was observably generated.
    """

    def __init__(self, config: SimulationConfig, linktype: str) -> None:
        self.config = config
        self.linktype = linktype
        self.packets = 0
        self.first_ns: int | None = None
        self.last_ns: int | None = None
        self._pop: Population | None = None
        self._seen: np.ndarray | None = None
        self._by_source: np.ndarray | None = None
        self._ports = np.zeros(2 * 65536, dtype=np.int64)  # tcp ports, then udp ports
        self._sensors = np.zeros(len(config.sensors), dtype=np.int64)
        self.files: Counter[str] = Counter()
        self.daily = DailyCounts(config)
        self.hosts = HostCounts(config)

    def add(self, chunk: SimulatedChunk) -> None:
        if not len(chunk):
            return
        if self._pop is None:
            self._pop = chunk.population
            self._seen = np.zeros(len(self._pop), dtype=bool)
            self._by_source = np.zeros(len(self._pop), dtype=np.int64)
        assert self._seen is not None and self._by_source is not None
        self.packets += len(chunk)
        ts = chunk.batch.ts_ns
        self.first_ns = int(ts[0]) if self.first_ns is None else self.first_ns
        self.last_ns = int(ts[-1])
        self._by_source += np.bincount(chunk.source, minlength=len(self._by_source))
        self._seen[chunk.source] = True
        self._sensors += np.bincount(chunk.sensor, minlength=len(self._sensors))
        l4 = chunk.proto != 1
        key = (chunk.proto[l4] == 17).astype(np.int64) * 65536 + chunk.dport[l4]
        self._ports += np.bincount(key, minlength=len(self._ports))
        self.daily.add(chunk)
        self.hosts.add(chunk)

    def add_file(self, name: str, packets: int) -> None:
        self.files[name] += packets

    def as_json(self) -> dict[str, Any]:
        """Everything counted, as plain JSON types (keys of port maps are strings)."""
        out: dict[str, Any] = {
            "generator": {
                "name": "teiten.simulate",
                "version": GENERATOR_VERSION,
                "iptocc": importlib.metadata.version("iptocc"),
            },
            "config": self.config.as_json(),
            "linktype": self.linktype,
            "packets": self.packets,
            "first_ts_ns": self.first_ns,
            "last_ts_ns": self.last_ns,
            "by_sensor": {
                s.name: int(n) for s, n in zip(self.config.sensors, self._sensors, strict=True)
            },
            "by_port": {"tcp": _nonzero(self._ports[:65536]), "udp": _nonzero(self._ports[65536:])},
        }
        out.update(self._by_source_tables())
        out.update(self._scenario_tables())
        if self.files:
            out["files"] = dict(sorted(self.files.items()))
        return out

    def events(self) -> list[dict[str, Any]]:
        """The scenario's changes and crossovers, each with its ``observed`` outcome."""
        scenario = self.config.scenario
        if scenario is None:
            return []
        envelope = None if self._pop is None else self._pop.envelope
        members = envelope.members if envelope is not None else ((),)
        changes = self.daily.change_events(scenario.changes, members)
        return changes + self.daily.crossover_events(scenario.crossovers)

    def _scenario_tables(self) -> dict[str, Any]:
        scenario = self.config.scenario
        named: set[tuple[str | None, str]] = set()
        if scenario is not None:
            for c in scenario.changes:
                named |= {(None, f"{p}/{proto}") for p, proto in c.select.ports}
            for x in scenario.crossovers:
                for side in (x.rising, x.falling):
                    port, proto = side.ports[0]
                    label = f"{port}/{proto}"
                    country = side.countries[0] if side.countries else None
                    named |= {(None, label), (country, label)}
            for campaign in scenario.campaigns:
                b = campaign.behaviour()
                named |= {(None, f"{p}/{b.proto}") for p, _ in b.dports}
            for host in scenario.hosts:
                named |= {(c, label) for label in host.labels() for c in (None, host.country)}
        out = {
            "scenario": None if scenario is None else scenario.as_json(),
            "events": self.events(),
            "daily": self.daily.as_json(named),
        }
        if scenario is not None and scenario.hosts:
            out["hosts"] = self.hosts.as_json()
        return out

    def _by_source_tables(self) -> dict[str, Any]:
        pop, per_source = self._pop, self._by_source
        if pop is None or per_source is None:
            return {"sources": 0, "by_behaviour": {}, "by_kind": {}, "by_country": {}}
        sent = per_source > 0
        behaviours, kinds, icmp = {}, Counter[str](), Counter[str]()
        for k, b in enumerate(pop.behaviours):
            mine = sent & (pop.behaviour == k)
            packets = int(per_source[mine].sum())
            behaviours[b.name] = {
                "packets": packets,
                "sources": len(np.unique(pop.addr[mine])),
                "kind": b.kind,
                "proto": b.proto,
            }
            kinds[b.kind] += packets
            if b.proto == "icmp":
                icmp[str(b.icmp_type)] += packets
        countries = {}
        for c, code in enumerate(pop.countries):
            mine = sent & (pop.country == c)
            if mine.any():
                countries[code] = {
                    "packets": int(per_source[mine].sum()),
                    "sources": len(np.unique(pop.addr[mine])),
                }
        return {
            "sources": len(np.unique(pop.addr[sent])),
            "by_behaviour": behaviours,
            "by_kind": {k: n for k, n in kinds.items() if n},
            "by_country": dict(sorted(countries.items(), key=lambda kv: -kv[1]["packets"])),
            "by_icmp_type": {t: n for t, n in icmp.items() if n},
        }


def _nonzero(counts: np.ndarray) -> dict[str, int]:
    """``{"port": packets}`` for the ports that received any."""
    ports = np.flatnonzero(counts)
    return dict(zip(map(str, ports.tolist()), counts[ports].tolist(), strict=True))
