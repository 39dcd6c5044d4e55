"""The senders a darknet hears: addresses from real regional address space, one row each.

Addresses come from a sample of random public IPv4 addresses whose countries
are looked up once with iptocc (offline RIR delegation data), so a source said
to be in Vietnam really is in Vietnamese address space. Per-source volumes are
heavy-tailed (Pareto rates × active time), sources appear and disappear
(log-normal lifetimes) and bots swing with the day of their own time zone.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import iptocc
import numpy as np

from teiten.simulate.behaviours import Behaviour
from teiten.simulate.config import SimulationConfig
from teiten.simulate.envelope import DAY_S, Envelope
from teiten.simulate.ports import draw_ports
from teiten.simulate.shaping import envelope_for, resample, selected

__all__ = ["Population", "build_population", "diurnal_mass", "dotted"]

_MIN_WINDOW_S = 1.0

# Never a source on the Internet (RFC 6890 special-purpose space, multicast, reserved).
_RESERVED = (
    "0.0.0.0/8", "10.0.0.0/8", "100.64.0.0/10", "127.0.0.0/8", "169.254.0.0/16",
    "172.16.0.0/12", "192.0.0.0/24", "192.0.2.0/24", "192.88.99.0/24", "192.168.0.0/16",
    "198.18.0.0/15", "198.51.100.0/24", "203.0.113.0/24", "224.0.0.0/3",
)  # fmt: skip

# Rough UTC offsets (hours) of the main source countries, for the diurnal swing.
_UTC_OFFSET = {
    "CN": 8, "US": -6, "BR": -3, "IN": 5.5, "RU": 3, "TW": 8, "VN": 7, "KR": 9, "NL": 1,
    "DE": 1, "JP": 9, "GB": 0, "ID": 7, "IR": 3.5, "TH": 7, "EG": 2, "TR": 3, "MX": -6,
    "FR": 1, "AR": -3, "UA": 2, "HK": 8, "SG": 8, "IT": 1, "PL": 1, "RO": 2, "BG": 2,
    "CA": -5, "AU": 10, "ES": 1, "PK": 5, "BD": 6, "PH": 8, "MY": 8, "ZA": 2, "CO": -5,
}  # fmt: skip
_PEAK_LOCAL_H = 20.0
_OMEGA = 2 * np.pi / DAY_S
# Random addresses looked up to find each country's space. Every pool address stands
# for its whole /24, so even a small country's few hundred give thousands of sources.
_PROBES = 250_000


@dataclass(frozen=True, slots=True)
class Population:
    """Every source of a simulation, as columns (row = source).

    Times are seconds since the simulation's start; ``packets`` is how many
    packets each source sends in total (fixed up front so the total is exact).
    """

    addr: np.ndarray  # uint32 IPv4 address
    country: np.ndarray  # uint16 index into ``countries``
    countries: tuple[str, ...]
    behaviour: np.ndarray  # uint8 index into ``behaviours``
    behaviours: tuple[Behaviour, ...]
    ttl: np.ndarray  # uint8 TTL as it arrives (initial TTL minus hops)
    sport: np.ndarray  # uint16 source port of a "source" rule
    dport: np.ndarray  # uint16 destination port of a dport_per="source" behaviour
    window: np.ndarray  # uint16 window of a per-source window choice
    counter: np.ndarray  # uint32 start of per-source counters (IP ID, ports, ICMP seq)
    ts_base: np.ndarray  # uint32 TCP timestamp clock offset
    on: np.ndarray  # float64 first active second
    off: np.ndarray  # float64 last active second
    packets: np.ndarray  # int64 packets sent in total
    phase: np.ndarray  # float64 time of the daily peak (s since start, modulo a day)
    amplitude: np.ndarray  # float64 diurnal amplitude
    group: np.ndarray  # int64 scenario group (0: no change applies; see envelope)
    envelope: Envelope | None = None  # the scenario's groups and levels, if any

    def __len__(self) -> int:
        return int(self.addr.shape[0])


_OCTETS = [str(i) for i in range(256)]


def dotted(addrs: np.ndarray) -> list[str]:
    """IPv4 addresses (uint32) as dotted-quad strings, for iptocc and tshark comparisons."""
    octets = np.asarray(addrs, dtype=np.uint32).astype(">u4").view(np.uint8).reshape(-1, 4)
    columns = (map(_OCTETS.__getitem__, octets[:, k].tolist()) for k in range(4))
    return [".".join(quad) for quad in zip(*columns, strict=True)]


def _cidr_mask(addrs: np.ndarray, cidrs: Sequence[str]) -> np.ndarray:
    hit = np.zeros(addrs.shape, dtype=bool)
    for cidr in cidrs:
        net, length = cidr.split("/")
        a, b, c, d = (int(x) for x in net.split("."))
        mask = (0xFFFFFFFF << (32 - int(length))) & 0xFFFFFFFF
        hit |= (addrs & np.uint32(mask)) == np.uint32((a << 24 | b << 16 | c << 8 | d) & mask)
    return hit


def _country_pools(
    rng: np.random.Generator, n: int, exclude: Sequence[str]
) -> dict[str, np.ndarray]:
    """Random public addresses grouped by the country iptocc gives them."""
    probes = rng.integers(1 << 24, 224 << 24, size=n, dtype=np.uint32)
    probes = probes[~_cidr_mask(probes, (*_RESERVED, *exclude))]
    codes = np.array([c or "" for c in iptocc.country_code(dotted(probes))], dtype="U2")
    order = np.argsort(codes, kind="stable")
    names, starts = np.unique(codes[order], return_index=True)
    groups = np.split(probes[order], starts[1:])
    return {str(k): g for k, g in zip(names, groups, strict=True) if k}


def _split(total: int, shares: np.ndarray) -> np.ndarray:
    """Integers summing to ``total`` in proportion to ``shares`` (largest remainder)."""
    exact = total * shares / shares.sum()
    out = np.floor(exact).astype(np.int64)
    out[np.argsort(exact - out)[::-1][: total - out.sum()]] += 1
    return out


def _draw_countries(
    rng: np.random.Generator, b: Behaviour, n: int, pools: dict[str, np.ndarray]
) -> tuple[np.ndarray, np.ndarray]:
    """Country code and address of ``n`` sources following ``b.countries``."""
    listed = [c for c in b.countries if c != "*" and c in pools]
    weights = np.array([b.countries[c] for c in listed] + [b.countries.get("*", 0.0)])
    others = [c for c in pools if c not in b.countries]
    other_sizes = np.array([len(pools[c]) for c in others], dtype=np.float64)
    if not others or weights[-1] == 0:
        weights[-1] = 0.0
    pick = rng.choice(len(weights), size=n, p=weights / weights.sum())
    codes = np.empty(n, dtype=object)
    codes[pick < len(listed)] = np.array(listed, dtype=object)[pick[pick < len(listed)]]
    n_other = int((pick == len(listed)).sum())
    if n_other:  # other countries in proportion to their address space
        codes[pick == len(listed)] = np.array(others, dtype=object)[
            rng.choice(len(others), size=n_other, p=other_sizes / other_sizes.sum())
        ]
    codes = codes.astype(str)
    addrs = np.empty(n, dtype=np.uint32)
    order = np.argsort(codes, kind="stable")
    names, starts = np.unique(codes[order], return_index=True)
    for code, rows in zip(names, np.split(order, starts[1:]), strict=True):
        pool = pools[str(code)]
        addrs[rows] = pool[rng.integers(0, len(pool), size=len(rows))]
    return codes, addrs


def _spread(
    rng: np.random.Generator, addr: np.ndarray, codes: np.ndarray, sensors: Sequence[str]
) -> np.ndarray:
    """Each address moved within its /24, where iptocc still gives it the same country.

    Spreads sources over whole /24s of their pool address; keeps the pool address
    itself where the neighbour belongs elsewhere (or to no one), so iptocc agrees.
    """
    moved = (addr & np.uint32(0xFFFFFF00)) | rng.integers(1, 255, size=len(addr), dtype=np.uint32)
    same = np.array(iptocc.country_code(dotted(moved)), dtype=object) == codes
    return np.where(same & ~_cidr_mask(moved, sensors), moved, addr)


def _window(life: np.ndarray, on: np.ndarray, span: float) -> tuple[np.ndarray, np.ndarray]:
    """Active time ``[on, off]`` within the span, at least a second long."""
    off = np.minimum(on + life, span)
    on = np.maximum(on, 0.0)
    on = np.minimum(on, np.maximum(off - _MIN_WINDOW_S, 0.0))
    off = np.maximum(off, np.minimum(on + _MIN_WINDOW_S, span))
    return on, off


def build_population(config: SimulationConfig) -> Population:
    """Draw every source of ``config`` (deterministic in ``config.seed``)."""
    rng = np.random.default_rng([config.seed, 0])
    catalogue = config.catalogue()
    weights = config.weights()
    active = [catalogue[name] for name, w in weights.items() if w > 0]
    size = max(config.population_size(), len(active))
    sensors = [s.prefix for s in config.sensors]
    pools = _country_pools(rng, _PROBES, sensors)
    counts = _split(size - len(active), np.array([b.source_share for b in active])) + 1

    codes_l, addr_l, beh_l = [], [], []
    for i, (b, n) in enumerate(zip(active, counts, strict=True)):
        codes, addrs = _draw_countries(rng, b, int(n), pools)
        codes_l.append(codes)
        addr_l.append(addrs)
        beh_l.append(np.full(n, i, dtype=np.uint8))
    codes, addr, beh = np.concatenate(codes_l), np.concatenate(addr_l), np.concatenate(beh_l)
    addr = _spread(rng, addr, codes, sensors)

    countries, country = np.unique(codes, return_inverse=True)
    n = len(addr)
    span = config.duration_s
    ttl0 = np.empty(n, dtype=np.int64)
    for k, b in enumerate(active):
        sel = beh == k
        ttl0[sel] = rng.choice(np.array(b.ttl), size=int(sel.sum()))
    ttl = np.clip(ttl0 - rng.integers(5, 25, size=n), 1, 255).astype(np.uint8)

    life = np.array([b.lifetime_s for b in active])[beh] * rng.lognormal(0.0, 1.0, size=n)
    on, off = _window(life, rng.uniform(-life, span), span)

    offset_h = np.array([_UTC_OFFSET.get(str(c), 0.0) for c in countries])[country]
    start_s = config.start.hour * 3600 + config.start.minute * 60 + config.start.second
    peak = (_PEAK_LOCAL_H - offset_h) * 3600 + rng.normal(0, 3600, size=n)
    phase = np.mod(peak - start_s, DAY_S)
    amplitude = np.array([b.diurnal for b in active])[beh]

    dport = np.zeros(n, dtype=np.uint16)
    window = np.zeros(n, dtype=np.uint16)
    for k, b in enumerate(active):
        sel = np.flatnonzero(beh == k)
        if b.dport_per == "source":
            dport[sel] = draw_ports(rng, b.dports, len(sel))
        if isinstance(b.window, tuple):
            window[sel] = rng.choice(np.array(b.window), size=len(sel))

    columns = {"addr": addr, "country": country, "beh": beh, "ttl": ttl, "life": life,
               "on": on, "off": off, "phase": phase, "amplitude": amplitude, "dport": dport,
               "window": window}  # fmt: skip
    group = np.zeros(n, dtype=np.int64)
    envelope = None
    growth = np.ones(len(active))
    scenario = config.scenario
    if scenario is not None and scenario.changes:
        shaper = np.random.default_rng([config.seed, 3])
        masks = [selected(c.select, active, beh, codes, dport) for c in scenario.changes]
        group, envelope = envelope_for(scenario.changes, config.start, span, masks)
        kept, copied = resample(shaper, group, envelope)
        rows = np.concatenate([kept, copied])
        columns = {name: values[rows] for name, values in columns.items()}
        fresh = countries[columns["country"][len(kept) :]]
        new = np.array([pools[c][shaper.integers(0, len(pools[c]))] for c in fresh.tolist()],
                       dtype=np.uint32)  # fmt: skip
        columns["addr"][len(kept) :] = _spread(shaper, new, fresh, sensors)
        group = group[rows]
        growth = np.bincount(columns["beh"], minlength=len(active)) / np.maximum(counts, 1)
        shaped = np.flatnonzero(group > 0)
        arrive = envelope.arrivals(shaper, group[shaped], columns["life"][shaped])
        on_s, off_s = _window(columns["life"][shaped], arrive, span)
        columns["on"][shaped], columns["off"][shaped] = on_s, off_s
        n = len(rows)
    on, off, amplitude, phase = (columns[k] for k in ("on", "off", "amplitude", "phase"))
    beh = columns["beh"]

    alpha = np.array([b.volume_alpha for b in active])[beh]
    if envelope is None:
        mass = diurnal_mass(amplitude, phase, on, off)
    else:
        trig = (group, amplitude, np.cos(_OMEGA * phase), np.sin(_OMEGA * phase))
        mass = envelope.mass_to(*trig, off) - envelope.mass_to(*trig, on)
    volume = (rng.pareto(alpha) + 1.0) * np.maximum(mass, 0.0)
    shares = [weights[b.name] * g for b, g in zip(active, growth, strict=True)]
    packets = _assign_packets(rng, beh, volume, config.packets, shares)
    return Population(
        addr=columns["addr"].astype(np.uint32),
        country=columns["country"].astype(np.uint16),
        countries=tuple(str(c) for c in countries),
        behaviour=beh,
        behaviours=tuple(active),
        ttl=columns["ttl"],
        sport=rng.integers(32768, 61000, size=n, dtype=np.uint16),
        dport=columns["dport"],
        window=columns["window"],
        counter=rng.integers(0, 2**32, size=n, dtype=np.uint32),
        ts_base=rng.integers(0, 2**32, size=n, dtype=np.uint32),
        on=on,
        off=off,
        packets=packets,
        phase=phase,
        amplitude=amplitude,
        group=group,
        envelope=envelope,
    )


def _assign_packets(
    rng: np.random.Generator,
    beh: np.ndarray,
    volume: np.ndarray,
    total: int,
    weights: Sequence[float],
) -> np.ndarray:
    """Share ``total`` packets: between behaviours by weight, within one by ``volume``."""
    w = np.asarray(weights, dtype=np.float64)
    per_beh = np.bincount(beh, weights=volume, minlength=len(w))
    w = np.where(per_beh > 0, w, 0.0)  # a behaviour whose senders all fell silent
    if total and not w.sum():
        raise ValueError("the scenario leaves no sender active in the simulated span")
    p = w[beh] / w.sum() * volume / np.where(per_beh > 0, per_beh, 1.0)[beh]
    return rng.multinomial(total, p / p.sum()).astype(np.int64)


def diurnal_mass(
    amp: np.ndarray, phase: np.ndarray, a: np.ndarray | float, b: np.ndarray | float
) -> np.ndarray:
    """Integral of the rate ``1 + amp·cos(ω(t − phase))`` over ``[a, b]`` (ω: once a day)."""
    w = 2 * np.pi / DAY_S
    return (b - a) + amp / w * (np.sin(w * (b - phase)) - np.sin(w * (a - phase)))
