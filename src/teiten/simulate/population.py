"""The senders a darknet hears: addresses from real regional address space, one row each.

Addresses come from each country's real space (:mod:`teiten.simulate.regions`),
so a source said to be in Vietnam really is in Vietnamese address space. Per-source volumes are
heavy-tailed (Pareto rates × active time), sources appear and disappear
(log-normal lifetimes) and bots swing with the day of their own time zone.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from teiten.simulate.behaviours import Behaviour
from teiten.simulate.config import SimulationConfig
from teiten.simulate.envelope import DAY_S, Envelope
from teiten.simulate.hosts import HostRows, host_rows
from teiten.simulate.ports import draw_ports
from teiten.simulate.regions import PEAK_LOCAL_H, UTC_OFFSET, country_pools, dotted, spread
from teiten.simulate.shaping import envelope_for, resample, selected

__all__ = ["Population", "build_population", "diurnal_mass", "dotted"]

_MIN_WINDOW_S = 1.0
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
    pools = country_pools(rng, _PROBES, sensors)
    counts = _split(size - len(active), np.array([b.source_share for b in active])) + 1

    codes_l, addr_l, beh_l = [], [], []
    for i, (b, n) in enumerate(zip(active, counts, strict=True)):
        codes, addrs = _draw_countries(rng, b, int(n), pools)
        codes_l.append(codes)
        addr_l.append(addrs)
        beh_l.append(np.full(n, i, dtype=np.uint8))
    codes, addr, beh = np.concatenate(codes_l), np.concatenate(addr_l), np.concatenate(beh_l)
    addr = spread(rng, addr, codes, sensors)

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

    offset_h = np.array([UTC_OFFSET.get(str(c), 0.0) for c in countries])[country]
    start_s = config.start.hour * 3600 + config.start.minute * 60 + config.start.second
    peak = (PEAK_LOCAL_H - offset_h) * 3600 + rng.normal(0, 3600, size=n)
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
        columns["addr"][len(kept) :] = spread(shaper, new, fresh, sensors)
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
    hosts = () if scenario is None else scenario.hosts
    host_packets = config.host_packets()
    packets = _assign_packets(rng, beh, volume, config.packets - sum(host_packets), shares)
    for k, b in enumerate(active):
        if b.dport_per == "all" and len(b.dports) > 1:
            _cover_ports(packets, np.flatnonzero(beh == k), len(b.dports))
    pop = Population(
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
    if not hosts:
        return pop
    assert scenario is not None
    extra = host_rows(
        hosts,
        seed=config.seed,
        start=config.start,
        span=span,
        packets=host_packets,
        pools=pools,
        taken=pop.addr,
        sensors=sensors,
        source=scenario.source,
    )
    return _with_hosts(pop, extra)


def _with_hosts(pop: Population, rows: HostRows) -> Population:
    """``pop`` with the hosts' rows (and behaviours, and any new country) appended."""
    countries = list(pop.countries)
    countries += sorted({c for c in rows.codes if c not in countries})
    n = len(rows.addr)
    k0 = len(pop.behaviours)
    if k0 + n > 256:
        raise ValueError(f"{k0 + n} behaviours, campaigns and hosts; at most 256 fit")

    def cat(column: np.ndarray, extra: np.ndarray | list[int]) -> np.ndarray:
        return np.concatenate([column, np.asarray(extra, dtype=column.dtype)])

    return Population(
        addr=cat(pop.addr, rows.addr),
        country=cat(pop.country, [countries.index(c) for c in rows.codes]),
        countries=tuple(countries),
        behaviour=cat(pop.behaviour, list(range(k0, k0 + n))),
        behaviours=pop.behaviours + rows.behaviours,
        ttl=cat(pop.ttl, rows.ttl),
        sport=cat(pop.sport, rows.sport),
        dport=cat(pop.dport, np.zeros(n)),
        window=cat(pop.window, rows.window),
        counter=cat(pop.counter, rows.counter),
        ts_base=cat(pop.ts_base, rows.ts_base),
        on=cat(pop.on, rows.on),
        off=cat(pop.off, rows.off),
        packets=cat(pop.packets, rows.packets),
        phase=cat(pop.phase, rows.phase),
        amplitude=cat(pop.amplitude, rows.amplitude),
        group=cat(pop.group, np.zeros(n)),
        envelope=pop.envelope,
    )


def _cover_ports(packets: np.ndarray, rows: np.ndarray, ports: int) -> None:
    """Give every sender of ``rows`` at least ``ports`` packets, so it can probe each port.

    Senders short of that are topped up from the busiest ones (smallest first, while
    the busiest can spare packets); any left short fall silent, their packets going to
    the busiest. The behaviour's total is unchanged.
    """
    mine = packets[rows]
    short = np.flatnonzero((mine > 0) & (mine < ports))
    if not len(short):
        return
    short = short[np.argsort(-mine[short], kind="stable")]  # the least short first
    spare = int(np.maximum(mine - ports, 0).sum())
    need = np.cumsum(ports - mine[short])
    funded = int(np.searchsorted(need, spare, side="right"))
    silent = short[funded:]
    given = int(need[funded - 1]) if funded else 0
    freed = int(mine[silent].sum())
    mine[short[:funded]] = ports
    mine[silent] = 0
    busiest = np.argsort(-mine, kind="stable")
    surplus = np.maximum(mine[busiest] - ports, 0)
    take = np.minimum(surplus, np.maximum(given - (np.cumsum(surplus) - surplus), 0))
    mine[busiest] -= take
    mine[busiest[0]] += freed
    packets[rows] = mine


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
