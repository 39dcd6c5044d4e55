"""Helpers: small simulations, and reading their packets back with independent tools."""

from __future__ import annotations

import subprocess
from datetime import UTC, datetime
from pathlib import Path

import dpkt

from conftest import require_tool
from teiten.simulate import (
    GroundTruth,
    SensorSpec,
    SimulatedChunk,
    SimulationConfig,
    generate_packets,
)

SENSORS = (SensorSpec("east", "198.18.4.0/24"), SensorSpec("west", "192.0.2.0/25"))


def small_config(packets: int = 20_000, seed: int = 11, **kw: object) -> SimulationConfig:
    """Six hours, two sensors, every behaviour: seconds to make, thousands of sources."""
    kw.setdefault("start", datetime(2024, 3, 1, tzinfo=UTC))
    kw.setdefault("end", datetime(2024, 3, 1, 6, tzinfo=UTC))
    kw.setdefault("sensors", SENSORS)
    return SimulationConfig(packets=packets, seed=seed, **kw)  # type: ignore[arg-type]


def chunks(config: SimulationConfig, **kw: object) -> list[SimulatedChunk]:
    return list(generate_packets(config, **kw))  # type: ignore[arg-type]


def with_truth(
    config: SimulationConfig,
) -> tuple[SimulationConfig, list[SimulatedChunk], dict[str, object]]:
    """The config, its chunks, and the ground truth they make (as JSON)."""
    cs = chunks(config)
    truth = GroundTruth(config, "ethernet")
    for c in cs:
        truth.add(c)
    return config, cs, truth.as_json()


def assert_same_bytes(first: list[SimulatedChunk], again: list[SimulatedChunk]) -> None:
    """Two runs of one configuration gave the same chunks, byte for byte."""
    assert [len(c) for c in again] == [len(c) for c in first]
    for a, b in zip(first, again, strict=True):
        assert (a.batch.ts_ns == b.batch.ts_ns).all() and frames(a) == frames(b)


def frames(chunk: SimulatedChunk) -> list[bytes]:
    b = chunk.batch
    return [
        b.data[o : o + n].tobytes()
        for o, n in zip(b.offset.tolist(), b.caplen.tolist(), strict=True)
    ]


def ip_of(frame: bytes, ethernet: bool = True) -> dpkt.ip.IP:
    """The IPv4 packet of a frame, parsed by dpkt (an independent decoder)."""
    return dpkt.ethernet.Ethernet(frame).data if ethernet else dpkt.ip.IP(frame)


def tshark(path: Path, *args: str) -> list[str]:
    """tshark's output lines for ``path`` (checksums verified everywhere)."""
    cmd = [
        require_tool("tshark"),
        "-n",
        "-r",
        str(path),
        "-o",
        "ip.check_checksum:TRUE",
        "-o",
        "tcp.check_checksum:TRUE",
        "-o",
        "udp.check_checksum:TRUE",
        *args,
    ]
    done = subprocess.run(cmd, capture_output=True, text=True, check=True, timeout=300)
    return [line for line in done.stdout.splitlines() if line]


def tshark_fields(path: Path, *fields: str, display_filter: str = "") -> list[list[str]]:
    args = ["-T", "fields", "-E", "separator=\t", "-E", "occurrence=f"]
    for f in fields:
        args += ["-e", f]
    if display_filter:
        args += ["-Y", display_filter]
    return [line.split("\t") for line in tshark(path, *args)]
