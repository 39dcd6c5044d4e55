"""The demo: two simulated quarters of darknet traffic, ingested and ranked.

It is what `make demo` runs: a newcomer sees the whole pipeline — captures
written per sensor and day as real sensors write them, ingested exactly once,
and the quarter's rankings against the previous quarter.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from teiten.enrich import open_geo
from teiten.ingest import IngestReport, ingest
from teiten.simulate import Scenario, SimulationConfig, simulate_to_pcap
from teiten.store import Store

__all__ = ["DEMO_PERIOD", "DemoResult", "run_demo"]

DEMO_PERIOD = "2019Q2"


@dataclass
class DemoResult:
    captures: Path
    store: Store
    files: int
    report: IngestReport


def demo_config(
    packets: int = 3_000_000, seed: int = 2019, scenario: Scenario | None = None
) -> SimulationConfig:
    """2019Q1 and 2019Q2 as seen by the default sensors (with ``scenario``'s changes, if any)."""
    return SimulationConfig(
        start=datetime(2019, 1, 1, tzinfo=UTC),
        end=datetime(2019, 7, 1, tzinfo=UTC),
        packets=packets,
        seed=seed,
        scenario=scenario,
    )


def run_demo(out_dir: Path, *, packets: int = 3_000_000, seed: int = 2019) -> DemoResult:
    """Simulate, write per-sensor daily pcaps, ingest them (again: nothing is added twice)."""
    config = demo_config(packets, seed)
    captures = out_dir / "captures"
    paths = simulate_to_pcap(config, captures, per="day")
    store = Store(out_dir / "store")
    geo = open_geo()
    report = IngestReport()
    for sensor in config.sensors:
        mine = [p for p in paths if p.parent.name == sensor.name]
        report.results += ingest(mine, store, geo, sensor=sensor.name).results
    return DemoResult(captures, store, len(paths), report)
