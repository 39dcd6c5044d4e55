"""Packets in bulk: each time slice becomes one chunk of ready-made link-layer frames.

Per chunk: packet times (sorted per source for free, then merged), a
destination in some sensor's prefix, then per (behaviour, packet shape) group
a block of fixed-size rows filled column by column from the behaviour's rules.
No Python code runs per packet. The output depends only on the configuration.
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Literal

import numpy as np

from teiten.capture.batch import PacketBatch
from teiten.capture.linktypes import LINKTYPE_ETHERNET, LINKTYPE_RAW
from teiten.simulate.behaviours import Behaviour, Rule
from teiten.simulate.config import SimulationConfig
from teiten.simulate.frames import Shape, finish, shape_for, timestamp_offset
from teiten.simulate.population import Population, build_population
from teiten.simulate.ports import draw_ports, ephemeral, every_port
from teiten.simulate.schedule import Slice, merge, slices

__all__ = ["LinkType", "SimulatedChunk", "generate_packets"]

LinkType = Literal["ethernet", "raw"]
LINKTYPES: dict[str, int] = {"ethernet": LINKTYPE_ETHERNET, "raw": LINKTYPE_RAW}


@dataclass(frozen=True, slots=True)
class SimulatedChunk:
    """Packets of one time slice, in time order, with what made each one (ground truth).

    ``batch`` follows the capture readers' contract, so a chunk can go straight to
    the decoder; ``batch.first_number`` counts packets over the whole simulation
    (all sensors). Ports are 0 for ICMP.
    """

    batch: PacketBatch
    sensor: np.ndarray  # uint16 index into config.sensors
    source: np.ndarray  # int64 row of population
    behaviour: np.ndarray  # uint8 index into population.behaviours
    src: np.ndarray  # uint32
    dst: np.ndarray  # uint32
    proto: np.ndarray  # uint8
    sport: np.ndarray  # uint16
    dport: np.ndarray  # uint16
    population: Population

    def __len__(self) -> int:
        return len(self.batch)


@dataclass(frozen=True, slots=True)
class _Plan:
    """Packet shapes of one behaviour; UDP probes have one per destination port."""

    behaviour: Behaviour
    shapes: tuple[Shape, ...]
    shape_of_port: np.ndarray | None  # int8 per port, for port-dependent payloads


def _plan(b: Behaviour, ethernet: bool) -> _Plan:
    if not b.port_payloads:
        return _Plan(b, (shape_for(b, b.payload, ethernet=ethernet),), None)
    ports = sorted(b.port_payloads)
    by_port = np.full(65536, -1, dtype=np.int8)
    by_port[ports] = np.arange(len(ports))
    shapes = tuple(shape_for(b, b.port_payloads[p], ethernet=ethernet) for p in ports)
    return _Plan(b, shapes, by_port)


def generate_packets(
    config: SimulationConfig, *, linktype: LinkType = "ethernet"
) -> Iterator[SimulatedChunk]:
    """Every simulated packet, as time-ordered chunks of at most a few ``chunk_packets``.

    Memory stays bounded by the chunk size (plus the source population), so any
    volume can be streamed to files or straight into the decoder.
    """
    if linktype not in LINKTYPES:
        raise ValueError(f"linktype must be one of {sorted(LINKTYPES)}, not {linktype!r}")
    return _Generator(config, linktype).chunks()


class _Generator:
    def __init__(self, config: SimulationConfig, linktype: LinkType) -> None:
        self.config = config
        self.linktype = linktype
        self.ethernet = linktype == "ethernet"
        self.pop = build_population(config)
        self.plans = tuple(_plan(b, self.ethernet) for b in self.pop.behaviours)
        self.emitted = np.zeros(len(self.pop), dtype=np.int64)
        sizes = np.array([s.size for s in config.sensors], dtype=np.int64)
        self.sensor_end = np.cumsum(sizes)
        self.sensor_base = np.array([s.base for s in config.sensors], dtype=np.int64)
        self.walks = np.array([b.walk for b in self.pop.behaviours])
        self.stride = _stride(int(self.sensor_end[-1]))
        self.start_us = int(config.start.timestamp()) * 1_000_000 + config.start.microsecond
        self.end_us = int(config.end.timestamp()) * 1_000_000 + config.end.microsecond
        self.numbered = 0

    def chunks(self) -> Iterator[SimulatedChunk]:
        rng = np.random.default_rng([self.config.seed, 2])
        cfg = self.config
        pending: list[Slice] = []
        size = 0
        for sl in slices(self.pop, cfg.duration_s, cfg.packets, cfg.chunk_packets, rng):
            pending.append(sl)
            size += sl.packets
            if size >= cfg.chunk_packets:
                yield self._chunk(merge(pending))
                pending, size = [], 0
        if pending:
            yield self._chunk(merge(pending))

    def _times(self, sl: Slice, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
        """Microsecond times, ascending within each run, and each packet's rank in its source.

        A run's packets are sorted uniforms (normalised exponential spacings), so a
        source's n-th row is its n-th packet in time: counters need no sort.
        """
        counts = sl.counts
        n = int(counts.sum())
        ends = np.cumsum(counts)
        starts = ends - counts
        gaps = np.cumsum(rng.standard_exponential(n))
        before = np.concatenate(([0.0], gaps[ends[:-1] - 1]))
        within = gaps - np.repeat(before, counts)
        total = within[ends - 1] + rng.standard_exponential(len(counts))
        frac = within / np.repeat(total, counts)
        t = np.repeat(sl.lo, counts) + frac * np.repeat(sl.hi - sl.lo, counts)
        ts = np.minimum(self.start_us + (t * 1e6).astype(np.int64), self.end_us - 1)
        first_rank = self.emitted[sl.sources] + _earlier_in_chunk(sl.sources, counts) - starts
        np.add.at(self.emitted, sl.sources, counts)
        rank = np.arange(n, dtype=np.int64) + np.repeat(first_rank, counts)
        return ts, rank

    def _walk(self, source: np.ndarray, rank: np.ndarray) -> np.ndarray:
        """Darknet slots of a scan: the n-th packet of a source goes to the n-th address of
        a permutation (a stride coprime with the size, from the source's own start), so a
        source hits every address once before it hits any twice."""
        size = np.uint64(self.sensor_end[-1])
        step = (self.pop.counter[source].astype(np.uint64) + rank.astype(np.uint64)) % size
        return (step * np.uint64(self.stride) % size).astype(np.int64)

    def _chunk(self, sl: Slice) -> SimulatedChunk:
        rng = np.random.default_rng([self.config.seed, 1, *sl.key])
        pop = self.pop
        ts, rank = self._times(sl, rng)
        source = np.repeat(sl.sources, sl.counts)
        order = _time_order(ts)
        ts, rank, source = ts[order], rank[order], source[order]
        n = len(ts)

        slot = rng.integers(0, int(self.sensor_end[-1]), size=n)
        walking = np.flatnonzero(self.walks[pop.behaviour[source]])
        if len(walking):
            slot[walking] = self._walk(source[walking], rank[walking])
        sensor = np.searchsorted(self.sensor_end, slot, side="right")
        first = np.concatenate(([0], self.sensor_end[:-1]))
        dst = (self.sensor_base[sensor] + slot - first[sensor]).astype(np.uint32)
        sensor = sensor.astype(np.uint16)
        beh = pop.behaviour[source]
        src = pop.addr[source]

        sport = np.zeros(n, dtype=np.uint16)
        dport = np.zeros(n, dtype=np.uint16)
        proto = np.zeros(n, dtype=np.uint8)
        length = np.zeros(n, dtype=np.uint32)
        offset = np.zeros(n, dtype=np.int64)
        groups: list[tuple[Shape, np.ndarray, dict[str, np.ndarray]]] = []
        by_beh = np.argsort(beh, kind="stable")
        bounds = np.concatenate(([0], np.cumsum(np.bincount(beh, minlength=len(self.plans)))))
        for k, plan in enumerate(self.plans):
            idx = by_beh[bounds[k] : bounds[k + 1]]
            if not len(idx):
                continue
            fields = _fields(plan.behaviour, rng, pop, source[idx], rank[idx], dst[idx])
            proto[idx] = plan.behaviour.ip_proto
            if "sport" in fields:
                sport[idx], dport[idx] = fields["sport"], fields["dport"]
            if plan.shape_of_port is None:
                groups.append((plan.shapes[0], idx, fields))
                continue
            which = plan.shape_of_port[fields["dport"]]
            for j, shape in enumerate(plan.shapes):
                sel = np.flatnonzero(which == j)
                if len(sel):
                    groups.append((shape, idx[sel], {f: v[sel] for f, v in fields.items()}))

        data = np.empty(sum(len(idx) * shape.length for shape, idx, _ in groups), dtype=np.uint8)
        pos = 0
        for shape, idx, fields in groups:
            m, size = len(idx), shape.length
            rows = data[pos : pos + m * size].reshape(m, size)
            rows[:] = shape.template
            recs = rows.view(shape.dtype)[:, 0]
            recs["ip_src"] = src[idx]
            recs["ip_dst"] = dst[idx]
            recs["ip_ttl"] = pop.ttl[source[idx]]
            if self.ethernet:
                recs["eth_dst_id"] = recs["eth_src_id"] = sensor[idx]
            for name, values in fields.items():
                recs[name] = values
            finish(shape, rows)
            offset[idx] = pos + np.arange(m, dtype=np.int64) * size
            length[idx] = size
            pos += m * size

        batch = PacketBatch(
            data=data,
            offset=offset,
            caplen=length,
            wirelen=length.copy(),
            ts_ns=ts * 1000,
            linktype=np.full(n, LINKTYPES[self.linktype], dtype=np.uint16),
            first_number=self.numbered + 1,
        )
        self.numbered += n
        return SimulatedChunk(batch, sensor, source, beh, src, dst, proto, sport, dport, pop)


def _stride(size: int) -> int:
    """A step near the golden section of ``size`` and coprime with it (a full-cycle walk)."""
    step = max(1, round(size * 0.6180339887))
    while math.gcd(step, size) != 1:
        step += 1
    return step


def _time_order(ts: np.ndarray) -> np.ndarray:
    """Stable argsort of ``ts``, via unique keys so numpy's fast (SIMD) sort can do it."""
    n = len(ts)
    if not n:
        return np.arange(0)
    rel = ts - ts.min()
    shift = int(n).bit_length()
    if int(rel.max()).bit_length() + shift > 62:
        return np.argsort(ts, kind="stable")
    return np.argsort((rel << shift) | np.arange(n, dtype=np.int64))


def _earlier_in_chunk(sources: np.ndarray, counts: np.ndarray) -> np.ndarray:
    """Per run: packets of the same source in the chunk's earlier runs (runs are in time order)."""
    order = np.argsort(sources, kind="stable")
    srt, cnt = sources[order], counts[order]
    before = np.cumsum(cnt) - cnt
    first = np.concatenate(([True], srt[1:] != srt[:-1]))
    run_start = np.maximum.accumulate(np.where(first, np.arange(len(srt)), 0))
    out = np.empty_like(counts)
    out[order] = before - before[run_start]
    return out


def _rule(
    rule: Rule | tuple[int, ...],
    rng: np.random.Generator,
    per_source: np.ndarray,
    counter: np.ndarray,
    dst: np.ndarray,
    bits: int,
) -> np.ndarray:
    """Values of one header field under ``rule`` (see :mod:`teiten.simulate.behaviours`)."""
    n = len(dst)
    if isinstance(rule, tuple):
        return per_source
    if isinstance(rule, int):
        return np.full(n, rule, dtype=np.uint32)
    if rule == "random":
        return rng.integers(0, 1 << bits, size=n, dtype=np.uint64).astype(np.uint32)
    if rule == "source":
        return per_source
    if rule == "counter":
        return (counter & ((1 << bits) - 1)).astype(np.uint32)
    if rule == "dst":
        return dst
    raise ValueError(f"rule {rule!r} does not apply here")


def _fields(
    b: Behaviour,
    rng: np.random.Generator,
    pop: Population,
    source: np.ndarray,
    rank: np.ndarray,
    dst: np.ndarray,
) -> dict[str, np.ndarray]:
    """Per-packet header values of ``b``'s packets (beyond addresses and TTL)."""
    n = len(source)
    counter = pop.counter[source].astype(np.int64) + rank
    out: dict[str, np.ndarray] = {}
    if b.proto in ("tcp", "udp"):
        if b.dport_per == "source":
            out["dport"] = pop.dport[source]
        elif b.dport_per == "all":
            out["dport"] = every_port(rng, b.dports, rank, pop.counter[source])
        elif b.dports:
            out["dport"] = draw_ports(rng, b.dports, n)
        else:
            out["dport"] = ephemeral(rng, n)
        if b.sports:
            out["sport"] = draw_ports(rng, b.sports, n)
        elif b.sport == "counter":  # Windows walks its ephemeral range 49152–65535
            out["sport"] = (49152 + counter % 16384).astype(np.uint16)
        elif b.sport == "random":
            out["sport"] = ephemeral(rng, n)
        else:
            out["sport"] = _rule(b.sport, rng, pop.sport[source], counter, dst, 16)
    if b.proto == "tcp":
        out["seq"] = _rule(b.seq, rng, pop.counter[source], counter, dst, 32)
        out["ack"] = _rule(b.ack, rng, pop.counter[source], counter, dst, 32)
        out["win"] = _rule(b.window, rng, pop.window[source], counter, dst, 16)
        if timestamp_offset(b.options) is not None:  # TSval: a per-source clock
            out["tsval"] = (pop.ts_base[source].astype(np.int64) + rank * 7) & 0xFFFFFFFF
    if b.ip_id == "masscan":
        out["ip_id"] = ((dst ^ out["dport"] ^ out["seq"]) & 0xFFFF).astype(np.uint32)
    else:
        out["ip_id"] = _rule(b.ip_id, rng, pop.counter[source], counter, dst, 16)
    if b.proto == "icmp" and b.quotes:
        out["in_ip_id"] = rng.integers(0, 65536, size=n, dtype=np.uint32)
        out["in_ip_ttl"] = rng.integers(40, 64, size=n, dtype=np.uint32)
        out["in_ip_src"] = dst
        out["in_ip_dst"] = pop.addr[source]
        out["in_sport"] = ephemeral(rng, n)
        out["in_dport"] = ephemeral(rng, n)
    elif b.proto == "icmp" and b.icmp_type == 8:  # a pinger: its id, then a counting seq
        out["icmp_id"] = pop.sport[source]
        out["icmp_seq"] = (counter & 0xFFFF).astype(np.uint16)
    elif b.proto == "icmp":  # a victim answering spoofed pings: their id and seq
        out["icmp_id"] = rng.integers(0, 65536, size=n, dtype=np.uint32)
        out["icmp_seq"] = rng.integers(0, 65536, size=n, dtype=np.uint32)
    return out
