"""A store built the way a user builds one: `teiten ingest` of real captures (two sensors).

2021Q2 holds packets from both sensors: s1 on 2021-04-01 (a SYN flood capture), s2 on
2021-06-14 (an ISAKMP amplification capture); both have sources in Japan, the US and
Korea. With ``simulated=True`` it also holds PERIOD (March 2024) from the simulator's
four sensors, whose traffic has scan events and DoS backscatter.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

from click.testing import CliRunner

from conftest import capture_path
from teiten.cli import main

REAL_PERIOD = "2021Q2"
SENSORS = {
    "s1": ["stopddos_pkt.TCP.DOMINATE.syn.ecn.cwr.pcapng", "ppa3e_synscan.pcapng"],
    "s2": ["stopddos_amp.UDP.isakmp.pcap", "libtrace_100_packets.pcap"],
}
PERIOD = "2024-03-01..2024-03-02"  # the simulated days


def ingest(store: Path, sensor: str, paths: list[Path]) -> dict:
    args = ["ingest", "--store", str(store), "--sensor", sensor, "--json", *map(str, paths)]
    result = CliRunner().invoke(main, args)
    assert result.exit_code == 0, result.output
    return json.loads(result.output)


def build_store(root: Path, *, simulated: bool = False) -> Path:
    store = root / "store"
    for sensor, names in SENSORS.items():
        ingest(store, sensor, [capture_path(n) for n in names])
    if simulated:
        from teiten.simulate import SimulationConfig, simulate_to_pcap

        config = SimulationConfig(
            start=datetime(2024, 3, 1, tzinfo=UTC),
            end=datetime(2024, 3, 3, tzinfo=UTC),
            packets=150_000,
            seed=5,
        )
        paths = simulate_to_pcap(config, root / "captures", per="day")
        for sensor in config.sensors:
            ingest(store, sensor.name, [p for p in paths if p.parent.name == sensor.name])
    return store
