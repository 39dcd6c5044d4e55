"""What to simulate: sensors, time span, volume, seed and behaviour mix.

Validated when built, so a bad configuration fails before any packet is made.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from teiten.errors import SensorsFileError
from teiten.simulate.behaviours import CATALOGUE, Behaviour
from teiten.simulate.scenario import Scenario

__all__ = [
    "DEFAULT_SENSORS",
    "SensorSpec",
    "SimulationConfig",
    "load_sensors",
    "numbered_sensors",
]


@dataclass(frozen=True, slots=True)
class SensorSpec:
    """One darknet sensor: a name and the unused IPv4 prefix it listens on."""

    name: str
    prefix: str  # e.g. "192.0.2.0/24"; any length from /8 to /32

    def __post_init__(self) -> None:
        if not self.name or "/" in self.name or self.name.startswith("."):
            raise ValueError(f"sensor name {self.name!r} must be a plain, non-empty file name")
        try:
            net = ipaddress.IPv4Network(self.prefix, strict=True)
        except ValueError as exc:
            raise ValueError(f"sensor {self.name}: bad IPv4 prefix {self.prefix!r}: {exc}") from exc
        if net.prefixlen < 8:
            raise ValueError(f"sensor {self.name}: prefix {self.prefix} is wider than /8")

    @property
    def network(self) -> ipaddress.IPv4Network:
        return ipaddress.IPv4Network(self.prefix)

    @property
    def base(self) -> int:
        return int(self.network.network_address)

    @property
    def size(self) -> int:
        return self.network.num_addresses


# Documentation and benchmarking space (RFC 5737, RFC 2544): never routed, never a real victim.
DEFAULT_SENSORS: tuple[SensorSpec, ...] = (
    SensorSpec("alpha", "198.18.0.0/24"),
    SensorSpec("bravo", "192.0.2.0/24"),
    SensorSpec("charlie", "198.51.100.0/24"),
    SensorSpec("delta", "203.0.113.0/24"),
)


_BENCHMARK_NET = ipaddress.IPv4Network("198.18.0.0/15")  # RFC 2544: never a real source


def numbered_sensors(n: int) -> tuple[SensorSpec, ...]:
    """``n`` /24 sensors ``s001`` … in benchmarking space (198.18.0.0/15, at most 512)."""
    if not 1 <= n <= 512:
        raise ValueError(f"between 1 and 512 numbered sensors fit in {_BENCHMARK_NET}, not {n}")
    subnets = _BENCHMARK_NET.subnets(new_prefix=24)
    return tuple(SensorSpec(f"s{i + 1:03d}", str(next(subnets))) for i in range(n))


def load_sensors(path: str | Path) -> tuple[SensorSpec, ...]:
    """Sensors from a text file: one ``NAME PREFIX`` per line (``#`` starts a comment)."""
    try:
        lines = Path(path).read_text(encoding="utf-8").splitlines()
    except (OSError, UnicodeDecodeError) as exc:
        raise SensorsFileError(f"{path}: cannot read the sensors file: {exc}") from exc
    sensors = []
    for number, line in enumerate(lines, 1):
        words = line.split("#", 1)[0].split()
        if not words:
            continue
        if len(words) != 2:
            raise SensorsFileError(
                f"{path}:{number}: expected 'NAME PREFIX' (e.g. tokyo-1 192.0.2.0/24), got {line!r}"
            )
        try:
            sensors.append(SensorSpec(*words))
        except ValueError as exc:
            raise SensorsFileError(f"{path}:{number}: {exc}") from exc
    if not sensors:
        raise SensorsFileError(f"{path}: no sensors in the file; give one 'NAME PREFIX' per line")
    return tuple(sensors)


def _utc(value: datetime, what: str) -> datetime:
    if value.tzinfo is None or value.utcoffset() is None:
        raise ValueError(f"{what} {value.isoformat()} has no time zone; give it in UTC")
    return value.astimezone(UTC)


@dataclass(frozen=True)
class SimulationConfig:
    """A simulated observation: who listens where and when, and how much arrives.

    ``behaviours`` overrides the packet share of catalogue entries (and of the
    scenario's campaigns) by name (0 switches one off); the rest keep their
    default share. ``sources`` is the size of the source population (0: derived
    from ``packets``). ``scenario`` changes the mix over time (see
    :mod:`teiten.simulate.scenario`); ``packets`` stays the exact total (a
    scenario's single hosts send theirs, the behaviours share the rest).
    """

    start: datetime = datetime(2024, 1, 1, tzinfo=UTC)
    end: datetime = datetime(2024, 1, 2, tzinfo=UTC)
    sensors: tuple[SensorSpec, ...] = DEFAULT_SENSORS
    packets: int = 1_000_000
    seed: int = 0
    behaviours: Mapping[str, float] = field(default_factory=dict)
    sources: int = 0
    chunk_packets: int = 1 << 19  # packets per generated chunk (bounds memory)
    scenario: Scenario | None = None

    def __post_init__(self) -> None:
        object.__setattr__(self, "start", _utc(self.start, "start"))
        object.__setattr__(self, "end", _utc(self.end, "end"))
        object.__setattr__(self, "sensors", tuple(self.sensors))
        object.__setattr__(self, "behaviours", dict(self.behaviours))
        if self.end <= self.start:
            raise ValueError(f"end {self.end.isoformat()} is not after start {self.start}")
        if not self.sensors:
            raise ValueError("at least one sensor is needed")
        names = [s.name for s in self.sensors]
        if len(set(names)) != len(names):
            raise ValueError(f"sensor names repeat: {names}")
        nets = [s.network for s in self.sensors]
        for i, a in enumerate(nets):
            for b in nets[i + 1 :]:
                if a.overlaps(b):
                    raise ValueError(f"sensor prefixes {a} and {b} overlap")
        if self.packets < 0:
            raise ValueError(f"packets must be ≥ 0, not {self.packets}")
        if self.sources < 0:
            raise ValueError(f"sources must be ≥ 0, not {self.sources}")
        if self.chunk_packets < 1024:
            raise ValueError(f"chunk_packets must be ≥ 1024, not {self.chunk_packets}")
        if not 0 <= self.seed < 2**63:
            raise ValueError(f"seed must be in [0, 2**63), not {self.seed}")
        known = self.catalogue()
        unknown = sorted(set(self.behaviours) - set(known))
        if unknown:
            raise ValueError(f"unknown behaviours {unknown}; known: {sorted(known)}")
        if any(w < 0 for w in self.behaviours.values()):
            raise ValueError(f"behaviour weights must be ≥ 0: {self.behaviours}")
        if self.packets and sum(self.weights().values()) <= 0:
            raise ValueError("every behaviour is switched off but packets > 0")
        if sum(self.host_packets()) > self.packets:
            raise ValueError(
                f"the scenario's hosts send {sum(self.host_packets()):,} packets in the span, "
                f"more than packets={self.packets:,}; raise packets or lower the hosts' packets"
            )

    def catalogue(self) -> Mapping[str, Behaviour]:
        """The behaviours in play: the catalogue, tuned and extended by the scenario."""
        return CATALOGUE if self.scenario is None else self.scenario.catalogue()

    def weights(self) -> dict[str, float]:
        """Packet share of each behaviour (catalogue default unless overridden), unnormalised."""
        return {name: self.behaviours.get(name, b.weight) for name, b in self.catalogue().items()}

    def host_packets(self) -> list[int]:
        """Packets each of the scenario's hosts sends inside the span (taken from ``packets``)."""
        hosts = () if self.scenario is None else self.scenario.hosts
        return [h.packets_within(self.start, self.end) for h in hosts]

    @property
    def duration_s(self) -> float:
        return (self.end - self.start).total_seconds()

    def population_size(self) -> int:
        """Number of sources: given, or about one per 40 packets (100 … 300 000)."""
        if self.sources:
            return self.sources
        return int(min(max(self.packets // 40, 100), 300_000))

    def as_json(self) -> dict[str, object]:
        return {
            "start": self.start.isoformat(),
            "end": self.end.isoformat(),
            "sensors": [{"name": s.name, "prefix": s.prefix} for s in self.sensors],
            "packets": self.packets,
            "seed": self.seed,
            "behaviours": self.weights(),
            "sources": self.population_size(),
            "chunk_packets": self.chunk_packets,
            "scenario": None if self.scenario is None else self.scenario.as_json(),
        }
