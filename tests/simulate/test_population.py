"""Who sends: countries from real address space, heavy tails, comings and goings, days."""

from __future__ import annotations

from collections import Counter
from datetime import UTC, datetime

import iptocc
import numpy as np
import pytest

from teiten.simulate import CATALOGUE, SimulationConfig, generate_packets
from teiten.simulate.population import build_population, dotted


@pytest.fixture(scope="module")
def population():
    return build_population(SimulationConfig(packets=200_000, seed=3))


def test_sources_are_where_iptocc_says(population):
    codes = iptocc.country_code(dotted(population.addr))
    assert codes == [population.countries[c] for c in population.country.tolist()]


def test_country_mix_leads_with_china_and_the_us(population):
    counts = Counter(population.countries[c] for c in population.country.tolist())
    assert {"CN", "US", "BR"} <= {cc for cc, _ in counts.most_common(6)}
    assert len(counts) > 40  # the "*" share spreads over the rest of the world


def test_volumes_are_heavy_tailed_and_exact(population):
    packets = np.sort(population.packets)[::-1]
    assert packets.sum() == 200_000
    top = packets[: len(packets) // 100].sum() / packets.sum()
    assert top > 0.2  # the busiest 1 % of sources send over a fifth of everything


def test_sources_come_and_go(population):
    span = SimulationConfig().duration_s
    life = population.off - population.on
    assert (population.on >= 0).all() and (population.off <= span).all() and (life > 0).all()
    assert (population.on > 0).mean() > 0.3 and (population.off < span).mean() > 0.3
    zmap = population.behaviour == [b.name for b in population.behaviours].index("zmap")
    assert np.median(life[zmap]) < 0.25 * span  # research scans are short bursts


def test_bots_swing_with_their_local_evening():
    config = SimulationConfig(
        start=datetime(2024, 5, 1, tzinfo=UTC),
        end=datetime(2024, 5, 3, tzinfo=UTC),
        packets=100_000,
        seed=1,
        behaviours={name: float(name == "mirai") for name in CATALOGUE},
    )
    hours: list[np.ndarray] = []
    for chunk in generate_packets(config):
        pop = chunk.population
        china = pop.country[chunk.source] == pop.countries.index("CN")
        hours.append((chunk.batch.ts_ns[china] // 3_600_000_000_000) % 24)
    by_hour = np.bincount(np.concatenate(hours), minlength=24)
    evening = by_hour[10:15].sum()  # 18:00–23:00 in China
    night = by_hour[[22, 23, 0, 1, 2]].sum()  # 06:00–11:00 in China
    assert evening > 1.4 * night


def test_public_api_is_pinned():
    import teiten.simulate as simulate

    assert set(simulate.__all__) == {
        "BUILTIN_SCENARIOS",
        "CATALOGUE",
        "COUNTRY_MIX",
        "DEFAULT_SENSORS",
        "GENERATOR_VERSION",
        "TRUTH_FILE",
        "Behaviour",
        "GroundTruth",
        "Scenario",
        "ScenarioError",
        "SensorSpec",
        "SimulatedChunk",
        "SimulationConfig",
        "generate_packets",
        "load_scenario",
        "parse_scenario",
        "simulate_to_pcap",
        "simulate_to_store",
    }
