"""Scan events and DoS attacks of a simulated capture, against the simulator's own packets.

The simulator says which behaviour sent each packet; its packets (not the store)
are sessionized by the plain-Python reference, so decoding, storing and the SQL
are all checked at once.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import UTC, datetime

import pytest

from teiten.analyze.dos import dos_attacks
from teiten.analyze.periods import parse_period
from teiten.analyze.scans import scaled_min_destinations, scan_events
from teiten.enrich import open_geo
from teiten.ingest import ingest
from teiten.simulate import SimulationConfig, generate_packets, simulate_to_pcap
from teiten.store import DuckDBEngine, Store
from teiten.store.sensors import declare_sensor

from ._events import max_ppm, sessions

CONFIG = SimulationConfig(
    start=datetime(2024, 3, 1, tzinfo=UTC),
    end=datetime(2024, 3, 2, tzinfo=UTC),
    packets=300_000,
    seed=23,
)
PERIOD = "2024-03-01"
PROTO = {6: "tcp", 17: "udp", 1: "icmp"}


def _dotted(v: int) -> str:
    return f"{v >> 24}.{v >> 16 & 255}.{v >> 8 & 255}.{v & 255}"


@pytest.fixture(scope="module")
def simulated(tmp_path_factory):
    root = tmp_path_factory.mktemp("simulated")
    paths = simulate_to_pcap(CONFIG, root / "captures", per="day")
    store = Store(root / "store")
    geo = open_geo()
    for sensor in CONFIG.sensors:
        mine = [p for p in paths if p.parent.name == sensor.name]
        ingest(mine, store, geo, sensor=sensor.name)
        declare_sensor(store, sensor.name, prefixes=[sensor.prefix])
    probes, backscatter = [], []
    behaviour_of: dict[str, str] = {}
    for chunk in generate_packets(CONFIG):
        pop = chunk.population
        ts = (chunk.batch.ts_ns // 1000 * 1000).tolist()
        names = [b.name for b in pop.behaviours]
        kinds = [b.kind for b in pop.behaviours]
        for src, dst, proto, dport, t, b in zip(
            chunk.src.tolist(),
            chunk.dst.tolist(),
            chunk.proto.tolist(),
            chunk.dport.tolist(),
            ts,
            chunk.behaviour.tolist(),
            strict=True,
        ):
            source = _dotted(src)
            behaviour_of[source] = names[b]
            if kinds[b] == "probe":
                port = None if proto == 1 else dport
                probes.append(((source, PROTO[proto], port), t, dst))
            else:
                backscatter.append(((source, PROTO[proto]), t, dst))
    with DuckDBEngine(store) as engine:
        yield engine, probes, backscatter, behaviour_of


def test_scan_events_match_the_simulated_packets(simulated):
    engine, probes, _, behaviour_of = simulated
    size = sum(s.size for s in CONFIG.sensors)
    minimum = scaled_min_destinations(size)  # Durumeric's 100 per /8, scaled: 10 for 1,024
    expected = set()
    for (src, proto, port), groups in sessions(probes, 480 * 10**9).items():
        for g in groups:
            dests = len({p[2] for p in g})
            seconds = max((g[-1][1] - g[0][1]) / 1e9, 1.0)
            if dests >= minimum and len(g) * 2**32 / size / seconds >= 10:
                expected.add((src, proto, port, len(g), dests))
    report = scan_events(engine, parse_period(PERIOD))
    assert report.darknet.size == size == 1024 and report.darknet.source == "declared"
    got = {
        (e["source"], e["proto"], e["port"], e["packets"], e["destinations"]) for e in report.rows
    }
    assert got == expected and report.withheld == 0
    by_behaviour = defaultdict(int)
    for e in report.rows:
        by_behaviour[behaviour_of[e["source"]]] += 1
    # Research scanners sweep the darknet: they make scan events; victims never do.
    assert by_behaviour["zmap"] > 0 and by_behaviour["masscan"] > 0
    assert not any(name.startswith("backscatter") for name in by_behaviour)


def test_dos_attacks_match_the_simulated_packets(simulated):
    engine, _, backscatter, behaviour_of = simulated
    expected = set()
    for (victim, proto), groups in sessions(backscatter, 300 * 10**9).items():
        for g in groups:
            times = [p[1] for p in g]
            if len(g) >= 25 and times[-1] - times[0] >= 60 * 10**9 and max_ppm(times) >= 30:
                expected.add((victim, proto, len(g), max_ppm(times)))
    report = dos_attacks(engine, parse_period(PERIOD))
    got = {(a["victim"], a["proto"], a["packets"], a["max_ppm"]) for a in report.rows}
    assert got == expected and len(got) >= 3
    assert {behaviour_of[a["victim"]] for a in report.rows} <= {
        "backscatter-synack",
        "backscatter-rst",
        "backscatter-echo-reply",
        "backscatter-unreachable",
    }
    synack = [a for a in report.rows if behaviour_of[a["victim"]] == "backscatter-synack"]
    assert synack and all(set(a["ports"]) <= {"80/tcp", "443/tcp"} for a in synack)
