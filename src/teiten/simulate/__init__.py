"""Realistic darknet traffic, generated: the data source of demos, tests and benchmarks.

A population of senders (bots, worms, research scanners, victims answering
spoofed floods) drawn from real regional address space sends packets to the
sensors' unused prefixes; every packet is built in bulk with numpy, and the
ground truth of what was sent is counted alongside. Behaviours are declarative
entries of :data:`CATALOGUE`.

    config = SimulationConfig(packets=1_000_000, seed=7, scenario=load_scenario("2019q2"))
    paths = simulate_to_pcap(config, Path("captures"), per="day")   # + captures/truth.json
    truth = simulate_to_store(config, Store("teiten-data"))          # or straight into a store
    for chunk in generate_packets(config): ...                       # or stream the chunks
"""

from teiten.errors import ScenarioError
from teiten.simulate.behaviours import CATALOGUE, COUNTRY_MIX, Behaviour
from teiten.simulate.config import DEFAULT_SENSORS, SensorSpec, SimulationConfig
from teiten.simulate.generator import SimulatedChunk, generate_packets
from teiten.simulate.pcap import TRUTH_FILE, simulate_to_pcap
from teiten.simulate.scenario import (
    BUILTIN_SCENARIOS,
    Scenario,
    load_scenario,
    parse_scenario,
)
from teiten.simulate.to_store import simulate_to_store
from teiten.simulate.truth import GENERATOR_VERSION, GroundTruth

__all__ = [
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
]
